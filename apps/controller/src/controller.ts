import { errorClassOf, inventoryKey, redactSecrets, type InventoryRef } from '@kollect/contracts';
import {
  JsonKv,
  PLAN_KEY,
  PayloadTooLarge,
  encodePlan,
  getPlan,
  putEncodedPlan,
  type Bus,
  type BusNames,
  type EncodedPlan,
} from '@kollect/bus';
import { FINALIZERS, KIND_DEFINITIONS, KINDS, type KollectKind } from '@kollect/crd-types';
import {
  Discovery,
  GvkNotServed,
  KubeConflict,
  KubeNotFound,
  LeaderElector,
  ListWatch,
  type KubeClient,
  type KubeObject,
  type ListWatchEvent,
} from '@kollect/kube';
import type { KollectMetrics, Logger } from '@kollect/observability';
import {
  admissionValidator,
  buildStatus,
  cleanupProgress,
  compilePlan,
  inventoryStatusFrom,
  memoizeValidator,
  oversizedByGvr,
  PLAN_SCHEMA_VERSION,
  sinkStatesFromStatus,
  statusChanged,
  statusMergePatch,
  subjectKey,
  targetStatusFrom,
  transitionEvents,
  unpublishedChanges,
  withPlanNotPublished,
  type CompileResult,
  type CompiledPlan,
  type DesiredStatus,
  type DiscoveredKind,
  type Gvk,
  type KollectObjects,
  type NamespaceInfo,
} from '@kollect/plan';
import type { ControllerConfig } from './config.js';
import { emitEvent, kollectGvr, patchStatus, setFinalizers } from './kube-writes.js';
import { readReports, RuntimeState, type ReportReader, type ReportSource } from './reports.js';
import { ObjectStore, type CachedKind, type ChangeNotice } from './store.js';

/** Everything the controller talks to; built by `main.ts` (or a test). */
export interface ControllerDeps {
  config: ControllerConfig;
  kube: KubeClient;
  bus: Bus;
  names: BusNames;
  log: Logger;
  metrics?: KollectMetrics;
  /** Leadership changes and plan publications (metrics, tests). */
  onLeadership?: (leading: boolean) => void;
  onPlanPublished?: (plan: CompiledPlan) => void;
}

/** SEED-SPEC §9.1 classes of the condition reasons (forbidden: RBAC/scope; transient: retried). */
export function errorClassOfReason(reason: string): 'transient' | 'terminal' | 'forbidden' {
  if (/Forbidden|Denied/.test(reason)) return 'forbidden';
  if (
    reason === 'Progressing' ||
    reason === 'ExportFailed' ||
    reason === 'SinkUnreachable' ||
    reason === 'AccessCheckFailed'
  )
    return 'transient';
  return 'terminal';
}

/** Kinds the controller watches (connection tests are handled elsewhere). */
const WATCHED: readonly KollectKind[] = KINDS.filter((k) => k !== 'KollectConnectionTest');
const FINALIZER_OF: Partial<Record<KollectKind, string>> = {
  KollectTarget: FINALIZERS.target,
  KollectClusterTarget: FINALIZERS.clusterTarget,
  KollectInventory: FINALIZERS.inventory,
  KollectClusterInventory: FINALIZERS.clusterInventory,
};
const NAMESPACE_GVR = { group: '', version: 'v1', resource: 'namespaces' };
const CONTROLLER = 'controller';
/** A plan above this share of the KV value limit is logged as approaching it. */
const PLAN_SIZE_WARN_RATIO = 0.8;

/** A compiled plan that could not be published because it does not fit one KV value. */
interface BlockedPlan {
  /** Status message for the CRs whose change is not running. */
  message: string;
  /** `subjectKey`s of those CRs (see `unpublishedChanges`). */
  pending: Set<string>;
  storedBytes: number;
}

interface WatchHandle {
  id: string;
  kind: CachedKind;
  lw: ListWatch;
}

/**
 * The controller service: caches the Kollect CRs and Namespaces (list+watch), and — while it
 * holds the Lease — compiles them into the plan, publishes it to KV `kollect_plan`, manages the
 * cleanup finalizers, and writes CR status (compile-time conditions merged with worker reports)
 * with Warning events on transitions. Every replica keeps its cache and report memory warm; only
 * the leader writes anything.
 */
