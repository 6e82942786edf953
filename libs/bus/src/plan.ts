import { KollectError } from '@kollect/contracts';
import type { JsonKv } from './kv.js';
import { InvalidPlan, PlanSchemaMismatch } from './errors.js';
import { silentLogger, type BusLogger } from './logger.js';

/** The key the controller publishes the plan under (one plan per cluster). */
export const PLAN_KEY = 'plan';

/** Options of {@link watchPlan}. */
export interface WatchPlanOptions<P> {
  /**
   * The `schemaVersion` this service understands (`PLAN_SCHEMA_VERSION` from `@kollect/plan`).
   * The bus does not import the plan library: it only transports and gates plans.
   */
  schemaVersion: string;
  /** Extra validation; throw to reject a value (the previous plan stays in force). */
  validate?: (value: unknown) => P;
  /** Called when a value is rejected (schema mismatch, invalid JSON, validate() threw). */
  onInvalid?: (err: KollectError, revision: number) => void;
  /** Called when the plan key is deleted. */
  onDeleted?: (revision: number) => void;
  logger?: BusLogger;
  signal?: AbortSignal;
}

/** A running plan watch. */
export interface PlanWatch {
  /** Resolves after the first valid plan was delivered (or rejects if the watch ended first). */
  first(): Promise<void>;
  /** Stop watching. */
  stop(): void;
  /** Resolves when the watch has ended. */
  done(): Promise<void>;
}

/**
 * Deliver the current plan and every later one to `onPlan`, in revision order. A value with an
 * unknown `schemaVersion` or that fails validation is reported and skipped: services keep running
 * on the last good plan rather than on one they do not understand. `onPlan` is awaited, so plans
 * never overlap.
 */
export function watchPlan<P extends { schemaVersion: string }>(
  kv: JsonKv<unknown>,
  key: string,
  onPlan: (plan: P, revision: number) => void | Promise<void>,
  opts: WatchPlanOptions<P>,
): PlanWatch {
  const want = opts.schemaVersion;
  const log = opts.logger ?? silentLogger;
  const ctl = new AbortController();
  opts.signal?.addEventListener('abort', () => ctl.abort(), { once: true });
  let firstResolve!: () => void;
  let firstReject!: (e: unknown) => void;
  const firstP = new Promise<void>((res, rej) => {
    firstResolve = res;
    firstReject = rej;
  });
  firstP.catch(() => undefined);
  let delivered = false;

  const run = async (): Promise<void> => {
    for (;;) {
      try {
        for await (const e of kvWatchRaw(kv, key, ctl.signal)) {
          if (e.kind === 'deleted') {
            opts.onDeleted?.(e.revision);
            continue;
          }
          let plan: P;
          try {
            const v = e.decode();
            const sv = (v as { schemaVersion?: unknown } | null)?.schemaVersion;
            if (typeof sv !== 'string' || sv !== want) throw PlanSchemaMismatch(key, String(sv), want);
            plan = opts.validate ? opts.validate(v) : (v as P);
          } catch (err) {
            const ke =
              err instanceof KollectError
                ? err
                : InvalidPlan(key, err instanceof Error ? err.message : String(err), { cause: err });
            log.error({ key, revision: e.revision, err: ke.message }, 'plan rejected');
            opts.onInvalid?.(ke, e.revision);
            continue;
          }
          await onPlan(plan, e.revision);
          if (!delivered) {
            delivered = true;
            firstResolve();
          }
        }
        return;
      } catch (err) {
        if (ctl.signal.aborted) return;
        // The watch broke (server restart, bucket recreated): start again from the current value.
        log.warn({ key, err: String(err) }, 'plan watch broke; restarting');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  const doneP = run().finally(() => {
    if (!delivered) firstReject(new Error(`plan watch on ${key} ended before a valid plan arrived`));
  });
  return { first: () => firstP, stop: () => ctl.abort(), done: () => doneP };
}

async function* kvWatchRaw(
  kv: JsonKv<unknown>,
  key: string,
  signal: AbortSignal,
): AsyncGenerator<
  { kind: 'put'; revision: number; decode: () => unknown } | { kind: 'deleted'; revision: number }
> {
  const it = await kv.kv.watch({ key });
  const stop = (): void => it.stop();
  if (signal.aborted) return;
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const e of it) {
      if (e.operation === 'PUT') yield { kind: 'put', revision: e.revision, decode: () => kv.decode(e) };
      else yield { kind: 'deleted', revision: e.revision };
    }
  } finally {
    signal.removeEventListener('abort', stop);
    it.stop();
  }
}

/** Publish a plan (the controller). Checks `schemaVersion` so a malformed plan never leaves. */
export async function putPlan<P extends { schemaVersion: string }>(
  kv: JsonKv<unknown>,
  key: string,
  plan: P,
  opts: { schemaVersion: string },
): Promise<number> {
  const want = opts.schemaVersion;
  if (plan.schemaVersion !== want) throw PlanSchemaMismatch(key, plan.schemaVersion, want);
  return kv.put(key, plan);
}
