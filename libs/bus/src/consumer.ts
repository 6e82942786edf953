import type { DeliverPolicy } from '@nats-io/jetstream';
import {
  AckPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerConfig,
  type ConsumerCreateOptions,
  type ConsumerInfo,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos, type MsgHdrs, type Status, type Subscription } from '@nats-io/transport-node';
import type { KollectError } from '@kollect/contracts';
import { errorClassOf, redactSecrets } from '@kollect/contracts';
import type { Bus } from './connect.js';
import { decodeJson } from './codec.js';
import { planConsumerBind, describeChanges, type ConsumerFieldChange } from './consumer-bind.js';
import { ConsumerIncompatible, ConsumerSetupFailed, isTerminalForConsumer } from './errors.js';
import { EventChannel } from './events.js';
import { silentLogger, type BusLogger } from './logger.js';
import { extractTrace, type TraceContext } from './trace.js';
import { FEATURE_MIN_VERSION } from './version.js';

/** One delivered message, as a handler sees it. */
export interface ConsumedMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: MsgHdrs | undefined;
  /** Stream sequence (the order of the log; rows carry it as `sourceSeq`). */
  readonly streamSeq: number;
  /** 1 on first delivery, 2 on the first redelivery, … */
  readonly deliveryCount: number;
  /** Messages left for this consumer after this one (server's view at delivery). */
  readonly pending: number;
  /** Trace context from the `traceparent` header, if any. */
  readonly trace: TraceContext | undefined;
  /** Decode the body as JSON (a bad body throws a terminal error: the message is TERMed). */
  json<T>(): T;
  /** Tell the server the handler is still working (resets ack wait). Called automatically too. */
  working(): void;
  /** The underlying JetStream message, for what this wrapper does not cover. */
  readonly raw: JsMsg;
}

/** Why a message went to the dead-letter hook. */
export type DeadLetterReason =
  /** The handler threw a non-transient error (poison message): TERMed on first sight. */
  | 'poison'
  /** The handler kept failing transiently until the last allowed delivery: TERMed. */
  | 'max_deliver'
  /** The server gave up on a message nobody acked in time (advisory; no payload here). */
  | 'max_deliveries_advisory';

export interface DeadLetter {
  reason: DeadLetterReason;
  stream: string;
  durable: string;
  streamSeq: number;
  deliveryCount: number;
  subject?: string;
  data?: Uint8Array;
  error?: KollectError | Error;
}

/** Small enum of runner events (the data plane is the handler; this is the control plane). */
export type ConsumerEvent =
  | { type: 'consuming'; stream: string; durable: string; created: boolean }
  /**
   * The durable existed with other settings and was updated in place (`changes`), keeping its
   * position; `kept` lists start-position fields that differ but only apply to a new durable.
   */
  | { type: 'config_updated'; changes: ConsumerFieldChange[]; kept: ConsumerFieldChange[] }
  /**
   * Creating or binding the durable failed; the runner retries with backoff. `incompatible`: the
   * durable exists with settings the server cannot change in place (needs an operator).
   */
  | { type: 'bind_failed'; reason: 'incompatible' | 'error'; code: string; message: string; attempt: number }
  | { type: 'heartbeats_missed'; count: number }
  | { type: 'consumer_deleted' }
  | { type: 'consumer_not_found' }
  | { type: 'stream_not_found' }
  | { type: 'recreating'; reason: string; attempt: number }
  | { type: 'disconnected' }
  | { type: 'reconnected' }
  | { type: 'pinned'; id: string }
  | { type: 'unpinned' }
  | { type: 'redelivery'; streamSeq: number; deliveryCount: number }
  | { type: 'nak'; streamSeq: number; deliveryCount: number; delayMs: number; errorClass: string }
  | { type: 'term'; streamSeq: number; deliveryCount: number; reason: DeadLetterReason }
  | { type: 'dead_letter'; streamSeq: number; reason: DeadLetterReason }
  | { type: 'error'; message: string }
  | { type: 'stopped' };

export type ConsumerEventType = ConsumerEvent['type'];

