import {
  applyRow,
  commitExport,
  createTable,
  decodeSnapshotMessage,
  encodeSnapshotMessage,
  expireTombstones,
  exportedSet,
  fullSnapshot,
  INITIAL_EXPORT_STATE,
  namespaceShards,
  nextSnapshot,
  persistedRow,
  planSnapshotPublication,
  ReadinessLatch,
  redoExport,
  restoreRow,
  retainAccepted,
  snapshotObjectName,
  takeDirty,
  ExportScheduler,
  type ExportRecord,
  type ExportState,
  type FullSnapshotReply,
  type InventoryView,
  type PreparedExport,
  type RowTable,
} from '@kollect/aggregate';
import {
  publishBytes,
  runConsumer,
  type Bus,
  type BusNames,
  type ConsumedMessage,
  type ConsumerBindState,
  type ConsumerRunner,
  type Fence,
  type FencedWriter,
} from '@kollect/bus';
import {
  BUS_SCHEMA_VERSION,
  defineError,
  FINAL_INVENTORY_DELETED,
  HEADERS,
  inventoryKey,
  parseInventoryKey,
  redactSecrets,
  SCHEMA_VERSION,
  subjects,
  type AggregatorStatusReport,
  type Gvr,
  type InventoryRef,
  type SnapshotMessage,
  type WatchSyncState,
} from '@kollect/contracts';
import type { KollectMetrics, Logger } from '@kollect/observability';
import type { CompiledPlan } from '@kollect/plan';
import type { AggregatorConfig } from './config.js';
import { parseRowMessage } from './messages.js';
import { exportKvKey, loadPartition, rowKvKey } from './store.js';

/** A persist or export step failed; the row is redelivered (NAK), never dropped. */
export const AggregatorCommitFailed = defineError(
  'KOLLECT_ERR_AGGREGATOR_COMMIT',
  'transient',
  (partition: number, detail: string) =>
    `partition ${partition}: could not persist applied rows (${detail}); the rows will be redelivered`,
);

type ObjectStore = Awaited<ReturnType<Bus['objm']['open']>>;

/** What a partition worker needs from the service around it. */
export interface WorkerContext {
  bus: Bus;
  names: BusNames;
  cfg: AggregatorConfig;
  log: Logger;
  metrics: KollectMetrics;
  writer: FencedWriter;
  fullStore: ObjectStore;
  plan(): CompiledPlan | undefined;
  /** The current plan's view of an inventory (undefined: not in the plan). */
  view(inventoryKey: string): InventoryView | undefined;
  syncState(gvr: Gvr, namespace: string | null): WatchSyncState | undefined;
  /** The extractors' ack floor on the object log (undefined = check disabled, 0 = unknown). */
  extractedThroughSeq(): number | undefined;
  publishStatus(report: AggregatorStatusReport): void;
}

/** The published-or-publishing export of an inventory. */
interface PendingExport {
  /** The message as it goes on the subject (stub when its payload is in the object store). */
  message: SnapshotMessage;
  body: Uint8Array;
  state: ExportState;
  /** Marks to commit once published; null when they were already re-applied (takeover redo). */
  prepared: PreparedExport | null;
  final: boolean;
}

interface InventoryState {
  key: string;
  ref: InventoryRef;
  table: RowTable;
  /** Row keys that exist in KV (so deletes are written only for them). */
  persisted: Set<string>;
  view: InventoryView | undefined;
  state: ExportState;
  pending: PendingExport | undefined;
  /** The previous owner's export marks could not be re-applied: the next export is a full one. */
  needsFull: boolean;
  /** Export generation of the final (deleting) snapshot, once published. */
  finalExportGeneration: number | undefined;
  gateOpen: boolean;
  waitingFor: string[];
  /** Object-store name of the last full snapshot written, by generation. */
  lastFull: { exportGeneration: number; snapshot: SnapshotMessage } | undefined;
  /** How long computing the last snapshot took (ms): widens the coalescing window of big tables. */
  exportCostMs: number;
}

/** KV writes of one flush in flight at once. */
const PERSIST_CONCURRENCY = 1024;

/**
 * Run `fn` over `items` with at most `limit` in flight — a sliding window, not batches that each
 * wait for their slowest write. Starts synchronously (the first `limit` writes leave in one socket
 * write); rejects with the first failure once everything started has settled.
 */
async function inWindow<T>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.err;
}

