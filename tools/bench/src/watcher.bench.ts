/**
 * Watcher memory at scale, against the test bed's real apiserver and NATS (isolated object log):
 * `--baseline` (default 1,000) ConfigMaps of about 1 KB in one namespace, `--objects` (default
 * 10,000) in another.
 *
 * 1. The watcher service as its own process (apps/watcher): RSS idle, then the plan watches the
 *    small namespace, then switches to the big one; peak (VmHWM) and settled RSS each time; then
 *    a restart without a resume point (relist + headers-only log scan for vanished objects).
 * 2. The same mirror in this process, so the V8 heap can be measured after a forced GC: live
 *    heap with the small scope synced vs with the big one. This is the retention test: with no
 *    object cache, the live heap must not grow with the object count (RSS alone mixes in how
 *    lazily V8 returns memory after the list's garbage).
 *
 *   eval "$(npm run -s testbed -- env)"
 *   npx tsc -b apps/watcher && npm run -w @kollect/bench watcher -- --objects 10000
 *
 * Deletes its ConfigMaps (deletecollection) and namespaces afterwards. Throughput figures depend
 * heavily on how loaded the shared machine is; they are printed for orientation only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AsyncPublisher,
  JsonKv,
  PLAN_KEY,
  busNames,
  connectBus,
  ensureTopology,
  putPlan,
} from '@kollect/bus';
import { watchSyncKey, type WatchSyncState } from '@kollect/contracts';
import { KubeClient } from '@kollect/kube';
import { ClusterMirror, desiredScopes, resumeKeyOf } from '@kollect/mirror';
import { PLAN_SCHEMA_VERSION, type CompiledPlan, type WatchSpec } from '@kollect/plan';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
const N = arg('objects', 10_000);
const M = arg('baseline', 1_000);
const env = (k: string): string => {
  const v = process.env[k];
  if (!v) {
    console.error(`${k} is required (eval "$(npm run -s testbed -- env)")`);
    process.exit(2);
  }
  return v;
};
const natsUrl = env('KOLLECT_TEST_NATS_URL');
const kubeconfig = env('KOLLECT_TEST_KUBECONFIG');
const MAIN = join(
  resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'),
  'apps',
  'watcher',
  'dist',
  'main.js',
);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mib = (kb: number): string => `${(kb / 1024).toFixed(1)} MiB`;

/** VmRSS and VmHWM of a process, in KiB. */
function mem(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0);
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

const kube = new KubeClient({ kubeconfigPath: kubeconfig });
const run = randomBytes(3).toString('hex');
const small = `bench-watcher-small-${run}`;
const big = `bench-watcher-big-${run}`;
const cluster = `bench-${randomBytes(3).toString('hex')}`;
const names = busNames(`bw${randomBytes(3).toString('hex')}`);
const bus = await connectBus({ servers: natsUrl, name: 'bench-watcher' });
await ensureTopology(bus.jsm, { names });
const state = await JsonKv.open<unknown>(bus, names.buckets.state);
const planKv = await JsonKv.open<unknown>(bus, names.buckets.plan);
const specFor = (ns: string): WatchSpec => ({
  gvr: { group: '', version: 'v1', resource: 'configmaps' },
  gvk: { group: '', version: 'v1', kind: 'ConfigMap' },
  namespaced: true,
  namespaces: [ns],
});
const CM = specFor(small).gvr;
const plan = (watches: WatchSpec[], generation: number): CompiledPlan => ({
  schemaVersion: PLAN_SCHEMA_VERSION,
  generation,
  compiledAt: new Date().toISOString(),
  settings: {
    cluster,
    partitions: 1,
    maxExportBytes: 1_572_864,
    scrubKeys: [],
    celCostLimit: 1_000_000,
    celTimeoutMs: 100,
  },
  watches,
  profiles: {},
  targets: [],
  inventories: [],
  sinks: [],
  namespaceWatch: {},
});

