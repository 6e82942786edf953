import {
  AsyncPublisher,
  busNames,
  connectBus,
  ensureTopology,
  encodeKvSegment,
  isWrongLastSequence,
  JsonKv,
  PayloadTooLarge,
  PLAN_KEY,
  PoisonMessage,
  publishJson,
  replaySubject,
  runConsumer,
  watchPlan,
  type Bus,
  type BusNames,
  type ConsumedMessage,
  type ConsumerRunner,
  type PlanWatch,
} from '@kollect/bus';
import {
  BUS_SCHEMA_VERSION,
  gvrString,
  inventoryKey,
  parseGvrString,
  partitionOf,
  redactSecrets,
  subjects,
  type ExtractionStatusReport,
  type ObjectMessage,
  type RowMessage,
} from '@kollect/contracts';
import {
  compileExtraction,
  rowsForObject,
  type ExtractionPlan,
  type ExtractionResult,
} from '@kollect/extract';
import { natsConnection, observeConsumer, type KollectMetrics, type Logger } from '@kollect/observability';
import { PLAN_SCHEMA_VERSION, type CompiledPlan } from '@kollect/plan';
import type { ExtractorConfig } from './config.js';
import { FailureLedger, targetFailure } from './failures.js';
import { changedTargets, claimDecision, gvrSignatures, type ReplayClaim } from './replay.js';

/** Options of {@link ExtractorService.start}. */
export interface ExtractorServiceOptions {
  cfg: ExtractorConfig;
  log: Logger;
  metrics: KollectMetrics;
}

/** A replica's presence (KV `kollect_state` `extractor.<cluster>.<holder>`). */
interface Presence {
  holder: string;
  /** Every object message this replica still works on uses this plan generation or a newer one. */
  planGeneration: number;
  at: number;
}

const STALE_FACTOR = 5;

/** The dedupe id of a row: one per (inventory, row, object version, plan). */
export function rowMsgId(row: RowMessage): string {
  const k = row.key;
  return `${inventoryKey(row.inventory)}/${k.targetNamespace}/${k.targetName}/${k.uid}/${row.sourceSeq}/${row.planGeneration}`;
}

/**
 * The extractor process: one shared durable consumer on the object log (any number of replicas
 * share it), extraction per the current plan, rows published to their inventory's partition
 * subject and acked only after every row publish was acknowledged. Plan changes re-extract the
 * affected GVRs by replaying the object log (never the apiserver), coordinated across replicas by
 * a claim per GVR.
 */
export class ExtractorService {
  readonly bus: Bus;
  readonly names: BusNames;
  readonly #o: ExtractorServiceOptions;
  readonly #log: Logger;
  #x: ExtractionPlan | undefined;
  #partitions = new Map<string, number>();
  #ledger: FailureLedger | undefined;
  #planWatch: PlanWatch | undefined;
  #runner: ConsumerRunner | undefined;
  #unobserve: (() => void) | undefined;
  #stateKv: JsonKv<unknown> | undefined;
  readonly #inflight = new Map<number, number>();
  /** Object messages handed over in this event-loop turn, extracted together by {@link #runBatch}. */
  #batch: { m: ConsumedMessage; resolve: () => void; reject: (err: unknown) => void }[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #stopCtl = new AbortController();
  /** Replays in progress by this replica, by GVR, with their abort handle. */
  readonly #replays = new Map<string, AbortController>();
  #replayLoop: Promise<void> = Promise.resolve();
  /**
   * Whether this replica created the durable consumer: then nobody extracted before, and the live
   * consumer reads the whole object log under the current plan — the first plan needs no replay.
   */
  #consumerCreated: boolean | undefined;
  #firstRound = true;
  /** CEL outcome counts already added to the metric. */
  readonly #celSeen: Record<string, number> = {};
  #stopped = false;

  private constructor(bus: Bus, names: BusNames, opts: ExtractorServiceOptions) {
    this.bus = bus;
    this.names = names;
    this.#o = opts;
    this.#log = opts.log;
  }

  static async start(opts: ExtractorServiceOptions): Promise<ExtractorService> {
    const { cfg } = opts;
    const bus = await connectBus({
      ...natsConnection(cfg),
      name: `kollect-extractor-${cfg.holder}`,
      waitForServer: true,
    });
    const names = busNames(cfg.busPrefix);
    if (cfg.ensureTopology) await ensureTopology(bus.jsm, { names });
    const svc = new ExtractorService(bus, names, opts);
    await svc.#init();
    return svc;
  }

  /** True once a plan is compiled and the consumer is started (see {@link checkConsumer} for bound). */
  ready(): boolean {
    return this.#runner !== undefined && !this.#stopped;
  }

