import { headers as natsHeaders, errors as natsErrors, type MsgHdrs } from '@nats-io/transport-node';
import { JetStreamApiError, JetStreamError, type JetStreamPublishOptions } from '@nats-io/jetstream';
import { HEADERS, KollectError, redactSecrets } from '@kollect/contracts';
import type { Bus } from './connect.js';
import { encodeJson } from './codec.js';
import type { JsPublishOptions } from './jspub.js';
import { PayloadTooLarge, PublishFailed, PublishRejected } from './errors.js';
import { injectTrace, type TraceContext } from './trace.js';

/** Options of one publish. */
export interface PublishOptions {
  /** `Nats-Msg-Id`: the stream drops a second message with the same id within its duplicate window. */
  msgId?: string;
  /** Extra headers (string values). */
  headers?: Record<string, string> | MsgHdrs;
  /** Propagate a trace: sets `traceparent`. */
  trace?: TraceContext;
  /** Optimistic concurrency (`Nats-Expected-*` headers). */
  expect?: JetStreamPublishOptions['expect'];
  /** Per-message TTL like `"24h"` (stream must allow it, server >= 2.11). */
  ttl?: string;
  /** Ack timeout per attempt (ms). */
  timeoutMs?: number;
  /** Attempts for transient failures, with the same msgId each time (default 5). */
  attempts?: number;
}

/** The outcome of one acknowledged publish. */
export interface Published {
  subject: string;
  stream: string;
  seq: number;
  /** True when the stream had already stored this msgId (a harmless retry). */
  duplicate: boolean;
}

function buildHeaders(opts: PublishOptions): MsgHdrs | undefined {
  if (!opts.headers && !opts.trace) return undefined;
  let h: MsgHdrs;
  if (
    opts.headers &&
    typeof (opts.headers as MsgHdrs).set === 'function' &&
    typeof (opts.headers as MsgHdrs).get === 'function'
  ) {
    h = opts.headers as MsgHdrs;
  } else {
    h = natsHeaders();
    for (const [k, v] of Object.entries((opts.headers as Record<string, string> | undefined) ?? {}))
      h.set(k, v);
  }
  if (opts.trace) injectTrace(opts.trace, h);
  return h;
}

/** Bytes the message occupies against max_payload (body + header block + msg id header). */
function wireSize(data: Uint8Array, h: MsgHdrs | undefined, opts: PublishOptions): number {
  let size = data.length;
  if (h) size += (h as unknown as { encode(): Uint8Array }).encode().length;
  // Headers the client adds itself (msg id, expectations, TTL) are small; count them roughly.
  if (opts.msgId) size += HEADERS.msgId.length + opts.msgId.length + 4 + (h ? 0 : 12);
  if (opts.expect) size += 160;
  if (opts.ttl) size += 16;
  return size;
}

/**
 * True for failures worth retrying with the same msgId: timeouts, no responders (JetStream
 * restarting, leader election), lost connection, 503s, and a full `discard: new` stream.
 */
export function isTransientPublishError(err: unknown): boolean {
  if (err instanceof KollectError) return err.errorClass === 'transient';
  if (err instanceof JetStreamApiError) {
    if (err.status === 503) return true;
    return /maximum (bytes|messages) exceeded|resource limits exceeded|temporarily unavailable/i.test(
      err.message,
    );
  }
  if (err instanceof natsErrors.ClosedConnectionError) return false;
  if (err instanceof natsErrors.DrainingConnectionError) return false;
  return (
    // JetStream answering "not enabled" = no responders: the server is (re)starting.
    (err instanceof Error && err.name === 'JetStreamNotEnabled') ||
    (err instanceof JetStreamError && /not enabled|no responders/i.test(err.message)) ||
    err instanceof natsErrors.TimeoutError ||
    err instanceof natsErrors.RequestError ||
    err instanceof natsErrors.NoRespondersError ||
    err instanceof natsErrors.ConnectionError
  );
}

function isSizeError(err: unknown): boolean {
  if (err instanceof JetStreamApiError && /message size exceeds maximum/i.test(err.message)) return true;
  return err instanceof Error && /max_payload/i.test(err.message);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Publish raw bytes to a stream and wait for its ack. Transient failures are retried with the same
 * msgId (so a retry of a stored message reports `duplicate: true`, never a second copy). Throws
 * {@link PayloadTooLarge} before sending anything over the server's max_payload,
 * {@link PublishRejected} when the stream refuses the message, {@link PublishFailed} when retries
 * are exhausted.
 */
export async function publishBytes(
  bus: Bus,
  subject: string,
  data: Uint8Array,
  opts: PublishOptions = {},
): Promise<Published> {
  const h = buildHeaders(opts);
  const limit = bus.maxPayload();
  const size = wireSize(data, h, opts);
  if (size > limit) throw PayloadTooLarge(subject, size, limit);
  const attempts = Math.max(1, opts.attempts ?? 5);
  const popts: JsPublishOptions = {
    ...(opts.msgId !== undefined ? { msgId: opts.msgId } : {}),
    ...(h ? { headers: h } : {}),
    ...(opts.expect ? { expect: opts.expect } : {}),
    ...(opts.ttl ? { ttl: opts.ttl } : {}),
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
  };
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const pa = await bus.pub.publish(subject, data, popts);
      return { subject, stream: pa.stream, seq: pa.seq, duplicate: pa.duplicate };
    } catch (err) {
      last = err;
      if (isSizeError(err)) throw PayloadTooLarge(subject, size, limit, { cause: err });
      if (!isTransientPublishError(err)) {
        throw PublishRejected(subject, redactSecrets(err instanceof Error ? err.message : String(err)), {
          cause: err,
        });
      }
      if (i + 1 < attempts) await sleep(Math.min(5000, 200 * 2 ** i) * (0.5 + Math.random() / 2));
    }
  }
  throw PublishFailed(subject, attempts, redactSecrets(last instanceof Error ? last.message : String(last)), {
    cause: last,
  });
}