export class Controller {
  readonly #d: ControllerDeps;
  readonly #log: Logger;
  readonly #store: ObjectStore;
  readonly #runtime: RuntimeState;
  readonly #discovery: Discovery;
  readonly #validator = memoizeValidator(admissionValidator);
  readonly #planKey: string;
  #planKv: JsonKv<unknown> | undefined;
  #watches: WatchHandle[] = [];
  #reports: ReportReader | undefined;
  #elector: LeaderElector | undefined;
  #leading = false;
  #term: AbortController | undefined;
  #published: CompiledPlan | undefined;
  #publishedLoaded = false;
  #last: CompileResult | undefined;
  #compileDirty = true;
  #statusDirty: Set<string> | 'all' = 'all';
  #seeded = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #timerDue = 0;
  #resync: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #failures = 0;
  #stopped = false;
  /** Set while the current compile result cannot be published (too large); cleared by a publication. */
  #blocked: BlockedPlan | undefined;
  #planSizeWarned = false;
  /** GVRs with a non-zero `kollect_objects_oversized` sample. */
  #oversizedGvrs = new Set<string>();

  constructor(deps: ControllerDeps) {
    this.#d = deps;
    this.#log = deps.log;
    // One plan per topology (`PLAN_KEY`), as the data-plane services read it: each cluster's pipeline
    // has its own bus topology (or prefix), so the cluster is not part of the key.
    this.#planKey = PLAN_KEY;
    this.#store = new ObjectStore((n) => this.#onStoreChange(n));
    this.#runtime = new RuntimeState((k) => this.#last?.targetBases.get(k)?.fingerprint);
    this.#discovery = new Discovery(deps.kube);
  }

  /** True while this replica holds the Lease (and acts). */
  get leading(): boolean {
    return this.#leading;
  }

  /** The plan this replica last published or loaded (leader only). */
  get plan(): CompiledPlan | undefined {
    return this.#published;
  }

  /** The identity used in the Lease and in events. */
  get identity(): string {
    return this.#d.config.identity;
  }

  /** Every watch has completed its first list (the cache is complete). */
  get synced(): boolean {
    return this.#watches.length > 0 && this.#watches.every((w) => w.lw.synced);
  }

