/**
 * The whole pipeline at 10k objects, from the real apiserver: watcher (list) → extractor →
 * aggregator, every service its own process (tools/stack). Each stage runs alone on a full input
 * (the next one is started only when the previous one drained), so its throughput is its own:
 *
 * - watcher: objects/s from its first published object to the full object log,
 * - extractor: objects/s from its first ack to the drained object consumer (1 replica),
 * - aggregator: rows/s from its first ack to the drained row consumer and the complete export,
 *
 * each with a ratio against a baseline measured in the same run on the same messages: a bare
 * durable consumer (the same runner, a no-op handler) draining the same stream — the bus floor of
 * this machine —, and the CPU the service used per 1,000 messages over the same span (user +
 * system from /proc: unlike throughput, it hardly moves with what else the machine runs). Then
 * the resident memory (VmRSS, peak VmHWM) of every service with the 10k objects
 * in the pipeline.
 *
 *   npm run testbed -- up nats kube-apiserver && eval "$(npm run -s testbed -- env)"
 *   npm run -w @kollect/bench stack [-- --objects 10000 --keep]
 *
 * `--keep` leaves the Deployments in the apiserver for the next run (creating 10k takes a while).
 * Prints numbers only; no assertions.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { AsyncPublisher, runConsumer, type Bus } from '@kollect/bus';
import { KubeClient } from '@kollect/kube';
import {
  Applier,
  clearTerminatingNamespace,
  installCrds,
  SnapshotFeed,
  Stack,
  type Manifest,
} from '@kollect/stack';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
const OBJECTS = arg('objects', 10_000);
const KEEP = process.argv.includes('--keep');
const env = (k: string): string => {
  const v = process.env[k];
  if (!v) {
    console.error(
      `${k} is required: npm run testbed -- up nats kube-apiserver && eval "$(npm run -s testbed -- env)"`,
    );
    process.exit(2);
  }
  return v;
};
const NATS = env('KOLLECT_TEST_NATS_URL');
const KUBECONFIG = env('KOLLECT_TEST_KUBECONFIG');
const NS = `kollect-bench-${OBJECTS}`;
const K = 'kollect.dev/v1alpha1';
const INVENTORY = { kind: 'KollectInventory' as const, namespace: NS, name: 'bench' };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const perSec = (n: number, ms: number): number => (n / ms) * 1000;
const fmt = (x: number): string => Math.round(x).toLocaleString('en');

function deployment(i: number): Manifest {
  const name = `bench-${String(i).padStart(5, '0')}`;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: NS,
      labels: { app: name, 'app.kubernetes.io/part-of': i % 2 ? 'shop' : 'billing', tier: 'web' },
    },
    spec: {
      replicas: (i % 3) + 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'api',
              image: `ghcr.io/acme/api:1.${i % 50}`,
              ports: [{ containerPort: 8080 }],
              env: [{ name: 'MODE', value: 'prod' }],
            },
            { name: 'envoy', image: 'envoyproxy/envoy:v1.30.1' },
          ],
        },
      },
    },
  };
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc (0 when unknown). Unlike
 * throughput, CPU per message barely moves with the load other work puts on the machine.
 */
function cpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    // Fields after the command (which may contain spaces) start at state: utime and stime are 14 and 15.
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ = 100 on Linux
  } catch {
    return 0;
  }
}

/**
 * Poll a durable's progress; resolves with the time of its first ack and of the drain, and the
 * CPU the process `pid()` used in between.
 */
async function drained(
  bus: Bus,
  stream: string,
  durables: () => Promise<string[]>,
  total: number,
  timeoutMs: number,
  pid: () => number | undefined = () => undefined,
): Promise<{ firstMs: number; endMs: number; ackedAtFirst: number; cpuMs: number }> {
  const end = Date.now() + timeoutMs;
  let first: { at: number; acked: number; cpu: number } | undefined;
  for (;;) {
    let acked = 0;
    let pending = 0;
    let any = false;
    for (const d of await durables()) {
      try {
        const ci = await bus.jsm.consumers.info(stream, d);
        any = true;
        acked += ci.ack_floor.stream_seq > 0 ? ci.ack_floor.consumer_seq : 0;
        pending += ci.num_pending + ci.num_ack_pending;
      } catch {
        // not created yet
      }
    }
    const now = performance.now();
    if (any && acked > 0 && !first) first = { at: now, acked, cpu: cpuMs(pid()) };
    if (any && first && pending === 0 && acked >= total)
      return { firstMs: first.at, endMs: now, ackedAtFirst: first.acked, cpuMs: cpuMs(pid()) - first.cpu };
    if (Date.now() > end)
      throw new Error(`${stream}: not drained within ${timeoutMs} ms (acked ${acked}, pending ${pending})`);
    await sleep(25);
  }
}

