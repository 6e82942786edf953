import { gunzipSync, gzipSync } from 'node:zlib';
import { KollectError } from '@kollect/contracts';
import type { JsonKv } from './kv.js';
import { decodeJson, encodeJson } from './codec.js';
import { InvalidPlan, PlanSchemaMismatch } from './errors.js';
import { silentLogger, type BusLogger } from './logger.js';

/** The key the controller publishes the plan under (one plan per cluster). */
export const PLAN_KEY = 'plan';

/**
 * Plans whose JSON is larger than this are stored gzip-compressed (default of
 * {@link EncodePlanOptions.compressAboveBytes}). Smaller plans stay plain JSON, readable with
 * `nats kv get`. A plan is one KV value, i.e. one NATS message, so it must fit the server's
 * max_payload (1 MiB by default); the plan's JSON compresses about 30x (measured with
 * `npm run -w @kollect/bench plan`), which moves the ceiling from about 2,200 Kollect objects to
 * about 70,000.
 */
export const PLAN_COMPRESS_ABOVE_BYTES = 64 * 1024;

/** The first bytes of a gzip stream. A JSON text never starts with 0x1f, so the value says how it is stored. */
const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** Options of {@link encodePlan}. */
export interface EncodePlanOptions {
  /** Compress when the JSON is larger than this (default {@link PLAN_COMPRESS_ABOVE_BYTES}; 0 = always). */
  compressAboveBytes?: number;
}

/** A plan as stored in KV. */
export interface EncodedPlan {
  /** The KV value: JSON, or gzip of the JSON. */
  data: Uint8Array;
  /** Size of the JSON before compression. */
  jsonBytes: number;
  compressed: boolean;
}

/** Encode a plan for KV: JSON, gzip-compressed above the threshold (see {@link PLAN_COMPRESS_ABOVE_BYTES}). */
export function encodePlan(plan: unknown, opts: EncodePlanOptions = {}): EncodedPlan {
  const json = encodeJson(plan);
  const above = opts.compressAboveBytes ?? PLAN_COMPRESS_ABOVE_BYTES;
  if (json.length <= above) return { data: json, jsonBytes: json.length, compressed: false };
  return { data: gzipSync(json, { level: 6 }), jsonBytes: json.length, compressed: true };
}

/**
 * Decode a stored plan value: plain JSON (every value written before compression existed, and
 * small plans) or gzip-compressed JSON, told apart by the gzip magic bytes.
 */
export function decodePlan(data: Uint8Array, where: string): unknown {
  if (data.length >= 2 && data[0] === GZIP_MAGIC[0] && data[1] === GZIP_MAGIC[1]) {
    let json: Uint8Array;
    try {
      json = gunzipSync(data);
    } catch (err) {
      throw InvalidPlan(where, `gzip: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    return decodeJson(json, where);
  }
  return decodeJson(data, where);
}

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
      if (e.operation === 'PUT')
        yield {
          kind: 'put',
          revision: e.revision,
          decode: () => decodePlan(e.value, `KV ${kv.bucket}/${e.key}@${e.revision}`),
        };
      else yield { kind: 'deleted', revision: e.revision };
    }
  } finally {
    signal.removeEventListener('abort', stop);
    it.stop();
  }
}

/**
 * Publish a plan (the controller). Checks `schemaVersion` so a malformed plan never leaves, and
 * compresses large plans ({@link encodePlan}). A plan that does not fit one KV value fails with
 * `PayloadTooLarge` and nothing is written: the previous plan stays in force, never a partial one.
 */
export async function putPlan<P extends { schemaVersion: string }>(
  kv: JsonKv<unknown>,
  key: string,
  plan: P,
  opts: { schemaVersion: string } & EncodePlanOptions,
): Promise<number> {
  const want = opts.schemaVersion;
  if (plan.schemaVersion !== want) throw PlanSchemaMismatch(key, plan.schemaVersion, want);
  return putEncodedPlan(kv, key, encodePlan(plan, opts));
}

/** Write an already encoded plan (the caller checked its schema); `PayloadTooLarge` when it does not fit. */
export function putEncodedPlan(kv: JsonKv<unknown>, key: string, encoded: EncodedPlan): Promise<number> {
  return kv.putBytes(key, encoded.data);
}

/** The stored plan (decoded, not validated), or null when there is none. */
export async function getPlan(
  kv: JsonKv<unknown>,
  key: string,
): Promise<{ value: unknown; revision: number } | null> {
  const e = await kv.kv.get(key);
  if (!e || e.operation !== 'PUT') return null;
  return { value: decodePlan(e.value, `KV ${kv.bucket}/${key}@${e.revision}`), revision: e.revision };
}
