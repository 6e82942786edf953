/**
 * Shared helpers of the pipeline suites: an isolated bus topology per suite, service processes
 * started from their built `dist` (so SIGKILL is real), a snapshot reader that resolves
 * object-store references, and a model sink that applies snapshot diffs the way invariant 5 says.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeSnapshotMessage } from '@kollect/aggregate';
import {
  busNames,
  connectBus,
  ensureTopology,
  JsonKv,
  PLAN_KEY,
  publishJson,
  putPlan,
  type Bus,
  type BusNames,
  type TopologyOptions,
} from '@kollect/bus';
import {
  BUS_SCHEMA_VERSION,
  checksumItems,
  objectMsgId,
  rowKeyOf,
  rowKeyString,
  subjects,
  watchSyncKey,
  type Gvr,
  type InventoryRef,
  type Item,
  type ObjectMessage,
  type SnapshotMessage,
  type WatchSyncState,
} from '@kollect/contracts';
import {
  PLAN_SCHEMA_VERSION,
  targetKey,
  type CompiledInventory,
  type CompiledPlan,
  type CompiledTarget,
} from '@kollect/plan';
import { REPO_ROOT, requireTestbed, testbedEnv } from '../support/testbed.js';

const execFileP = promisify(execFile);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `cond` until true or the deadline; returns whether it became true. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(everyMs);
  }
  return cond();
}

export interface PipelineBus {
  bus: Bus;
  names: BusNames;
  prefix: string;
  putPlan(plan: CompiledPlan): Promise<void>;
  /** Record a watch's sync state the way the watcher does. */
  setSync(
    cluster: string,
    gvr: Gvr,
    namespace: string | null,
    state: WatchSyncState['state'],
    objectSeq?: number,
  ): Promise<void>;
  cleanup(): Promise<void>;
}

