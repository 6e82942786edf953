import { Environment, type ParseResult } from '@marcbachmann/cel-js';

/**
 * Evaluates the `x-kubernetes-validations` rules of our schemas with cel-js, so the validator
 * enforces exactly the rules the apiserver enforces. Rules are compiled once and cached.
 */
const env = new Environment({
  enableOptionalTypes: true,
  homogeneousAggregateLiterals: false,
}).registerVariable('self', 'dyn');
const compiled = new Map<string, ParseResult>();

function program(rule: string): ParseResult {
  let p = compiled.get(rule);
  if (!p) {
    p = env.parse(rule);
    compiled.set(rule, p);
  }
  return p;
}

/** Result of one rule: `true` (holds), `false` (violated) or an error text (could not evaluate). */
export function evaluateRule(rule: string, self: unknown): true | false | string {
  try {
    return program(rule)({ self }) === true;
  } catch (err) {
    return err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err);
  }
}

/** Type-check a rule without evaluating it (used by tests over every rule in every schema). */
export function checkRule(rule: string): { valid: boolean; error?: string } {
  const r = env.check(rule);
  return r.valid ? { valid: true } : { valid: false, error: r.error?.message ?? 'invalid' };
}