/**
 * The bus floor on the same messages: `stream`'s messages are copied (read by sequence, so a
 * work-queue stream keeps them) into a scratch stream, which a bare durable with a no-op handler
 * drains — the same consumer runner the services use, without their work.
 */
async function baseline(bus: Bus, prefix: string, stream: string, total: number): Promise<number> {
  const tag = randomBytes(2).toString('hex');
  const scratch = `${prefix}_BENCH_FLOOR_${tag}`;
  const subject = `${prefix}.bench.floor${tag}`;
  await bus.jsm.streams.add({
    name: scratch,
    subjects: [`${subject}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
  });
  try {
    const info = await bus.jsm.streams.info(stream);
    const pub = new AsyncPublisher(bus, { window: 256 });
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await bus.jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
      if (m) await pub.publishBytes(`${subject}.${seq}`, m.data);
    }
    await pub.flush();
    const durable = 'floor';
    const r = runConsumer({
      bus,
      stream: scratch,
      durable,
      handler: async () => undefined,
      concurrency: 256,
      batch: 512,
      maxAckPending: 2048,
    });
    const d = await drained(bus, scratch, async () => [durable], total, 600_000);
    await r.stop();
    return perSec(total - d.ackedAtFirst, d.endMs - d.firstMs);
  } finally {
    await bus.jsm.streams.delete(scratch).catch(() => undefined);
  }
}

function mem(pid: number | undefined): { rss: number; hwm: number } {
  if (!pid) return { rss: 0, hwm: 0 };
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

const kube = new KubeClient({ kubeconfigPath: KUBECONFIG, userAgent: 'kollect-bench' });
const applier = new Applier(kube, 'kollect-bench');
let stack: Stack | undefined;
// Ctrl-C: stop the services this run started (their process groups are their own).
process.once('SIGINT', () => {
  void (stack?.shutdown({ deleteTopology: true }) ?? Promise.resolve()).finally(() => process.exit(130));
});
try {
  await installCrds(kube);
  await clearTerminatingNamespace(kube, NS);
  await applier.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  const have = await applier.list<{ metadata: { name: string } }>('apps/v1', 'Deployment', NS);
  const names = new Set(have.map((d) => d.metadata.name));
  const missing = Array.from({ length: OBJECTS }, (_, i) => deployment(i)).filter(
    (d) => !names.has(d.metadata.name),
  );
  let t = performance.now();
  if (missing.length) {
    await applier.applyAll(missing, 32);
    console.log(
      `apiserver: created ${fmt(missing.length)} Deployments in ${fmt(performance.now() - t)} ms (${fmt(perSec(missing.length, performance.now() - t))}/s, 32 in flight)`,
    );
  }
  await applier.applyAll(
    [
      {
        apiVersion: K,
        kind: 'KollectProfile',
        metadata: { name: 'deployment-images', namespace: NS },
        spec: {
          targetGVK: { group: 'apps', version: 'v1', kind: 'Deployment' },
          attributes: [
            { name: 'image', path: '$.spec.template.spec.containers[0].image', type: 'string' },
            { name: 'images', path: '$.spec.template.spec.containers[*].image', type: 'list' },
            { name: 'containerCount', path: 'cel:size(object.spec.template.spec.containers)', type: 'int' },
            { name: 'labels', path: '$.metadata.labels', type: 'map', optional: true },
          ],
        },
      },
      {
        apiVersion: K,
        kind: 'KollectTarget',
        metadata: { name: 'all', namespace: NS },
        spec: { profileRef: 'deployment-images', includedNamespaces: [NS] },
      },
      {
        apiVersion: K,
        kind: 'KollectInventory',
        metadata: { name: 'bench', namespace: NS },
        spec: { exportMinInterval: '30s' },
      },
    ],
    1,
  );

  // 1. controller + watcher: the watcher lists every object into the object log
  const prefix = `bench${randomBytes(3).toString('hex')}`;
  t = performance.now();
  stack = await Stack.start({
    natsUrl: NATS,
    kubeconfig: KUBECONFIG,
    cluster: 'bench',
    prefix,
    partitions: 4,
    replicas: { controller: 1, watcher: 1, extractor: 0, aggregator: 0 },
    watchNamespaces: [NS],
    tenantMode: true,
    leaseNamespace: NS,
    topology: { leases: { ttlMs: 5000 } },
    logLevel: 'info',
    startTimeoutMs: 600_000,
  });
  const { bus, names: bn } = stack;
  const feed = await SnapshotFeed.start(bus, bn);
  let firstObj: number | undefined;
  for (;;) {
    const si = await bus.jsm.streams.info(bn.streams.objects);
    // A log already complete at the first look gives no start time: count from the stack start.
    if (si.state.messages > 0 && si.state.messages < OBJECTS && firstObj === undefined)
      firstObj = performance.now();
    if (si.state.messages >= OBJECTS) break;
    await sleep(25);
  }
  const watchMs = performance.now() - (firstObj ?? t);
  const watcherRate = perSec(OBJECTS, watchMs);
  const objBytes = (await bus.jsm.streams.info(bn.streams.objects)).state.bytes;
  console.log(
    `object log: ${fmt(OBJECTS)} objects, ${fmt(objBytes / OBJECTS)} B each on average (stripped Deployments)`,
  );

  // 2. extractor alone on the full object log, against the bus floor on the same messages
  const objFloor = await baseline(bus, prefix, bn.streams.objects, OBJECTS);
  const extractorName = await stack.addReplica('extractor');
  const x = await drained(
    bus,
    bn.streams.objects,
    async () => ['extractor'],
    OBJECTS,
    600_000,
    () => stack?.service(extractorName).pid,
  );
  const extractorRate = perSec(OBJECTS - x.ackedAtFirst, x.endMs - x.firstMs);

  // 3. aggregator alone on the full row stream
  const rowsFloor = await baseline(bus, prefix, bn.streams.rows, OBJECTS);
  const aggregatorName = await stack.addReplica('aggregator');
  const aggDurables = async (): Promise<string[]> => {
    const out: string[] = [];
    for await (const ci of bus.jsm.consumers.list(bn.streams.rows))
      if (ci.name.startsWith('aggregator-')) out.push(ci.name);
    return out;
  };
  const a = await drained(
    bus,
    bn.streams.rows,
    aggDurables,
    OBJECTS,
    600_000,
    () => stack?.service(aggregatorName).pid,
  );
  const aggRate = perSec(OBJECTS - a.ackedAtFirst, a.endMs - a.firstMs);
  const exportStart = performance.now();
  while ((feed.table(INVENTORY)?.itemCount ?? 0) < OBJECTS) {
    if (performance.now() - exportStart > 300_000) throw new Error('no complete export');
    await sleep(25);
  }
  const exportMs = performance.now() - a.firstMs;

  console.log('');
  console.log('stage        throughput          baseline (bus floor)   ratio   CPU ms per 1k');
  const line = (
    stage: string,
    rate: number,
    floor: number | undefined,
    unit: string,
    cpuPer1k?: number,
  ): void =>
    console.log(
      `${stage.padEnd(12)} ${`${fmt(rate)} ${unit}`.padEnd(19)} ${floor ? `${fmt(floor)} msgs/s`.padEnd(22) : '-'.padEnd(22)} ${(floor ? (rate / floor).toFixed(2) : '-').padEnd(7)} ${cpuPer1k !== undefined ? fmt(cpuPer1k) : '-'}`,
    );
  line('watcher', watcherRate, undefined, 'objects/s');
  line('extractor', extractorRate, objFloor, 'objects/s', (x.cpuMs / (OBJECTS - x.ackedAtFirst)) * 1000);
  line('aggregator', aggRate, rowsFloor, 'rows/s', (a.cpuMs / (OBJECTS - a.ackedAtFirst)) * 1000);
  console.log(`aggregator: first ack → complete export of ${fmt(OBJECTS)} rows in ${fmt(exportMs)} ms`);
  console.log('');
  console.log(`memory at ${fmt(OBJECTS)} objects   VmRSS     peak (VmHWM)`);
  for (const s of stack.services()) {
    const m = mem(s.pid);
    console.log(`${s.name.padEnd(24)} ${`${fmt(m.rss)} MB`.padEnd(9)} ${fmt(m.hwm)} MB`);
  }
  await feed.stop();
} finally {
  await stack?.shutdown({ deleteTopology: true }).catch(() => undefined);
  for (const kind of ['KollectInventory', 'KollectTarget', 'KollectProfile'])
    for (const o of await applier.list<{ metadata: { name: string } }>(K, kind, NS).catch(() => []))
      await applier
        .forceDelete({ apiVersion: K, kind, metadata: { name: o.metadata.name, namespace: NS } })
        .catch(() => undefined);
  if (!KEEP) {
    await kube.request('DELETE', `/apis/apps/v1/namespaces/${NS}/deployments`).catch(() => undefined);
    await applier
      .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } })
      .catch(() => undefined);
    await clearTerminatingNamespace(kube, NS).catch(() => undefined);
  }
  kube.close();
}
