import {
  errorClassOf,
  inventoryKey,
  isFinalSnapshot,
  type KollectError,
  type InventoryRef,
  type SinkOutcome,
  type SnapshotMessage,
} from '@kollect/contracts';
import { CircuitBreaker } from './breaker.js';
import { appliesFinalExport, planApply, type ApplyPlan } from './decide.js';
import { classifySinkError, SinkCircuitOpen, SinkNeedsFullSnapshot } from './errors.js';
import { MaterializedInventory, type MaterializedStore } from './materialized.js';
import { NO_METRICS, type SinkMetrics } from './metrics.js';
import { KeyedMutex } from './mutex.js';
import type { FullSnapshotSource } from './source.js';
import type { AppliedPosition, ApplyResult, FullSnapshot, Sink, SinkLogger, SnapshotDiff } from './types.js';

export interface SinkRunnerOptions {
  sink: Sink;
  /** `family/namespace/name` of the sink object, for errors and logs. */
  sinkName: string;
  full: FullSnapshotSource;
  /** Shared by every runner of the worker. */
  store: MaterializedStore;
  /**
   * The fleet label the backend writes (`spec.cluster`, else the pipeline cluster); replaces
   * the message's cluster in what the backend sees.
   */
  clusterLabel?: string;
  breaker?: CircuitBreaker;
  metrics?: SinkMetrics;
  log: SinkLogger;
  now?: () => number;
}

/** The result of bringing one sink to one snapshot message. */
export interface ExportOutcome {
  outcome: SinkOutcome;
  /** What the framework did. */
  action: ApplyPlan['action'] | 'circuit-open' | 'none';
  /**
   * Why a full snapshot was used, when it was; `inventory-deleted` with outcome `retained` (the
   * final export of a deleted inventory, not applied by a non-relational backend).
   */
  why?: string;
  /** The generation the backend holds afterwards (on success). */
  exportGeneration: number;
  checksum: string;
  itemCount: number;
  durationMs: number;
  bytes: number;
  location?: string;
  /** Set when `outcome` is `failed`: already classified and scrubbed. */
  error?: KollectError;
}

interface Remembered {
  /** What the backend reported when it was brought to `effective` without a write. */
  reported: AppliedPosition | null;
  effective: AppliedPosition;
}

/**
 * Drives one connected backend (one sink object) through snapshot messages: reads the
 * backend's position, picks diff / full replace / no-op with {@link planApply}, obtains the
 * full snapshot from the worker's materialised state or the aggregator, applies it, and
 * accounts for breaker, metrics and timing. Work for one inventory is serialised; different
 * inventories run concurrently.
 *
 * The final export of a deleted inventory (`SnapshotMessage.final`, or a full snapshot that says
 * so) reaches only relational backends ({@link appliesFinalExport}); any other backend is left as
 * it is and the outcome is `retained`. This is decided here, from the message alone, because the
 * worker's plan may still bind the sink when the final export arrives (plan and snapshots are
 * watched independently), and a worker catching up after downtime may be handed that final
 * generation as the full snapshot of an older message.
 */
export class SinkRunner {
  private readonly opts: SinkRunnerOptions;
  private readonly mutex = new KeyedMutex();
  private readonly breaker: CircuitBreaker;
  private readonly metrics: SinkMetrics;
  private readonly now: () => number;
  /** This sink's own view of the rows at the generation it last brought the backend to. */
  private readonly held = new Map<string, MaterializedInventory>();
  /** No-write replaces: the backend content equals `effective` although it reports `reported`. */
  private readonly remembered = new Map<string, Remembered>();
  /** The newest message seen per inventory (for the re-assert cadence). */
  private readonly latest = new Map<string, SnapshotMessage>();

  constructor(opts: SinkRunnerOptions) {
    this.opts = opts;
    this.breaker = opts.breaker ?? new CircuitBreaker();
    this.metrics = opts.metrics ?? NO_METRICS;
    this.now = opts.now ?? Date.now;
  }

  get circuit(): CircuitBreaker {
    return this.breaker;
  }