function startWatcher(): ChildProcess {
  return spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '',
      KOLLECT_NATS_URL: natsUrl,
      KOLLECT_CLUSTER: cluster,
      KOLLECT_BUS_PREFIX: names.prefix,
      KUBECONFIG: kubeconfig,
      KOLLECT_HTTP_PORT: '0',
      KOLLECT_HTTP_HOST: '127.0.0.1',
      KOLLECT_LEADER_ELECTION: 'false',
      KOLLECT_LOG_LEVEL: process.env['BENCH_WATCHER_LOG_LEVEL'] ?? 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

async function syncRevision(ns: string): Promise<number> {
  return (await state.get(watchSyncKey(cluster, CM, ns)))?.revision ?? 0;
}

async function waitSynced(ns: string, after: number): Promise<WatchSyncState> {
  for (;;) {
    const e = await state.get(watchSyncKey(cluster, CM, ns));
    const s = e?.value as WatchSyncState | undefined;
    if (s?.state === 'synced' && e!.revision > after) return s;
    await sleep(100);
  }
}

async function createConfigMaps(ns: string, count: number): Promise<void> {
  await kube.request('POST', '/api/v1/namespaces', { body: { metadata: { name: ns } } });
  const filler = 'x'.repeat(900);
  const t = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < count; i = next++) {
        await kube.request('POST', `/api/v1/namespaces/${ns}/configmaps`, {
          body: {
            metadata: { name: `cm-${i}`, labels: { app: 'bench', shard: String(i % 10) } },
            data: { i: String(i), filler },
          },
        });
      }
    }),
  );
  console.log(`created ${count} ConfigMaps in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

/** Switch the plan to `ns` and wait for the scope to sync; returns the time and the sync state. */
async function watchOnly(ns: string, generation: number): Promise<{ ms: number; synced: WatchSyncState }> {
  const rev = await syncRevision(ns);
  const t = performance.now();
  await putPlan(planKv, PLAN_KEY, plan([specFor(ns)], generation), { schemaVersion: PLAN_SCHEMA_VERSION });
  const synced = await waitSynced(ns, rev);
  return { ms: performance.now() - t, synced };
}

const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000)} objects/s`;

let child: ChildProcess | undefined;
try {
  await createConfigMaps(small, M);
  await createConfigMaps(big, N);

  // ---- 1. the service process ----
  await putPlan(planKv, PLAN_KEY, plan([], 1), { schemaVersion: PLAN_SCHEMA_VERSION });
  child = startWatcher();
  const pid = child.pid!;
  await sleep(3000);
  console.log(`[process] idle, empty plan:             RSS ${mib(mem(pid).rss)}`);
  const a = await watchOnly(small, 2);
  await sleep(3000);
  console.log(
    `[process] ${String(a.synced.objects).padStart(6)} objects synced in ${(a.ms / 1000).toFixed(1)} s (${rate(a.synced.objects ?? 0, a.ms)}): peak RSS ${mib(mem(pid).hwm)}, RSS ${mib(mem(pid).rss)}`,
  );
  const b = await watchOnly(big, 3);
  const peakBig = mem(pid).hwm;
  await sleep(5000);
  console.log(
    `[process] ${String(b.synced.objects).padStart(6)} objects synced in ${(b.ms / 1000).toFixed(1)} s (${rate(b.synced.objects ?? 0, b.ms)}): peak RSS ${mib(peakBig)}, RSS ${mib(mem(pid).rss)}`,
  );
  child.kill('SIGTERM');
  await new Promise((r) => child!.once('exit', r));
  await state.delete(resumeKeyOf(cluster, desiredScopes([specFor(big)])[0]!));
  const rev = await syncRevision(big);
  let t = performance.now();
  child = startWatcher();
  const pid2 = child.pid!;
  await waitSynced(big, rev);
  const relistMs = performance.now() - t;
  const peakRelist = mem(pid2).hwm;
  await sleep(5000);
  console.log(
    `[process] restart, relist + log scan of ${N}: ${(relistMs / 1000).toFixed(1)} s incl. start-up: peak RSS ${mib(peakRelist)}, RSS ${mib(mem(pid2).rss)}`,
  );
  child.kill('SIGTERM');
  await new Promise((r) => child!.once('exit', r));
  child = undefined;

  // ---- 2. in-process heap after GC ----
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    console.log('[heap] skipped: run node with --expose-gc');
  } else {
    const publisher = new AsyncPublisher(bus, { window: 128 });
    const mirror = new ClusterMirror({ bus, names, publisher, state, kube, cluster: `${cluster}-inproc` });
    await mirror.setActive(true);
    const settle = async (): Promise<number> => {
      await sleep(1000);
      for (let i = 0; i < 3; i++) gc();
      return process.memoryUsage().heapUsed;
    };
    const base = await settle();
    const inproc = async (ns: string, g: number): Promise<number> => {
      await mirror.applyPlan({
        ...plan([specFor(ns)], g),
        settings: { ...plan([], g).settings, cluster: `${cluster}-inproc` },
      });
      while (!mirror.allSynced()) await sleep(100);
      return settle();
    };
    t = performance.now();
    const hSmall = await inproc(small, 10);
    const hBig = await inproc(big, 11);
    console.log(
      `[heap] live heap after GC: no scope ${mib(base / 1024)}, ${M} objects ${mib(hSmall / 1024)}, ${N} objects ${mib(hBig / 1024)}`,
    );
    console.log(
      `[heap] growth per extra object: ${Math.round((hBig - hSmall) / (N - M))} bytes (${((performance.now() - t) / 1000).toFixed(1)} s)`,
    );
    await mirror.stop();
    await publisher.flush();
  }
  const stream = await bus.jsm.streams.info(names.streams.objects);
  console.log(
    `object log: ${stream.state.messages} messages, ${(stream.state.bytes / 1024 / 1024).toFixed(1)} MiB`,
  );
} finally {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  }
  for (const ns of [small, big]) {
    await kube
      .request('DELETE', `/api/v1/namespaces/${ns}/configmaps`)
      .catch((e: unknown) => console.error('cleanup', e));
    await kube.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined);
  }
  for (const s of Object.values(names.streams)) await bus.jsm.streams.delete(s).catch(() => undefined);
  for (const b of Object.values(names.buckets)) {
    await bus.jsm.streams.delete(`KV_${b}`).catch(() => undefined);
    await bus.jsm.streams.delete(`OBJ_${b}`).catch(() => undefined);
  }
  await bus.close();
  kube.close();
}
