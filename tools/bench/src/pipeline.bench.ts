/**
 * Pipeline benchmark against a real NATS server: the extractor and aggregator services run as
 * their own processes (built `apps/<name>/dist`), fed by this script the way the watcher feeds
 * them. Measures
 * - rows/s through the aggregator (row messages in → persisted, acked, exported),
 * - objects/s through the extractor (object messages in → row messages published and acked),
 * - the aggregator's partition load time after a SIGKILL (one KV key per row),
 * - resident memory (VmRSS) of both services with the whole table loaded.
 *
 *   npx tsc -b apps/aggregator apps/extractor
 *   KOLLECT_TEST_NATS_URL=nats://127.0.0.1:4222 npm run -w @kollect/bench pipeline [-- --objects 10000 --rows 20000]
 *
 * Works in an isolated topology (unique prefix) and deletes it afterwards. Prints numbers only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AsyncPublisher,
  busNames,
  connectBus,
  ensureTopology,
  JsonKv,
  PLAN_KEY,
  putPlan,
} from '@kollect/bus';
import {
  BUS_SCHEMA_VERSION,
  objectMsgId,
  partitionOf,
  subjects,
  watchSyncKey,
  type InventoryRef,
  type ObjectMessage,
  type RowMessage,
  type SnapshotMessage,
} from '@kollect/contracts';
import { PLAN_SCHEMA_VERSION, type CompiledPlan } from '@kollect/plan';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const OBJECTS = arg('objects', 10_000);
const ROWS = arg('rows', 20_000);
const url = process.env['KOLLECT_TEST_NATS_URL'];
if (!url) {
  console.error('KOLLECT_TEST_NATS_URL is required (eval "$(npm run -s testbed -- env)")');
  process.exit(2);
}
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLUSTER = 'bench';
const PARTITIONS = 2;
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
const X_INV: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'extracted' };
const R_INV: InventoryRef = { kind: 'KollectInventory', namespace: 'team-b', name: 'rows' };

const bus = await connectBus({ servers: url, name: 'bench-pipeline' });
const prefix = `bench${randomBytes(3).toString('hex')}`;
const names = busNames(prefix);
await ensureTopology(bus.jsm, { names, leases: { ttlMs: 3000 } });
const procs: ChildProcess[] = [];
const logs = new Map<ChildProcess, string[]>();

function start(app: string): ChildProcess {
  // BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the services.
  const nodeArgs = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const p = spawn(process.execPath, [...nodeArgs, join(ROOT, 'apps', app, 'dist', 'main.js')], {
    env: {
      PATH: process.env['PATH'] ?? '',
      KOLLECT_NATS_URL: url as string,
      KOLLECT_BUS_PREFIX: prefix,
      KOLLECT_ENSURE_TOPOLOGY: 'false',
      KOLLECT_HTTP_PORT: '0',
      KOLLECT_HTTP_HOST: '127.0.0.1',
      KOLLECT_POD_NAME: app,
      KOLLECT_LOG_LEVEL: 'info',
      ...(process.env['BENCH_EXTRACT_CONCURRENCY']
        ? { KOLLECT_EXTRACT_CONCURRENCY: process.env['BENCH_EXTRACT_CONCURRENCY'] }
        : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  logs.set(p, lines);
  p.stdout?.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
  procs.push(p);
  return p;
}
/** CPU time (user + system, ms) a process has used so far (0 when unknown). */
const cpuMs = (p: ChildProcess): number => {
  try {
    const f = readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ = 100 on Linux
  } catch {
    return 0;
  }
};
const rssMb = (p: ChildProcess): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
  return Math.round(Number(m?.[1] ?? 0) / 1024);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(50);
  }
}
const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en')}/s`;

