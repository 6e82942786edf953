import { describe, expect, it } from 'vitest';
import { KollectError } from '@kollect/contracts';
import { envConfig, parseDurationMs } from './env.js';

describe('environment configuration', () => {
  it('says which variable is missing', () => {
    const env = envConfig({});
    expect(() => env.string('KOLLECT_NATS_URL')).toThrow('KOLLECT_NATS_URL is required');
    let err: unknown;
    try {
      env.string('KOLLECT_NATS_URL');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KollectError);
    expect((err as KollectError).errorClass).toBe('terminal');
  });

  it('parses typed values with defaults and treats empty as unset', () => {
    const env = envConfig({
      A: 'x',
      EMPTY: '  ',
      N: '42',
      B: 'yes',
      D: '1m30s',
      L: 'a, b,,c',
      E: 'json',
    });
    expect(env.string('A')).toBe('x');
    expect(env.string('EMPTY', 'dflt')).toBe('dflt');
    expect(env.optional('EMPTY')).toBeUndefined();
    expect(env.int('N')).toBe(42);
    expect(env.int('MISSING', 7)).toBe(7);
    expect(env.bool('B')).toBe(true);
    expect(env.bool('MISSING', false)).toBe(false);
    expect(env.durationMs('D')).toBe(90_000);
    expect(env.list('L')).toEqual(['a', 'b', 'c']);
    expect(env.oneOf('E', ['json', 'text'] as const)).toBe('json');
  });

  it('rejects malformed values with the variable name and the expected form', () => {
    const env = envConfig({ N: '4x', P: '0', B: 'maybe', D: '10 minutes', E: 'xml' });
    expect(() => env.int('N')).toThrow(/N must be an integer/);
    expect(() => env.int('P', undefined, { min: 1 })).toThrow(/P must be >= 1/);
    expect(() => env.bool('B')).toThrow(/B must be true or false/);
    expect(() => env.durationMs('D')).toThrow(/D must be a duration/);
    expect(() => env.oneOf('E', ['json', 'text'])).toThrow(/E must be one of json, text/);
  });

  it('parses durations', () => {
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('30s')).toBe(30_000);
    expect(parseDurationMs('1h')).toBe(3_600_000);
    expect(parseDurationMs('0')).toBe(0);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(parseDurationMs('abc')).toBeUndefined();
    expect(parseDurationMs('')).toBeUndefined();
  });
});
