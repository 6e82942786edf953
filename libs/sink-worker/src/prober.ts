import { ANNOTATIONS, GROUP, VERSION } from '@kollect/crd-types';
import {
  KubeConflict,
  KubeNotFound,
  LeaderElector,
  ListWatch,
  type KubeClient,
  type ListWatchEvent,
} from '@kollect/kube';
import type { KollectMetrics, LeaseEnv, Logger } from '@kollect/observability';
import {
  mergeConditions,
  REASONS,
  type CompiledPlan,
  type CompiledSink,
  type Condition,
  type DesiredCondition,
  type Reason,
} from '@kollect/plan';
import {
  guardEndpoints,
  resolveCredentials,
  secretKey,
  secretNeeds,
  type ProbeResult,
  type SecretData,
  type SecretWatcher,
  type SinkRegistry,
} from '@kollect/sink';
import { redactSecrets } from '@kollect/contracts';
import type { WorkerFamily } from './family.js';

interface KubeObj {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    ownerReferences?: unknown[];
  };
  spec?: Record<string, unknown>;
  status?: {
    conditions?: Condition[];
    observedGeneration?: number;
    completed?: boolean;
    completedAt?: string;
    preview?: unknown;
  };
}

export interface ProberOptions {
  kube: KubeClient;
  secrets: SecretWatcher;
  registry: SinkRegistry;
  /** The family whose sinks and connection tests this prober serves. */
  family: WorkerFamily;
  log: Logger;
  metrics: KollectMetrics;
  workDir: string;
  allowPrivateEndpoints: boolean;
  holder: string;
  /** The leader Lease (only the holder probes): namespace, name and client-go timings. */
  lease: LeaseEnv;
  /**
   * The namespaces whose sinks and connection tests are watched (`KOLLECT_WATCH_NAMESPACES`, the
   * controller's cache boundary): one watch per namespace; empty = one cluster-wide watch.
   */
  watchNamespaces?: readonly string[];
  cluster: () => string;
}

const TESTS = { group: GROUP, version: VERSION, resource: 'kollectconnectiontests' };
const base = (r: typeof TESTS, ns: string, name: string) =>
  `/apis/${r.group}/${r.version}/namespaces/${encodeURIComponent(ns)}/${r.resource}/${encodeURIComponent(name)}`;
const MERGE = 'application/merge-patch+json';

/** The condition reason of a failed probe (an enum; free text goes to the message). */
function reasonOf(r: string | undefined): Reason {
  return r === 'SecretResolveFailed'
    ? REASONS.SecretResolveFailed
    : r === 'SinkNotFound'
      ? REASONS.SinkNotFound
      : REASONS.ConnectionTestFailed;
}

/** Preview details a backend may return, copied into `status.preview` (SEED-SPEC §9.5). */
const PREVIEW_DETAILS = ['objectPath', 'git', 'layout', 'postgres', 'mongodb', 'kafka'] as const;

/**
 * Connection tests and previews of the sinks of one family (SEED-SPEC §3.10, §9.3, §9.5), run by the
 * leader among the worker replicas. Decision (docs/sinks.md): the prober writes the sink's own
 * status conditions `ConnectionVerified` and `Degraded` and `status.preview` (the controller
 * owns only `TLSInsecure` there and reads `ConnectionVerified` when compiling), and the status of
 * `KollectConnectionTest` objects whose `<family>SinkRef` it serves — the same probe code, TLS
 * and Secret resolution as exports.
 */
export class SinkProber {
  private readonly elector: LeaderElector;
  private watches: ListWatch[] = [];
  /** Sink `ns/name` → the uid/generation/one-shot state last probed (once per generation). */
  private readonly probed = new Map<string, string>();
  /** Sink `ns/name` → the uid/generation whose preview is in its status (rendered once). */
  private readonly previewed = new Map<string, string>();
  /** Connection test uid → the generation probed (a stale event must not probe it twice). */
  private readonly testsProbed = new Map<string, number>();
  /** Connection test path → its pending TTL deletion. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** The newest plan (kept for future use: probing only bound sinks is not required by the seed). */
  plan: CompiledPlan | undefined;

  private readonly sinksGvr: typeof TESTS;

  constructor(private readonly o: ProberOptions) {
    this.sinksGvr = { group: GROUP, version: VERSION, resource: o.family.resource };
    this.elector = new LeaderElector(o.kube, {
      namespace: o.lease.namespace,
      name: o.lease.name,
      identity: o.holder,
      leaseDurationSeconds: o.lease.durationMs / 1000,
      renewDeadlineSeconds: o.lease.renewDeadlineMs / 1000,
      retryPeriodSeconds: o.lease.retryPeriodMs / 1000,
      onStartedLeading: () => this.lead(),
      onStoppedLeading: () => void this.follow(),
      onError: (err) => o.log.debug({ err: redactSecrets(String(err)) }, 'prober lease attempt failed'),
    });
  }

