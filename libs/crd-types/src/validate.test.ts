import { describe, expect, it } from 'vitest';
import { KINDS } from './kinds.js';
import { SAMPLES } from './samples/index.js';
import { validate } from './validate.js';

describe('validate', () => {
  it.each(KINDS)('accepts the %s sample', (kind) => {
    const r = validate(kind, SAMPLES[kind]);
    expect(r.errors).toEqual([]);
    expect(r.ok).toBe(true);
  });
});