/** Options of {@link runConsumer}. */
export interface ConsumerOptions {
  bus: Bus;
  stream: string;
  /** Durable name; also the identity of the work (`aggregator-p3`, `sink-git-team-a-prod`). */
  durable: string;
  /** One subject filter or several (several need server >= 2.10). */
  filterSubjects?: string | string[];
  /** Message handler. Return = ack. Throw a transient error = NAK with delay; anything else = TERM. */
  handler: (msg: ConsumedMessage) => Promise<void>;
  /** Deliveries before a message is given up (default 5). */
  maxDeliver?: number;
  /** How long the server waits for an ack before redelivering (default 30 s). */
  ackWaitMs?: number;
  /** Server redelivery delays after ack-wait expiry, e.g. `[1000, 5000, 30000]` (length < maxDeliver). */
  backoffMs?: number[];
  /** NAK delay for a transient handler failure, by delivery count (default 1 s · 2^(n-1), max 60 s). */
  nakDelayMs?: (deliveryCount: number) => number;
  /** Max unacked messages outstanding on the consumer (default 1000). When reached, delivery stops. */
  maxAckPending?: number;
  /** Messages per pull request (default 100). */
  batch?: number;
  /** Messages handled at once (default 1: in order). */
  concurrency?: number;
  /** Where a new consumer starts (default `all`). */
  deliverPolicy?: 'all' | 'new' | 'last' | 'last_per_subject';
  /** Pull request expiry (ms, default 10 s); idle heartbeats come every half of it. */
  pullExpiresMs?: number;
  /**
   * Pinned-client priority group: the server delivers to one client of the group at a time and
   * moves the pin when that client stops pulling for `priorityTimeoutMs` (server >= 2.11).
   */
  priorityGroup?: string;
  /** How long a silent pinned client keeps the pin (default 10 s). */
  priorityTimeoutMs?: number;
  /** Call `working()` automatically while a handler runs, every ackWait/3 (default true). */
  autoWorking?: boolean;
  /** Dead-letter hook: store or report the message. Errors in the hook are logged, not retried. */
  onDeadLetter?: (dl: DeadLetter) => void | Promise<void>;
  /** Recreate a missing stream (e.g. `() => ensureTopology(bus.jsm, topo)`); otherwise wait for it. */
  onStreamMissing?: () => Promise<void>;
  /** Consumer metadata (server >= 2.10). */
  metadata?: Record<string, string>;
  logger?: BusLogger;
  /** Stops the runner when aborted (same as `stop()`). */
  signal?: AbortSignal;
}

/** Counters of a runner (metrics read these). */
export interface ConsumerStats {
  delivered: number;
  acked: number;
  naked: number;
  termed: number;
  redeliveries: number;
  deadLettered: number;
  recreated: number;
}

/** Whether a runner is bound to its durable (readiness checks read this). */
export interface ConsumerBindState {
  /**
   * True once the durable was created, updated or bound and messages are pulled; false before the
   * first bind, after a failed bind, and after stop. A recreation in progress keeps the last result.
   */
  bound: boolean;
  /** The last bind failure, until the next successful bind. */
  error?: { code: string; reason: 'incompatible' | 'error'; message: string; at: number };
}

/** A running durable consumer. */
export interface ConsumerRunner {
  readonly stats: ConsumerStats;
  /** Bound or not, and why not: feed this into the service's readiness. */
  bindState(): ConsumerBindState;
  /** Control-plane events as an async iterator (ends when the runner stops). */
  status(): AsyncIterableIterator<ConsumerEvent>;
  /** Control-plane events as a callback; returns unsubscribe. */
  on(cb: (e: ConsumerEvent) => void): () => void;
  /** Server-side consumer state (pending, ack pending, redelivered) for metrics and alerts. */
  info(): Promise<ConsumerInfo>;
  /**
   * Resolves when the first pull is running (consumer created or bound), or when the runner
   * stops. Never rejects: while binding fails it stays pending — watch {@link bindState}.
   */
  ready(): Promise<void>;
  /** Stop pulling, let running handlers finish, NAK buffered messages; resolves when done. */
  stop(): Promise<void>;
  /** Resolves when the runner has stopped (after `stop()` or abort). */
  done(): Promise<void>;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

function defaultNakDelay(deliveryCount: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, deliveryCount - 1));
}

/**
 * The request's action: `create` fails when a durable of another config exists, `update` when none
 * exists. The client's `consumers.add` honours `action` in its options (its own `update()` reads the
 * config first and merges, which we do ourselves), but the public type does not declare it.
 */
