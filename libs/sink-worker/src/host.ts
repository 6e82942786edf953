import { exportDecision, decodeSnapshotMessage, type BindingExportState } from '@kollect/aggregate';
import {
  publishJson,
  runConsumer,
  type Bus,
  type BusNames,
  type ConsumerBindState,
  type ConsumerRunner,
} from '@kollect/bus';
import {
  BUS_SCHEMA_VERSION,
  formatRfc3339Nano,
  inventoryKey,
  redactSecrets,
  sinkKey,
  subjects,
  type InventoryRef,
  type SinkStatusReport,
  type SnapshotMessage,
} from '@kollect/contracts';
import { observeConsumer, type KollectMetrics, type Logger } from '@kollect/observability';
import type { CompiledSink, SinkBinding } from '@kollect/plan';
import {
  CircuitBreaker,
  guardEndpoints,
  resolveCredentials,
  secretKey,
  secretNeeds,
  SinkRunner,
  type ExportOutcome,
  type FullSnapshotSource,
  type MaterializedStore,
  type SecretData,
  type SecretWatcher,
  type Sink,
  type SinkFactory,
  type SinkMetrics,
} from '@kollect/sink';

/** What a host needs from the worker. */
export interface HostContext {
  bus: Bus;
  names: BusNames;
  log: Logger;
  metrics: KollectMetrics;
  secrets: SecretWatcher;
  full: FullSnapshotSource;
  store: MaterializedStore;
  workDir: string;
  allowPrivateEndpoints: boolean;
  maxDeliver: number;
  ackWaitMs: number;
  /** The pipeline's cluster (subjects, reports). */
  cluster: string;
}

/** The bindings of one sink: inventories it receives, with their re-send intervals. */
export interface HostBinding {
  inventory: InventoryRef;
  binding: SinkBinding;
}

