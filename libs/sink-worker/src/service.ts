import {
  busNames,
  connectBus,
  ensureTopology,
  JsonKv,
  PLAN_KEY,
  watchPlan,
  type Bus,
  type BusNames,
  type PlanWatch,
} from '@kollect/bus';
import { inventoryKey, sinkKey, type SnapshotMessage } from '@kollect/contracts';
import { KubeClient } from '@kollect/kube';
import { kubeSource, natsConnection, type KollectMetrics, type Logger } from '@kollect/observability';
import { PLAN_SCHEMA_VERSION, type CompiledPlan, type CompiledSink } from '@kollect/plan';
import { MaterializedStore } from '@kollect/sink';
import type { SinkWorkerConfig } from './config.js';
import type { WorkerFamily } from './family.js';
import { BusFullSnapshotSource } from './full-source.js';
import { SinkHost, type HostBinding, type HostContext } from './host.js';
import { SinkProber } from './prober.js';
import { KubeSecretWatcher } from './secrets.js';

export interface SinkWorkerOptions {
  /** Which family this worker serves (its backends and derived names), see {@link workerFamily}. */
  family: WorkerFamily;
  cfg: SinkWorkerConfig;
  log: Logger;
  metrics: KollectMetrics;
  /** Tests: an already built kube client. */
  kube?: KubeClient;
}

/** Identity of a host: a spec change (generation) or a new object (uid) rebuilds it. */
function hostIdentity(s: CompiledSink): string {
  return `${sinkKey(s.ref)}@${s.uid}/${s.generation}`;
}

/**
 * A sink worker of one family: follows the plan, runs one {@link SinkHost} per sink of its
 * family bound to at least one inventory, and (leader only) the {@link SinkProber} for
 * connection tests and previews. Any number of replicas: the hosts' durable consumers are shared.
 */