/**
 * One owned partition: its inventories' row tables, the durable row consumer, persistence (group
 * commit: rows applied in memory, persisted with fenced writes, then acked) and exports. Every
 * step that touches KV or publishes runs through one serial queue, so persistence and exports
 * never interleave.
 */
export class PartitionWorker {
  readonly partition: number;
  readonly fence: Fence;
  readonly #ctx: WorkerContext;
  readonly #log: Logger;
  readonly #inv = new Map<string, InventoryState>();
  readonly #scheduler: ExportScheduler;
  readonly #latch = new ReadinessLatch();
  #runner: ConsumerRunner | undefined;
  #serial: Promise<unknown> = Promise.resolve();
  #commitP: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #housekeeping: NodeJS.Timeout | undefined;
  #drainPoll: NodeJS.Timeout | undefined;
  #loaded = false;
  #stopped = false;
  /** Rows stream sequence at acquisition: the gate waits until everything up to it is applied. */
  #drainTarget = 0;
  #drained = false;

  constructor(partition: number, fence: Fence, ctx: WorkerContext) {
    this.partition = partition;
    this.fence = fence;
    this.#ctx = ctx;
    this.#log = ctx.log.child({ partition, fence: fence.token });
    this.#scheduler = new ExportScheduler({ coalesceMs: ctx.cfg.coalesceMs });
  }

  /**
   * The row consumer's bind state (readiness): undefined while the partition is loading; an
   * `error` while binding its durable fails (the partition then applies nothing).
   */
  consumerState(): ConsumerBindState | undefined {
    return this.#runner?.bindState();
  }

