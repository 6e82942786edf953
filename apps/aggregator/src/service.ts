import { inventoryView, type FullSnapshotReply, type InventoryView } from '@kollect/aggregate';
import {
  busNames,
  connectBus,
  encodeJson,
  ensureTopology,
  FEATURE_MIN_VERSION,
  FencedWriter,
  JsonKv,
  PartitionOwner,
  PLAN_KEY,
  publishJson,
  watchPlan,
  type Bus,
  type BusNames,
  type PlanWatch,
} from '@kollect/bus';
import {
  decodeToken,
  inventoryKey,
  parseInventoryKey,
  partitionOf,
  redactSecrets,
  subjects,
  watchSyncFilter,
  watchSyncKey,
  type AggregatorStatusReport,
  type WatchSyncState,
} from '@kollect/contracts';
import { natsConnection, type KollectMetrics, type Logger } from '@kollect/observability';
import { PLAN_SCHEMA_VERSION, type CompiledPlan } from '@kollect/plan';
import type { AggregatorConfig } from './config.js';
import { PartitionWorker, type WorkerContext } from './partition.js';
import { purgeOldDeleteMarkers } from './store.js';

/** Options of {@link AggregatorService.start}. */
export interface AggregatorServiceOptions {
  cfg: AggregatorConfig;
  log: Logger;
  metrics: KollectMetrics;
  /** Called when the service cannot continue (e.g. the partition count changed): exit and restart. */
  onFatal?: (reason: string) => void;
}

const FULL_REQUEST_PREFIX = 'kollect.ctl.full.';

/**
 * The aggregator process: follows the plan and the watchers' sync states, takes its share of the
 * partitions (KV lease + fence, via `PartitionOwner`), runs one {@link PartitionWorker} per owned
 * partition, answers full-snapshot requests for them, and reports status to the controller.
 */
export class AggregatorService {
  readonly bus: Bus;
  readonly names: BusNames;
  readonly #o: AggregatorServiceOptions;
  readonly #log: Logger;
  readonly #workers = new Map<number, PartitionWorker>();
  readonly #sync = new Map<string, WatchSyncState>();
  #plan: CompiledPlan | undefined;
  #views = new Map<string, InventoryView>();
  #planWatch: PlanWatch | undefined;
  #owner: PartitionOwner | undefined;
  #ctx: WorkerContext | undefined;
  #timers: NodeJS.Timeout[] = [];
  #stopCtl = new AbortController();
  #extracted: number | undefined;
  #stopped = false;

  private constructor(bus: Bus, names: BusNames, opts: AggregatorServiceOptions) {
    this.bus = bus;
    this.names = names;
    this.#o = opts;
    this.#log = opts.log;
  }

  /** Connect, make sure the topology exists, follow the plan; partitions are taken once a plan arrived. */
  static async start(opts: AggregatorServiceOptions): Promise<AggregatorService> {
    const { cfg } = opts;
    const bus = await connectBus({
      ...natsConnection(cfg),
      name: `kollect-aggregator-${cfg.holder}`,
      requireServerVersion: FEATURE_MIN_VERSION.fencedWrites,
      waitForServer: true,
    });
    const names = busNames(cfg.busPrefix);
    if (cfg.ensureTopology) await ensureTopology(bus.jsm, { names });
    const svc = new AggregatorService(bus, names, opts);
    await svc.#init();
    return svc;
  }

  /** True once a plan arrived and partition ownership runs. */
  ready(): boolean {
    return this.#owner !== undefined && !this.#stopped;
  }

  /**
   * Readiness of the owned partitions' row consumers: throws (the /readyz body shows it) while
   * the durable of any owned partition cannot be bound — e.g. left by another version with
   * settings the server cannot change in place — since that partition then applies nothing.
   */
  checkConsumers(): true {
    const failed: string[] = [];
    for (const [p, w] of this.#workers) {
      const err = w.consumerState()?.error;
      if (err) failed.push(`partition ${p}: ${err.message}`);
    }
    if (failed.length > 0) throw new Error(failed.join('; '));
    return true;
  }

