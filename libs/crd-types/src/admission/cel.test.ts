import { describe, expect, it } from 'vitest';
import { compileCel } from './cel.js';

describe('admission CEL check', () => {
  it.each([
    'object.metadata.name.replace("-", "_")',
    '[1, 2].sum()',
    'quantity("1Gi").isGreaterThan(quantity("512Mi"))',
    'object.spec.?replicas.orValue(1)',
  ])('accepts %s, which the extractor can evaluate', (expr) => {
    expect(compileCel(expr)).toMatchObject({ ok: true });
  });

  it('rejects an unknown variable so a typo fails at admission, not on every object', () => {
    const r = compileCel('obj.spec.replicas');
    expect(r.ok).toBe(false);
  });

  it('rejects an empty expression', () => {
    expect(compileCel('  ')).toEqual({ ok: false, error: 'empty expression' });
  });
});
