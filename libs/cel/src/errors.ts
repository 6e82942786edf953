import { defineError, redactSecrets } from '@kollect/contracts';

/** Longest expression text quoted in an error message. */
const MAX_QUOTED_EXPRESSION = 160;
/** Longest detail (library message) carried in an error message. */
const MAX_DETAIL = 400;

/** Quote an expression for an error message, shortened so status stays small. */
export function quoteExpression(expression: string): string {
  const oneLine = expression.replace(/\s+/g, ' ').trim();
  const short =
    oneLine.length > MAX_QUOTED_EXPRESSION ? `${oneLine.slice(0, MAX_QUOTED_EXPRESSION)}…` : oneLine;
  return JSON.stringify(short);
}

/**
 * A library error message made safe for status and logs: the first line only (cel-js appends a
 * source highlight), credentials scrubbed, length capped. Evaluation errors can quote values read
 * from the object (e.g. an invalid duration string), hence the scrub.
 */
export function safeDetail(err: unknown): string {
  let text: string;
  if (err !== null && typeof err === 'object' && 'summary' in err && typeof err.summary === 'string') {
    text = err.summary;
  } else if (err instanceof Error) {
    text = err.message;
  } else {
    text = String(err);
  }
  text = (text.split('\n')[0] ?? '').trim();
  text = redactSecrets(text);
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}

/** The expression does not parse or type-check. Raised at compile time (admission, plan load). */
export const CelCompileError = defineError(
  'KOLLECT_ERR_CEL_COMPILE',
  'terminal',
  (expression: string, detail: string) =>
    `CEL expression ${quoteExpression(expression)} does not compile: ${detail}. Fix the expression; the only variable is \`object\``,
  'InvalidExpression',
);

/** The expression failed at runtime on one object (missing key, bad conversion, wrong type…). */
export const CelEvaluationError = defineError(
  'KOLLECT_ERR_CEL_EVAL',
  'terminal',
  (expression: string, detail: string) =>
    `CEL expression ${quoteExpression(expression)} failed: ${detail}. Guard optional fields with has() or .?field.orValue(…)`,
  'ExtractionFailed',
);

/** The evaluation used more than the configured cost budget. */
export const CelCostExceeded = defineError(
  'KOLLECT_ERR_CEL_COST_EXCEEDED',
  'terminal',
  (expression: string, limit: number) =>
    `CEL expression ${quoteExpression(expression)} exceeded the cost limit of ${limit}. Simplify it (fewer nested macros over large lists) or raise the plan's celCostLimit`,
  'ExtractionFailed',
);

/** The evaluation ran longer than the configured wall-clock timeout. */
export const CelTimeout = defineError(
  'KOLLECT_ERR_CEL_TIMEOUT',
  'terminal',
  (expression: string, timeoutMs: number) =>
    `CEL expression ${quoteExpression(expression)} ran longer than the ${timeoutMs} ms timeout. Simplify it or raise the plan's celTimeoutMs`,
  'ExtractionFailed',
);

/** The expression returned a value that has no JSON form (or a non-bool where a bool was required). */
export const CelResultError = defineError(
  'KOLLECT_ERR_CEL_RESULT',
  'terminal',
  (expression: string, detail: string) =>
    `CEL expression ${quoteExpression(expression)} returned an unusable value: ${detail}`,
  'ExtractionFailed',
);