  /** Bring the backend to the generation of `msg` (or newer). Never throws: failures are outcomes. */
  handle(msg: SnapshotMessage, signal?: AbortSignal): Promise<ExportOutcome> {
    const key = `${msg.cluster}\u0000${inventoryKey(msg.inventory)}`;
    if (isFinalSnapshot(msg) && !appliesFinalExport(this.opts.sink.capabilities)) {
      // Checked before the breaker and without asking the backend: nothing is written, so an
      // unreachable backend must not hold the acknowledgement back.
      return this.mutex.run(key, () => Promise.resolve({ ...this.retain(key, msg), durationMs: 0 }));
    }
    const seen = this.latest.get(key);
    if (!seen || seen.exportGeneration <= msg.exportGeneration) this.latest.set(key, msg);
    return this.mutex.run(key, () => this.guarded(msg, key, signal));
  }

  /**
   * Re-assert the newest state seen for an inventory (the per-binding `exportMinInterval`
   * cadence): when the backend no longer reports that generation — the object was deleted, the
   * branch rewound — the full snapshot is written again. Returns null when nothing was seen.
   */
  async reassert(
    cluster: string,
    inventory: InventoryRef,
    signal?: AbortSignal,
  ): Promise<ExportOutcome | null> {
    const key = `${cluster}\u0000${inventoryKey(inventory)}`;
    const msg = this.latest.get(key);
    if (!msg) return null;
    return this.mutex.run(key, () =>
      this.guarded(
        { ...msg, kind: 'full', upserts: [], deletes: [], reassert: true } as SnapshotMessage & {
          reassert: true;
        },
        key,
        signal,
      ),
    );
  }

  /** Inventories this runner has seen, for the cadence timer. */
  seen(): { cluster: string; inventory: InventoryRef; exportGeneration: number }[] {
    return [...this.latest.values()].map((m) => ({
      cluster: m.cluster,
      inventory: m.inventory,
      exportGeneration: m.exportGeneration,
    }));
  }

  private async guarded(msg: SnapshotMessage, key: string, signal?: AbortSignal): Promise<ExportOutcome> {
    const started = this.now();
    const base: Omit<ExportOutcome, 'outcome' | 'action'> = {
      exportGeneration: msg.exportGeneration,
      checksum: msg.checksum,
      itemCount: msg.itemCount,
      durationMs: 0,
      bytes: 0,
    };
    if (!this.breaker.tryAcquire()) {
      const error = SinkCircuitOpen(this.opts.sinkName, this.breaker.retryInMs());
      this.metrics.sinkError('transient');
      return { ...base, outcome: 'failed', action: 'circuit-open', error };
    }
    try {
      const out = await this.apply(msg, key, signal);
      this.breaker.success();
      const durationMs = this.now() - started;
      if (out.action !== 'skip') {
        this.metrics.exportDuration(this.opts.sink.type, durationMs / 1000);
        if (out.bytes > 0) this.metrics.exportBytes(this.opts.sink.type, out.bytes);
      }
      return { ...base, ...out, durationMs };
    } catch (err) {
      const error = classifySinkError(this.opts.sinkName, err);
      this.breaker.failure();
      this.metrics.sinkError(errorClassOf(error));
      this.opts.log.warn(
        {
          sink: this.opts.sinkName,
          inventory: inventoryKey(msg.inventory),
          exportGeneration: msg.exportGeneration,
          error_class: error.errorClass,
          code: error.code,
          err: error.message,
        },
        'export failed',
      );
      return { ...base, outcome: 'failed', action: 'none', durationMs: this.now() - started, error };
    }
  }

  private async position(
    key: string,
    inv: InventoryRef,
  ): Promise<{ reported: AppliedPosition | null; effective: AppliedPosition | null }> {
    const reported = await this.opts.sink.lastApplied(inv);
    const r = this.remembered.get(key);
    if (r && samePosition(r.reported, reported)) return { reported, effective: r.effective };
    if (r) this.remembered.delete(key);
    return { reported, effective: reported };
  }