// ---- plan: one target extracting Deployments into X_INV; R_INV is fed directly with rows
const plan: CompiledPlan = {
  schemaVersion: PLAN_SCHEMA_VERSION,
  generation: 1,
  compiledAt: new Date().toISOString(),
  settings: {
    cluster: CLUSTER,
    partitions: PARTITIONS,
    maxExportBytes: 1_572_864,
    scrubKeys: [],
    celCostLimit: 1_000_000,
    celTimeoutMs: 1000,
  },
  watches: [
    {
      gvr: DEPLOYMENTS,
      gvk: { group: 'apps', version: 'v1', kind: 'Deployment' },
      namespaced: true,
      namespaces: null,
    },
  ],
  profiles: {
    'team-a/deploy': {
      key: 'team-a/deploy',
      namespace: 'team-a',
      name: 'deploy',
      uid: 'p',
      generation: 1,
      gvk: { group: 'apps', version: 'v1', kind: 'Deployment' },
      gvr: DEPLOYMENTS,
      namespaced: true,
      attributes: [
        { name: 'image', path: '$.spec.template.spec.containers[0].image', optional: false },
        { name: 'images', path: '$.spec.template.spec.containers[*].image', optional: false },
        { name: 'replicas', path: 'cel:object.spec.replicas', optional: false },
        { name: 'containerCount', path: 'cel:size(object.spec.template.spec.containers)', optional: false },
      ],
      export: {
        mode: 'Attributes',
        as: 'resource',
        include: 'All',
        dedupeIdentity: false,
        prune: { defaults: true, jsonPointers: [], jsonPaths: [], scrubKeys: [] },
      },
      metrics: [],
      hash: 'h1',
    },
  },
  targets: [
    {
      kind: 'KollectTarget',
      namespace: 'team-a',
      name: 'web',
      uid: 't',
      generation: 1,
      profileKey: 'team-a/deploy',
      namespaces: null,
      rules: [],
      watchMode: 'All',
      feeds: [{ inventory: X_INV, partition: partitionOf(X_INV, PARTITIONS), namespaces: null }],
    },
    {
      kind: 'KollectTarget',
      namespace: 'team-b',
      name: 'direct',
      uid: 't2',
      generation: 1,
      profileKey: 'team-b/none',
      namespaces: null,
      rules: [],
      watchMode: 'All',
      feeds: [{ inventory: R_INV, partition: partitionOf(R_INV, PARTITIONS), namespaces: null }],
    },
  ],
  inventories: [X_INV, R_INV].map((ref, i) => ({
    ref,
    uid: `inv${i}`,
    generation: 1,
    partition: partitionOf(ref, PARTITIONS),
    targets: [i === 0 ? 'KollectTarget/team-a/web' : 'KollectTarget/team-b/direct'],
    dedupe: 'keepAll' as const,
    gvrs: [DEPLOYMENTS],
    exportMinIntervalMs: 30_000,
    bindings: [],
  })),
  sinks: [],
  namespaceWatch: {},
};

const last = new Map<string, SnapshotMessage>();
const snapConsumer = await bus.js.consumers.get(names.streams.snapshots, {
  filter_subjects: names.subject(subjects.snapshotsAll),
});
const snapIter = await snapConsumer.consume();
void (async () => {
  for await (const m of snapIter) {
    const s = m.json<SnapshotMessage>();
    last.set(s.inventory.name, s);
  }
})();

