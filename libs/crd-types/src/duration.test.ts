import { describe, expect, it } from 'vitest';
import {
  DURATION_PATTERN,
  DurationSyntaxError,
  formatDuration,
  isExportInterval,
  parseDuration,
  tryParseDuration,
} from './duration.js';

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['0s', 0],
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
    ['1h2m3s4ms', 3_723_004],
    ['500us', 0.5],
    ['24h', 86_400_000],
  ])('parses %s as %d ms', (input, ms) => {
    expect(parseDuration(input)).toBeCloseTo(ms, 9);
  });

  it.each(['', '30', 's', '1d', '-5s', '1h 30m', '1.s', 'abc', '5sec'])(
    'rejects %j with a hint at Go syntax',
    (input) => {
      expect(() => parseDuration(input)).toThrow(DurationSyntaxError);
      expect(() => parseDuration(input)).toThrow(/30s, 5m, 1h/);
      expect(tryParseDuration(input)).toBeUndefined();
    },
  );

  it('agrees with the schema pattern', () => {
    const re = new RegExp(DURATION_PATTERN);
    for (const s of ['0', '30s', '1m30s', '1.5h', '10us', '-1s', '1d', ''])
      expect(re.test(s), s).toBe(tryParseDuration(s) !== undefined);
  });
});

describe('isExportInterval', () => {
  it('accepts 0s to 24h inclusive and nothing beyond', () => {
    expect(isExportInterval('0s')).toBe(true);
    expect(isExportInterval('24h')).toBe(true);
    expect(isExportInterval('24h0m1s')).toBe(false);
    expect(isExportInterval('junk')).toBe(false);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [250, '250ms'],
    [30_000, '30s'],
    [90_000, '1m30s'],
    [3_600_000, '1h0m0s'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
