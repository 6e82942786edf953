import { describe, expect, it } from 'vitest';
import { compareSemVer, parseSemVer, versionAtLeast } from './version.js';

describe('server version checks', () => {
  it('parses release and pre-release versions', () => {
    expect(parseSemVer('2.11.0')).toEqual({ major: 2, minor: 11, patch: 0 });
    expect(parseSemVer('v2.12.1-RC.1')).toEqual({ major: 2, minor: 12, patch: 1 });
    expect(() => parseSemVer('two')).toThrow(/not a version/);
  });

  it('orders by major, minor, patch numerically', () => {
    expect(compareSemVer('2.10.27', '2.9.10')).toBeGreaterThan(0);
    expect(versionAtLeast('2.11.0', '2.11.0')).toBe(true);
    expect(versionAtLeast('2.10.27', '2.11.0')).toBe(false);
    expect(versionAtLeast('2.15.2', '2.11.0')).toBe(true);
  });
});