  /**
   * Readiness of the live consumer: throws (the /readyz body shows the message) until the shared
   * durable is bound, and while binding it fails — e.g. a durable left by another version with
   * settings the server cannot change in place, which would otherwise stop extraction silently.
   */
  checkConsumer(): true {
    const r = this.#runner;
    if (!r) throw new Error('waiting for the first plan');
    const st = r.bindState();
    if (st.bound) return true;
    if (st.error) throw new Error(st.error.message);
    throw new Error(`binding consumer ${this.#o.cfg.durable} on ${this.names.streams.objects}`);
  }

  async #init(): Promise<void> {
    const planKv = await JsonKv.open(this.bus, this.names.buckets.plan);
    this.#stateKv = await JsonKv.open(this.bus, this.names.buckets.state);
    this.#planWatch = watchPlan<CompiledPlan>(planKv, PLAN_KEY, (plan) => this.#onPlan(plan), {
      schemaVersion: PLAN_SCHEMA_VERSION,
      logger: this.#log,
      signal: this.#stopCtl.signal,
      onInvalid: (err, revision) =>
        this.#log.error({ revision, err: err.message }, 'plan rejected; keeping the previous one'),
    });
  }

  // ---------------------------------------------------------------- plan

  async #onPlan(plan: CompiledPlan): Promise<void> {
    const prev = this.#x;
    const t0 = Date.now();
    const x = compileExtraction(plan, prev ? { previous: prev } : {});
    for (const issue of x.issues) {
      if (issue.severity === 'error')
        this.#log.warn(
          { scope: issue.scope, key: issue.key, field: issue.field, code: issue.code },
          issue.message,
        );
    }
    this.#x = x;
    this.#partitions = new Map(plan.inventories.map((i) => [inventoryKey(i.ref), i.partition]));
    this.#log.info({ plan: plan.generation, ms: Date.now() - t0, issues: x.issues.length }, 'plan compiled');
    if (!this.#ledger) {
      this.#ledger = new FailureLedger(plan.settings.cluster);
      await this.#followReports(plan.settings.cluster);
      this.#startConsumer();
      await this.#runner?.ready();
      this.#timers.push(
        setInterval(() => {
          this.#flushReports();
          this.#syncCelCounters();
        }, this.#o.cfg.statusIntervalMs),
        setInterval(() => void this.#heartbeat(), this.#o.cfg.heartbeatMs),
      );
    } else {
      this.#ledger.forgetTargets(changedTargets(prev?.plan, plan));
    }
    await this.#heartbeat();
    // Replays of older plans are superseded: the new plan re-decides every GVR.
    for (const ctl of this.#replays.values()) ctl.abort();
    this.#replayLoop = this.#replayLoop
      .then(() => this.#reconcileReplays(x))
      .catch((err: unknown) => {
        this.#log.warn({ err: redactSecrets(String(err)) }, 'replay round failed');
      });
  }

  // ---------------------------------------------------------------- live extraction

  #startConsumer(): void {
    const { names, bus } = this;
    const { cfg, metrics } = this.#o;
    this.#runner = runConsumer({
      bus,
      stream: names.streams.objects,
      durable: cfg.durable,
      handler: (m) => this.#onObject(m),
      concurrency: cfg.concurrency,
      batch: Math.max(100, cfg.concurrency * 2),
      maxAckPending: Math.max(1000, cfg.concurrency * 8),
      maxDeliver: 5,
      logger: this.#log,
    });
    this.#runner.on((e) => {
      if (e.type === 'consuming' && this.#consumerCreated === undefined) this.#consumerCreated = e.created;
    });
    // Events, terminations, bound state and pending counts into the standard metrics.
    this.#unobserve = observeConsumer(metrics, this.#runner, {
      stream: names.streams.objects,
      consumer: cfg.durable,
    });
  }

  /**
   * The consumer's handler. Messages are not extracted one by one as they are handed over but
   * together, once per event-loop turn (see {@link #runBatch}); each message still gets its own
   * outcome — acked after its own rows were acknowledged, NAKed or TERMed on its own failure.
   */
  #onObject(m: ConsumedMessage): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#batch.push({ m, resolve, reject });
      if (this.#batch.length === 1) setImmediate(() => this.#runBatch());
    });
  }

  /**
   * Extract every message received in this event-loop turn and publish all their rows in one
   * synchronous pass: the client writes them to the socket in one write instead of one per
   * object, and the acks that follow go out together too — per-object socket writes were the
   * largest cost of a busy extractor. Rows are still published and acknowledged per message.
   */
  #runBatch(): void {
    const batch = this.#batch;
    this.#batch = [];
    for (const e of batch) {
      let p: Promise<void>;
      try {
        p = this.#extractObject(e.m);
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(e.resolve, e.reject);
    }
  }

  async #extractObject(m: ConsumedMessage): Promise<void> {
    const x = this.#x as ExtractionPlan;
    const gen = x.plan.generation;
    this.#inflight.set(gen, (this.#inflight.get(gen) ?? 0) + 1);
    try {
      const msg = m.json<ObjectMessage>();
      if (msg?.schemaVersion !== BUS_SCHEMA_VERSION)
        throw PoisonMessage(
          `object message #${m.streamSeq}: schemaVersion ${JSON.stringify(msg?.schemaVersion)}`,
        );
      await this.#extractAndPublish(x, msg, m.streamSeq, (row) =>
        publishJson(this.bus, this.#rowSubject(x, row), row, {
          msgId: rowMsgId(row),
          ...(m.trace ? { trace: m.trace } : {}),
        }),
      );
    } finally {
      const left = (this.#inflight.get(gen) ?? 1) - 1;
      if (left > 0) this.#inflight.set(gen, left);
      else this.#inflight.delete(gen);
    }
  }

  #rowSubject(x: ExtractionPlan, row: RowMessage): string {
    const p =
      this.#partitions.get(inventoryKey(row.inventory)) ??
      partitionOf(row.inventory, x.plan.settings.partitions);
    return this.names.subject(subjects.row(p, row.inventory));
  }

  /**
   * Extract one object message and publish its rows. A row too large for the bus is a failure of
   * its target (reported, not retried); any other publish failure throws (the object message is
   * redelivered and its rows deduplicated by msg id).
   */
  async #extractAndPublish(
    x: ExtractionPlan,
    msg: ObjectMessage,
    seq: number,
    publish: (row: RowMessage) => Promise<unknown>,
  ): Promise<ExtractionResult> {
    const metrics = this.#o.metrics;
    const t0 = performance.now();
    const result = rowsForObject(x, msg, seq);
    metrics.extractDuration.observe((performance.now() - t0) / 1000);
    const failures = result.failures.map(targetFailure);
    const outcomes = await Promise.allSettled(result.rows.map((row) => publish(row)));
    let transient: unknown;
    outcomes.forEach((o, i) => {
      const row = result.rows[i] as RowMessage;
      if (o.status === 'fulfilled') {
        metrics.rowsEmitted.inc({ op: row.op });
        return;
      }
      if (PayloadTooLarge.is(o.reason)) {
        // A row too large for the bus fails its target for this object, like a failed extraction.
        const t = x.targetsByGvr
          .get(gvrString(msg.gvr))
          ?.find(
            (tt) =>
              tt.target.name === row.key.targetName &&
              (tt.target.kind === 'KollectClusterTarget' || tt.target.namespace === row.key.targetNamespace),
          );
        if (t && !failures.some((f) => f.targetKey === t.key)) {
          failures.push({
            targetKey: t.key,
            target: { kind: t.target.kind, namespace: t.target.namespace, name: t.target.name },
            uid: msg.uid,
            namespace: msg.namespace,
            name: msg.name,
            reason: 'PayloadTooLarge',
            message: redactSecrets((o.reason as Error).message),
            errorClass: 'payload_too_large',
          });
        }
        return;
      }
      transient ??= o.reason;
    });
    if (transient !== undefined) throw transient;
    for (const f of failures) metrics.extractionFailures.inc({ error_class: f.errorClass });
    this.#ledger?.record(x, msg, failures);
    return result;
  }

  /** Mirror the CEL engine's outcome counters into `kollect_cel_evaluations_total{result}`. */
  #syncCelCounters(): void {
    const engine = this.#x?.engine;
    if (!engine) return;
    for (const [outcome, n] of Object.entries(engine.counters)) {
      const delta = n - (this.#celSeen[outcome] ?? 0);
      if (delta > 0)
        this.#o.metrics.celEvaluations.inc({ result: outcome === 'success' ? 'ok' : outcome }, delta);
      this.#celSeen[outcome] = n;
    }
  }

  // ---------------------------------------------------------------- failure reports

  /** Follow every replica's failure reports (the ledger is shared through them). */
  async #followReports(cluster: string): Promise<void> {
    const subject = this.names.subject(subjects.status('extractor', cluster));
    const consumer = await this.bus.js.consumers.get(this.names.streams.status, { filter_subjects: subject });
    const iter = await consumer.consume();
    this.#stopCtl.signal.addEventListener('abort', () => void iter.stop(), { once: true });
    void (async () => {
      for await (const m of iter) {
        try {
          this.#ledger?.observe(m.json<ExtractionStatusReport>());
        } catch {
          // not a report we understand: ignore
        }
      }
    })();
  }

  #flushReports(): void {
    const ledger = this.#ledger;
    const x = this.#x;
    if (!ledger || !x) return;
    for (const r of ledger.drain()) {
      publishJson(this.bus, this.names.subject(subjects.status('extractor', r.cluster)), r, {
        attempts: 2,
      }).catch((err: unknown) =>
        this.#log.debug({ err: redactSecrets(String(err)) }, 'extraction report not published'),
      );
    }
  }

  // ---------------------------------------------------------------- presence and replays

  #presenceKey(cluster: string, holder: string): string {
    return `extractor.${encodeKvSegment(cluster)}.${encodeKvSegment(holder)}`;
  }

  /** The oldest plan generation any of this replica's in-flight work still uses. */
  #effectiveGeneration(): number {
    const cur = this.#x?.plan.generation ?? 0;
    let min = cur;
    for (const g of this.#inflight.keys()) if (g < min) min = g;
    return min;
  }

  async #heartbeat(): Promise<void> {
    const x = this.#x;
    if (!x || !this.#stateKv || this.#stopped) return;
    const p: Presence = {
      holder: this.#o.cfg.holder,
      planGeneration: this.#effectiveGeneration(),
      at: Date.now(),
    };
    await this.#stateKv.put(this.#presenceKey(x.plan.settings.cluster, p.holder), p).catch(() => undefined);
  }

  /**
   * Wait until every live replica extracts with plan `generation` or newer, so that no object
   * message after the replay's first pass can still be extracted under an older plan.
   */
  async #waitReplicasOn(cluster: string, generation: number, signal: AbortSignal): Promise<boolean> {
    const kv = this.#stateKv as JsonKv<Presence>;
    const deadline = Date.now() + this.#o.cfg.replayWaitMs;
    const stale = this.#o.cfg.heartbeatMs * STALE_FACTOR;
    while (!signal.aborted) {
      await this.#heartbeat();
      const keys = await kv.keys(`extractor.${encodeKvSegment(cluster)}.*`);
      const now = Date.now();
      let behind = 0;
      for (const k of keys) {
        const e = await (kv as JsonKv<Presence>).get(k);
        if (!e || now - e.value.at > stale) continue;
        if (e.value.planGeneration < generation) behind++;
      }
      if (behind === 0) return true;
      if (Date.now() > deadline) {
        this.#log.warn({ generation, behind }, 'replicas still on an older plan; closing the replay anyway');
        return false;
      }
      await new Promise((r) => setTimeout(r, Math.min(500, this.#o.cfg.heartbeatMs)));
    }
    return false;
  }

  /** For each GVR of the plan: replay it if its extraction signature changed and nobody else does. */
  async #reconcileReplays(x: ExtractionPlan): Promise<void> {
    const kv = this.#stateKv as JsonKv<ReplayClaim>;
    const cluster = x.plan.settings.cluster;
    const sigs = gvrSignatures(x.plan);
    const staleMs = Math.max(10_000, this.#o.cfg.heartbeatMs * STALE_FACTOR);
    const waiting = new Set(sigs.keys());
    const firstRound = this.#firstRound;
    this.#firstRound = false;
    // What this replica decided per GVR: the signal that a plan's replays are settled here.
    const decided = { replayed: 0, recorded: 0, skipped: 0 };
    const decide = (g: string, outcome: keyof typeof decided): void => {
      waiting.delete(g);
      decided[outcome]++;
      this.#o.metrics.replays.inc({ outcome });
    };
    while (waiting.size > 0 && !this.#stopped && this.#x === x) {
      for (const g of [...waiting]) {
        if (this.#x !== x || this.#stopped) return;
        const key = `replay.${encodeKvSegment(cluster)}.${encodeKvSegment(g)}`;
        const cur = await kv.get(key);
        const d = claimDecision(
          cur?.value ?? null,
          sigs.get(g) as string,
          x.plan.generation,
          this.#o.cfg.holder,
          Date.now(),
          staleMs,
        );
        if (d === 'nothing') {
          decide(g, 'skipped');
          continue;
        }
        if (d === 'wait') continue;
        const fresh = firstRound && this.#consumerCreated === true;
        const claim: ReplayClaim = {
          signature: sigs.get(g) as string,
          planGeneration: x.plan.generation,
          state: fresh ? 'done' : 'running',
          holder: this.#o.cfg.holder,
          at: Date.now(),
        };
        let rev: number;
        try {
          rev = cur ? await kv.update(key, claim, cur.revision) : await kv.create(key, claim);
        } catch (err) {
          if (isWrongLastSequence(err)) continue; // another replica was faster; look again
          throw err;
        }
        if (fresh) {
          // A new durable consumer reads the whole log under this plan: recorded, not replayed.
          decide(g, 'recorded');
          continue;
        }
        try {
          const objects = await this.#replay(x, g, key, claim, rev);
          if (objects >= 0) decide(g, 'replayed');
        } catch (err) {
          this.#log.warn({ gvr: g, err: redactSecrets(String(err)) }, 'replay failed; will retry');
        }
      }
      if (waiting.size > 0) await new Promise((r) => setTimeout(r, 1000));
    }
    if (waiting.size === 0) {
      this.#log.info({ plan: x.plan.generation, gvrs: sigs.size, ...decided }, 'replays settled');
    }
  }

  /** Run one claimed replay; returns the objects replayed, or -1 when it was aborted or lost. */
  async #replay(x: ExtractionPlan, g: string, key: string, claim: ReplayClaim, rev: number): Promise<number> {
    const kv = this.#stateKv as JsonKv<ReplayClaim>;
    const ctl = new AbortController();
    this.#replays.set(g, ctl);
    const cluster = x.plan.settings.cluster;
    const t0 = Date.now();
    let revision = rev;
    let lost = false;
    const beat = setInterval(() => {
      void kv.update(key, { ...claim, at: Date.now() }, revision).then(
        (r) => (revision = r),
        () => {
          lost = true;
          ctl.abort();
        },
      );
    }, this.#o.cfg.heartbeatMs);
    const publisher = new AsyncPublisher(this.bus, { window: 256 });
    let objects = 0;
    try {
      const filter = this.names.subject(subjects.objectsOfGvr(cluster, parseGvrString(g)));
      const fn = async (m: { streamSeq: number; json<T>(): T }): Promise<void> => {
        let msg: ObjectMessage;
        try {
          msg = m.json<ObjectMessage>();
        } catch {
          return; // a poison object message: the live consumer dead-letters it
        }
        objects++;
        // Pipelined: wait only for a window slot; outcomes are checked at the flush below.
        await this.#extractAndPublish(x, msg, m.streamSeq, (row) =>
          publisher.publishJson(this.#rowSubject(x, row), row, { msgId: rowMsgId(row) }),
        );
      };
      const first = await replaySubject(this.bus, this.names.streams.objects, filter, fn, {
        signal: ctl.signal,
      });
      if (ctl.signal.aborted) return -1;
      // Close the race with replicas that extracted newer object messages under the old plan.
      await this.#waitReplicasOn(cluster, x.plan.generation, ctl.signal);
      const second = await replaySubject(this.bus, this.names.streams.objects, filter, fn, {
        signal: ctl.signal,
        fromSeq: first.upToSeq + 1,
      });
      const failed = await publisher.flush();
      const tooLarge = failed.filter((f) => PayloadTooLarge.is(f.error));
      if (tooLarge.length) {
        this.#log.warn({ gvr: g, rows: tooLarge.length }, 'replay: rows too large for the bus were skipped');
        this.#o.metrics.extractionFailures.inc({ error_class: 'payload_too_large' }, tooLarge.length);
      }
      if (failed.length > tooLarge.length) {
        throw failed.find((f) => !PayloadTooLarge.is(f.error))?.error ?? new Error('row publish failed');
      }
      if (ctl.signal.aborted || lost) return -1;
      clearInterval(beat);
      await kv.update(key, { ...claim, state: 'done', at: Date.now(), objects }, revision);
      this.#log.info(
        { gvr: g, plan: x.plan.generation, objects, secondPass: second.messages, ms: Date.now() - t0 },
        'replay done',
      );
      return objects;
    } finally {
      clearInterval(beat);
      this.#replays.delete(g);
    }
  }

  /** Stop consuming (running extractions finish and are acked), stop replays, close. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    for (const ctl of this.#replays.values()) ctl.abort();
    this.#stopCtl.abort();
    this.#planWatch?.stop();
    await this.#runner?.stop();
    this.#unobserve?.();
    await this.#replayLoop.catch(() => undefined);
    this.#flushReports();
    const x = this.#x;
    if (x && this.#stateKv)
      await this.#stateKv.kv
        .delete(this.#presenceKey(x.plan.settings.cluster, this.#o.cfg.holder))
        .catch(() => undefined);
    await this.bus.drain();
  }
}