  /** Inventory keys held (tests, metrics). */
  inventories(): string[] {
    return [...this.#inv.keys()];
  }

  /** Load the partition from KV, then resume its durable row consumer. */
  async start(): Promise<void> {
    const t0 = Date.now();
    const { bus, names } = this.#ctx;
    this.#drainTarget = (await bus.jsm.streams.info(names.streams.rows)).state.last_seq;
    const loaded = await loadPartition(bus, names.buckets.rows, this.partition);
    const now = Date.now();
    for (const [key, rows] of loaded.rows) {
      const inv = this.#inventory(key);
      for (const { key: rk, row } of rows) {
        restoreRow(inv.table, rk, row, now);
        inv.persisted.add(rk);
      }
    }
    for (const [key, rec] of loaded.exports) await this.#restoreExport(this.#inventory(key), rec);
    // Inventories of the plan that have nothing persisted yet.
    this.#applyPlan(false);
    this.#loaded = true;
    this.#log.info(
      { inventories: this.#inv.size, rows: loaded.rowCount, ms: Date.now() - t0 },
      'partition loaded',
    );
    this.#runner = runConsumer({
      bus,
      stream: names.streams.rows,
      durable: `aggregator-p${this.partition}`,
      filterSubjects: names.subject(subjects.rowsOfPartition(this.partition)),
      handler: (m) => this.#onRow(m),
      // Rows in flight = the size of a group commit (every row applied while a flush runs rides on
      // the next one): larger commits mean fewer serial flush rounds per row.
      concurrency: 2048,
      batch: 1000,
      maxAckPending: 5000,
      ackWaitMs: this.#ctx.cfg.rowsAckWaitMs,
      maxDeliver: 20,
      onDeadLetter: (dl) => {
        this.#ctx.metrics.consumerTerminated.inc({
          stream: names.streams.rows,
          consumer: `aggregator-p${this.partition}`,
          reason: dl.reason,
        });
      },
    });
    const labels = { stream: names.streams.rows, consumer: `aggregator-p${this.partition}` };
    this.#runner.on((e) => {
      if (e.type === 'consuming') this.#ctx.metrics.consumerBound.set(labels, 1);
      else if (e.type === 'bind_failed' || e.type === 'stopped')
        this.#ctx.metrics.consumerBound.set(labels, 0);
      if (e.type !== 'redelivery' && e.type !== 'nak' && e.type !== 'stopped') {
        this.#ctx.metrics.consumerEvents.inc({ ...labels, type: e.type });
      }
    });
    await this.#runner.ready();
    this.#housekeeping = setInterval(() => this.#houseKeep(), 15_000);
    this.#pollDrain();
    // Exports of the previous owner that may not have gone out, and the first evaluation.
    for (const inv of this.#inv.values()) this.#scheduler.touch(inv.key, Date.now(), true);
    this.#evaluateGates();
    this.#arm();
  }

  /** Stop consuming, finish queued work, persist what was applied. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#housekeeping) clearInterval(this.#housekeeping);
    if (this.#drainPoll) clearTimeout(this.#drainPoll);
    await this.#runner?.stop();
    await this.#serial.catch(() => undefined);
  }

  // ---------------------------------------------------------------- rows

  async #onRow(m: ConsumedMessage): Promise<void> {
    if (this.#stopped) throw AggregatorCommitFailed(this.partition, 'partition is being released');
    const msg = parseRowMessage(m.json(), `rows #${m.streamSeq}`);
    const key = inventoryKey(msg.inventory);
    const inv = this.#inventory(key);
    const before = inv.table.contentVersion;
    const outcome = applyRow(inv.table, msg, { nowMs: Date.now(), view: inv.view });
    this.#ctx.metrics.rowsApplied.inc({ result: outcome });
    if (inv.table.contentVersion !== before) {
      this.#scheduler.touch(key, Date.now(), false, 2 * inv.exportCostMs);
      this.#arm();
    }
    await this.#commit();
  }

  /** Group commit: every row applied before the flush starts rides on it. */
  #commit(): Promise<void> {
    this.#commitP ??= new Promise<void>((r) => setImmediate(r)).then(() => {
      this.#commitP = undefined;
      return this.#run(() => this.#flush());
    });
    return this.#commitP;
  }

  #run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#serial.then(fn);
    this.#serial = p.catch(() => undefined);
    return p;
  }

  /** Persist every dirty row (fenced). On failure the keys stay dirty and the error says NAK. */
  async #flush(): Promise<void> {
    const { writer } = this.#ctx;
    for (const inv of this.#inv.values()) {
      if (inv.table.dirty.size === 0) continue;
      const keys = takeDirty(inv.table);
      try {
        await inWindow(keys, PERSIST_CONCURRENCY, async (rk) => {
          const kvKey = rowKvKey(this.partition, inv.key, rk);
          const row = persistedRow(inv.table, rk);
          if (row) {
            await writer.put(this.fence, kvKey, row);
            inv.persisted.add(rk);
          } else if (inv.persisted.has(rk)) {
            await writer.delete(this.fence, kvKey);
            inv.persisted.delete(rk);
          }
        });
      } catch (err) {
        for (const k of keys) inv.table.dirty.add(k);
        throw AggregatorCommitFailed(
          this.partition,
          redactSecrets(err instanceof Error ? err.message : String(err)),
          { cause: err },
        );
      }
    }
  }

  // ---------------------------------------------------------------- plan & gate

  /** The plan or the sync states changed. */
  onPlan(): void {
    if (!this.#loaded || this.#stopped) return;
    this.#applyPlan(true);
    this.#evaluateGates();
    this.#arm();
  }

  onSyncChange(): void {
    if (!this.#loaded || this.#stopped) return;
    this.#evaluateGates();
    this.#arm();
  }

  #applyPlan(schedule: boolean): void {
    const plan = this.#ctx.plan();
    if (!plan) return;
    for (const ci of plan.inventories) {
      if (ci.partition === this.partition) this.#inventory(inventoryKey(ci.ref));
    }
    const now = Date.now();
    for (const inv of this.#inv.values()) {
      const prev = inv.view;
      const view = this.#ctx.view(inv.key);
      inv.view = view;
      if (!view) continue;
      const dropped = retainAccepted(inv.table, view, now);
      if (dropped > 0)
        this.#log.info({ inventory: inv.key, dropped }, 'rows of removed targets or namespaces dropped');
      if (!schedule) continue;
      const p = prev?.inventory;
      const c = view.inventory;
      const urgent =
        !p ||
        p.generation !== c.generation ||
        Boolean(p.hold) !== Boolean(c.hold) ||
        p.dedupe !== c.dedupe ||
        Boolean(p.deleting) !== Boolean(c.deleting);
      this.#scheduler.touch(inv.key, now, urgent);
    }
  }

  #evaluateGates(): void {
    const plan = this.#ctx.plan();
    if (!plan) return;
    const extracted = this.#ctx.extractedThroughSeq();
    for (const inv of this.#inv.values()) {
      if (!inv.view) continue;
      const ci = inv.view.inventory;
      const r = ci.deleting
        ? { ready: this.#loaded, waitingFor: this.#loaded ? [] : ['partition not loaded'] }
        : this.#latch.check(inv.key, {
            plan,
            inventory: ci,
            loaded: this.#loaded,
            syncState: (g, ns) => this.#ctx.syncState(g, ns),
            ...(extracted !== undefined ? { extractedThroughSeq: extracted } : {}),
            rowsDrained: this.#drained,
          });
      const changed = r.ready !== inv.gateOpen || r.waitingFor.join('|') !== inv.waitingFor.join('|');
      inv.gateOpen = r.ready;
      inv.waitingFor = r.waitingFor;
      if (changed) {
        if (r.ready) {
          this.#log.info({ inventory: inv.key }, 'readiness gate open');
          this.#scheduler.touch(inv.key, Date.now(), true);
          this.#arm();
        }
        this.#report(inv);
      }
    }
  }

  /** Poll the row consumer until everything present at acquisition has been applied. */
  #pollDrain(): void {
    if (this.#stopped || this.#drained) return;
    void (async () => {
      try {
        const info = await this.#runner?.info();
        if (
          info &&
          (info.ack_floor.stream_seq >= this.#drainTarget ||
            (info.num_pending === 0 && info.num_ack_pending === 0))
        ) {
          this.#drained = true;
          this.#evaluateGates();
          this.#arm();
          return;
        }
      } catch (err) {
        this.#log.debug({ err: redactSecrets(String(err)) }, 'consumer info failed');
      }
      if (!this.#stopped) this.#drainPoll = setTimeout(() => this.#pollDrain(), 250);
    })();
  }

  /** A gate may be waiting for extraction progress: the service calls this when it moved. */
  onExtractionProgress(): void {
    if (this.#loaded && !this.#stopped && [...this.#inv.values()].some((i) => i.view && !i.gateOpen))
      this.#evaluateGates();
  }

  /** True while some inventory of the partition waits at the gate. */
  waiting(): boolean {
    return [...this.#inv.values()].some((i) => i.view && !i.gateOpen);
  }

  // ---------------------------------------------------------------- exports

  #arm(): void {
    if (this.#stopped) return;
    const due = this.#scheduler.nextDueMs();
    if (due === null) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        void this.#run(() => this.#exportDue()).catch((err: unknown) => {
          this.#log.warn({ err: redactSecrets(String(err)) }, 'export round failed; retrying');
        });
      },
      Math.max(0, due - Date.now()),
    );
  }

  async #exportDue(): Promise<void> {
    if (this.#stopped) return;
    const due = this.#scheduler.takeDue(Date.now());
    if (due.length === 0) return this.#arm();
    try {
      await this.#flush();
      for (const key of due) {
        const inv = this.#inv.get(key);
        if (!inv) continue;
        try {
          await this.#exportOne(inv);
        } catch (err) {
          // Retry this inventory soon; the write-ahead record keeps the sequence intact.
          this.#scheduler.touch(key, Date.now() + 1000);
          this.#log.warn(
            { inventory: key, err: redactSecrets(err instanceof Error ? err.message : String(err)) },
            'export failed; will retry',
          );
        }
      }
    } finally {
      this.#arm();
    }
  }

  async #exportOne(inv: InventoryState): Promise<void> {
    if (this.#stopped) return;
    if (inv.pending) await this.#finishPending(inv);
    const view = inv.view;
    if (
      !view ||
      view.inventory.partition !== this.partition ||
      inv.finalExportGeneration !== undefined ||
      !inv.gateOpen
    )
      return;
    const deleting = Boolean(view.inventory.deleting);
    const now = new Date();
    const t0 = performance.now();
    let prepared = nextSnapshot(inv.state, inv.table, view, now, { full: inv.needsFull });
    // A deleting inventory ends with exactly one final export, even when nothing changed.
    if (deleting && !prepared) prepared = nextSnapshot(inv.state, inv.table, view, now, { full: true });
    inv.exportCostMs = performance.now() - t0;
    if (!prepared) return;
    const { names, bus } = this.#ctx;
    const pub = planSnapshotPublication(prepared.message, {
      maxInlineBytes: Math.floor(bus.maxPayload() * 0.75),
      bucket: names.buckets.full,
    });
    if (pub.object) await this.#ctx.fullStore.putBlob({ name: pub.object.name }, pub.object.data);
    inv.pending = { message: pub.message, body: pub.body, state: prepared.state, prepared, final: deleting };
    inv.needsFull = false;
    // Write-ahead: the record names generation N+1 before anyone can see it.
    await this.#writeRecord(inv, {
      v: 1,
      state: prepared.state,
      pending: pub.message,
      ...(deleting ? { final: true } : {}),
    });
    await this.#finishPending(inv);
  }

  /** Publish the pending export (idempotent by msg id), commit and persist its marks, clear it. */
  async #finishPending(inv: InventoryState): Promise<void> {
    const p = inv.pending;
    if (!p) return;
    const { bus, names, metrics } = this.#ctx;
    const cluster = p.message.cluster;
    const t0 = Date.now();
    await publishBytes(bus, names.subject(subjects.snapshot(cluster, inv.ref)), p.body, {
      msgId: `${cluster}/${inv.key}/${p.message.exportGeneration}`,
      headers: { [HEADERS.schemaVersion]: SCHEMA_VERSION },
    });
    if (p.prepared) commitExport(inv.table, p.prepared, Date.now());
    await this.#flush();
    inv.state = p.state;
    if (p.final) inv.finalExportGeneration = p.state.exportGeneration;
    await this.#writeRecord(inv, {
      v: 1,
      state: p.state,
      pending: null,
      ...(p.final ? { final: true } : {}),
    });
    inv.pending = undefined;
    metrics.snapshotGenerations.inc({ kind: p.message.kind });
    this.#log.info(
      {
        inventory: inv.key,
        exportGeneration: p.state.exportGeneration,
        itemCount: p.state.itemCount,
        upserts: p.prepared?.message.upserts.length,
        deletes: p.prepared?.message.deletes.length,
        objectRef: p.message.objectRef?.name,
        ms: Date.now() - t0,
      },
      'snapshot published',
    );
    this.#report(inv);
  }

  async #writeRecord(inv: InventoryState, rec: ExportRecord): Promise<void> {
    await this.#ctx.writer.put(this.fence, exportKvKey(this.partition, inv.key), rec);
  }

  /** Takeover: continue from the previous owner's export record. */
  async #restoreExport(inv: InventoryState, rec: ExportRecord): Promise<void> {
    inv.state = rec.state;
    if (rec.final && !rec.pending) inv.finalExportGeneration = rec.state.exportGeneration;
    if (!rec.pending) return;
    let full: SnapshotMessage | undefined = rec.pending;
    if (rec.pending.objectRef) {
      try {
        const data = await this.#ctx.fullStore.getBlob(rec.pending.objectRef.name);
        full = data ? decodeSnapshotMessage(data) : undefined;
      } catch (err) {
        this.#log.warn(
          { inventory: inv.key, err: redactSecrets(String(err)) },
          'pending export payload unreadable',
        );
        full = undefined;
      }
    }
    if (!full) {
      // Its payload is gone: sinks cannot resolve it either. Continue with a full replace.
      this.#log.warn(
        { inventory: inv.key, exportGeneration: rec.state.exportGeneration },
        'previous export not recoverable; next export is a full snapshot',
      );
      inv.needsFull = true;
      return;
    }
    redoExport(inv.table, full, Date.now());
    inv.pending = {
      message: rec.pending,
      body: encodeSnapshotMessage(rec.pending),
      state: rec.state,
      prepared: null,
      final: Boolean(rec.final),
    };
  }

  // ---------------------------------------------------------------- full snapshots

  /** Serve a full-snapshot request for an inventory of this partition. */
  serveFull(key: string): Promise<FullSnapshotReply> {
    return this.#run(async (): Promise<FullSnapshotReply> => {
      const inv = this.#inv.get(key);
      if (!inv?.view)
        return { ok: false, reason: 'NotFound', message: `inventory ${key} is not in the plan` };
      if (!inv.gateOpen) {
        return {
          ok: false,
          reason: 'NotReady',
          message: `waiting for: ${inv.waitingFor.join(', ')}`,
          retryAfterMs: 1000,
        };
      }
      await this.#flush();
      // Export what changed first, so the full snapshot is exactly the current generation.
      await this.#exportOne(inv);
      const current = inv.pending ? null : fullSnapshot(inv.state, inv.table, inv.view);
      // The full snapshot of a deleted inventory's final generation is final too: a sink that
      // asks for it (a gap, a restart) must learn that the inventory ended, not that it is empty.
      const full =
        current && inv.finalExportGeneration === current.exportGeneration
          ? { ...current, final: FINAL_INVENTORY_DELETED }
          : current;
      if (!full) {
        return {
          ok: false,
          reason: 'NotReady',
          message: 'no exported generation matches the table yet (held or exporting)',
          retryAfterMs: 1000,
        };
      }
      if (inv.lastFull?.exportGeneration !== full.exportGeneration) {
        const name = snapshotObjectName(full.cluster, full.inventory, full.exportGeneration, 'full');
        const data = encodeSnapshotMessage(full);
        await this.#ctx.fullStore.putBlob({ name }, data);
        const stub: SnapshotMessage = {
          ...full,
          upserts: [],
          deletes: [],
          objectRef: { bucket: this.#ctx.names.buckets.full, name, bytes: data.length },
        };
        inv.lastFull = { exportGeneration: full.exportGeneration, snapshot: stub };
        this.#ctx.metrics.snapshotGenerations.inc({ kind: 'full' });
      }
      return { ok: true, snapshot: inv.lastFull.snapshot };
    });
  }

  // ---------------------------------------------------------------- status & housekeeping

  #report(inv: InventoryState): void {
    const plan = this.#ctx.plan();
    if (!plan || !inv.view) return;
    const set = exportedSet(inv.table, inv.view);
    const report: AggregatorStatusReport = {
      schemaVersion: BUS_SCHEMA_VERSION,
      cluster: plan.settings.cluster,
      inventory: inv.ref,
      planGeneration: plan.generation,
      itemCount: set.items.length,
      exportGeneration: inv.state.exportGeneration,
      checksum: inv.state.checksum,
      ...(inv.state.exportedAt ? { lastExportedAt: inv.state.exportedAt } : {}),
      gateOpen: inv.gateOpen,
      ...(inv.waitingFor.length ? { waitingFor: inv.waitingFor } : {}),
      ...(inv.finalExportGeneration !== undefined
        ? { finalExportGeneration: inv.finalExportGeneration }
        : {}),
      ...(inv.ref.kind === 'KollectClusterInventory'
        ? { namespaceShards: namespaceShards(inv.table, set) }
        : {}),
      at: new Date().toISOString(),
    };
    this.#ctx.publishStatus(report);
  }

  /** Status of every inventory in the plan (the periodic report), and the consumer gauges. */
  reportAll(): void {
    for (const inv of this.#inv.values()) this.#report(inv);
    const { metrics, names } = this.#ctx;
    const labels = { stream: names.streams.rows, consumer: `aggregator-p${this.partition}` };
    this.#runner
      ?.info()
      .then((ci) => {
        metrics.consumerPending.set(labels, ci.num_pending);
        metrics.consumerAckPending.set(labels, ci.num_ack_pending);
      })
      .catch(() => undefined);
  }

  /** Row and item counts (metrics). */
  counts(): { rows: number; items: number } {
    let rows = 0;
    let items = 0;
    for (const inv of this.#inv.values()) {
      rows += inv.table.liveCount;
      items += inv.state.itemCount;
    }
    return { rows, items };
  }

  #houseKeep(): void {
    const now = Date.now();
    for (const inv of this.#inv.values()) {
      expireTombstones(inv.table, now, this.#ctx.cfg.tombstoneTtlMs, this.#ctx.cfg.maxTombstones);
    }
    // Inventories that left the plan after their final export: forget them and their KV state.
    const plan = this.#ctx.plan();
    if (!plan) return;
    for (const inv of [...this.#inv.values()]) {
      if (inv.view || inv.finalExportGeneration === undefined) continue;
      void this.#run(() => this.#purge(inv)).catch((err: unknown) =>
        this.#log.warn(
          { inventory: inv.key, err: redactSecrets(String(err)) },
          'purging a deleted inventory failed',
        ),
      );
    }
  }

  async #purge(inv: InventoryState): Promise<void> {
    if (this.#ctx.view(inv.key)) return;
    const { writer } = this.#ctx;
    await inWindow([...inv.persisted], PERSIST_CONCURRENCY, (rk) =>
      writer.delete(this.fence, rowKvKey(this.partition, inv.key, rk)),
    );
    await writer.delete(this.fence, exportKvKey(this.partition, inv.key));
    this.#inv.delete(inv.key);
    this.#scheduler.forget(inv.key);
    this.#latch.forget(inv.key);
    this.#log.info({ inventory: inv.key }, 'deleted inventory purged');
  }

  #inventory(key: string): InventoryState {
    let inv = this.#inv.get(key);
    if (!inv) {
      inv = {
        key,
        ref: parseInventoryKey(key),
        table: createTable(),
        persisted: new Set(),
        view: this.#ctx.view(key),
        state: { ...INITIAL_EXPORT_STATE },
        pending: undefined,
        needsFull: false,
        finalExportGeneration: undefined,
        gateOpen: false,
        waitingFor: ['partition not loaded'],
        lastFull: undefined,
        exportCostMs: 0,
      };
      this.#inv.set(key, inv);
    }
    return inv;
  }
}
