import { KvWatchInclude, type KV, type KvEntry } from '@nats-io/kv';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { Bus } from './connect.js';
import { lastPerSubject } from './replay.js';
import { decodeJson, encodeJson } from './codec.js';
import { PayloadTooLarge } from './errors.js';

/** A decoded KV entry. */
export interface JsonEntry<T> {
  key: string;
  value: T;
  /** The entry's revision (its stream sequence): pass it to `update()` for compare-and-set. */
  revision: number;
}

/** A change seen by {@link JsonKv.watch}: `value` is `undefined` for a delete or purge. */
export interface JsonWatchEntry<T> {
  key: string;
  value: T | undefined;
  revision: number;
  operation: 'PUT' | 'DEL' | 'PURGE';
  /** Entries still to come in the initial catch-up; 0 once the watcher is current. */
  delta: number;
}

/** Room for the KV subject and headers within max_payload. */
const KV_OVERHEAD = 512;

/** True for the "wrong last sequence" error of a lost compare-and-set. */
export function isWrongLastSequence(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/**
 * A KV bucket holding JSON values. Keys must already be valid KV keys: build them with
 * `kvKey()`. Values larger than the server's max_payload fail with `PayloadTooLarge` before they
 * are sent (a KV value is one message).
 */
export class JsonKv<T = unknown> {
  readonly kv: KV;
  readonly bucket: string;
  readonly #bus: Bus;

  constructor(bus: Bus, bucket: string, kv: KV) {
    this.#bus = bus;
    this.bucket = bucket;
    this.kv = kv;
  }

  /** Bind to an existing bucket (create buckets with `ensureTopology`). */
  static async open<T>(bus: Bus, bucket: string): Promise<JsonKv<T>> {
    return new JsonKv<T>(bus, bucket, await bus.kvm.open(bucket));
  }

  /** Encode and check the size of a value. */
  encode(key: string, value: T): Uint8Array {
    return this.#checkSize(key, encodeJson(value));
  }

  /** The largest value (bytes) that fits under `key`: the server's max_payload less subject and headers. */
  valueLimit(key: string): number {
    return this.#bus.maxPayload() - KV_OVERHEAD - key.length;
  }

  #checkSize(key: string, data: Uint8Array): Uint8Array {
    const limit = this.valueLimit(key);
    if (data.length > limit) throw PayloadTooLarge(`KV ${this.bucket}/${key}`, data.length, limit);
    return data;
  }

  /**
   * Write already encoded bytes unconditionally (a value stored in another encoding than plain
   * JSON, e.g. a compressed plan; read it back with `kv.get`, not {@link JsonKv.get}). Checks the
   * size like {@link JsonKv.put}; returns the new revision.
   */
  async putBytes(key: string, data: Uint8Array): Promise<number> {
    return this.kv.put(key, this.#checkSize(key, data));
  }

  decode(e: KvEntry): T {
    return decodeJson<T>(e.value, `KV ${this.bucket}/${e.key}@${e.revision}`);
  }

  /** The current value, or `null` when the key is missing or deleted. */
  async get(key: string): Promise<JsonEntry<T> | null> {
    const e = await this.kv.get(key);
    if (!e || e.operation !== 'PUT') return null;
    return { key, value: this.decode(e), revision: e.revision };
  }

  /** Write unconditionally; returns the new revision. */
  async put(key: string, value: T): Promise<number> {
    return this.kv.put(key, this.encode(key, value));
  }

  /** Write only if the key does not exist (or was deleted); fails with "wrong last sequence" otherwise. */
  async create(key: string, value: T): Promise<number> {
    return this.kv.create(key, this.encode(key, value));
  }

  /** Write only if the key is still at `revision` (compare-and-set). */
  async update(key: string, value: T, revision: number): Promise<number> {
    return this.kv.update(key, this.encode(key, value), revision);
  }

  /** Delete (a delete marker; history keeps earlier values). */
  delete(key: string, previousRevision?: number): Promise<void> {
    return this.kv.delete(key, previousRevision ? { previousSeq: previousRevision } : undefined);
  }

  /** Every key matching `filter` (KV wildcards `*` and `>`), collected. */
  async keys(filter?: string): Promise<string[]> {
    const out: string[] = [];
    const it = await this.kv.keys(filter);
    for await (const k of it) out.push(k);
    return out;
  }

  /**
   * Read the current value of every key matching `filter` (KV wildcards; default all) in one
   * pass over the bucket's stream (last message per subject), much faster than `keys()` plus a
   * `get()` per key: this is how an owner loads a partition's table on takeover. Deleted keys are
   * skipped. Returns the number of live entries.
   */
  async load(filter: string, fn: (entry: JsonEntry<T>) => void | Promise<void>): Promise<number> {
    const prefix = `$KV.${this.bucket}.`;
    let n = 0;
    await lastPerSubject(this.#bus, `KV_${this.bucket}`, prefix + filter, async (m) => {
      const op = m.headers?.get('KV-Operation');
      if (op === 'DEL' || op === 'PURGE') return;
      const key = m.subject.slice(prefix.length);
      n++;
      await fn({
        key,
        value: decodeJson<T>(m.data, `KV ${this.bucket}/${key}@${m.streamSeq}`),
        revision: m.streamSeq,
      });
    });
    return n;
  }

  /**
   * Watch keys: the current values first (`delta` counts down to 0), then every change, until
   * `signal` aborts. Bad JSON surfaces as an error from the iterator's consumer (`onError`).
   */
  async *watch(
    opts: { key?: string | string[]; updatesOnly?: boolean; signal?: AbortSignal } = {},
  ): AsyncGenerator<JsonWatchEntry<T>> {
    const it = await this.kv.watch({
      ...(opts.key !== undefined ? { key: opts.key } : {}),
      include: opts.updatesOnly ? KvWatchInclude.UpdatesOnly : KvWatchInclude.LastValue,
    });
    const stop = (): void => it.stop();
    opts.signal?.addEventListener('abort', stop, { once: true });
    try {
      for await (const e of it) {
        yield {
          key: e.key,
          value: e.operation === 'PUT' ? this.decode(e) : undefined,
          revision: e.revision,
          operation: e.operation,
          delta: e.delta ?? 0,
        };
      }
    } finally {
      opts.signal?.removeEventListener('abort', stop);
      it.stop();
    }
  }
}