function withAction(action: 'create' | 'update'): ConsumerCreateOptions {
  return { action } as ConsumerCreateOptions;
}

function isNotFound(err: unknown, code: number): boolean {
  return err instanceof JetStreamApiError && err.code === code;
}

/** The durable consumer configuration the runner creates (pure; exported for tests and docs). */
export function consumerConfig(opts: Omit<ConsumerOptions, 'bus' | 'handler'>): Partial<ConsumerConfig> {
  const filters = opts.filterSubjects === undefined ? [] : ([] as string[]).concat(opts.filterSubjects);
  const maxDeliver = opts.maxDeliver ?? 5;
  if (opts.backoffMs && opts.backoffMs.length >= maxDeliver) {
    throw new RangeError(
      `backoffMs has ${opts.backoffMs.length} entries; it must have fewer than maxDeliver (${maxDeliver})`,
    );
  }
  const cfg: Partial<ConsumerConfig> = {
    durable_name: opts.durable,
    name: opts.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: (opts.deliverPolicy ?? 'all') as DeliverPolicy,
    max_deliver: maxDeliver,
    ack_wait: nanos(opts.ackWaitMs ?? 30_000),
    max_ack_pending: opts.maxAckPending ?? 1000,
    ...(opts.backoffMs?.length ? { backoff: opts.backoffMs.map((ms) => nanos(ms)) } : {}),
    ...(filters.length === 1 ? { filter_subject: filters[0] as string } : {}),
    ...(filters.length > 1 ? { filter_subjects: filters } : {}),
    ...(opts.metadata ? { metadata: opts.metadata } : {}),
  };
  if (opts.priorityGroup) {
    Object.assign(cfg, {
      priority_groups: [opts.priorityGroup],
      priority_policy: 'pinned_client',
      priority_timeout: nanos(opts.priorityTimeoutMs ?? 10_000),
    });
  }
  return cfg;
}

/**
 * Run a durable pull consumer with explicit acks until stopped. It creates the durable, or
 * updates an existing one in place to the wanted settings (keeping its position; a change the
 * server cannot make in place fails the bind loudly: `bind_failed` event, {@link
 * ConsumerRunner.bindState}, `KOLLECT_ERR_BUS_CONSUMER_INCOMPATIBLE`), and survives what JetStream throws at a long-lived consumer: missed heartbeats, the
 * consumer or stream deleted under it, server restarts and reconnects — by recreating the
 * consumer and resuming. Handler outcomes: return → ack; transient error → NAK with a growing
 * delay; non-transient {@link KollectError} (e.g. `PoisonMessage`) → TERM + dead-letter hook; a
 * transient failure on the last allowed delivery → TERM + dead-letter hook (`max_deliver`).
 */
