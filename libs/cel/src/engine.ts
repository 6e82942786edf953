import type { KollectError } from '@kollect/contracts';
import type { ParseResult } from '@marcbachmann/cel-js';
import {
  BUDGET_TRIP,
  TRIP_COST,
  TRIP_NONE,
  TRIP_TIMEOUT,
  celEnvironment,
  withMeter,
  type Meter,
} from './environment.js';
import {
  CelCompileError,
  CelCostExceeded,
  CelEvaluationError,
  CelResultError,
  CelTimeout,
  safeDetail,
} from './errors.js';
import type { CelInput } from './input.js';
import { type JsonValue, toJsonValue } from './normalize.js';

/** Budget of one evaluation. */
export interface CelLimits {
  /** Cost units: one per evaluated sub-expression (plus size charges); see the README. */
  costLimit: number;
  /** Wall-clock budget, checked every 128 sub-expressions. */
  timeoutMs: number;
}

/**
 * Defaults when the plan does not say. A typical attribute costs 5–50 units; a macro over the
 * containers of a Pod a few hundred. One million leaves ample room and still stops a runaway
 * nested comprehension within tens of milliseconds.
 */
export const DEFAULT_CEL_LIMITS: Readonly<CelLimits> = Object.freeze({
  costLimit: 1_000_000,
  timeoutMs: 100,
});

/** Longest accepted expression text. */
export const MAX_EXPRESSION_LENGTH = 10_000;

/** How an evaluation ended; also the counter names. */
export type CelOutcome = 'success' | 'error' | 'timeout' | 'cost_exceeded';
export type CelFailureKind = Exclude<CelOutcome, 'success'>;

/** Evaluation counters by outcome (map these onto a Prometheus counter with an `outcome` label). */
export type CelCounters = Record<CelOutcome, number>;

/** The result of one evaluation; failures are data, never thrown. */
export type CelResult<T> =
  | { ok: true; value: T; cost: number }
  | { ok: false; kind: CelFailureKind; error: KollectError; cost: number };

/** A compiled (parsed and type-checked) expression. Reusable and cheap to evaluate. */
export class CelProgram {
  /** @internal */
  readonly fn: ParseResult;

  /** @internal */
  constructor(
    readonly expression: string,
    /** The statically inferred type (`bool`, `int`, `string`, `list`, `map`, `dyn`, …). */
    readonly resultType: string,
    fn: ParseResult,
  ) {
    this.fn = fn;
  }
}

/** Outcome of compiling; failures are data. */
export type CelCompileResult = { ok: true; program: CelProgram } | { ok: false; error: KollectError };

/** What admission needs to know about an expression. */
export type CelCheckResult = { valid: true; type: string } | { valid: false; message: string };

export interface CelEngineOptions {
  /** Compiled expressions kept (least recently used are dropped). Default 4096. */
  cacheSize?: number;
  /** Limits used when `evaluate` is not given any. */
  limits?: Partial<CelLimits>;
}

/**
 * Compiles and evaluates CEL expressions over Kubernetes objects, with a compile cache keyed by
 * expression text, a cost limit and timeout per evaluation, results normalised to JSON, and
 * outcome counters. Expressions see exactly one variable, `object`.
 */
export class CelEngine {
  readonly counters: CelCounters = { success: 0, error: 0, timeout: 0, cost_exceeded: 0 };
  readonly limits: Readonly<CelLimits>;
  readonly #cacheSize: number;
  readonly #cache = new Map<string, CelCompileResult>();

  constructor(options: CelEngineOptions = {}) {
    this.#cacheSize = options.cacheSize ?? 4096;
    this.limits = Object.freeze({ ...DEFAULT_CEL_LIMITS, ...definedOnly(options.limits) });
    celEnvironment();
  }

  /** Number of cached compile results. */
  get cacheSize(): number {
    return this.#cache.size;
  }

