import { ANNOTATIONS, GROUP, VERSION } from '@kollect/crd-types';
import { KubeConflict, KubeNotFound, LeaderElector, ListWatch, type KubeClient } from '@kollect/kube';
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
  private sinksWatch: ListWatch | undefined;
  private testsWatch: ListWatch | undefined;
  private readonly probed = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();
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
    this.o.log.info({}, 'sink prober leading');
    this.probed.clear();
    this.sinksWatch = new ListWatch(
      this.o.kube,
      { upsert: (o) => this.onSink(o as unknown as KubeObj), delete: () => {}, synced: () => {} },
      { gvr: this.sinksGvr, kind: this.o.family.kind },
    );
    this.testsWatch = new ListWatch(
      this.o.kube,
      { upsert: (o) => this.onTest(o as unknown as KubeObj), delete: () => {}, synced: () => {} },
      { gvr: TESTS, kind: 'KollectConnectionTest' },
    );
    this.sinksWatch.start();
    this.testsWatch.start();
  }

  private async follow(): Promise<void> {
    await this.sinksWatch?.stop();
    await this.testsWatch?.stop();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
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
      probed = await this.probe(sink);
      this.probed.set(key, probeKey);
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
    if (wantPreview) {
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
    } else if (o.status?.preview) {
      patch.status['preview'] = null;
    }
    if (Object.keys(patch.status).length > 0)
      await this.patchStatus(base(this.sinksGvr, o.metadata.namespace, o.metadata.name), patch, key);
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

  private async patchStatus(path: string, body: unknown, key: string): Promise<void> {
    try {
      await this.o.kube.request('PATCH', `${path}/status`, { body, contentType: MERGE });
    } catch (err) {
      if (KubeNotFound.is(err) || KubeConflict.is(err)) return;
      this.o.log.warn({ object: key, err: redactSecrets(String(err)) }, 'status write failed');
    }
  }

  private async onTest(o: KubeObj): Promise<void> {
    if (o.metadata.deletionTimestamp) return;
    const ref = (o.spec?.['sinkRef'] ?? {}) as Record<string, unknown>;
    const sinkName = ref[this.o.family.testRef];
    if (typeof sinkName !== 'string') return; // other families' workers serve the rest
    const ns = o.metadata.namespace;
    const path = `/apis/${TESTS.group}/${TESTS.version}/namespaces/${encodeURIComponent(ns)}/${TESTS.resource}/${encodeURIComponent(o.metadata.name)}`;
    const gen = o.metadata.generation ?? 0;
    const ttl =
      typeof o.spec?.['ttlSecondsAfterFinished'] === 'number'
        ? (o.spec['ttlSecondsAfterFinished'] as number)
        : 300;
    if (o.status?.completed && o.status.observedGeneration === gen) {
      this.scheduleDelete(path, o.status.completedAt, ttl);
      return;
    }
    let sinkObj: KubeObj | undefined;
    try {
      sinkObj = await this.o.kube.request<KubeObj>('GET', base(this.sinksGvr, ns, sinkName));
    } catch (err) {
      if (!KubeNotFound.is(err)) throw err;
    }
    let result: ProbeResult;
    if (!sinkObj) {
      result = {
        ok: false,
        message: `${this.o.family.kind} ${ns}/${sinkName} not found`,
        latencyMs: 0,
        reason: 'SinkNotFound',
      };
    } else {
      result = await this.probe(this.compiled(sinkObj));
      this.o.metrics.sinkConnectionTest.inc({
        type: String(sinkObj.spec?.['type'] ?? ''),
        result: result.ok ? 'success' : 'failure',
      });
      if (o.spec?.['ownerSink'] !== false && !(o.metadata.ownerReferences ?? []).length) {
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
          .catch(() => {});
      }
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
    await this.patchStatus(
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
    this.scheduleDelete(path, completedAt, ttl);
  }

  private scheduleDelete(path: string, completedAt: string | undefined, ttlSeconds: number): void {
    const at = (completedAt ? Date.parse(completedAt) : Date.now()) + ttlSeconds * 1000;
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        void this.o.kube.request('DELETE', path).catch(() => {});
      },
      Math.max(0, at - Date.now()),
    );
    t.unref();
    this.timers.add(t);
  }
}