  /** Partitions owned now. */
  owned(): number[] {
    return [...this.#workers.keys()].sort((a, b) => a - b);
  }

  async #init(): Promise<void> {
    const { names, bus } = this;
    const planKv = await JsonKv.open(bus, names.buckets.plan);
    const rowsKv = await JsonKv.open(bus, names.buckets.rows);
    const fullStore = await bus.objm.open(names.buckets.full);
    this.#ctx = {
      bus,
      names,
      cfg: this.#o.cfg,
      log: this.#log,
      metrics: this.#o.metrics,
      // Replaced by the owner-bound writer once ownership starts.
      writer: new FencedWriter(bus, rowsKv),
      fullStore,
      plan: () => this.#plan,
      view: (key) => this.#views.get(key),
      syncState: (gvr, ns) =>
        this.#plan ? this.#sync.get(watchSyncKey(this.#plan.settings.cluster, gvr, ns)) : undefined,
      extractedThroughSeq: () => (this.#o.cfg.gateOnExtraction ? (this.#extracted ?? 0) : undefined),
      publishStatus: (r) => this.#publishStatus(r),
    };
    this.#planWatch = watchPlan<CompiledPlan>(planKv, PLAN_KEY, (plan) => this.#onPlan(plan, rowsKv), {
      schemaVersion: PLAN_SCHEMA_VERSION,
      logger: this.#log,
      signal: this.#stopCtl.signal,
      onInvalid: (err, revision) =>
        this.#log.error({ revision, err: err.message }, 'plan rejected; keeping the previous one'),
    });
    const sub = bus.nc.subscribe(names.subject(`${FULL_REQUEST_PREFIX}>`), {
      callback: (err, msg) => {
        if (err || !msg.reply) return;
        void this.#onFullRequest(msg.subject).then(
          (reply) => reply && msg.respond(encodeJson(reply)),
          (e: unknown) => this.#log.warn({ err: redactSecrets(String(e)) }, 'full snapshot request failed'),
        );
      },
    });
    this.#stopCtl.signal.addEventListener('abort', () => sub.unsubscribe(), { once: true });
  }

  async #onPlan(plan: CompiledPlan, rowsKv: JsonKv<unknown>): Promise<void> {
    const prev = this.#plan;
    if (prev && prev.settings.partitions !== plan.settings.partitions) {
      const reason = `partition count changed from ${prev.settings.partitions} to ${plan.settings.partitions}; restarting to rebalance`;
      this.#log.error({ plan: plan.generation }, reason);
      this.#o.onFatal?.(reason);
      return;
    }
    if (prev && prev.settings.cluster !== plan.settings.cluster) {
      this.#log.warn({ from: prev.settings.cluster, to: plan.settings.cluster }, 'cluster name changed');
    }
    this.#plan = plan;
    const views = new Map<string, InventoryView>();
    for (const inv of plan.inventories) views.set(inventoryKey(inv.ref), inventoryView(plan, inv.ref));
    this.#views = views;
    this.#log.info({ plan: plan.generation, inventories: plan.inventories.length }, 'plan applied');
    if (!prev) {
      this.#watchSync(plan.settings.cluster);
      await this.#startOwnership(plan, rowsKv);
    }
    for (const w of this.#workers.values()) w.onPlan();
  }

  #watchSync(cluster: string): void {
    void (async () => {
      const stateKv = await JsonKv.open<WatchSyncState>(this.bus, this.names.buckets.state);
      while (!this.#stopCtl.signal.aborted) {
        try {
          for await (const e of stateKv.watch({
            key: watchSyncFilter(cluster),
            signal: this.#stopCtl.signal,
          })) {
            if (e.value) this.#sync.set(e.key, e.value);
            else this.#sync.delete(e.key);
            if (e.delta === 0) for (const w of this.#workers.values()) w.onSyncChange();
          }
        } catch (err) {
          if (this.#stopCtl.signal.aborted) return;
          this.#log.warn({ err: redactSecrets(String(err)) }, 'sync-state watch broke; restarting');
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    })();
  }

  async #startOwnership(plan: CompiledPlan, rowsKv: JsonKv<unknown>): Promise<void> {
    const { bus, names } = this;
    const ctx = this.#ctx as WorkerContext;
    const leasesKv = await JsonKv.open(bus, names.buckets.leases);
    const metrics = this.#o.metrics;
    const owner = new PartitionOwner({
      bus,
      leases: leasesKv,
      fenced: rowsKv,
      partitions: plan.settings.partitions,
      holder: this.#o.cfg.holder,
      group: 'aggregator',
      logger: this.#log,
      onAcquired: async (p, fence) => {
        const w = new PartitionWorker(p, fence, ctx);
        this.#workers.set(p, w);
        metrics.partitionOwned.set({ group: 'aggregator', partition: String(p) }, 1);
        metrics.partitionChanges.inc({ group: 'aggregator', event: 'acquired' });
        try {
          await w.start();
        } catch (err) {
          this.#workers.delete(p);
          await w.stop().catch(() => undefined);
          throw err;
        }
      },
      onLost: async (p, reason) => {
        const w = this.#workers.get(p);
        this.#workers.delete(p);
        metrics.partitionOwned.set({ group: 'aggregator', partition: String(p) }, 0);
        metrics.partitionChanges.inc({ group: 'aggregator', event: reason });
        // A refused fenced write reports the loss from inside the worker's own flush, which the
        // worker's stop waits for: stop it without waiting there (its writes fail from now on).
        if (reason === 'fence-lost') void w?.stop();
        else await w?.stop();
      },
    });
    ctx.writer = new FencedWriter(bus, rowsKv, owner);
    this.#owner = owner;
    await owner.start();
    this.#timers.push(
      setInterval(() => this.#pollExtraction(), 1000),
      setInterval(() => {
        for (const w of this.#workers.values()) w.reportAll();
        this.#updateGauges();
      }, this.#o.cfg.statusIntervalMs),
      setInterval(() => {
        if (this.#workers.size === 0) return;
        purgeOldDeleteMarkers(bus, names.buckets.rows, 30 * 60_000).catch((err: unknown) =>
          this.#log.debug({ err: redactSecrets(String(err)) }, 'purging delete markers failed'),
        );
      }, 10 * 60_000),
    );
  }

  /** Follow the extractors' progress while some gate waits for it. */
  async #pollExtraction(): Promise<void> {
    if (!this.#o.cfg.gateOnExtraction || ![...this.#workers.values()].some((w) => w.waiting())) return;
    let through: number;
    try {
      const info = await this.bus.jsm.consumers.info(
        this.names.streams.objects,
        this.#o.cfg.extractorDurable,
      );
      through =
        info.num_pending === 0 && info.num_ack_pending === 0
          ? Number.MAX_SAFE_INTEGER
          : info.ack_floor.stream_seq;
    } catch {
      through = 0; // no extractor consumer yet: extraction has not started
    }
    if (through !== this.#extracted) {
      this.#extracted = through;
      for (const w of this.#workers.values()) w.onExtractionProgress();
    }
  }

  async #onFullRequest(subject: string): Promise<FullSnapshotReply | undefined> {
    const plan = this.#plan;
    if (!plan) return undefined;
    const contract = this.names.contractSubject(subject);
    const tokens = contract.slice(FULL_REQUEST_PREFIX.length).split('.');
    if (tokens.length !== 2) return undefined;
    const cluster = decodeToken(tokens[0] as string);
    const key = decodeToken(tokens[1] as string);
    if (cluster !== plan.settings.cluster) return undefined;
    const view = this.#views.get(key);
    if (!view) {
      // Not in the plan: deleted (its final export, if any, is history) or not seen yet. The
      // owner of the partition it would hash to says so, and a sink fails fast (transient, it
      // writes nothing) instead of waiting out its request deadline; other replicas stay silent.
      let ref;
      try {
        ref = parseInventoryKey(key);
      } catch {
        return undefined;
      }
      if (!this.#workers.has(partitionOf(ref, plan.settings.partitions))) return undefined;
      return { ok: false, reason: 'NotFound', message: `inventory ${key} is not in the plan` };
    }
    const w = this.#workers.get(view.inventory.partition);
    return w ? w.serveFull(key) : undefined;
  }

  #publishStatus(r: AggregatorStatusReport): void {
    publishJson(this.bus, this.names.subject(subjects.status('aggregator', r.cluster)), r, {
      attempts: 2,
    }).catch((err: unknown) =>
      this.#log.debug({ err: redactSecrets(String(err)) }, 'status report not published'),
    );
  }

  #updateGauges(): void {
    let rows = 0;
    let items = 0;
    for (const w of this.#workers.values()) {
      const c = w.counts();
      rows += c.rows;
      items += c.items;
    }
    this.#o.metrics.collectItems.set(rows);
    this.#o.metrics.inventoryItems.set(items);
  }

  /** Release every partition (their consumers stop first), stop watching, close the connection. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#stopCtl.abort();
    this.#planWatch?.stop();
    await this.#owner?.stop();
    for (const w of this.#workers.values()) await w.stop();
    this.#workers.clear();
    await this.bus.drain();
  }
}