/** A durable consumer name for a sink: `sink-<family>-<ns>-<name>` with unsafe characters replaced. */
export function durableName(sink: CompiledSink): string {
  return `sink-${sink.ref.family}-${sink.ref.namespace}-${sink.ref.name}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

export function sinkMetricsOf(m: KollectMetrics): SinkMetrics {
  return {
    exportDuration: (t, s) => m.exportDuration.observe({ sink_type: t }, s),
    exportBytes: (t, b) => m.exportBytes.inc({ sink_type: t }, b),
    sinkError: (r) => m.sinkErrors.inc({ reason: r }),
    connectionTest: (t, r) => m.sinkConnectionTest.inc({ type: t, result: r }),
  };
}

/**
 * One bound sink in this worker: the connected backend, its {@link SinkRunner}, one durable
 * consumer on the snapshot subjects of the inventories bound to it (shared by every replica),
 * status reports, the Secret watch, and the re-send cadence of identical state.
 */
export class SinkHost {
  private sink: Sink | undefined;
  private runner: SinkRunner | undefined;
  private consumer: ConsumerRunner | undefined;
  private unobserve: (() => void) | undefined;
  private unwatch: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly breaker = new CircuitBreaker();
  private readonly states = new Map<string, BindingExportState>();
  private bindings: HostBinding[] = [];
  private building: Promise<void> | undefined;
  /** Rebuilds run one after the other (two Secret events in a row build once each, in order). */
  private rebuilds: Promise<void> = Promise.resolve();
  /** Exports running on the current backend; a rebuild closes the old backend only after them. */
  private readonly inflight = new Set<Promise<unknown>>();
  private stopped = false;
  /** Last build failure (terminal: reported on every message until the Secret/spec changes). */
  private buildError: { errorClass: 'transient' | 'terminal'; reason: string; message: string } | undefined;
  /**
   * The latest message per inventory acknowledged after a terminal failure (of the build or of the
   * export: an untrusted certificate, a wrong key): the stream will not deliver it again and an
   * unchanged inventory sends nothing new, so the rebuild that fixes the sink (Secret rotation)
   * exports it.
   */
  private readonly parked = new Map<string, SnapshotMessage>();

  constructor(
    readonly compiled: CompiledSink,
    private readonly factory: SinkFactory,
    private readonly ctx: HostContext,
  ) {}

  get key(): string {
    return sinkKey(this.compiled.ref);
  }

  /** The snapshot consumer's bind state (readiness); undefined when the sink has no bindings. */
  consumerState(): ConsumerBindState | undefined {
    return this.consumer?.bindState();
  }

  /** Start (or retarget) the consumer for these bindings. */
  async apply(bindings: HostBinding[]): Promise<void> {
    const before = this.bindings
      .map((b) => inventoryKey(b.inventory))
      .sort()
      .join(',');
    this.bindings = bindings;
    const after = bindings
      .map((b) => inventoryKey(b.inventory))
      .sort()
      .join(',');
    if (!this.sink && !this.building) await this.build();
    // Handed over from the host this one replaces (a spec change that may be the fix).
    if (this.runner && this.parked.size > 0) await this.exportParked(this.runner);
    if (before !== after || !this.consumer) await this.restartConsumer();
    this.schedule();
  }

  private log(): Logger {
    return this.ctx.log;
  }

  /**
   * Resolve credentials, run the SSRF guard, create and connect the backend. Joins a build in
   * progress instead of starting a second one (a message and a Secret event may both ask);
   * `before` runs first inside the build (a rebuild closes the old backend there, so messages
   * arriving meanwhile wait for the new one instead of building beside it).
   */
  private build(before?: () => Promise<void>): Promise<void> {
    if (this.building) return this.building;
    this.building = (async () => {
      await before?.();
      const needs = secretNeeds(this.compiled);
      this.unwatch?.();
      this.unwatch = this.ctx.secrets.watch(needs, () => void this.rebuild('secret changed'));
      try {
        const secrets = new Map<string, SecretData | undefined>();
        for (const n of needs) secrets.set(secretKey(n), await this.ctx.secrets.get(n.namespace, n.name));
        const credentials = resolveCredentials(this.compiled, secrets);
        guardEndpoints(this.compiled, { allowPrivateEndpoints: this.ctx.allowPrivateEndpoints });
        const spec = this.compiled.spec as { cluster?: string };
        const cluster = spec.cluster || this.ctx.cluster;
        const sink = this.factory.create({
          sink: this.compiled,
          cluster,
          credentials,
          workDir: this.ctx.workDir,
          signal: new AbortController().signal,
          log: this.ctx.log,
          allowPrivateEndpoints: this.ctx.allowPrivateEndpoints,
        });
        await sink.connect();
        this.sink = sink;
        this.runner = new SinkRunner({
          sink,
          sinkName: this.key,
          full: this.ctx.full,
          store: this.ctx.store,
          clusterLabel: cluster,
          breaker: this.breaker,
          metrics: sinkMetricsOf(this.ctx.metrics),
          log: this.ctx.log,
        });
        this.buildError = undefined;
        this.log().info({ sink: this.key, type: this.compiled.type }, 'sink connected');
      } catch (err) {
        const e = err as { errorClass?: string; reason?: string; message?: string };
        this.buildError = {
          errorClass: e.errorClass === 'transient' || e.errorClass === undefined ? 'transient' : 'terminal',
          reason: e.reason ?? 'SinkUnavailable',
          message: redactSecrets(e.message ?? String(err)),
        };
        this.log().warn(
          { sink: this.key, error_class: this.buildError.errorClass, err: this.buildError.message },
          'sink not connected',
        );
      } finally {
        this.building = undefined;
      }
    })();
    return this.building;
  }

  /**
   * Rebuild the backend (Secret rotation) and re-assert every inventory seen so far. Serialised:
   * a rebuild waits for the one before it, and the old backend is closed only once the exports
   * running on it finished (they are not cut off mid-write by the rotation).
   */
  rebuild(why: string): Promise<void> {
    const next = this.rebuilds.then(() => this.rebuildNow(why));
    this.rebuilds = next.catch(() => {});
    return next;
  }

  private async rebuildNow(why: string): Promise<void> {
    if (this.stopped) return;
    if (this.building) await this.building;
    this.log().info({ sink: this.key, why }, 'rebuilding sink');
    const seen = this.runner?.seen() ?? [];
    const old = this.sink;
    this.sink = undefined;
    this.runner = undefined;
    await this.build(async () => {
      await Promise.allSettled([...this.inflight]);
      await old?.close().catch(() => {});
    });
    if (!this.runner) return;
    await this.exportParked(this.runner);
    for (const s of seen) {
      // Replays are cheap no-ops when the backend already holds the generation.
      const state = this.states.get(inventoryKey(s.inventory));
      if (state) this.states.set(inventoryKey(s.inventory), { ...state, lastExportMs: 0 });
    }
  }

  private async restartConsumer(): Promise<void> {
    await this.consumer?.stop();
    this.unobserve?.();
    this.unobserve = undefined;
    this.consumer = undefined;
    if (this.bindings.length === 0 || this.stopped) return;
    const filters = this.bindings.map((b) =>
      this.ctx.names.subject(subjects.snapshot(this.ctx.cluster, b.inventory)),
    );
    this.consumer = runConsumer({
      bus: this.ctx.bus,
      stream: this.ctx.names.streams.snapshots,
      durable: durableName(this.compiled),
      filterSubjects: filters,
      handler: (m) => this.onMessage(m.data, m.deliveryCount),
      maxDeliver: this.ctx.maxDeliver,
      ackWaitMs: this.ctx.ackWaitMs,
      concurrency: 1,
      nakDelayMs: (n) => Math.min(60_000, Math.max(this.breaker.retryInMs(), 1000 * 2 ** Math.min(n - 1, 6))),
      metadata: { sink: this.key, type: this.compiled.type },
      logger: this.ctx.log,
      onDeadLetter: (dl) =>
        this.log().error(
          { sink: this.key, streamSeq: dl.streamSeq, reason: dl.reason },
          'snapshot message dropped',
        ),
    });
    this.unobserve = observeConsumer(this.ctx.metrics, this.consumer, {
      stream: this.ctx.names.streams.snapshots,
      consumer: durableName(this.compiled),
    });
  }

  private async onMessage(data: Uint8Array, deliveryCount: number): Promise<void> {
    const msg = decodeSnapshotMessage(data);
    if (this.building) await this.building;
    if (!this.runner) {
      if (!this.buildError || this.buildError.errorClass === 'transient') await this.build();
    }
    const runner = this.runner;
    if (!runner) {
      const be = this.buildError ?? {
        errorClass: 'transient' as const,
        reason: 'SinkUnavailable',
        message: 'sink not connected',
      };
      this.report(
        msg.inventory,
        {
          outcome: 'failed',
          action: 'none',
          exportGeneration: msg.exportGeneration,
          checksum: msg.checksum,
          itemCount: msg.itemCount,
          durationMs: 0,
          bytes: 0,
        },
        be,
      );
      this.ctx.metrics.sinkErrors.inc({ reason: be.errorClass });
      if (be.errorClass === 'transient')
        throw Object.assign(new Error(be.message), { errorClass: 'transient' });
      this.park(msg);
      return; // terminal: acknowledged; exported by the rebuild when the Secret or spec changes
    }
    const out = await this.deliver(runner, msg);
    if (out.outcome === 'failed' && out.error?.errorClass === 'transient') {
      if (deliveryCount >= this.ctx.maxDeliver)
        this.log().error(
          { sink: this.key, inventory: inventoryKey(msg.inventory) },
          'giving up on a snapshot message; the next export or re-send converges',
        );
      throw out.error;
    }
    // terminal: acknowledged; exported again by the rebuild when the Secret or spec changes
    if (out.outcome === 'failed') this.park(msg);
  }

  /** Export one message on `runner`, report it and record the binding's export state. */
  private async deliver(runner: SinkRunner, msg: SnapshotMessage): Promise<ExportOutcome> {
    const out = await this.track(runner.handle(msg));
    this.report(msg.inventory, out);
    if (out.outcome === 'retained') this.states.delete(inventoryKey(msg.inventory));
    if (out.outcome === 'exported' || out.outcome === 'unchanged') {
      this.states.set(inventoryKey(msg.inventory), {
        generation: msg.generation,
        checksum: out.checksum,
        lastExportMs: Date.now(),
      });
    }
    // a parked generation this one supersedes must never be replayed over it
    const parked = this.parked.get(inventoryKey(msg.inventory));
    if (out.outcome !== 'failed' && parked && parked.exportGeneration <= msg.exportGeneration)
      this.parked.delete(inventoryKey(msg.inventory));
    return out;
  }

  /**
   * The parked messages, removed from this host: a spec change replaces the host, and the new one
   * ({@link adoptParked}) exports them once it connects — the spec change may be the fix.
   */
  takeParked(): SnapshotMessage[] {
    const out = [...this.parked.values()];
    this.parked.clear();
    return out;
  }

  /** Take over the parked messages of the host this one replaces (before {@link apply}). */
  adoptParked(msgs: readonly SnapshotMessage[]): void {
    for (const m of msgs) this.park(m);
  }

  private park(msg: SnapshotMessage): void {
    const key = inventoryKey(msg.inventory);
    const prev = this.parked.get(key);
    if (!prev || prev.exportGeneration <= msg.exportGeneration) this.parked.set(key, msg);
  }

  /**
   * Export what was parked after terminal failures, now that a rebuild connected.
   * A message of an inventory no longer bound is dropped; one that fails again is parked again
   * (the next rebuild, spec change or newer generation of the inventory converges).
   */
  private async exportParked(runner: SinkRunner): Promise<void> {
    const parked = [...this.parked.values()];
    this.parked.clear();
    for (const msg of parked) {
      const key = inventoryKey(msg.inventory);
      if (!this.bindings.some((b) => inventoryKey(b.inventory) === key)) continue;
      this.log().info(
        { sink: this.key, inventory: key, generation: msg.exportGeneration },
        'exporting parked snapshot',
      );
      const out = await this.deliver(runner, msg);
      if (out.outcome === 'failed') this.park(msg);
    }
  }

  private report(
    inventory: InventoryRef,
    out: ExportOutcome,
    err?: { errorClass: 'transient' | 'terminal'; reason: string; message: string },
  ): void {
    const e =
      err ??
      (out.error
        ? {
            errorClass: out.error.errorClass,
            reason: out.error.reason ?? out.error.code,
            message: out.error.message,
          }
        : undefined);
    const retained =
      out.outcome === 'retained'
        ? {
            reason: 'InventoryDeleted',
            message: `the inventory is being deleted; this ${this.compiled.type} sink keeps its history and did not apply the final empty export ${out.exportGeneration}`,
          }
        : undefined;
    const r: SinkStatusReport = {
      schemaVersion: BUS_SCHEMA_VERSION,
      cluster: this.ctx.cluster,
      inventory,
      sink: this.compiled.ref,
      sinkType: this.compiled.type,
      exportGeneration: out.exportGeneration,
      checksum: out.checksum,
      itemCount: out.itemCount,
      outcome: out.outcome,
      ...(e ? { errorClass: e.errorClass, reason: e.reason, message: redactSecrets(e.message) } : {}),
      ...(retained ?? {}),
      durationMs: out.durationMs,
      bytes: out.bytes,
      at: formatRfc3339Nano(new Date()),
    };
    publishJson(this.ctx.bus, this.ctx.names.subject(subjects.status('sink', this.ctx.cluster)), r, {
      attempts: 2,
    }).catch((x: unknown) =>
      this.log().debug({ err: redactSecrets(String(x)) }, 'sink status report not published'),
    );
  }

  /** The re-send cadence (SEED-SPEC §6.2 via `exportDecision`): re-assert identical state per binding interval. */
  private schedule(): void {
    if (this.timer) clearInterval(this.timer);
    const intervals = this.bindings.map((b) => b.binding.exportMinIntervalMs).filter((ms) => ms > 0);
    if (intervals.length === 0) return;
    const tick = Math.max(1000, Math.min(...intervals, 30_000));
    this.timer = setInterval(() => void this.reassertDue(), tick);
    this.timer.unref();
  }

  /** Count `p` as running on the current backend until it settles. */
  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p)).catch(() => {});
    return p;
  }

  private async reassertDue(): Promise<void> {
    const runner = this.runner;
    if (!runner || this.stopped) return;
    for (const s of runner.seen()) {
      if (s.cluster !== this.ctx.cluster) continue;
      const b = this.bindings.find((x) => inventoryKey(x.inventory) === inventoryKey(s.inventory));
      const state = this.states.get(inventoryKey(s.inventory));
      if (!b || !state) continue;
      const d = exportDecision(
        state,
        state.checksum,
        state.generation,
        b.binding.exportMinIntervalMs,
        Date.now(),
      );
      if (d.action !== 'export' || d.reason !== 'resend') continue;
      const out = await this.track(runner.reassert(s.cluster, s.inventory));
      if (!out) continue;
      if (out.outcome !== 'failed')
        this.states.set(inventoryKey(s.inventory), { ...state, lastExportMs: Date.now() });
      if (out.action !== 'skip') this.report(s.inventory, out);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.unwatch?.();
    await this.consumer?.stop();
    this.unobserve?.();
    await this.sink?.close().catch(() => {});
  }
}
