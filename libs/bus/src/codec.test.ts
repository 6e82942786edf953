import { describe, expect, it } from 'vitest';
import { KollectError, stateKeySegment } from '@kollect/contracts';
import { decodeJson, decodeKvSegment, encodeJson, encodeKvSegment, kvKey, parseKvKey } from './codec.js';

const KV_KEY_RE = /^[-/_=.a-zA-Z0-9]+$/;
const tricky = [
  '',
  '=',
  '==',
  '.',
  'a.b',
  'team-a',
  'my inventory',
  'ns/with/slashes',
  '*',
  '>',
  'über-ünïcödé',
  '日本語',
  '😀 emoji',
  '%41',
  '=41',
  'tab\tnew\nline',
  'apps/v1/deployments',
  '-leading-dash',
];

describe('kvKey encoding', () => {
  it('round-trips every tricky string losslessly', () => {
    for (const s of tricky) expect(decodeKvSegment(encodeKvSegment(s))).toBe(s);
  });

  it('produces only characters KV keys allow, and never a dot inside a segment', () => {
    for (const s of tricky) {
      const seg = encodeKvSegment(s);
      expect(seg).toMatch(KV_KEY_RE);
      expect(seg).not.toContain('.');
    }
  });

  it('round-trips random unicode strings', () => {
    for (let i = 0; i < 500; i++) {
      const len = Math.floor(Math.random() * 12);
      let s = '';
      for (let j = 0; j < len; j++) {
        let cp = Math.floor(Math.random() * 0x2ffff);
        if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x41;
        s += String.fromCodePoint(cp);
      }
      const seg = encodeKvSegment(s);
      expect(seg).toMatch(KV_KEY_RE);
      expect(decodeKvSegment(seg)).toBe(s);
    }
  });

  it('agrees with the contracts library, which builds kollect_state keys the same way', () => {
    for (const s of tricky) expect(encodeKvSegment(s)).toBe(stateKeySegment(s));
  });

  it('keeps the readable characters as they are', () => {
    expect(encodeKvSegment('team-a_01')).toBe('team-a_01');
    expect(encodeKvSegment('a.b')).toBe('a=2Eb');
  });

  it('joins parts with dots so wildcards select by part', () => {
    const key = kvKey('rows', 'team.a', 'my inv');
    expect(key).toBe('rows.team=2Ea.my=20inv');
    expect(parseKvKey(key)).toEqual(['rows', 'team.a', 'my inv']);
  });

  it('rejects malformed segments instead of guessing', () => {
    expect(() => decodeKvSegment('a=ZZ')).toThrow(/malformed/);
    expect(() => decodeKvSegment('a=4')).toThrow(/malformed/);
  });
});

describe('JSON codec', () => {
  it('round-trips a value', () => {
    expect(decodeJson(encodeJson({ a: [1, 'x', null] }), 'test')).toEqual({ a: [1, 'x', null] });
  });

  it('reports bad JSON as a terminal Kollect error naming where it came from', () => {
    let err: unknown;
    try {
      decodeJson(new TextEncoder().encode('{nope'), 'KOLLECT_OBJECTS#7');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KollectError);
    expect((err as KollectError).errorClass).toBe('terminal');
    expect((err as KollectError).message).toContain('KOLLECT_OBJECTS#7');
  });

  it('rejects invalid UTF-8', () => {
    expect(() => decodeJson(Uint8Array.from([0x22, 0xff, 0x22]), 'x')).toThrow(KollectError);
  });
});
