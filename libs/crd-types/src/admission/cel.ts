import { compileCheck } from '@kollect/cel';

/**
 * Compile checks for user CEL (attribute paths and `matchPolicy`). Admission uses the very
 * environment the extractor evaluates with (`@kollect/cel`: the variable `object`, optional
 * types, the Kubernetes string/list/regex/quantity helpers), so an expression is accepted here
 * exactly when it can run there — a typo such as `obj.spec` is rejected, `name.replace(…)` is not.
 */

/** Result of {@link compileCel}. */
export type CelCompileResult =
  { readonly ok: true; readonly type: string } | { readonly ok: false; readonly error: string };

/** Parse and type-check a CEL expression over the single variable `object`. */
export function compileCel(expression: string): CelCompileResult {
  if (expression.trim() === '') return { ok: false, error: 'empty expression' };
  const r = compileCheck(expression);
  if (r.valid) return { ok: true, type: r.type ?? 'dyn' };
  const msg = r.message ?? 'invalid expression';
  return { ok: false, error: msg.split('\n')[0] ?? msg };
}