  private async apply(
    msg: SnapshotMessage & { reassert?: true },
    key: string,
    signal?: AbortSignal,
  ): Promise<Omit<ExportOutcome, 'durationMs'>> {
    const sink = this.opts.sink;
    const inv = msg.inventory;
    const { reported, effective: position } = await this.position(key, inv);
    const held = this.held.get(key);
    const storeState = this.opts.store.get(msg.cluster, inv);
    const baseState =
      held && held.exportGeneration === msg.previousGeneration
        ? held
        : storeState && storeState.exportGeneration === msg.previousGeneration
          ? storeState
          : undefined;
    let plan: ApplyPlan = msg.reassert
      ? position && position.exportGeneration >= msg.exportGeneration
        ? { action: 'skip', why: 'already-applied' }
        : { action: 'replace-from-full', why: 'gap' }
      : planApply({
          message: msg,
          position,
          capabilities: sink.capabilities,
          haveBase: baseState !== undefined,
        });
    const common = {
      exportGeneration: msg.exportGeneration,
      checksum: msg.checksum,
      itemCount: msg.itemCount,
      bytes: 0,
    };
    if (plan.action === 'skip') return { ...common, outcome: 'unchanged', action: 'skip', why: plan.why };

    let payload: { upserts: SnapshotMessage['upserts']; deletes: SnapshotMessage['deletes'] } = msg;
    if (msg.objectRef && !msg.reassert) {
      if (!this.opts.full.loadPayload)
        throw new Error('snapshot message payload is in the object store but no loader is configured');
      payload = await this.opts.full.loadPayload(msg, signal);
    }
    const diff: SnapshotDiff = {
      inventory: inv,
      cluster: this.label(msg.cluster),
      generation: msg.generation,
      exportGeneration: msg.exportGeneration,
      previousGeneration: msg.previousGeneration,
      checksum: msg.checksum,
      itemCount: msg.itemCount,
      exportedAt: msg.exportedAt,
      upserts: payload.upserts,
      deletes: payload.deletes,
      ...(msg.final !== undefined ? { final: msg.final } : {}),
    };

    if (plan.action === 'apply-diff') {
      try {
        const res = await sink.applyDiff(baseState ? { ...diff, base: baseState } : diff);
        if (baseState) {
          const next = this.nextState(baseState, diff);
          this.held.set(key, next);
          this.opts.store.put(next);
        }
        return this.done(key, reported, msg, res, 'apply-diff');
      } catch (err) {
        if (!SinkNeedsFullSnapshot.is(err)) throw err;
        plan = { action: 'replace-from-full', why: 'diff-refused' };
      }
    }

    let full: FullSnapshot;
    if (plan.action === 'replace-from-message') {
      full = {
        inventory: inv,
        cluster: msg.cluster,
        generation: msg.generation,
        exportGeneration: msg.exportGeneration,
        checksum: msg.checksum,
        exportedAt: msg.exportedAt,
        items: payload.upserts,
        ...(msg.final !== undefined ? { final: msg.final } : {}),
      };
      const st = MaterializedInventory.fromFull(full);
      full = st.toFull() ?? full;
      this.opts.store.put(st);
    } else {
      full = await this.obtainFull(msg, diff, baseState, signal);
      // Asked for the current generation and got the final one of a deleted inventory (a gap
      // or a restart while it was being deleted): the same rule as for the final message.
      if (isFinalSnapshot(full) && !appliesFinalExport(sink.capabilities)) return this.retain(key, full);
    }
    const replaceBase =
      held && position && held.exportGeneration === position.exportGeneration ? held : undefined;
    const res = await sink.replace(
      { ...full, cluster: this.label(full.cluster) },
      replaceBase ? { base: replaceBase } : {},
    );
    const st = this.opts.store.get(msg.cluster, inv);
    if (st && st.exportGeneration === full.exportGeneration) this.held.set(key, st);
    const out = this.done(
      key,
      reported,
      {
        ...msg,
        exportGeneration: full.exportGeneration,
        checksum: full.checksum,
        itemCount: full.items.length,
      },
      res,
      plan.action,
    );
    return 'why' in plan ? { ...out, why: plan.why } : out;
  }