export function runConsumer(opts: ConsumerOptions): ConsumerRunner {
  const { bus, stream, durable } = opts;
  const log = opts.logger ?? silentLogger;
  const events = new EventChannel<ConsumerEvent>();
  const stats: ConsumerStats = {
    delivered: 0,
    acked: 0,
    naked: 0,
    termed: 0,
    redeliveries: 0,
    deadLettered: 0,
    recreated: 0,
  };
  const maxDeliver = opts.maxDeliver ?? 5;
  const ackWaitMs = opts.ackWaitMs ?? 30_000;
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const nakDelay = opts.nakDelayMs ?? defaultNakDelay;
  const stopCtl = new AbortController();
  let current: ConsumerMessages | undefined;
  let readyResolve!: () => void;
  const readyP = new Promise<void>((r) => (readyResolve = r));
  const running = new Set<Promise<void>>();
  // Handlers in progress with their start time: one timer sends `working()` for the long ones
  // (a timer per message costs more than the handler on a busy consumer).
  const inProgress = new Map<JsMsg, number>();
  const workingEvery = opts.autoWorking === false ? undefined : Math.max(200, Math.floor(ackWaitMs / 3));
  const workingTimer =
    workingEvery === undefined
      ? undefined
      : setInterval(() => {
          const due = performance.now() - workingEvery;
          for (const [m, since] of inProgress) if (since <= due) m.working();
        }, workingEvery);
  workingTimer?.unref();
  let advisorySub: Subscription | undefined;
  let bind: ConsumerBindState = { bound: false };

  const emit = (e: ConsumerEvent): void => {
    events.emit(e);
    if (e.type === 'bind_failed') {
      log.error(
        { stream, durable, code: e.code, attempt: e.attempt, err: e.message },
        'consumer bind failed',
      );
    } else if (e.type === 'config_updated') {
      if (e.changes.length > 0)
        log.info(
          { stream, durable, changes: describeChanges(e.changes) },
          'consumer settings updated in place',
        );
      if (e.kept.length > 0)
        log.warn(
          { stream, durable, kept: describeChanges(e.kept) },
          'the durable keeps its start position (it only applies to a new durable)',
        );
    } else if (
      e.type === 'error' ||
      e.type === 'consumer_deleted' ||
      e.type === 'stream_not_found' ||
      e.type === 'term'
    ) {
      log.warn({ stream, durable, event: e }, `consumer ${e.type}`);
    } else if (e.type !== 'redelivery' && e.type !== 'nak') {
      log.debug({ stream, durable, event: e }, `consumer ${e.type}`);
    }
  };

  if (opts.priorityGroup)
    bus.requireServerVersion(FEATURE_MIN_VERSION.pinnedConsumers, 'pinned-client consumers');
  const config = consumerConfig(opts);

  const deadLetter = async (dl: DeadLetter): Promise<void> => {
    stats.deadLettered++;
    emit({ type: 'dead_letter', streamSeq: dl.streamSeq, reason: dl.reason });
    log.error(
      {
        stream,
        durable,
        streamSeq: dl.streamSeq,
        subject: dl.subject,
        deliveryCount: dl.deliveryCount,
        reason: dl.reason,
        error_class: dl.error ? errorClassOf(dl.error) : undefined,
        err: dl.error ? redactSecrets(dl.error.message) : undefined,
      },
      'message dead-lettered',
    );
    try {
      await opts.onDeadLetter?.(dl);
    } catch (err) {
      log.error({ stream, durable, err: redactSecrets(String(err)) }, 'dead-letter hook failed');
    }
  };

  // The server announces messages it stopped redelivering (ack wait ran out on the last delivery):
  // the only way to learn about poison that crashes or hangs the handler instead of throwing.
  try {
    advisorySub = bus.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${durable}`, {
      callback: (err, m) => {
        if (err) return;
        try {
          const a = decodeJson<{ stream_seq: number; deliveries: number }>(m.data, 'max deliveries advisory');
          void deadLetter({
            reason: 'max_deliveries_advisory',
            stream,
            durable,
            streamSeq: a.stream_seq,
            deliveryCount: a.deliveries,
          });
        } catch {
          // malformed advisory: nothing to do
        }
      },
    });
  } catch {
    advisorySub = undefined;
  }

  const wrap = (m: JsMsg): ConsumedMessage => ({
    subject: m.subject,
    data: m.data,
    headers: m.headers,
    streamSeq: m.info.streamSequence,
    deliveryCount: m.info.deliveryCount,
    pending: m.info.pending,
    trace: extractTrace(m.headers),
    json: <T>() => decodeJson<T>(m.data, `${stream}#${m.info.streamSequence} (${m.subject})`),
    working: () => m.working(),
    raw: m,
  });

  const handle = async (m: JsMsg): Promise<void> => {
    stats.delivered++;
    const count = m.info.deliveryCount;
    const seq = m.info.streamSequence;
    if (count > 1) {
      stats.redeliveries++;
      emit({ type: 'redelivery', streamSeq: seq, deliveryCount: count });
    }
    if (workingEvery !== undefined) inProgress.set(m, performance.now());
    try {
      await opts.handler(wrap(m));
      m.ack();
      stats.acked++;
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      /** Stop redelivering: terminate with a note, count it, and dead-letter the message. */
      const terminate = async (reason: 'poison' | 'max_deliver', note: string): Promise<void> => {
        m.term(note);
        stats.termed++;
        emit({ type: 'term', streamSeq: seq, deliveryCount: count, reason });
        await deadLetter({
          reason,
          stream,
          durable,
          streamSeq: seq,
          deliveryCount: count,
          subject: m.subject,
          data: m.data,
          error,
        });
      };
      if (isTerminalForConsumer(err)) {
        await terminate('poison', redactSecrets(error.message).slice(0, 200));
      } else if (count >= maxDeliver) {
        await terminate(
          'max_deliver',
          `max deliveries (${maxDeliver}) reached: ${redactSecrets(error.message).slice(0, 160)}`,
        );
      } else {
        const delay = Math.max(0, nakDelay(count));
        m.nak(delay);
        stats.naked++;
        emit({
          type: 'nak',
          streamSeq: seq,
          deliveryCount: count,
          delayMs: delay,
          errorClass: errorClassOf(err),
        });
        log.debug(
          { stream, durable, streamSeq: seq, deliveryCount: count, err: redactSecrets(error.message) },
          'handler failed; NAK',
        );
      }
    } finally {
      inProgress.delete(m);
    }
  };

  const isApiCode = (err: unknown, ...codes: number[]): boolean =>
    err instanceof JetStreamApiError && codes.includes(err.code);
  /** Server error codes of a refused update: create error ("… can not be updated"), work-queue overlap. */
  const REFUSED_UPDATE = [10012, 10100];
  /** The server's answer to a create with action `create` when a durable of another config exists. */
  const ALREADY_EXISTS = 10148;

  /**
   * Create the durable, or bring an existing one to the wanted settings in place (see
   * `planConsumerBind`); returns whether it was created now. Throws `ConsumerIncompatible` when
   * the existing durable cannot be changed in place.
   */
  const ensureConsumer = async (): Promise<boolean> => {
    for (let round = 0; ; round++) {
      let existing: ConsumerInfo | undefined;
      try {
        existing = await bus.jsm.consumers.info(stream, durable);
      } catch (err) {
        if (!isNotFound(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
      }
      if (!existing) {
        try {
          await bus.jsm.consumers.add(stream, config, withAction('create'));
          return true;
        } catch (err) {
          // Another replica created it meanwhile, with other settings: reconcile with those.
          if (isApiCode(err, ALREADY_EXISTS) && round === 0) continue;
          throw err;
        }
      }
      const plan = planConsumerBind(existing.config, config);
      if (plan.action === 'incompatible') {
        throw ConsumerIncompatible(stream, durable, describeChanges(plan.incompatible));
      }
      if (plan.action === 'update') {
        try {
          await bus.jsm.consumers.add(stream, plan.config as ConsumerConfig, withAction('update'));
        } catch (err) {
          if (isApiCode(err, REFUSED_UPDATE[0] as number, REFUSED_UPDATE[1] as number)) {
            const detail = redactSecrets(err instanceof Error ? err.message : String(err));
            throw ConsumerIncompatible(
              stream,
              durable,
              `${describeChanges(plan.changes)}: the server refused the update: ${detail}`,
              { cause: err },
            );
          }
          throw err;
        }
      }
      if (plan.changes.length > 0 || plan.kept.length > 0)
        emit({ type: 'config_updated', changes: plan.changes, kept: plan.kept });
      return false;
    }
  };

  const consumeOnce = async (): Promise<string> => {
    const created = await ensureConsumer();
    const consumer = await bus.js.consumers.get(stream, durable);
    const expires = Math.max(1000, opts.pullExpiresMs ?? 10_000);
    const messages = await consumer.consume({
      max_messages: opts.batch ?? 100,
      expires,
      ...(opts.priorityGroup ? { group: opts.priorityGroup } : {}),
    });
    current = messages;
    bind = { bound: true };
    emit({ type: 'consuming', stream, durable, created });
    readyResolve();
    let restartReason = '';
    // Control plane: decide when this consume() is beyond repair and must be recreated.
    void (async () => {
      for await (const s of messages.status()) {
        switch (s.type) {
          case 'heartbeats_missed':
            emit({ type: 'heartbeats_missed', count: s.count });
            // The client re-checks the consumer itself; after several misses start over.
            if (s.count >= 4) {
              restartReason ||= 'heartbeats missed';
              messages.stop();
            }
            break;
          case 'consumer_deleted':
            emit({ type: 'consumer_deleted' });
            restartReason ||= 'consumer deleted';
            messages.stop();
            break;
          case 'consumer_not_found':
            emit({ type: 'consumer_not_found' });
            restartReason ||= 'consumer not found';
            messages.stop();
            break;
          case 'stream_not_found':
            emit({ type: 'stream_not_found' });
            restartReason ||= 'stream not found';
            messages.stop();
            break;
          case 'consumer_pinned':
            emit({ type: 'pinned', id: s.id });
            break;
          case 'consumer_unpinned':
            emit({ type: 'unpinned' });
            break;
          case 'exceeded_limits':
            emit({ type: 'error', message: `pull limits exceeded: ${s.description}` });
            break;
          default:
            break;
        }
      }
    })().catch(() => undefined);

    const slots = new Set<Promise<void>>();
    // Woken by the next handler to finish (a Promise.race over every slot per message would
    // attach a reaction to each running handler every time: O(concurrency) per message).
    let slotFreed: (() => void) | undefined;
    for await (const m of messages) {
      if (stopCtl.signal.aborted) {
        // Buffered but not started: hand it back at once instead of waiting for ack wait.
        m.nak();
        continue;
      }
      const p = handle(m).catch((err: unknown) => emit({ type: 'error', message: String(err) }));
      slots.add(p);
      running.add(p);
      void p.finally(() => {
        slots.delete(p);
        running.delete(p);
        const wake = slotFreed;
        slotFreed = undefined;
        wake?.();
      });
      while (slots.size >= concurrency) await new Promise<void>((r) => (slotFreed = r));
    }
    await Promise.all([...slots]);
    current = undefined;
    return restartReason;
  };

  // Connection status: report, and nothing else (consume() resyncs itself on reconnect).
  // The client returns a QueuedIterator (typed as AsyncIterable): stop it so no listener leaks.
  const connStatus = bus.nc.status() as AsyncIterable<Status> & { stop?: () => void };
  void (async () => {
    for await (const s of connStatus) {
      if (s.type === 'disconnect') emit({ type: 'disconnected' });
      else if (s.type === 'reconnect') emit({ type: 'reconnected' });
    }
  })().catch(() => undefined);

  const loop = async (): Promise<void> => {
    let attempt = 0;
    while (!stopCtl.signal.aborted) {
      let reason: string;
      try {
        reason = await consumeOnce();
        if (stopCtl.signal.aborted) break;
        reason ||= 'consume ended';
      } catch (err) {
        if (stopCtl.signal.aborted) break;
        if (
          isNotFound(err, JetStreamApiCodes.StreamNotFound) ||
          (err instanceof Error && /stream not found/i.test(err.message))
        ) {
          emit({ type: 'stream_not_found' });
          reason = 'stream not found';
          if (opts.onStreamMissing) {
            try {
              await opts.onStreamMissing();
            } catch (e) {
              emit({ type: 'error', message: `recreating stream failed: ${redactSecrets(String(e))}` });
            }
          }
        } else {
          const e = ConsumerIncompatible.is(err)
            ? (err as KollectError)
            : ConsumerSetupFailed(
                stream,
                durable,
                redactSecrets(err instanceof Error ? err.message : String(err)),
                {
                  cause: err,
                },
              );
          const why = ConsumerIncompatible.is(err) ? 'incompatible' : 'error';
          bind = { bound: false, error: { code: e.code, reason: why, message: e.message, at: Date.now() } };
          emit({ type: 'bind_failed', reason: why, code: e.code, message: e.message, attempt: attempt + 1 });
          reason = why === 'incompatible' ? 'consumer incompatible' : 'error';
        }
      }
      attempt++;
      stats.recreated++;
      emit({ type: 'recreating', reason, attempt });
      // Jittered backoff, reset once a consume ran for a while.
      await sleep(
        Math.min(10_000, 250 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2),
        stopCtl.signal,
      );
      if (attempt > 6) attempt = 3;
    }
  };

  const finished = loop()
    .catch((err: unknown) => emit({ type: 'error', message: String(err) }))
    .finally(async () => {
      await Promise.all([...running]);
      if (workingTimer) clearInterval(workingTimer);
      bind = { bound: false };
      advisorySub?.unsubscribe();
      connStatus.stop?.();
      emit({ type: 'stopped' });
      events.close();
      readyResolve();
    });

  const stop = async (): Promise<void> => {
    if (!stopCtl.signal.aborted) {
      stopCtl.abort();
      const c = current;
      if (c) await c.close().catch(() => undefined);
    }
    await finished;
  };
  opts.signal?.addEventListener('abort', () => void stop(), { once: true });

  return {
    stats,
    bindState: () => bind,
    status: () => events.iterate(),
    on: (cb) => events.on(cb),
    info: () => bus.jsm.consumers.info(stream, durable),
    ready: () => readyP,
    stop,
    done: () => finished,
  };
}