/** An isolated copy of the topology under a unique prefix (deleted by `cleanup`). */
export async function pipelineBus(
  tag: string,
  topo: Omit<TopologyOptions, 'names'> = {},
): Promise<PipelineBus> {
  requireTestbed('nats');
  const bus = await connectBus({ servers: testbedEnv.natsUrl, name: `e2e-${tag}` });
  const prefix = `t${tag}${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const names = busNames(prefix);
  await ensureTopology(bus.jsm, { ...topo, names });
  const planKv = await JsonKv.open(bus, names.buckets.plan);
  const stateKv = await JsonKv.open(bus, names.buckets.state);
  return {
    bus,
    names,
    prefix,
    async putPlan(plan) {
      await putPlan(planKv, PLAN_KEY, plan, { schemaVersion: PLAN_SCHEMA_VERSION });
    },
    async setSync(cluster, gvr, namespace, state, objectSeq) {
      const v: WatchSyncState = {
        schemaVersion: BUS_SCHEMA_VERSION,
        cluster,
        gvr,
        namespace,
        state,
        at: new Date().toISOString(),
        ...(objectSeq !== undefined ? { objectSeq } : {}),
      };
      await stateKv.put(watchSyncKey(cluster, gvr, namespace), v);
    },
    async cleanup() {
      const streams = [
        ...Object.values(names.streams),
        ...Object.values(names.buckets).map((b) => (b === names.buckets.full ? `OBJ_${b}` : `KV_${b}`)),
      ];
      for (const s of streams) await bus.jsm.streams.delete(s).catch(() => undefined);
      await bus.close();
    },
  };
}

// ------------------------------------------------------------------ service processes

/** A service running as its own node process. */
export interface ServiceProcess {
  readonly name: string;
  readonly proc: ChildProcess;
  /** Log lines (JSON) seen so far. */
  readonly logs: string[];
  /** SIGKILL (default) or another signal; resolves when the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM and wait for the graceful exit. */
  stop(): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

const built = new Set<string>();

/** Build an app once per test run (apps run from dist). */
export async function buildApp(app: string): Promise<void> {
  if (built.has(app)) return;
  await execFileP('npx', ['tsc', '-b', join('apps', app)], { cwd: REPO_ROOT, timeout: 300_000 });
  built.add(app);
}

/** Start `apps/<app>/dist/main.js` with the given environment (on top of PATH/HOME). */
export async function startService(
  app: string,
  env: Record<string, string>,
  name = app,
): Promise<ServiceProcess> {
  await buildApp(app);
  const main = join(REPO_ROOT, 'apps', app, 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} missing after build`);
  const proc = spawn(process.execPath, [main], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      KOLLECT_HTTP_PORT: '0',
      KOLLECT_HTTP_HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const collect = (b: Buffer): void => {
    for (const line of b.toString('utf8').split('\n')) if (line.trim()) logs.push(line);
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    name,
    proc,
    logs,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      await exited;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

/** Wait until a log line matching `re` appears. */
export function waitForLog(p: ServiceProcess, re: RegExp, timeoutMs: number): Promise<boolean> {
  return waitFor(() => p.logs.some((l) => re.test(l)), timeoutMs, 50);
}

// ------------------------------------------------------------------ snapshots

/** Reads every snapshot message of the suite's topology (resolving object-store references). */
export class SnapshotReader {
  readonly messages: SnapshotMessage[] = [];
  #stop: (() => void) | undefined;

  static async start(pb: PipelineBus): Promise<SnapshotReader> {
    const r = new SnapshotReader();
    const consumer = await pb.bus.js.consumers.get(pb.names.streams.snapshots, {
      filter_subjects: pb.names.subject(subjects.snapshotsAll),
    });
    const store = await pb.bus.objm.open(pb.names.buckets.full);
    const iter = await consumer.consume();
    r.#stop = () => void iter.stop();
    void (async () => {
      for await (const m of iter) {
        let msg = decodeSnapshotMessage(m.data);
        if (msg.objectRef) {
          const data = await store.getBlob(msg.objectRef.name);
          if (!data) throw new Error(`object ${msg.objectRef.name} missing`);
          msg = decodeSnapshotMessage(data);
        }
        r.messages.push(msg);
      }
    })();
    return r;
  }

  of(inv: InventoryRef): SnapshotMessage[] {
    return this.messages.filter(
      (m) =>
        m.inventory.kind === inv.kind &&
        m.inventory.namespace === inv.namespace &&
        m.inventory.name === inv.name,
    );
  }

  last(inv: InventoryRef): SnapshotMessage | undefined {
    const all = this.of(inv);
    return all[all.length - 1];
  }

  stop(): void {
    this.#stop?.();
  }
}

/** A sink that applies snapshots as invariant 5 says, and checks the chain and the checksum. */
export class ModelSink {
  rows = new Map<string, Item>();
  generation = 0;
  readonly problems: string[] = [];

  apply(m: SnapshotMessage): void {
    if (m.exportGeneration <= this.generation) return; // redelivery of an applied generation
    if (m.kind === 'full') {
      this.rows = new Map(m.upserts.map((i) => [rowKeyString(rowKeyOf(i)), i]));
    } else {
      if (m.previousGeneration !== this.generation) {
        this.problems.push(
          `gap: at ${this.generation}, got diff ${m.previousGeneration}->${m.exportGeneration}`,
        );
      }
      for (const k of m.deletes) this.rows.delete(rowKeyString(k));
      for (const i of m.upserts) this.rows.set(rowKeyString(rowKeyOf(i)), i);
    }
    this.generation = m.exportGeneration;
    if (checksumItems([...this.rows.values()]) !== m.checksum)
      this.problems.push(`checksum mismatch at generation ${m.exportGeneration}`);
    if (this.rows.size !== m.itemCount)
      this.problems.push(`itemCount mismatch at generation ${m.exportGeneration}`);
  }

  static of(messages: SnapshotMessage[]): ModelSink {
    const s = new ModelSink();
    for (const m of messages) s.apply(m);
    return s;
  }
}

// ------------------------------------------------------------------ plans and rows

export const DEPLOYMENTS: Gvr = { group: 'apps', version: 'v1', resource: 'deployments' };

export function testTarget(
  namespace: string,
  name: string,
  feeds: { inventory: InventoryRef; partition: number }[],
): CompiledTarget {
  return {
    kind: 'KollectTarget',
    namespace,
    name,
    uid: `target-${namespace}-${name}`,
    generation: 1,
    profileKey: `${namespace}/deployments`,
    namespaces: [namespace],
    rules: [],
    watchMode: 'All',
    feeds: feeds.map((f) => ({ inventory: f.inventory, partition: f.partition, namespaces: null })),
  };
}

export function testInventory(
  ref: InventoryRef,
  partition: number,
  targets: CompiledTarget[],
  over: Partial<CompiledInventory> = {},
): CompiledInventory {
  return {
    ref,
    uid: `inv-${ref.namespace}-${ref.name}`,
    generation: 1,
    partition,
    targets: targets.map(targetKey),
    dedupe: 'keepAll',
    gvrs: [DEPLOYMENTS],
    exportMinIntervalMs: 30_000,
    bindings: [],
    ...over,
  };
}

export function testPlan(
  generation: number,
  cluster: string,
  partitions: number,
  targets: CompiledTarget[],
  inventories: CompiledInventory[],
): CompiledPlan {
  return {
    schemaVersion: PLAN_SCHEMA_VERSION,
    generation,
    compiledAt: new Date().toISOString(),
    settings: {
      cluster,
      partitions,
      maxExportBytes: 1_572_864,
      scrubKeys: [],
      celCostLimit: 1_000_000,
      celTimeoutMs: 100,
    },
    watches: [
      {
        gvr: DEPLOYMENTS,
        gvk: { group: 'apps', version: 'v1', kind: 'Deployment' },
        namespaced: true,
        namespaces: null,
      },
    ],
    profiles: {},
    targets,
    inventories,
    sinks: [],
    namespaceWatch: {},
  };
}

export function deploymentItem(
  targetNamespace: string,
  targetName: string,
  uid: string,
  attributes: Record<string, unknown>,
): Item {
  return {
    targetNamespace,
    targetName,
    namespace: targetNamespace,
    name: `deploy-${uid}`,
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    uid,
    attributes,
  };
}

// ------------------------------------------------------------------ objects (as the watcher publishes them)

/** A stripped Deployment as the watcher publishes it. */
export function deploymentObject(o: {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: number;
  image: string;
  replicas?: number;
  labels?: Record<string, string>;
  extra?: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: o.name,
      namespace: o.namespace,
      uid: o.uid,
      resourceVersion: String(o.resourceVersion),
      labels: o.labels ?? {},
    },
    spec: {
      replicas: o.replicas ?? 1,
      template: { spec: { containers: [{ name: 'main', image: o.image }] } },
      ...(o.extra ?? {}),
    },
  };
}

/** Publish an object message (upsert, or a tombstone when `object` is undefined); returns its stream sequence. */
export async function publishObject(
  pb: PipelineBus,
  cluster: string,
  gvr: Gvr,
  meta: { namespace: string; name: string; uid: string; resourceVersion: number },
  object: Record<string, unknown> | undefined,
): Promise<number> {
  const op = object ? 'upsert' : 'delete';
  const msg: ObjectMessage = {
    schemaVersion: BUS_SCHEMA_VERSION,
    op,
    cluster,
    gvr,
    kind: 'Deployment',
    namespace: meta.namespace,
    name: meta.name,
    uid: meta.uid,
    resourceVersion: String(meta.resourceVersion),
    origin: 'watch',
    ...(object ? { object } : {}),
  };
  const pa = await publishJson(pb.bus, pb.names.subject(subjects.object(cluster, gvr, meta.uid)), msg, {
    msgId: objectMsgId(meta.uid, String(meta.resourceVersion), op),
  });
  return pa.seq;
}
