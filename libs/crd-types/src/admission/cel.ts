import { Environment } from '@marcbachmann/cel-js';

/**
 * Compile checks for user CEL (attribute paths and `matchPolicy`). The environment matches the
 * evaluator's options (optional types, heterogeneous literals) but declares `object` as the only
 * variable: the evaluator treats unknown names as dynamic, so a typo such as `obj.spec` would
 * compile there and fail on every object; here it is rejected at admission instead.
 */
const env = new Environment({
  enableOptionalTypes: true,
  homogeneousAggregateLiterals: false,
}).registerVariable('object', 'dyn');

/** Result of {@link compileCel}. */
export type CelCompileResult =
  { readonly ok: true; readonly type: string } | { readonly ok: false; readonly error: string };

/** Parse and type-check a CEL expression over the single variable `object`. */
export function compileCel(expression: string): CelCompileResult {
  if (expression.trim() === '') return { ok: false, error: 'empty expression' };
  const r = env.check(expression);
  if (r.valid) return { ok: true, type: r.type ?? 'dyn' };
  const msg = r.error?.message ?? 'invalid expression';
  return { ok: false, error: msg.split('\n')[0] ?? msg };
}