  start(): void {
    this.elector.start();
  }

  setPlan(plan: CompiledPlan): void {
    this.plan = plan;
  }

  private lead(): void {
    const namespaces = this.o.watchNamespaces ?? [];
    this.o.log.info({ namespaces: namespaces.length > 0 ? namespaces : undefined }, 'sink prober leading');
    this.probed.clear();
    this.previewed.clear();
    this.testsProbed.clear();
    // Bounded like the controller's CR cache: one watch per namespace, or one for all of them.
    const scopes: (string | undefined)[] = namespaces.length > 0 ? [...namespaces] : [undefined];
    for (const namespace of scopes) {
      const ns = namespace !== undefined ? { namespace } : {};
      this.watches.push(
        new ListWatch(
          this.o.kube,
          {
            upsert: (o) => this.onSink(o as unknown as KubeObj),
            delete: (o) => this.forgetSink(o as unknown as KubeObj),
            synced: () => {},
          },
          { gvr: this.sinksGvr, kind: this.o.family.kind, ...ns, onEvent: (e) => this.onWatchEvent(e) },
        ),
        new ListWatch(
          this.o.kube,
          {
            upsert: (o) => this.onTest(o as unknown as KubeObj),
            delete: (o) => this.forgetTest(o as unknown as KubeObj),
            synced: () => {},
          },
          { gvr: TESTS, kind: 'KollectConnectionTest', ...ns, onEvent: (e) => this.onWatchEvent(e) },
        ),
      );
    }
    for (const w of this.watches) w.start();
  }

  private onWatchEvent(e: ListWatchEvent): void {
    if (e.error)
      this.o.log.warn(
        { gvr: e.gvr, namespace: e.namespace, type: e.type, err: e.error.message, retryInMs: e.retryInMs },
        'prober watch problem',
      );
  }