  /** Compile (parse + type-check) an expression, or return the cached result. Never throws. */
  tryCompile(expression: string): CelCompileResult {
    const hit = this.#cache.get(expression);
    if (hit !== undefined) {
      this.#cache.delete(expression);
      this.#cache.set(expression, hit);
      return hit;
    }
    const result = compileUncached(expression);
    if (this.#cache.size >= this.#cacheSize) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
    this.#cache.set(expression, result);
    return result;
  }

  /** Like {@link tryCompile}, but throws the compile error (a `KOLLECT_ERR_CEL_COMPILE`). */
  compile(expression: string): CelProgram {
    const r = this.tryCompile(expression);
    if (!r.ok) throw r.error;
    return r.program;
  }

  /**
   * Evaluate a program on one object and normalise the result to JSON (see `toJsonValue`).
   * Counts the outcome. Never throws.
   */
  evaluate(program: CelProgram, input: CelInput, limits?: Partial<CelLimits>): CelResult<JsonValue> {
    const raw = this.#run(program, input, limits);
    if (!raw.ok) return raw;
    try {
      const value = toJsonValue(raw.value);
      this.counters.success++;
      return { ok: true, value, cost: raw.cost };
    } catch (err) {
      this.counters.error++;
      return {
        ok: false,
        kind: 'error',
        error: CelResultError(program.expression, safeDetail(err)),
        cost: raw.cost,
      };
    }
  }

  /** Evaluate a predicate (`matchPolicy`): a non-bool result is an error. Never throws. */
  evaluateBool(program: CelProgram, input: CelInput, limits?: Partial<CelLimits>): CelResult<boolean> {
    const raw = this.#run(program, input, limits);
    if (!raw.ok) return raw;
    if (typeof raw.value !== 'boolean') {
      this.counters.error++;
      return {
        ok: false,
        kind: 'error',
        error: CelResultError(program.expression, `expected a bool, got ${describe(raw.value)}`),
        cost: raw.cost,
      };
    }
    this.counters.success++;
    return { ok: true, value: raw.value, cost: raw.cost };
  }

  #run(program: CelProgram, input: CelInput, limits?: Partial<CelLimits>): CelResult<unknown> {
    const costLimit = limits?.costLimit ?? this.limits.costLimit;
    const timeoutMs = limits?.timeoutMs ?? this.limits.timeoutMs;
    const meter: Meter = {
      remaining: costLimit,
      ticks: 0,
      deadline: performance.now() + timeoutMs,
      tripped: TRIP_NONE,
    };
    let value: unknown;
    let thrown: unknown;
    let failed = false;
    try {
      value = withMeter(meter, () => program.fn(input));
    } catch (err) {
      failed = true;
      thrown = err;
    }
    const cost = Math.max(0, Math.min(costLimit, costLimit - meter.remaining));
    // A trip is sticky: `exists`/`all`/`||` may swallow the error a trip threw, so the meter
    // state, not the return path, decides.
    if (meter.tripped === TRIP_COST) {
      this.counters.cost_exceeded++;
      return {
        ok: false,
        kind: 'cost_exceeded',
        error: CelCostExceeded(program.expression, costLimit),
        cost,
      };
    }
    if (meter.tripped === TRIP_TIMEOUT) {
      this.counters.timeout++;
      return { ok: false, kind: 'timeout', error: CelTimeout(program.expression, timeoutMs), cost };
    }
    if (!failed && value instanceof Promise) {
      // No async functions are registered; a promise here means a library change.
      value.catch(() => undefined);
      failed = true;
      thrown = new Error('the expression returned a promise');
    }
    if (failed) {
      this.counters.error++;
      const detail = thrown === BUDGET_TRIP ? 'evaluation aborted' : safeDetail(thrown);
      return {
        ok: false,
        kind: 'error',
        error: CelEvaluationError(program.expression, detail, { cause: thrown }),
        cost,
      };
    }
    return { ok: true, value, cost };
  }
}

function compileUncached(expression: string): CelCompileResult {
  if (expression.trim() === '') {
    return { ok: false, error: CelCompileError(expression, 'the expression is empty') };
  }
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    return {
      ok: false,
      error: CelCompileError(expression, `the expression is longer than ${MAX_EXPRESSION_LENGTH} characters`),
    };
  }
  let fn: ParseResult;
  try {
    fn = celEnvironment().parse(expression);
  } catch (err) {
    return { ok: false, error: CelCompileError(expression, withPosition(err), { cause: err }) };
  }
  const checked = fn.check();
  if (!checked.valid) {
    return {
      ok: false,
      error: CelCompileError(expression, withPosition(checked.error), { cause: checked.error }),
    };
  }
  return { ok: true, program: new CelProgram(expression, checked.type ?? 'dyn', fn) };
}

function withPosition(err: unknown): string {
  const detail = safeDetail(err);
  const start = (err as { range?: { start?: unknown } } | undefined)?.range?.start;
  return typeof start === 'number' ? `${detail} (at character ${start + 1})` : detail;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'bigint') return 'an int';
  if (typeof v === 'number') return 'a double';
  if (typeof v === 'object') return 'a map or object';
  return `a ${typeof v}`;
}

function definedOnly(limits: Partial<CelLimits> | undefined): Partial<CelLimits> {
  const out: Partial<CelLimits> = {};
  if (limits?.costLimit !== undefined) out.costLimit = limits.costLimit;
  if (limits?.timeoutMs !== undefined) out.timeoutMs = limits.timeoutMs;
  return out;
}

let defaultEngine: CelEngine | undefined;

/** A process-wide engine with default limits (admission checks, tools). */
export function defaultCelEngine(): CelEngine {
  return (defaultEngine ??= new CelEngine());
}

/**
 * Admission check: does the expression compile in the Kollect environment? With
 * `expect: 'bool'` (a `matchPolicy`), an expression whose static type is known and not `bool`
 * is rejected too (`dyn` passes; the runtime check catches it).
 */
export function compileCheck(expression: string, options: { expect?: 'bool' } = {}): CelCheckResult {
  const r = defaultCelEngine().tryCompile(expression);
  if (!r.ok) return { valid: false, message: r.error.message };
  const type = r.program.resultType;
  if (options.expect === 'bool' && type !== 'bool' && type !== 'dyn') {
    return {
      valid: false,
      message: `CEL expression must return a bool, but its type is ${type}`,
    };
  }
  return { valid: true, type };
}
