/**
 * @packageDocumentation
 * CEL for Kubernetes objects on top of `@marcbachmann/cel-js`: one shared environment (variable
 * `object`, optional types, Kubernetes-style string/list/regex/quantity helpers), a compile cache,
 * evaluation under a cost limit and a wall-clock timeout, results normalised to plain JSON, and
 * outcome counters. See README.md for what is enforced and how.
 */
export {
  CelEngine,
  CelProgram,
  type CelEngineOptions,
  type CelLimits,
  type CelOutcome,
  type CelFailureKind,
  type CelCounters,
  type CelResult,
  type CelCompileResult,
  type CelCheckResult,
  DEFAULT_CEL_LIMITS,
  MAX_EXPRESSION_LENGTH,
  compileCheck,
  defaultCelEngine,
} from './engine.js';
export { type CelInput, toCelInput } from './input.js';
export { type JsonValue, toJsonValue, UnsupportedCelValueError } from './normalize.js';
export {
  CelCompileError,
  CelEvaluationError,
  CelCostExceeded,
  CelTimeout,
  CelResultError,
} from './errors.js';
export { Quantity } from './functions/quantity.js';
