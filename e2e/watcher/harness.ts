/**
 * Runs the watcher service as its own process against the test bed (isolated bus prefix, its own
 * lease) and reads what it wrote: the object log, sync states, status reports, and every object
 * message as it was published (a core subscription on the object subjects).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  JsonKv,
  PLAN_KEY,
  busNames,
  connectBus,
  ensureTopology,
  lastPerSubject,
  putPlan,
  type Bus,
  type BusNames,
  type TopologyOptions,
} from '@kollect/bus';
import {
  subjects,
  watchSyncKey,
  type Gvr,
  type ObjectMessage,
  type WatchSyncState,
} from '@kollect/contracts';
import { PLAN_SCHEMA_VERSION, type CompiledPlan, type WatchSpec } from '@kollect/plan';
import { REPO_ROOT, testbedEnv } from '../support/testbed.js';

export const MAIN = join(REPO_ROOT, 'apps', 'watcher', 'dist', 'main.js');

export interface WatcherProc {
  child: ChildProcess;
  pid: number;
  output: string[];
  exited: Promise<number | null>;
}

export class Harness {
  readonly cluster = `c-${randomBytes(3).toString('hex')}`;
  readonly prefix = `w${randomBytes(3).toString('hex')}`;
  readonly lease = `kollect-watcher-${randomBytes(3).toString('hex')}`;
  readonly names: BusNames = busNames(this.prefix);
  bus!: Bus;
  state!: JsonKv<unknown>;
  plan!: JsonKv<unknown>;
  /** Every object message published, in arrival order. */
  readonly seen: ObjectMessage[] = [];
  readonly procs: WatcherProc[] = [];
  #generation = 0;

  async setup(topology: Omit<TopologyOptions, 'names'> = {}): Promise<void> {
    this.bus = await connectBus({ servers: testbedEnv.natsUrl, name: 'e2e-watcher' });
    await ensureTopology(this.bus.jsm, { ...topology, names: this.names });
    this.state = await JsonKv.open(this.bus, this.names.buckets.state);
    this.plan = await JsonKv.open(this.bus, this.names.buckets.plan);
    const sub = this.bus.nc.subscribe(this.names.subject(`kollect.obj.${this.cluster}.>`));
    void (async () => {
      for await (const m of sub) this.seen.push(m.json<ObjectMessage>());
    })();
  }

  async teardown(): Promise<void> {
    for (const p of this.procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(this.procs.map((p) => p.exited));
    for (const s of Object.values(this.names.streams))
      await this.bus.jsm.streams.delete(s).catch(() => undefined);
    for (const b of Object.values(this.names.buckets)) {
      await this.bus.jsm.streams.delete(`KV_${b}`).catch(() => undefined);
      await this.bus.jsm.streams.delete(`OBJ_${b}`).catch(() => undefined);
    }
    await this.bus.close();
  }

  /** Publish a plan that watches these specs. */
  async putWatches(watches: WatchSpec[]): Promise<void> {
    const plan: CompiledPlan = {
      schemaVersion: PLAN_SCHEMA_VERSION,
      generation: ++this.#generation,
      compiledAt: new Date().toISOString(),
      settings: {
        cluster: this.cluster,
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
    };
    await putPlan(this.plan, PLAN_KEY, plan, { schemaVersion: PLAN_SCHEMA_VERSION });
  }

  /** Start a watcher process. */
  start(extraEnv: Record<string, string> = {}): WatcherProc {
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env['PATH'] ?? '',
        KOLLECT_NATS_URL: testbedEnv.natsUrl,
        KOLLECT_CLUSTER: this.cluster,
        KOLLECT_BUS_PREFIX: this.prefix,
        KUBECONFIG: testbedEnv.kubeconfig,
        KOLLECT_HTTP_PORT: '0',
        KOLLECT_HTTP_HOST: '127.0.0.1',
        KOLLECT_LEASE_NAMESPACE: 'default',
        KOLLECT_LEASE_NAME: this.lease,
        KOLLECT_LEASE_DURATION: '3s',
        KOLLECT_LEASE_RENEW_DEADLINE: '2s',
        KOLLECT_LEASE_RETRY_PERIOD: '500ms',
        KOLLECT_CHECKPOINT_INTERVAL: '500ms',
        KOLLECT_LOG_LEVEL: 'info',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout?.on('data', (d: Buffer) => output.push(...d.toString().split('\n').filter(Boolean)));
    child.stderr?.on('data', (d: Buffer) => output.push(...d.toString().split('\n').filter(Boolean)));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const proc: WatcherProc = { child, pid: child.pid ?? -1, output, exited };
    this.procs.push(proc);
    return proc;
  }

  /** The object log's current view of one GVR: the last message per object subject. */
  async log(gvr: Gvr): Promise<Map<string, ObjectMessage>> {
    const out = new Map<string, ObjectMessage>();
    await lastPerSubject(
      this.bus,
      this.names.streams.objects,
      this.names.subject(subjects.objectsOfGvr(this.cluster, gvr)),
      (m) => {
        const msg = m.json<ObjectMessage>();
        out.set(msg.uid, msg);
      },
    );
    return out;
  }

  async syncState(gvr: Gvr, namespace: string | null): Promise<WatchSyncState | undefined> {
    const e = await this.state.get(watchSyncKey(this.cluster, gvr, namespace));
    return e?.value as WatchSyncState | undefined;
  }
}

export const configmapsIn = (namespaces: string[] | null): WatchSpec => ({
  gvr: { group: '', version: 'v1', resource: 'configmaps' },
  gvk: { group: '', version: 'v1', kind: 'ConfigMap' },
  namespaced: true,
  namespaces,
});

export const secretsIn = (namespaces: string[] | null, allowSecretData = false): WatchSpec => ({
  gvr: { group: '', version: 'v1', resource: 'secrets' },
  gvk: { group: '', version: 'v1', kind: 'Secret' },
  namespaced: true,
  namespaces,
  allowSecretData,
});
