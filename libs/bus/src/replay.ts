import { DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import type { Bus } from './connect.js';
import { decodeJson } from './codec.js';

/** One message of a replay. */
export interface ReplayedMessage {
  subject: string;
  streamSeq: number;
  data: Uint8Array;
  headers: MsgHdrs | undefined;
  /** Decode the body as JSON (throws a terminal error on bad JSON). */
  json<T>(): T;
}

/** Options of {@link replaySubject} and {@link lastPerSubject}. */
export interface ReplayOptions {
  /** Only headers, no body (cheap scan of what exists, e.g. to find vanished objects). */
  headersOnly?: boolean;
  /** Stop when aborted; the returned promise then resolves with what was read so far. */
  signal?: AbortSignal;
  /**
   * {@link replaySubject} only: start at this stream sequence instead of the beginning (a second
   * pass that reads only what arrived after a first one's `upToSeq`).
   */
  fromSeq?: number;
}

/** What a replay read. */
export interface ReplayResult {
  messages: number;
  /** Stream sequence the replay ran up to (inclusive): the stream's last sequence at the start. */
  upToSeq: number;
}

function toReplayed(m: JsMsg, stream: string): ReplayedMessage {
  return {
    subject: m.subject,
    streamSeq: m.info.streamSequence,
    data: m.data,
    headers: m.headers,
    json: <T>() => decodeJson<T>(m.data, `${stream}#${m.info.streamSequence} (${m.subject})`),
  };
}

async function scan(
  bus: Bus,
  stream: string,
  filter: string | string[],
  policy: DeliverPolicy,
  fn: (m: ReplayedMessage) => void | Promise<void>,
  opts: ReplayOptions,
  bounded: boolean,
): Promise<ReplayResult> {
  const info = await bus.jsm.streams.info(stream);
  const upToSeq = info.state.last_seq;
  if (bounded && opts.fromSeq !== undefined && opts.fromSeq > upToSeq) return { messages: 0, upToSeq };
  const fromSeq =
    policy === DeliverPolicy.All && opts.fromSeq !== undefined && opts.fromSeq > 1 ? opts.fromSeq : undefined;
  const consumer = await bus.js.consumers.get(stream, {
    filter_subjects: filter,
    deliver_policy: fromSeq !== undefined ? DeliverPolicy.StartSequence : policy,
    ...(fromSeq !== undefined ? { opt_start_seq: fromSeq } : {}),
    ...(opts.headersOnly ? { headers_only: true } : {}),
  });
  const ci = await consumer.info(true);
  let count = 0;
  if (ci.num_pending === 0 || upToSeq === 0) return { messages: 0, upToSeq };
  const iter = await consumer.consume({ max_messages: 500 });
  const onAbort = (): void => void iter.stop();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const m of iter) {
      if (bounded && m.info.streamSequence > upToSeq) break;
      await fn(toReplayed(m, stream));
      count++;
      // `pending` = messages matching the filter after this one; 0 means we reached the end.
      if (m.info.pending === 0 || (bounded && m.info.streamSequence >= upToSeq)) break;
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    iter.stop();
  }
  return { messages: count, upToSeq };
}

/**
 * Replay every message of `stream` matching `filter`, from the start up to the stream's last
 * sequence at the time of the call, in order, through an ephemeral ordered consumer (no state on
 * the server afterwards). The extractor uses it to re-extract a GVR from the object log when the
 * plan changes; with `max_msgs_per_subject: 1` that is exactly the live objects plus tombstones.
 */
export function replaySubject(
  bus: Bus,
  stream: string,
  filter: string | string[],
  fn: (m: ReplayedMessage) => void | Promise<void>,
  opts: ReplayOptions = {},
): Promise<ReplayResult> {
  return scan(bus, stream, filter, DeliverPolicy.All, fn, opts, true);
}

/**
 * Read the last message of every subject matching `filter` (deliver policy `last_per_subject`).
 * The watcher uses it after a relist to learn which objects the log still holds. Not bounded by
 * the start sequence: a subject updated during the scan is delivered with its newest message, so
 * no subject is skipped; `upToSeq` is the stream's last sequence at the start.
 */
export function lastPerSubject(
  bus: Bus,
  stream: string,
  filter: string | string[],
  fn: (m: ReplayedMessage) => void | Promise<void>,
  opts: ReplayOptions = {},
): Promise<ReplayResult> {
  return scan(bus, stream, filter, DeliverPolicy.LastPerSubject, fn, opts, false);
}