  /**
   * The final export of a deleted inventory, not applied: this backend keeps its history. The
   * inventory ended, so nothing of it is re-asserted or held any more.
   */
  private retain(
    key: string,
    fin: Pick<SnapshotMessage, 'inventory' | 'exportGeneration' | 'checksum'> & { itemCount?: number },
  ): Omit<ExportOutcome, 'durationMs'> {
    this.latest.delete(key);
    this.held.delete(key);
    this.remembered.delete(key);
    this.opts.log.info(
      {
        sink: this.opts.sinkName,
        type: this.opts.sink.type,
        inventory: inventoryKey(fin.inventory),
        exportGeneration: fin.exportGeneration,
      },
      'final export of a deleted inventory not applied: this sink keeps its history',
    );
    return {
      outcome: 'retained',
      action: 'skip',
      why: 'inventory-deleted',
      exportGeneration: fin.exportGeneration,
      checksum: fin.checksum,
      itemCount: fin.itemCount ?? 0,
      bytes: 0,
    };
  }

  private nextState(base: MaterializedInventory, diff: SnapshotDiff): MaterializedInventory {
    const st = this.opts.store.get(base.cluster, base.inventory);
    // Another sink of this inventory already advanced the shared state: reuse it.
    if (st && st.exportGeneration === diff.exportGeneration && st.checksum === diff.checksum) return st;
    return base.advanced({ ...diff, cluster: base.cluster });
  }

  private async obtainFull(
    msg: SnapshotMessage,
    diff: SnapshotDiff,
    baseState: MaterializedInventory | undefined,
    signal?: AbortSignal,
  ): Promise<FullSnapshot> {
    const inv = msg.inventory;
    const st = this.opts.store.get(msg.cluster, inv);
    let candidate: MaterializedInventory | undefined;
    if (st && st.exportGeneration >= msg.exportGeneration) candidate = st;
    else if (baseState && msg.kind === 'diff') candidate = this.nextState(baseState, diff);
    if (candidate) {
      const full = candidate.toFull();
      if (full) {
        this.opts.store.put(candidate);
        return full;
      }
      this.opts.log.warn(
        {
          sink: this.opts.sinkName,
          inventory: inventoryKey(inv),
          exportGeneration: candidate.exportGeneration,
        },
        'materialised state does not match its checksum; fetching the full snapshot',
      );
      this.opts.store.drop(msg.cluster, inv);
    }
    const full = await this.opts.full.fetch(msg.cluster, inv, msg.exportGeneration, signal);
    this.opts.store.put(MaterializedInventory.fromFull(full));
    return full;
  }

  private done(
    key: string,
    before: AppliedPosition | null,
    msg: Pick<SnapshotMessage, 'exportGeneration' | 'checksum' | 'itemCount'>,
    res: ApplyResult,
    action: ApplyPlan['action'],
  ): Omit<ExportOutcome, 'durationMs'> {
    if (!res.changed) {
      // The backend already held this content but may still report its old position (Git makes
      // no empty commit): remember, so the next diff is applied on top instead of replacing again.
      this.remembered.set(key, {
        reported: before,
        effective: { exportGeneration: msg.exportGeneration, checksum: msg.checksum },
      });
    } else {
      this.remembered.delete(key);
    }
    return {
      outcome: res.changed ? 'exported' : 'unchanged',
      action,
      exportGeneration: msg.exportGeneration,
      checksum: msg.checksum,
      itemCount: msg.itemCount,
      bytes: res.bytes,
      ...(res.location !== undefined ? { location: res.location } : {}),
    };
  }

  private label(cluster: string): string {
    return this.opts.clusterLabel || cluster;
  }
}

function samePosition(a: AppliedPosition | null, b: AppliedPosition | null): boolean {
  if (a === null || b === null) return a === b;
  return a.exportGeneration === b.exportGeneration && a.checksum === b.checksum;
}