try {
  console.log(`nats-server ${bus.serverVersion()}, ${OBJECTS} objects, ${ROWS} direct rows`);
  await putPlan(await JsonKv.open(bus, names.buckets.plan), PLAN_KEY, plan, {
    schemaVersion: PLAN_SCHEMA_VERSION,
  });
  const state = await JsonKv.open(bus, names.buckets.state);
  await state.put(watchSyncKey(CLUSTER, DEPLOYMENTS, null), {
    schemaVersion: BUS_SCHEMA_VERSION,
    cluster: CLUSTER,
    gvr: DEPLOYMENTS,
    namespace: null,
    state: 'synced',
    at: new Date().toISOString(),
  });

  // ---- objects, published before the extractor starts (an initial list)
  const pub = new AsyncPublisher(bus, { window: 256 });
  for (let i = 0; i < OBJECTS; i++) {
    const uid = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    const msg: ObjectMessage = {
      schemaVersion: BUS_SCHEMA_VERSION,
      op: 'upsert',
      cluster: CLUSTER,
      gvr: DEPLOYMENTS,
      kind: 'Deployment',
      namespace: `team-${i % 3}`,
      name: `deploy-${i}`,
      uid,
      resourceVersion: String(1000 + i),
      origin: 'list',
      object: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {
          name: `deploy-${i}`,
          namespace: `team-${i % 3}`,
          uid,
          resourceVersion: String(1000 + i),
          labels: { app: `a${i}`, tier: 'web' },
        },
        spec: {
          replicas: i % 5,
          template: {
            spec: {
              containers: [
                { name: 'api', image: `ghcr.io/acme/api:1.${i % 50}` },
                { name: 'envoy', image: 'envoyproxy/envoy:v1.30.1' },
              ],
            },
          },
        },
      },
    };
    await pub.publishJson(names.subject(subjects.object(CLUSTER, DEPLOYMENTS, uid)), msg, {
      msgId: objectMsgId(uid, msg.resourceVersion, 'upsert'),
    });
  }
  await pub.flush();

  const agg = start('aggregator');
  await until(() => (logs.get(agg) ?? []).some((l) => l.includes('partition loaded')), 30_000);

  // ---- extractor: objects/s = object messages acked by the extractor consumer
  let t = performance.now();
  const ext = start('extractor');
  await until(async () => {
    try {
      const ci = await bus.jsm.consumers.info(names.streams.objects, 'extractor');
      return ci.num_pending === 0 && ci.num_ack_pending === 0 && ci.delivered.stream_seq >= OBJECTS;
    } catch {
      return false;
    }
  }, 600_000);
  const extMs = performance.now() - t;
  const extCpu = cpuMs(ext);
  await until(() => last.get(X_INV.name)?.itemCount === OBJECTS, 600_000);
  const endToEndMs = performance.now() - t;
  console.log(
    `extractor: ${OBJECTS} objects in ${Math.round(extMs)} ms = ${rate(OBJECTS, extMs)} objects (1 replica; incl. startup); CPU ${Math.round(extCpu)} ms = ${Math.round((extCpu / OBJECTS) * 1000)} ms per 1k objects (incl. startup)`,
  );
  console.log(
    `extractor+aggregator: first complete export of ${OBJECTS} rows after ${Math.round(endToEndMs)} ms`,
  );

  // ---- aggregator: rows/s for rows published directly to one partition
  t = performance.now();
  const aggCpu0 = cpuMs(agg);
  for (let i = 0; i < ROWS; i++) {
    const uid = `r-${i}`;
    const row: RowMessage = {
      schemaVersion: BUS_SCHEMA_VERSION,
      op: 'upsert',
      cluster: CLUSTER,
      inventory: R_INV,
      key: { targetNamespace: 'team-b', targetName: 'direct', uid },
      item: {
        targetNamespace: 'team-b',
        targetName: 'direct',
        namespace: 'team-b',
        name: `n-${i}`,
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        uid,
        attributes: { image: `ghcr.io/acme/api:1.${i % 50}`, replicas: i % 5, labels: { app: `a${i}` } },
      },
      sourceSeq: 1_000_000 + i,
      planGeneration: 1,
    };
    await pub.publishJson(names.subject(subjects.row(partitionOf(R_INV, PARTITIONS), R_INV)), row, {
      msgId: `bench-row-${i}`,
    });
  }
  await pub.flush();
  const pubMs = performance.now() - t;
  await until(() => last.get(R_INV.name)?.itemCount === ROWS, 600_000);
  const aggMs = performance.now() - t;
  const aggCpu = cpuMs(agg) - aggCpu0;
  console.log(
    `aggregator: ${ROWS} rows applied+persisted+exported in ${Math.round(aggMs)} ms = ${rate(ROWS, aggMs)} rows (publishing took ${Math.round(pubMs)} ms); CPU ${Math.round(aggCpu)} ms = ${Math.round((aggCpu / ROWS) * 1000)} ms per 1k rows`,
  );
  console.log(
    `memory (VmRSS): aggregator ${rssMb(agg)} MB with ${OBJECTS + ROWS} rows; extractor ${rssMb(ext)} MB`,
  );

  // ---- takeover: kill, start another, time the partition load. A profiled run stops it with
  // SIGTERM instead (a SIGKILLed process writes no profile; the handover is then the graceful one).
  const profiling = (process.env['BENCH_NODE_ARGS'] ?? '').includes('--cpu-prof');
  if (profiling) {
    agg.kill('SIGTERM');
    await new Promise((r) => (agg.exitCode !== null ? r(null) : agg.once('exit', r)));
  } else agg.kill('SIGKILL');
  await sleep(200);
  t = performance.now();
  const agg2 = start('aggregator');
  await until(
    () => (logs.get(agg2) ?? []).filter((l) => l.includes('partition loaded')).length === PARTITIONS,
    120_000,
  );
  const loads = (logs.get(agg2) ?? [])
    .filter((l) => l.includes('partition loaded'))
    .map((l) => JSON.parse(l) as { rows: number; ms: number });
  console.log(
    `aggregator restart: partitions loaded ${loads.map((l) => `${l.rows} rows in ${l.ms} ms`).join(', ')} (${Math.round(performance.now() - t)} ms incl. lease expiry and process start)`,
  );
  console.log(`memory (VmRSS) after load: aggregator ${rssMb(agg2)} MB`);
} finally {
  snapIter.stop();
  // SIGTERM first so a profiled run (BENCH_NODE_OPTIONS=--cpu-prof) can write its profile.
  for (const p of procs) p.kill('SIGTERM');
  await Promise.race([
    Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.on('exit', r))))),
    sleep(10_000),
  ]);
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  const streams = [
    ...Object.values(names.streams),
    ...Object.values(names.buckets).map((b) => (b === names.buckets.full ? `OBJ_${b}` : `KV_${b}`)),
  ];
  for (const s of streams) await bus.jsm.streams.delete(s).catch(() => undefined);
  await bus.close();
}
