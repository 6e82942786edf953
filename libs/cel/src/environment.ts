import { Environment } from '@marcbachmann/cel-js';
import { registerListFunctions } from './functions/lists.js';
import { registerQuantityFunctions } from './functions/quantity.js';
import { registerRegexFunctions } from './functions/regex.js';
import { registerStringFunctions } from './functions/strings.js';

/**
 * The one CEL environment every Kollect expression runs in, and the meter that enforces the cost
 * limit and the timeout.
 *
 * cel-js 8 has parse-time structural limits but no runtime cost accounting and no timeout. It
 * does route every sub-expression evaluation through one method, `Evaluator.run(ast, ctx)` (each
 * operator, field access, call argument and macro iteration step). We replace that method on the
 * environment's evaluator instance with a metered version: each call costs 1, large string and
 * list results cost extra (1 per 64 characters/elements from 256 on), and every 128 calls the
 * wall clock is compared with the deadline. The evaluator is private to cel-js; we get hold of it
 * through `this` in one of our own function handlers (cel-js calls handlers with `this` = the
 * evaluator). The dependency is pinned exactly (8.0.0), and a unit test fails loudly if the meter
 * stops counting after an upgrade.
 */

/** Why a metered evaluation stopped early. */
export const TRIP_NONE = 0;
export const TRIP_COST = 1;
export const TRIP_TIMEOUT = 2;
export type TripReason = typeof TRIP_NONE | typeof TRIP_COST | typeof TRIP_TIMEOUT;

/** Budget of one evaluation. */
export interface Meter {
  remaining: number;
  ticks: number;
  deadline: number;
  tripped: TripReason;
}

/** Thrown through cel-js to abort an evaluation; recognised by the engine, never surfaced. */
export const BUDGET_TRIP: Error = new Error('kollect: CEL evaluation budget exhausted');

let activeMeter: Meter | null = null;

/** Run `fn` with `meter` charged for every CEL node evaluated inside it. Not re-entrant. */
export function withMeter<T>(meter: Meter, fn: () => T): T {
  const previous = activeMeter;
  activeMeter = meter;
  try {
    return fn();
  } finally {
    activeMeter = previous;
  }
}

/** Charge for a result's size: strings and lists from 256 on cost 1 per 64 items. */
const SIZE_CHARGE_FROM = 256;
const TIME_CHECK_MASK = 127;

interface MeterableEvaluator {
  run(ast: { evaluate(ev: unknown, ast: unknown, ctx: unknown): unknown }, ctx: unknown): unknown;
}

let meterInstalled = false;

function installMeter(candidate: unknown): void {
  if (meterInstalled || candidate === null || typeof candidate !== 'object') return;
  const ev = candidate as Partial<MeterableEvaluator>;
  if (typeof ev.run !== 'function') return;
  (ev as MeterableEvaluator).run = function meteredRun(this: unknown, ast, ctx) {
    const m = activeMeter;
    if (m === null) return ast.evaluate(this, ast, ctx);
    if (m.tripped !== TRIP_NONE) throw BUDGET_TRIP;
    if (--m.remaining < 0) {
      m.tripped = TRIP_COST;
      throw BUDGET_TRIP;
    }
    if ((++m.ticks & TIME_CHECK_MASK) === 0 && performance.now() > m.deadline) {
      m.tripped = TRIP_TIMEOUT;
      throw BUDGET_TRIP;
    }
    const result = ast.evaluate(this, ast, ctx);
    if ((typeof result === 'string' || Array.isArray(result)) && result.length >= SIZE_CHARGE_FROM) {
      m.remaining -= result.length >>> 6;
    }
    return result;
  };
  meterInstalled = true;
}

/** Parse-time limits (cel-js `limits`): bound the AST before anything runs. */
const PARSE_LIMITS = {
  maxAstNodes: 10_000,
  maxDepth: 100,
  maxListElements: 1000,
  maxMapEntries: 1000,
  maxCallArguments: 32,
} as const;

let shared: Environment | undefined;

/**
 * The shared environment: the variable `object` (a map), optional types on, mixed-type aggregate
 * literals allowed, and the Kubernetes-style helper functions. Built on first use.
 */
export function celEnvironment(): Environment {
  if (shared !== undefined) return shared;
  const env = new Environment({
    unlistedVariablesAreDyn: false,
    enableOptionalTypes: true,
    homogeneousAggregateLiterals: false,
    limits: PARSE_LIMITS,
  });
  env.registerVariable('object', 'map', { description: 'The Kubernetes object, as JSON' });
  registerStringFunctions(env, installMeter);
  registerListFunctions(env);
  registerRegexFunctions(env);
  registerQuantityFunctions(env);
  // Evaluate one expression that calls our `reverse` handler, which hands us the evaluator.
  env.parse('"ok".reverse()')({});
  if (!meterInstalled) {
    throw new Error(
      'cannot install the CEL cost meter: @marcbachmann/cel-js internals changed (expected Evaluator.run); pin 8.0.0 or update libs/cel/src/environment.ts',
    );
  }
  shared = env;
  return env;
}