  private async follow(): Promise<void> {
    const watches = this.watches;
    this.watches = [];
    await Promise.all(watches.map((w) => w.stop()));
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private forgetSink(o: KubeObj): void {
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    this.probed.delete(key);
    this.previewed.delete(key);
  }

  private forgetTest(o: KubeObj): void {
    this.testsProbed.delete(o.metadata.uid);
    const path = base(TESTS, o.metadata.namespace, o.metadata.name);
    const t = this.timers.get(path);
    if (t) clearTimeout(t);
    this.timers.delete(path);
  }

  async stop(): Promise<void> {
    await this.follow();
    await this.elector.stop();
  }

  private compiled(o: KubeObj): CompiledSink {
    return {
      ref: { family: this.o.family.family, namespace: o.metadata.namespace, name: o.metadata.name },
      uid: o.metadata.uid,
      generation: o.metadata.generation ?? 0,
      type: String(o.spec?.['type'] ?? ''),
      spec: o.spec ?? {},
    };
  }

  /** Probe with the same Secret resolution, SSRF guard and backend code as exports. */
  async probe(sink: CompiledSink): Promise<ProbeResult> {
    const t0 = Date.now();
    try {
      const factory = this.o.registry.get(sink.type);
      const secrets = new Map<string, SecretData | undefined>();
      for (const n of secretNeeds(sink))
        secrets.set(secretKey(n), await this.o.secrets.get(n.namespace, n.name));
      const credentials = resolveCredentials(sink, secrets);
      guardEndpoints(sink, { allowPrivateEndpoints: this.o.allowPrivateEndpoints });
      const s = factory.create({
        sink,
        cluster: (sink.spec['cluster'] as string) || this.o.cluster(),
        credentials,
        workDir: this.o.workDir,
        signal: AbortSignal.timeout(60_000),
        log: this.o.log,
        allowPrivateEndpoints: this.o.allowPrivateEndpoints,
      });
      try {
        return await s.probe();
      } finally {
        await s.close().catch(() => {});
      }
    } catch (err) {
      const e = err as { errorClass?: string; reason?: string; message?: string };
      return {
        ok: false,
        message: redactSecrets(e.message ?? String(err)),
        latencyMs: Date.now() - t0,
        errorClass: 'terminal',
        reason: e.reason === 'SecretResolveFailed' ? 'SecretResolveFailed' : 'ConnectionTestFailed',
      };
    }
  }

  private async onSink(o: KubeObj): Promise<void> {
    if (o.metadata.deletionTimestamp) return;
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    const ann = o.metadata.annotations ?? {};
    const oneShot = ann[ANNOTATIONS.testConnection] === 'true';
    const auto = o.spec?.['connectionTest'] !== false;
    const wantPreview = ann[ANNOTATIONS.preview] === 'true';
    const sink = this.compiled(o);
    const patch: { status: Record<string, unknown> } = { status: {} };
    const gen = o.metadata.generation ?? 0;
    const probeKey = `${o.metadata.uid}/${gen}/${oneShot}`;
    let probed: ProbeResult | undefined;
    if ((auto || oneShot) && this.probed.get(key) !== probeKey) {
      this.probed.set(key, probeKey);
      probed = await this.probe(sink);
      this.o.metrics.sinkConnectionTest.inc({ type: sink.type, result: probed.ok ? 'success' : 'failure' });
      const failReason = reasonOf(probed.reason);
      const desired: DesiredCondition[] = probed.ok
        ? [
            {
              type: 'ConnectionVerified',
              status: 'True',
              reason: REASONS.ConnectionOK,
              message: probed.message,
            },
            {
              type: 'Degraded',
              status: 'False',
              reason: REASONS.ConnectionOK,
              message: 'connection test passed',
            },
          ]
        : [
            { type: 'ConnectionVerified', status: 'False', reason: failReason, message: probed.message },
            { type: 'Degraded', status: 'True', reason: failReason, message: probed.message },
          ];
      patch.status['conditions'] = mergeConditions(o.status?.conditions, desired, [], gen, new Date());
      patch.status['observedGeneration'] = gen;
    }
    const previewKey = `${o.metadata.uid}/${gen}`;
    // Rendered once per generation: re-rendering on every status event would write a new
    // `renderedAt` and so trigger the next event, forever.
    if (wantPreview && (this.previewed.get(key) !== previewKey || !o.status?.preview)) {
      this.previewed.set(key, previewKey);
      try {
        const p = this.o.registry
          .get(sink.type)
          .preview(sink, (sink.spec['cluster'] as string) || this.o.cluster());
        const details: Record<string, unknown> = {};
        for (const k of PREVIEW_DETAILS) if (p.details[k] !== undefined) details[k] = p.details[k];
        patch.status['preview'] = {
          renderedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          inputSampleSource: 'synthetic',
          provisioningMode: p.provisioningMode,
          serializationFormat: p.serializationFormat,
          ...details,
          warnings: p.warnings,
        };
      } catch (err) {
        patch.status['preview'] = {
          renderedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          inputSampleSource: 'synthetic',
          warnings: [redactSecrets((err as Error).message)],
        };
      }
    } else if (!wantPreview) {
      this.previewed.delete(key);
      if (o.status?.preview) patch.status['preview'] = null;
    }
    if (Object.keys(patch.status).length > 0) {
      const written = await this.patchStatus(
        base(this.sinksGvr, o.metadata.namespace, o.metadata.name),
        patch,
        key,
      );
      if (!written) {
        // The next event of this sink probes and renders again.
        this.probed.delete(key);
        this.previewed.delete(key);
        return;
      }
    }
    // The one-shot annotation is removed after a success when automatic tests are off (kept on failure).
    if (probed?.ok && oneShot && !auto) {
      await this.o.kube
        .request('PATCH', base(this.sinksGvr, o.metadata.namespace, o.metadata.name), {
          body: { metadata: { annotations: { [ANNOTATIONS.testConnection]: null } } },
          contentType: MERGE,
        })
        .catch((err: unknown) =>
          this.o.log.warn(
            { sink: key, err: redactSecrets(String(err)) },
            'could not remove the test-connection annotation',
          ),
        );
    }
  }

  /** Merge-patch the status; false when the write failed (the next event retries it). */
  private async patchStatus(path: string, body: unknown, key: string): Promise<boolean> {
    try {
      await this.o.kube.request('PATCH', `${path}/status`, { body, contentType: MERGE });
      return true;
    } catch (err) {
      if (KubeNotFound.is(err)) return true; // gone: nothing left to report on
      if (!KubeConflict.is(err))
        this.o.log.warn({ object: key, err: redactSecrets(String(err)) }, 'status write failed');
      return false;
    }
  }

  private async onTest(o: KubeObj): Promise<void> {
    if (o.metadata.deletionTimestamp) return;
    const ref = (o.spec?.['sinkRef'] ?? {}) as Record<string, unknown>;
    const sinkName = ref[this.o.family.testRef];
    if (typeof sinkName !== 'string') return; // other families' workers serve the rest
    const ns = o.metadata.namespace;
    const uid = o.metadata.uid;
    const path = base(TESTS, ns, o.metadata.name);
    const gen = o.metadata.generation ?? 0;
    const ttl =
      typeof o.spec?.['ttlSecondsAfterFinished'] === 'number'
        ? (o.spec['ttlSecondsAfterFinished'] as number)
        : 300;
    if (o.status?.completed && o.status.observedGeneration === gen) {
      this.scheduleDelete(path, uid, o.status.completedAt, ttl);
      return;
    }
    // Once per generation: the events of this prober's own writes (status, owner reference) can
    // arrive before an event shows the completed status.
    if (this.testsProbed.get(uid) === gen) return;
    this.testsProbed.set(uid, gen);
    this.cancelDelete(path); // a spec edit probes again and restarts the TTL
    let sinkObj: KubeObj | undefined;
    try {
      sinkObj = await this.o.kube.request<KubeObj>('GET', base(this.sinksGvr, ns, sinkName));
    } catch (err) {
      if (!KubeNotFound.is(err)) {
        this.testsProbed.delete(uid);
        throw err;
      }
    }
    let result: ProbeResult;
    if (!sinkObj) {
      result = {
        ok: false,
        message: `${this.o.family.kind} ${ns}/${sinkName} not found; spec.sinkRef.${this.o.family.testRef} must name a sink in the test's namespace`,
        latencyMs: 0,
        reason: 'SinkNotFound',
      };
    } else {
      result = await this.probe(this.compiled(sinkObj));
      this.o.metrics.sinkConnectionTest.inc({
        type: String(sinkObj.spec?.['type'] ?? ''),
        result: result.ok ? 'success' : 'failure',
      });
    }
    const completedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const reason: Reason = result.ok ? REASONS.ConnectionOK : reasonOf(result.reason);
    const conditions = mergeConditions(
      o.status?.conditions,
      [
        { type: 'ConnectionVerified', status: result.ok ? 'True' : 'False', reason, message: result.message },
        {
          type: 'Ready',
          status: result.ok ? 'True' : 'False',
          reason: result.ok ? REASONS.ProbeSucceeded : reason,
          message: result.message,
        },
      ],
      [],
      gen,
      new Date(),
    );
    const written = await this.patchStatus(
      path,
      {
        status: {
          conditions,
          latencyMs: result.latencyMs,
          completed: true,
          completedAt,
          observedGeneration: gen,
        },
      },
      `${ns}/${o.metadata.name}`,
    );
    if (!written) {
      this.testsProbed.delete(uid); // probe again on the next event
      return;
    }
    // After the status: this write's event then finds the test completed.
    if (sinkObj && o.spec?.['ownerSink'] !== false && !(o.metadata.ownerReferences ?? []).length) {
      await this.o.kube
        .request('PATCH', path, {
          body: {
            metadata: {
              ownerReferences: [
                {
                  apiVersion: `${GROUP}/${VERSION}`,
                  kind: this.o.family.kind,
                  name: sinkName,
                  uid: sinkObj.metadata.uid,
                  controller: true,
                },
              ],
            },
          },
          contentType: MERGE,
        })
        .catch((err: unknown) =>
          this.o.log.warn(
            { object: `${ns}/${o.metadata.name}`, err: redactSecrets(String(err)) },
            'could not set the connection test owner',
          ),
        );
    }
    this.scheduleDelete(path, uid, completedAt, ttl);
  }

  private cancelDelete(path: string): void {
    const t = this.timers.get(path);
    if (t) clearTimeout(t);
    this.timers.delete(path);
  }

  /**
   * Delete a completed test `ttlSeconds` after `completedAt` (one timer per test; a new leader
   * reschedules from the status). The uid precondition spares a test re-created under the name.
   */
  private scheduleDelete(
    path: string,
    uid: string,
    completedAt: string | undefined,
    ttlSeconds: number,
  ): void {
    this.cancelDelete(path);
    const at = (completedAt ? Date.parse(completedAt) : Date.now()) + ttlSeconds * 1000;
    const t = setTimeout(
      () => {
        this.timers.delete(path);
        void this.o.kube
          .request('DELETE', path, {
            body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid } },
          })
          .catch((err: unknown) => {
            if (!KubeNotFound.is(err) && !KubeConflict.is(err))
              this.o.log.warn(
                { object: path, err: redactSecrets(String(err)) },
                'connection test not deleted',
              );
          });
      },
      Math.max(0, at - Date.now()),
    );
    t.unref();
    this.timers.set(path, t);
  }
}