export class SinkWorkerService {
  readonly bus: Bus;
  readonly names: BusNames;
  private readonly hosts = new Map<string, SinkHost>();
  private readonly registry;
  private readonly ctx: HostContext;
  private planWatch: PlanWatch | undefined;
  private prober: SinkProber | undefined;
  private readonly stopCtl = new AbortController();
  private planned = false;
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    bus: Bus,
    names: BusNames,
    private readonly o: SinkWorkerOptions,
    private readonly kube: KubeClient,
    private readonly secrets: KubeSecretWatcher,
  ) {
    this.bus = bus;
    this.names = names;
    this.registry = o.family.registry;
    this.ctx = {
      bus,
      names,
      log: o.log,
      metrics: o.metrics,
      secrets,
      full: new BusFullSnapshotSource(bus, names),
      store: new MaterializedStore(o.cfg.maxMaterializedRows),
      workDir: o.cfg.workDir,
      allowPrivateEndpoints: o.cfg.allowPrivateEndpoints,
      maxDeliver: o.cfg.maxDeliver,
      ackWaitMs: o.cfg.ackWaitMs,
      cluster: '',
    };
  }

  static async start(o: SinkWorkerOptions): Promise<SinkWorkerService> {
    const { cfg } = o;
    const bus = await connectBus({
      ...natsConnection(cfg),
      name: `kollect-${o.family.service}-${cfg.holder}`,
      waitForServer: true,
    });
    const names = busNames(cfg.busPrefix);
    if (cfg.ensureTopology) await ensureTopology(bus.jsm, { names });
    const kube =
      o.kube ?? new KubeClient({ ...kubeSource(cfg.kube), userAgent: `kollect-${o.family.service}` });
    const svc = new SinkWorkerService(bus, names, o, kube, new KubeSecretWatcher(kube));
    const planKv = await JsonKv.open(bus, names.buckets.plan);
    svc.planWatch = watchPlan<CompiledPlan>(planKv, PLAN_KEY, (plan) => svc.onPlan(plan), {
      schemaVersion: PLAN_SCHEMA_VERSION,
      logger: o.log,
      signal: svc.stopCtl.signal,
      onInvalid: (err, revision) =>
        o.log.error({ revision, err: err.message }, 'plan rejected; keeping the previous one'),
    });
    if (cfg.prober) {
      svc.prober = new SinkProber({
        kube,
        secrets: svc.secrets,
        registry: svc.registry,
        family: o.family,
        log: o.log,
        metrics: o.metrics,
        workDir: cfg.workDir,
        allowPrivateEndpoints: cfg.allowPrivateEndpoints,
        holder: cfg.holder,
        lease: cfg.lease,
        watchNamespaces: cfg.watchNamespaces,
        cluster: () => svc.ctx.cluster,
      });
      svc.prober.start();
    }
    return svc;
  }

  /** True once a plan was applied. */
  ready(): boolean {
    return this.planned && !this.bus.nc.isClosed();
  }

  /**
   * Readiness of the sinks' snapshot consumers: throws (the /readyz body shows it) while the
   * durable of any sink cannot be bound — that sink then receives nothing.
   */
  checkConsumers(): true {
    const failed: string[] = [];
    for (const h of this.hosts.values()) {
      const err = h.consumerState()?.error;
      if (err) failed.push(`sink ${h.key}: ${err.message}`);
    }
    if (failed.length > 0) throw new Error(failed.join('; '));
    return true;
  }

  /** Hosts running now (tests, metrics). */
  hostKeys(): string[] {
    return [...this.hosts.keys()].sort();
  }

  private onPlan(plan: CompiledPlan): Promise<void> {
    this.queue = this.queue
      .then(() => this.applyPlan(plan))
      .catch((err: unknown) => this.o.log.error({ err: String(err) }, 'applying the plan failed'));
    return this.queue;
  }

  private async applyPlan(plan: CompiledPlan): Promise<void> {
    this.ctx.cluster = plan.settings.cluster;
    const bound = new Map<string, HostBinding[]>();
    for (const inv of plan.inventories) {
      for (const b of inv.bindings) {
        if (b.sink.family !== this.o.family.family) continue;
        const k = sinkKey(b.sink);
        bound.set(k, [...(bound.get(k) ?? []), { inventory: inv.ref, binding: b }]);
      }
    }
    const wanted = new Map<string, CompiledSink>();
    for (const s of plan.sinks) {
      if (s.ref.family !== this.o.family.family || !bound.has(sinkKey(s.ref))) continue;
      if (!this.registry.has(s.type)) {
        this.o.log.warn(
          { sink: sinkKey(s.ref), type: s.type },
          `no backend for this sink type in the ${this.o.family.service} worker`,
        );
        continue;
      }
      wanted.set(hostIdentity(s), s);
    }
    // Messages a replaced host could not export (terminal failure) go to its successor.
    const parked = new Map<string, SnapshotMessage[]>();
    for (const [id, host] of this.hosts) {
      if (!wanted.has(id)) {
        this.hosts.delete(id);
        await host.stop();
        parked.set(host.key, host.takeParked());
        this.o.log.info({ sink: host.key }, 'sink host stopped');
      }
    }
    for (const [id, s] of wanted) {
      let host = this.hosts.get(id);
      if (!host) {
        host = new SinkHost(s, this.registry.get(s.type), this.ctx);
        host.adoptParked(parked.get(host.key) ?? []);
        this.hosts.set(id, host);
      }
      const bindings = (bound.get(sinkKey(s.ref)) ?? []).sort((a, b) =>
        inventoryKey(a.inventory).localeCompare(inventoryKey(b.inventory)),
      );
      await host.apply(bindings);
    }
    this.planned = true;
    this.prober?.setPlan(plan);
  }

  async stop(): Promise<void> {
    this.stopCtl.abort();
    await this.prober?.stop();
    for (const h of this.hosts.values()) await h.stop();
    this.hosts.clear();
    await this.secrets.close();
    await this.bus.nc.drain().catch(() => {});
  }
}