  async start(): Promise<void> {
    this.#planKv = await JsonKv.open(this.#d.bus, this.#d.names.buckets.plan);
    this.#startWatches();
    this.#reports = readReports(
      this.#d.bus,
      this.#d.names,
      this.#d.config.settings.cluster,
      (source, body) => this.#onReport(source, body),
      this.#log,
    );
    this.#resync = setInterval(() => {
      this.#compileDirty = true;
      this.#statusDirty = 'all';
      this.#kick(0);
    }, this.#d.config.resyncIntervalMs);
    this.#resync.unref();
    const c = this.#d.config;
    if (!c.leaderElection) {
      this.#startLeading();
      return;
    }
    // The elector counts in whole seconds (client-go); the environment allows finer durations.
    const seconds = (ms: number): number => Math.max(1, Math.round(ms / 1000));
    this.#elector = new LeaderElector(this.#d.kube, {
      namespace: c.lease.namespace,
      name: c.lease.name,
      identity: c.identity,
      leaseDurationSeconds: seconds(c.lease.durationMs),
      renewDeadlineSeconds: seconds(c.lease.renewDeadlineMs),
      retryPeriodSeconds: seconds(c.lease.retryPeriodMs),
      onStartedLeading: () => this.#startLeading(),
      onStoppedLeading: () => this.#stopLeading(),
      onNewLeader: (id) => this.#log.info({ leader: id }, 'observed leader'),
      onError: (err) => this.#log.warn({ err: redactSecrets(String(err)) }, 'leader election attempt failed'),
    });
    this.#elector.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#resync) clearInterval(this.#resync);
    if (this.#timer) clearTimeout(this.#timer);
    await this.#elector?.stop();
    this.#stopLeading();
    await this.#running?.catch(() => undefined);
    await Promise.all(this.#watches.map((w) => w.lw.stop()));
    await this.#reports?.stop();
  }

  // ---- cache ---------------------------------------------------------------------------------

  #startWatches(): void {
    const s = this.#d.config.settings;
    const bounded = s.watchNamespaces.length > 0;
    const add = (
      kind: CachedKind,
      gvr: { group: string; version: string; resource: string },
      namespace?: string,
      fieldSelector?: string,
    ): void => {
      const id = `${kind}@${namespace ?? '*'}${fieldSelector ? `#${fieldSelector}` : ''}`;
      const lw = new ListWatch(
        this.#d.kube,
        {
          upsert: (obj) => this.#store.upsert(id, kind, obj),
          delete: (obj) => this.#store.delete(id, kind, obj),
          synced: (info) => {
            this.#store.synced(id, kind, info.uids);
            if (this.synced) this.#kick(0);
          },
        },
        {
          gvr,
          ...(namespace ? { namespace } : {}),
          ...(fieldSelector ? { fieldSelector } : {}),
          onEvent: (e) => this.#onWatchEvent(e),
          // Team installs may not read Namespaces at all: give up quietly (labels count as empty).
          ...(kind === 'Namespace' && bounded ? { maxConsecutiveFailures: 3 } : {}),
        },
      );
      this.#watches.push({ id, kind, lw });
    };
    for (const kind of WATCHED) {
      const def = KIND_DEFINITIONS[kind];
      if (def.scope === 'Cluster') {
        if (!s.tenantMode) add(kind, kollectGvr(kind));
      } else if (bounded) {
        for (const ns of s.watchNamespaces) add(kind, kollectGvr(kind), ns);
      } else {
        add(kind, kollectGvr(kind));
      }
    }
    if (bounded)
      for (const ns of s.watchNamespaces) add('Namespace', NAMESPACE_GVR, undefined, `metadata.name=${ns}`);
    else add('Namespace', NAMESPACE_GVR);
    for (const w of this.#watches) w.lw.start();
  }

  #onWatchEvent(e: ListWatchEvent): void {
    if (e.error)
      this.#log.warn(
        { gvr: e.gvr, namespace: e.namespace, type: e.type, err: e.error.message, retryInMs: e.retryInMs },
        'watch problem',
      );
  }

  #onStoreChange(n: ChangeNotice): void {
    if (!n.compile) return;
    this.#compileDirty = true;
    this.#kick(this.#d.config.compileDebounceMs);
  }

  #onReport(source: ReportSource, body: unknown): void {
    const effect = this.#runtime.apply(source, body);
    if (effect.kind === 'ignored') {
      this.#log.debug({ source, why: effect.why }, 'status report ignored');
      return;
    }
    if (effect.kind === 'watch') {
      this.#statusDirty = 'all';
      this.#updateOversizedGauge();
    } else if (this.#statusDirty !== 'all') this.#statusDirty.add(effect.key);
    this.#kick(this.#d.config.statusDebounceMs);
  }

  // ---- leadership ----------------------------------------------------------------------------

  #startLeading(): void {
    if (this.#stopped || this.#leading) return;
    this.#log.info({ identity: this.identity }, 'leading: compiling and writing');
    this.#term = new AbortController();
    this.#leading = true;
    this.#publishedLoaded = false;
    this.#compileDirty = true;
    this.#statusDirty = 'all';
    this.#d.onLeadership?.(true);
    this.#kick(0);
  }

  #stopLeading(): void {
    if (!this.#leading) return;
    this.#log.info({ identity: this.identity }, 'stopped leading: no more writes');
    this.#leading = false;
    this.#term?.abort(new Error('leadership lost'));
    this.#d.onLeadership?.(false);
  }

  // ---- work loop -----------------------------------------------------------------------------

  /** Run the work loop in `delayMs` (an earlier request wins). */
  #kick(delayMs: number): void {
    if (this.#stopped) return;
    const due = Date.now() + delayMs;
    if (this.#timer && this.#timerDue <= due) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#loop();
    }, delayMs);
  }

  async #loop(): Promise<void> {
    if (this.#running) {
      // One pass at a time; come back when this one is done.
      await this.#running.catch(() => undefined);
      this.#kick(0);
      return;
    }
    this.#running = this.#pass().finally(() => {
      this.#running = undefined;
    });
    await this.#running;
  }

  async #pass(): Promise<void> {
    if (!this.#leading || !this.synced || !this.#term) return;
    const signal = this.#term.signal;
    const metrics = this.#d.metrics;
    const end = metrics?.reconcileDuration.startTimer({ controller: CONTROLLER });
    metrics?.workqueueDepth.set({ controller: CONTROLLER }, 1);
    try {
      if (!this.#publishedLoaded) await this.#loadPublished();
      if (this.#compileDirty || !this.#last) {
        this.#compileDirty = false;
        try {
          await this.#compileAndPublish(signal);
        } catch (err) {
          this.#compileDirty = true;
          throw err;
        }
        await this.#syncFinalizers(signal);
        this.#statusDirty = 'all';
      }
      const keys = this.#statusDirty;
      this.#statusDirty = new Set();
      const failed = await this.#syncStatus(keys, signal);
      if (failed.length) {
        this.#markStatusDirty(failed);
        throw new Error(`status of ${failed.length} object(s) not written`);
      }
      // Finalizers of deleting inventories wait on reports, not on CR changes: re-check them.
      if (this.#last?.plan.inventories.some((i) => i.deleting)) await this.#syncFinalizers(signal);
      this.#failures = 0;
      metrics?.reconcileTotal.inc({ controller: CONTROLLER, result: 'success' });
    } catch (err) {
      if (signal.aborted) return;
      this.#failures++;
      metrics?.reconcileTotal.inc({ controller: CONTROLLER, result: 'failure' });
      metrics?.reconcileErrors.inc({ kind: 'Plan', error_class: errorClassOf(err) });
      const delay = Math.min(30_000, 500 * 2 ** Math.min(6, this.#failures - 1));
      this.#log.warn(
        { err: redactSecrets(err instanceof Error ? err.message : String(err)), retryInMs: delay },
        'reconcile failed; retrying',
      );
      this.#kick(delay);
    } finally {
      end?.();
      metrics?.workqueueDepth.set({ controller: CONTROLLER }, 0);
    }
  }

  #markStatusDirty(keys: readonly string[]): void {
    const dirty = this.#statusDirty as Set<string> | 'all';
    if (dirty !== 'all') for (const k of keys) dirty.add(k);
  }

  /** `kollect_objects_oversized` per GVR, from the watcher's current reports. */
  #updateOversizedGauge(): void {
    const gauge = this.#d.metrics?.objectsOversized;
    if (!gauge) return;
    const now = oversizedByGvr(this.#runtime.watches);
    for (const g of this.#oversizedGvrs) {
      if (now.has(g)) continue;
      const [group = '', version = '', resource = ''] = g.split('/');
      gauge.set({ group, version, resource }, 0);
    }
    this.#oversizedGvrs = new Set(now.keys());
    for (const [g, objects] of now) {
      const [group = '', version = '', resource = ''] = g.split('/');
      gauge.set({ group, version, resource }, objects.length);
    }
  }

  /** A new leader continues the plan generation of the previous one. */
  async #loadPublished(): Promise<void> {
    const e = await getPlan(this.#planKv!, this.#planKey);
    const v = e?.value as CompiledPlan | undefined;
    this.#published = v && v.schemaVersion === PLAN_SCHEMA_VERSION ? v : undefined;
    this.#publishedLoaded = true;
  }

  #objects(): KollectObjects {
    const l = <K extends KollectKind>(k: K) => this.#store.list(k) as never[];
    return {
      profiles: l('KollectProfile'),
      targets: l('KollectTarget'),
      clusterTargets: l('KollectClusterTarget'),
      inventories: l('KollectInventory'),
      clusterInventories: l('KollectClusterInventory'),
      snapshotSinks: l('KollectSnapshotSink'),
      databaseSinks: l('KollectDatabaseSink'),
      eventSinks: l('KollectEventSink'),
      scopes: l('KollectScope'),
      clusterScopes: l('KollectClusterScope'),
    };
  }

  #namespaces(): NamespaceInfo[] {
    return this.#store.list('Namespace').map((n) => ({
      name: n.metadata?.name ?? '',
      labels: n.metadata?.labels ?? {},
      annotations: n.metadata?.annotations ?? {},
    }));
  }

  /**
   * Resolve every GVK the CRs name through discovery before the (synchronous, pure) compile. A
   * kind that is not served resolves to undefined (targets degrade); any other discovery error
   * fails the pass, so an apiserver hiccup never degrades every target.
   */
  async #discover(
    objects: KollectObjects,
    signal: AbortSignal,
  ): Promise<(gvk: Gvk) => DiscoveredKind | undefined> {
    const keyOf = (g: Gvk): string => `${g.group}/${g.version}/${g.kind}`;
    const wanted = new Map<string, Gvk>();
    const add = (g: { group?: string | undefined; version?: string; kind?: string } | undefined): void => {
      if (!g?.version || !g.kind) return;
      const gvk = { group: g.group ?? '', version: g.version, kind: g.kind };
      wanted.set(keyOf(gvk), gvk);
    };
    for (const p of objects.profiles) add(p.spec?.targetGVK);
    for (const t of [...objects.targets, ...objects.clusterTargets])
      for (const r of t.spec?.resourceRules ?? []) add(r.gvk);
    const found = new Map<string, DiscoveredKind | undefined>();
    for (const [k, gvk] of wanted) {
      try {
        const r = await this.#discovery.resolve(gvk, signal);
        found.set(k, { gvr: r.gvr, namespaced: r.namespaced });
      } catch (err) {
        if (!GvkNotServed.is(err)) throw err;
        found.set(k, undefined);
      }
    }
    return (gvk) => found.get(keyOf(gvk));
  }

  async #compileAndPublish(signal: AbortSignal): Promise<void> {
    const objects = this.#objects();
    const discovery = await this.#discover(objects, signal);
    const result = compilePlan(
      {
        objects,
        namespaces: this.#namespaces(),
        discovery,
        settings: this.#d.config.settings,
        previous: this.#published,
        now: new Date(),
      },
      { validator: this.#validator },
    );
    if (result.changed || this.#published === undefined) {
      if (signal.aborted || !this.#leading) return;
      // `compilePlan` always yields the current schema; the KV value must fit one NATS message.
      const encoded = encodePlan(result.plan);
      const limit = this.#planKv!.valueLimit(this.#planKey);
      const m = this.#d.metrics;
      m?.planBytes.set({ encoding: 'json' }, encoded.jsonBytes);
      m?.planBytes.set({ encoding: 'stored' }, encoded.data.length);
      m?.planMaxBytes.set(limit);
      let published = false;
      if (encoded.data.length <= limit) {
        try {
          await putEncodedPlan(this.#planKv!, this.#planKey, encoded);
          published = true;
        } catch (err) {
          // The server's limit may be lower than the connection announced (a cluster peer).
          if (!PayloadTooLarge.is(err)) {
            m?.planPublishFailures.inc({ reason: 'error' });
            throw err;
          }
        }
      }
      if (!published) {
        this.#planTooLarge(result, encoded, limit);
      } else {
        if (this.#blocked)
          this.#log.info({ generation: result.plan.generation }, 'plan fits again; publishing resumed');
        this.#blocked = undefined;
        this.#published = result.plan;
        this.#log.info(
          {
            generation: result.plan.generation,
            targets: result.plan.targets.length,
            inventories: result.plan.inventories.length,
            watches: result.plan.watches.length,
            bytes: encoded.data.length,
            jsonBytes: encoded.jsonBytes,
          },
          'plan published',
        );
        const near = encoded.data.length > limit * PLAN_SIZE_WARN_RATIO;
        if (near && !this.#planSizeWarned)
          this.#log.warn(
            { bytes: encoded.data.length, limit },
            'the plan is approaching the largest KV value NATS accepts (max_payload); raise max_payload before it is reached (docs/operations.md, "Plan size")',
          );
        this.#planSizeWarned = near;
        this.#d.onPlanPublished?.(result.plan);
      }
    }
    this.#last = result;
    const inventories = new Set(result.inventoryBases.keys());
    this.#runtime.prune(inventories, new Set(result.targetBases.keys()), this.#published?.watches);
    this.#updateOversizedGauge();
    for (const k of this.#seeded) if (!inventories.has(k)) this.#seeded.delete(k);
  }

  /**
   * The compiled plan does not fit one KV value: nothing is written (never a truncated plan), the
   * data plane keeps running the published plan, and the CRs whose change is therefore not running
   * get `Degraded/PlanTooLarge` (see `#desired`) until a plan fits again. Logged once per size.
   */
  #planTooLarge(result: CompileResult, encoded: EncodedPlan, limit: number): void {
    this.#d.metrics?.planPublishFailures.inc({ reason: 'too_large' });
    const generation = this.#published?.generation;
    const message =
      `the compiled plan is ${encoded.data.length} bytes (${encoded.jsonBytes} bytes of JSON${encoded.compressed ? ', gzip-compressed' : ''}), ` +
      `over the ${limit}-byte limit of one KV value (the NATS server's max_payload less headers), so this change is not running` +
      `${generation !== undefined ? `: the data plane keeps plan generation ${generation}` : ': no plan is published yet'}; ` +
      'raise max_payload on the NATS server (docs/operations.md, "Plan size") or remove Kollect objects';
    if (this.#blocked?.storedBytes !== encoded.data.length) {
      this.#log.error(
        {
          bytes: encoded.data.length,
          jsonBytes: encoded.jsonBytes,
          limit,
          publishedGeneration: generation,
          targets: result.plan.targets.length,
          inventories: result.plan.inventories.length,
        },
        'plan too large to publish; keeping the previous plan',
      );
    }
    this.#blocked = {
      message,
      pending: unpublishedChanges(this.#published, result.plan),
      storedBytes: encoded.data.length,
    };
  }

  // ---- finalizers ----------------------------------------------------------------------------

  /**
   * Finalizers: added to every target and inventory; removed from a deleting target once a plan
   * without it is published (the aggregator then drops its rows), and from a deleting inventory
   * once its cleanup is done (`cleanupProgress`: the relational sinks applied the final empty
   * export). A terminal cleanup failure keeps the finalizer (SEED-SPEC §6.4).
   */
  async #syncFinalizers(signal: AbortSignal): Promise<void> {
    for (const [kind, fin] of Object.entries(FINALIZER_OF) as [KollectKind, string][]) {
      for (const obj of this.#store.list(kind)) {
        if (signal.aborted || !this.#leading) return;
        const fins = (obj.metadata?.['finalizers'] as string[] | undefined) ?? [];
        const deleting = !!obj.metadata?.['deletionTimestamp'];
        const has = fins.includes(fin);
        let next: string[] | undefined;
        if (!deleting && !has) next = [...fins, fin];
        // While the plan cannot be published, the running plan may still hold the deleted object.
        else if (deleting && has && !this.#blocked && this.#cleanupDone(kind, obj))
          next = fins.filter((f) => f !== fin);
        if (!next) continue;
        try {
          const updated = await setFinalizers(this.#d.kube, kind, obj, next, signal);
          this.#store.upsert(undefined, kind, updated);
          this.#log.info(
            {
              kind,
              namespace: obj.metadata?.namespace,
              name: obj.metadata?.name,
              finalizer: fin,
              action: next.includes(fin) ? 'added' : 'removed',
            },
            'finalizer',
          );
        } catch (err) {
          // A conflict or a vanished object resolves itself with the next watch event.
          if (KubeConflict.is(err) || KubeNotFound.is(err)) continue;
          throw err;
        }
      }
    }
  }

  #cleanupDone(kind: KollectKind, obj: KubeObject): boolean {
    if (kind === 'KollectTarget' || kind === 'KollectClusterTarget') return true;
    const ref: InventoryRef = {
      kind: kind as InventoryRef['kind'],
      namespace: kind === 'KollectInventory' ? (obj.metadata?.namespace ?? '') : '',
      name: obj.metadata?.name ?? '',
    };
    const key = inventoryKey(ref);
    const basis = this.#last?.inventoryBases.get(key);
    if (!basis) return true;
    return (
      cleanupProgress(basis, this.#runtime.sinks.get(key) ?? new Map(), this.#runtime.aggregator.get(key))
        .state === 'done'
    );
  }

  // ---- status --------------------------------------------------------------------------------

  #desired(d: DesiredStatus, obj: KubeObject): DesiredStatus {
    const desired = this.#runtimeStatus(d, obj);
    const blocked = this.#blocked;
    return blocked?.pending.has(subjectKey(d.subject))
      ? withPlanNotPublished(desired, blocked.message)
      : desired;
  }

  #runtimeStatus(d: DesiredStatus, obj: KubeObject): DesiredStatus {
    const key = subjectKey(d.subject);
    const last = this.#last!;
    if (d.subject.kind === 'KollectInventory' || d.subject.kind === 'KollectClusterInventory') {
      const basis = last.inventoryBases.get(key);
      if (!basis) return d;
      if (!this.#seeded.has(key)) {
        // A fresh leader remembers the last exports from the stored status (reports may have aged out).
        this.#seeded.add(key);
        const status = obj['status'] as Record<string, unknown> | undefined;
        const seeded = sinkStatesFromStatus(status, basis.bindings);
        const current = this.#runtime.sinks.get(key) ?? new Map();
        for (const [k, v] of seeded) if (!current.has(k)) current.set(k, v);
        this.#runtime.sinks.set(key, current);
      }
      return inventoryStatusFrom(
        basis,
        this.#runtime.sinks.get(key) ?? new Map(),
        this.#runtime.aggregator.get(key) ?? this.#aggregatorFromStatus(basis.subject, obj),
      );
    }
    if (d.subject.kind === 'KollectTarget' || d.subject.kind === 'KollectClusterTarget') {
      const basis = last.targetBases.get(key);
      if (!basis) return d;
      return targetStatusFrom(basis, this.#runtime.failuresOf(key, basis.fingerprint), this.#runtime.watches);
    }
    return d;
  }

  /** Keep the last known counts of an inventory until its aggregator reports again. */
  #aggregatorFromStatus(
    subject: DesiredStatus['subject'],
    obj: KubeObject,
  ): Parameters<typeof inventoryStatusFrom>[2] {
    const s = obj['status'] as { itemCount?: number; exportGeneration?: number } | undefined;
    if (s?.itemCount === undefined && s?.exportGeneration === undefined) return undefined;
    return {
      schemaVersion: 'kollect.dev/bus/v1',
      cluster: this.#d.config.settings.cluster,
      inventory: {
        kind: subject.kind as InventoryRef['kind'],
        namespace: subject.namespace,
        name: subject.name,
      },
      planGeneration: 0,
      itemCount: s.itemCount ?? 0,
      exportGeneration: s.exportGeneration ?? 0,
      checksum: '',
      gateOpen: true,
      at: '',
    };
  }

  /** Write every status that changed; returns the keys that failed (retried later). */
  async #syncStatus(keys: Set<string> | 'all', signal: AbortSignal): Promise<string[]> {
    const last = this.#last;
    if (!last) return [];
    const failed: string[] = [];
    for (const base of last.statuses) {
      if (signal.aborted || !this.#leading) break;
      const key = subjectKey(base.subject);
      if (keys !== 'all' && !keys.has(key)) continue;
      const kind = base.subject.kind;
      const obj = this.#store.get<KubeObject>(kind, base.subject.namespace, base.subject.name);
      if (!obj || obj.metadata?.uid !== base.subject.uid) continue;
      const desired = this.#desired(base, obj);
      const current = obj['status'] as Record<string, unknown> | undefined;
      const now = new Date();
      const next = buildStatus(current, desired, now);
      if (!statusChanged(current, next)) continue;
      try {
        const updated = await patchStatus(this.#d.kube, kind, obj, statusMergePatch(current, next), signal);
        this.#store.upsert(undefined, kind, updated);
      } catch (err) {
        if (KubeNotFound.is(err) || signal.aborted) continue;
        this.#d.metrics?.reconcileErrors.inc({ kind, error_class: errorClassOf(err) });
        this.#log.warn(
          {
            kind,
            namespace: base.subject.namespace,
            name: base.subject.name,
            err: redactSecrets(String(err)),
          },
          'status write failed',
        );
        failed.push(key);
        continue;
      }
      for (const ev of transitionEvents(current, next)) {
        // The seed's error counter, once per transition into a problem (bad input included:
        // a missing GVK, a CEL failure, a denied scope), by its error class.
        if (ev.type === 'Warning')
          this.#d.metrics?.reconcileErrors.inc({ kind, error_class: errorClassOfReason(ev.reason) });
        try {
          await emitEvent(this.#d.kube, kind, obj, ev, this.identity, signal);
        } catch (err) {
          this.#log.debug(
            { kind, name: base.subject.name, reason: ev.reason, err: redactSecrets(String(err)) },
            'event not recorded',
          );
        }
        this.#log.info(
          {
            kind,
            namespace: base.subject.namespace,
            name: base.subject.name,
            type: ev.type,
            reason: ev.reason,
          },
          ev.note,
        );
      }
    }
    return failed;
  }
}