/** JSON-encode `msg` and publish it (see {@link publishBytes}). */
export async function publishJson(
  bus: Bus,
  subject: string,
  msg: unknown,
  opts: PublishOptions = {},
): Promise<Published> {
  return publishBytes(bus, subject, encodeJson(msg), opts);
}

/** The result of one message in an {@link AsyncPublisher}: never a rejection. */
export type PublishOutcome =
  ({ ok: true } & Published) | { ok: false; subject: string; msgId: string | undefined; error: KollectError };

/** Counters of an {@link AsyncPublisher}. */
export interface PublisherStats {
  /** Acked and newly stored. */
  published: number;
  /** Acked as a duplicate of an earlier msgId. */
  duplicates: number;
  /** Gave up (after retries, rejected, or too large). */
  failed: number;
  inFlight: number;
}

/** Options of an {@link AsyncPublisher}. */
export interface AsyncPublisherOptions {
  /** Max unacknowledged publishes at once (default 128). About 5x the throughput of awaiting each ack. */
  window?: number;
  /** Per-message attempts for transient failures (default 5). */
  attempts?: number;
  /** Called for every failed message (also returned by {@link AsyncPublisher.flush}). */
  onFailure?: (outcome: Extract<PublishOutcome, { ok: false }>) => void;
  /** Called for every acked message (metrics). */
  onPublished?: (outcome: Extract<PublishOutcome, { ok: true }>) => void;
}

/**
 * Pipelined JetStream publisher with bounded in-flight messages. `publish()` resolves as soon as
 * a window slot is free (backpressure) and hands back the message's own outcome promise; `flush()`
 * waits for everything in flight and returns the failures since the previous flush.
 */
export class AsyncPublisher {
  readonly #bus: Bus;
  readonly #window: number;
  readonly #attempts: number;
  readonly #opts: AsyncPublisherOptions;
  readonly #inflight = new Set<Promise<PublishOutcome>>();
  #failures: Extract<PublishOutcome, { ok: false }>[] = [];
  readonly #waiters: (() => void)[] = [];
  readonly stats: PublisherStats = { published: 0, duplicates: 0, failed: 0, inFlight: 0 };

  constructor(bus: Bus, opts: AsyncPublisherOptions = {}) {
    this.#bus = bus;
    this.#window = Math.max(1, opts.window ?? 128);
    this.#attempts = opts.attempts ?? 5;
    this.#opts = opts;
  }

  /** Queue a JSON message. Waits only while the window is full. */
  async publishJson(
    subject: string,
    msg: unknown,
    opts: PublishOptions = {},
  ): Promise<{ done: Promise<PublishOutcome> }> {
    return this.publishBytes(subject, encodeJson(msg), opts);
  }

  /** Queue raw bytes. Waits only while the window is full. */
  async publishBytes(
    subject: string,
    data: Uint8Array,
    opts: PublishOptions = {},
  ): Promise<{ done: Promise<PublishOutcome> }> {
    while (this.#inflight.size >= this.#window) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    const p: Promise<PublishOutcome> = publishBytes(this.#bus, subject, data, {
      attempts: this.#attempts,
      ...opts,
    }).then(
      (ok): PublishOutcome => {
        if (ok.duplicate) this.stats.duplicates++;
        else this.stats.published++;
        const outcome = { ok: true as const, ...ok };
        this.#opts.onPublished?.(outcome);
        return outcome;
      },
      (err: unknown): PublishOutcome => {
        this.stats.failed++;
        const error =
          err instanceof KollectError
            ? err
            : PublishFailed(subject, 1, redactSecrets(err instanceof Error ? err.message : String(err)), {
                cause: err,
              });
        const outcome = { ok: false as const, subject, msgId: opts.msgId, error };
        this.#failures.push(outcome);
        this.#opts.onFailure?.(outcome);
        return outcome;
      },
    );
    this.#inflight.add(p);
    this.stats.inFlight = this.#inflight.size;
    void p.then(() => {
      this.#inflight.delete(p);
      this.stats.inFlight = this.#inflight.size;
      this.#waiters.shift()?.();
    });
    return { done: p };
  }

  /** Wait for every message in flight; returns (and forgets) the failures since the last flush. */
  async flush(): Promise<Extract<PublishOutcome, { ok: false }>[]> {
    while (this.#inflight.size > 0) await Promise.all([...this.#inflight]);
    const failures = this.#failures;
    this.#failures = [];
    return failures;
  }
}
