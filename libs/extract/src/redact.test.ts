import { describe, expect, it } from 'vitest';
import { Scrubber } from './redact.js';

const R = { redacted: true, reason: 'sensitive-key' };

describe('redaction (SEED-SPEC §4.3)', () => {
  const s = Scrubber.withBuiltins();

  it.each([
    ['password', true],
    ['Password', true],
    ['dbPassword', true],
    ['githubToken', true],
    ['oauth', true],
    ['api_key', true],
    ['apiKey', true],
    ['API-KEY', true],
    ['x-private-key', true],
    ['clientSecret', true],
    ['connection_string', true],
    ['credential', true],
    ['secretKeyRef', true],
    ['secretRef', true],
    ['author', false],
    ['authorization', false],
    ['secretName', false],
    ['tokens', false],
    ['name', false],
    ['image', false],
  ])('key %s sensitive: %s', (key, want) => {
    expect(s.isSensitiveKey(key)).toBe(want);
  });

  it('replaces sensitive members anywhere in maps and arrays, and leaves the rest', () => {
    const value = {
      user: 'app',
      dbPassword: 'hunter2',
      nested: [{ githubToken: 'ghp_x', keep: 1 }, 'plain'],
      env: [
        { name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
        { name: 'B', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } },
      ],
      envFrom: [{ secretRef: { name: 'creds' } }],
      tls: { key: 'PEM', cert: 'PEM' },
      ingressTls: [{ hosts: ['a'], secretName: 'tls-a' }],
    };
    expect(s.scrub(value)).toEqual({
      user: 'app',
      dbPassword: R,
      nested: [{ githubToken: R, keep: 1 }, 'plain'],
      env: [
        { name: 'A', valueFrom: R },
        { name: 'B', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } },
      ],
      envFrom: [{ secretRef: R }],
      tls: R,
      ingressTls: [{ hosts: ['a'], secretName: 'tls-a' }],
    });
  });

  it('does not modify its input and returns it as is when nothing is sensitive', () => {
    const clean = { a: { b: [1, { c: 'd' }] } };
    expect(s.scrub(clean)).toBe(clean);
    const dirty = { a: { token: 'x' } };
    s.scrub(dirty);
    expect(dirty).toEqual({ a: { token: 'x' } });
  });

  it('adds operator and profile keys, with the same equal-or-suffix rule', () => {
    const custom = Scrubber.withBuiltins(['sessionid'], ['pw']);
    expect(custom.isSensitiveKey('userSessionId')).toBe(true);
    expect(custom.isSensitiveKey('pw')).toBe(true);
    expect(custom.isSensitiveKey('mypw')).toBe(false);
    expect(s.isSensitiveKey('userSessionId')).toBe(false);
  });

  it('leaves scalars untouched (attribute names themselves are not checked)', () => {
    expect(s.scrub('hunter2')).toBe('hunter2');
  });
});
