/**
 * What the sink-worker suites share: they play the controller (a plan in KV) and the aggregator
 * (snapshot messages, full snapshots on request) around one real worker process, with Secrets in
 * the real kube-apiserver.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSnapshotMessage, planSnapshotPublication } from '@kollect/aggregate';
import { encodeJson, JsonKv, PLAN_KEY, publishBytes, putPlan } from '@kollect/bus';
import { subjects, type InventoryRef, type SinkStatusReport, type SnapshotMessage } from '@kollect/contracts';
import type { KubeClient } from '@kollect/kube';
import { PLAN_SCHEMA_VERSION, type CompiledPlan } from '@kollect/plan';
import type { BusHarness } from '../bus/harness.js';
import { startService, waitForLog, type ServiceProcess } from '../pipeline/support.js';
import { testbedEnv } from '../support/testbed.js';

type Family = 'snapshot' | 'database';

/** A sink of the plan: its name, backend type and spec (as the controller compiles it). */
export interface PlanSink {
  family: Family;
  name: string;
  type: string;
  spec: Record<string, unknown>;
  /** The sink CR's generation (default 1); a new one is a spec change (the worker replaces its host). */
  generation?: number;
}

/**
 * A plan with the given inventories, each bound to the named sinks of `sinks` (all in `namespace`),
 * no targets or watches: the worker only needs bindings and sink specs.
 */
export function workerPlan(o: {
  cluster: string;
  namespace: string;
  generation?: number;
  inventories: { ref: InventoryRef; sinks: string[] }[];
  sinks: PlanSink[];
}): CompiledPlan {
  const byName = new Map(o.sinks.map((s) => [s.name, s]));
  const ref = (s: PlanSink) => ({ family: s.family, namespace: o.namespace, name: s.name });
  return {
    schemaVersion: PLAN_SCHEMA_VERSION,
    generation: o.generation ?? 1,
    compiledAt: new Date().toISOString(),
    settings: {
      cluster: o.cluster,
      partitions: 1,
      maxExportBytes: 1_572_864,
      scrubKeys: [],
      celCostLimit: 1000,
      celTimeoutMs: 100,
    },
    watches: [],
    profiles: {},
    targets: [],
    inventories: o.inventories.map((inv) => ({
      ref: inv.ref,
      uid: `${inv.ref.name}-uid`,
      generation: 1,
      partition: 0,
      targets: [],
      dedupe: 'keepAll',
      gvrs: [],
      exportMinIntervalMs: 0,
      bindings: inv.sinks.map((name) => {
        const s = byName.get(name);
        if (!s) throw new Error(`workerPlan: inventory ${inv.ref.name} binds unknown sink ${name}`);
        return { sink: ref(s), type: s.type, exportMinIntervalMs: 0, maxExportBytes: 1_572_864 };
      }),
    })),
    sinks: o.sinks.map((s) => ({
      ref: ref(s),
      uid: `${s.name}-uid`,
      generation: s.generation ?? 1,
      type: s.type,
      spec: { type: s.type, ...s.spec },
    })),
    namespaceWatch: {},
  } as unknown as CompiledPlan;
}

/** Put `plan` where the worker reads it (KV `plan`). */
export async function publishPlan(h: BusHarness, plan: CompiledPlan): Promise<void> {
  await putPlan(await JsonKv.open(h.bus, h.names.buckets.plan), PLAN_KEY, plan, {
    schemaVersion: PLAN_SCHEMA_VERSION,
  });
}

/** Create `namespace` and one Secret per entry of `secrets` (name → stringData) in it. */
export async function namespaceWithSecrets(
  kube: KubeClient,
  namespace: string,
  secrets: Record<string, Record<string, string>>,
): Promise<void> {
  await kube.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
  });
  for (const [name, stringData] of Object.entries(secrets))
    await kube.request('POST', `/api/v1/namespaces/${namespace}/secrets`, {
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData },
    });
}

/** Publish a snapshot message on the inventory's public subject. */
export async function publishSnapshot(h: BusHarness, msg: SnapshotMessage, msgId: string): Promise<void> {
  await publishBytes(
    h.bus,
    h.names.subject(subjects.snapshot(msg.cluster, msg.inventory)),
    encodeSnapshotMessage(msg),
    { msgId },
  );
}

/**
 * The aggregator's side of full-snapshot requests for `inventory`: `current()` is stored in the
 * object store and answered by reference, as apps/aggregator does. `onRequest` counts requests.
 */
export async function serveFullSnapshots(
  h: BusHarness,
  cluster: string,
  inventory: InventoryRef,
  current: () => SnapshotMessage,
  onRequest: () => void = () => {},
): Promise<void> {
  const store = await h.bus.objm.open(h.names.buckets.full);
  h.bus.nc.subscribe(h.names.subject(subjects.fullSnapshotRequest(cluster, inventory)), {
    callback: (_e, m) => {
      onRequest();
      const pub = planSnapshotPublication(current(), { maxInlineBytes: 0, bucket: h.names.buckets.full });
      void store
        .putBlob({ name: pub.object!.name }, pub.object!.data)
        .then(() => m.respond(encodeJson({ ok: true, snapshot: pub.message })));
    },
  });
}

/** Every sink status report of `cluster`, appended as it arrives. */
export function collectSinkReports(h: BusHarness, cluster: string): SinkStatusReport[] {
  const reports: SinkStatusReport[] = [];
  h.bus.nc.subscribe(h.names.subject(subjects.status('sink', cluster)), {
    callback: (_e, m) => {
      reports.push(JSON.parse(new TextDecoder().decode(m.data)) as SinkStatusReport);
    },
  });
  return reports;
}

/**
 * Start a worker app (`sink-snapshot` / `sink-database`) on the harness's bus and the bed's
 * apiserver, prober off, and wait for its start line.
 */
export async function startWorker(
  h: BusHarness,
  app: 'sink-snapshot' | 'sink-database',
  workDir: string = mkdtempSync(join(tmpdir(), `kollect-${app}-`)),
): Promise<ServiceProcess> {
  const p = await startService(app, {
    KOLLECT_NATS_URL: testbedEnv.natsUrl,
    KOLLECT_BUS_PREFIX: h.names.prefix,
    KUBECONFIG: testbedEnv.kubeconfig,
    KOLLECT_ALLOW_PRIVATE_ENDPOINTS: 'true',
    KOLLECT_SINK_PROBER: 'false',
    KOLLECT_SINK_WORK_DIR: workDir,
    KOLLECT_LOG_LEVEL: 'info',
  });
  const started = app === 'sink-snapshot' ? /snapshot sink worker started/ : /database sink worker started/;
  if (!(await waitForLog(p, started, 60_000))) {
    await p.stop();
    throw new Error(`${app} did not start:\n${p.logs.slice(-20).join('\n')}`);
  }
  return p;
}

/** A worker's JSON log lines from line `from` on (lines that are not JSON read as `{}`). */
export function logLines(p: ServiceProcess, from = 0): { msg?: string; why?: string; sink?: string }[] {
  return p.logs.slice(from).map((l) => {
    try {
      return JSON.parse(l) as { msg?: string; why?: string; sink?: string };
    } catch {
      return {};
    }
  });
}
