import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  busNames,
  connectBus,
  ensureTopology,
  type Bus,
  type BusNames,
  type TopologyOptions,
} from '@kollect/bus';
import { KubeClient } from '@kollect/kube';
import { ensureNamespace } from './kube.js';
import { metricSum, parseMetrics, type MetricSample } from './metrics.js';
import { ServiceProcess, type ServiceInfo } from './process.js';

const execFileP = promisify(execFile);

/** The services a stack can run (each is `apps/<kind>`). */
export const SERVICE_KINDS = [
  'controller',
  'watcher',
  'extractor',
  'aggregator',
  'sink-snapshot',
  'sink-database',
] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];

/** The repository root (tools/stack/{src,dist}/ → ../../..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Replicas started when a stack does not say otherwise: the whole pipeline, scaled out where it can be. */
export const DEFAULT_REPLICAS: Readonly<Record<ServiceKind, number>> = {
  controller: 1,
  watcher: 1,
  extractor: 2,
  aggregator: 2,
  'sink-snapshot': 0,
  'sink-database': 0,
};

/** The order services start in (the controller publishes the plan every other service waits for). */
const START_ORDER: readonly ServiceKind[] = SERVICE_KINDS;

/** Options of {@link Stack.start}. */
export interface StackOptions {
  /** NATS server(s) (the test bed's `KOLLECT_TEST_NATS_URL`). */
  natsUrl: string;
  /** Admin kubeconfig path (the test bed's `KOLLECT_TEST_KUBECONFIG`). */
  kubeconfig: string;
  /** Cluster label of the pipeline (subjects, rows, plan key). */
  cluster: string;
  /**
   * Bus name prefix (streams `<p>_KOLLECT_…`, subjects `<p>.kollect.…`): suites running on one
   * NATS server never see each other. `''` (default) = the production names.
   */
  prefix?: string;
  /** Directory for logs and `stack.json`; default: a fresh `kollect-stack-*` under the OS temp dir. */
  runDir?: string;
  /** Aggregator partition count (controller `KOLLECT_PARTITIONS`), default 8. */
  partitions?: number;
  /** Replicas per service (see {@link DEFAULT_REPLICAS}); 0 leaves a service out. */
  replicas?: Partial<Record<ServiceKind, number>>;
  /**
   * Controller cache boundary (`KOLLECT_WATCH_NAMESPACES`), also the sink workers' prober watches;
   * empty = every namespace.
   */
  watchNamespaces?: string[];
  /** Controller `KOLLECT_TENANT_MODE` (cluster kinds ignored): keeps a suite off other suites' cluster kinds. */
  tenantMode?: boolean;
  /** Namespace of the controller and watcher Leases (created if missing), default `kollect-system`. */
  leaseNamespace?: string;
  /** `KOLLECT_LOG_LEVEL` of every service (default `info`). */
  logLevel?: string;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Extra environment per service kind (wins over `env`). */
  serviceEnv?: Partial<Record<ServiceKind, Record<string, string>>>;
  /**
   * Topology the stack creates before the services start (they then skip their own
   * `ensureTopology`). `false`: each service ensures the default topology itself.
   */
  topology?: Omit<TopologyOptions, 'names'> | false;
  /** Wait for every service's /readyz (default true); otherwise only until each listens. */
  waitReady?: boolean;
  /** Deadline for one service to listen / be ready (default 90 s). */
  startTimeoutMs?: number;
  /** Build the apps first with `tsc -b` (default true; cached per process). */
  build?: boolean;
  /** Progress: an instance listens (`started`) or answers /readyz (`ready`). */
  onServiceState?: (name: string, state: 'started' | 'ready') => void;
}

/** A running instance: its state plus its fault hooks. */
export interface StackService extends ServiceInfo {
  kind: ServiceKind;
}

const built = new Set<string>();

/**
 * Build apps with `tsc -b` (incremental: a no-op when up to date). Cached per process, so a test
 * run builds each app once.
 */
export async function buildServices(apps: readonly string[], root = REPO_ROOT): Promise<void> {
  const todo = apps.filter((a) => !built.has(a));
  if (todo.length === 0) return;
  try {
    await execFileP('npx', ['tsc', '-b', ...todo.map((a) => join('apps', a))], {
      cwd: root,
      timeout: 600_000,
    });
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(`building ${todo.join(', ')} failed:\n${err.stdout ?? ''}${err.stderr ?? ''}`, {
      cause: e,
    });
  }
  for (const a of todo) built.add(a);
}

/** A Kubernetes object name derived from a bus prefix (lower case, `-` for `_`). */
export function leaseSuffix(prefix: string): string {
  return prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** Instance names: `controller` for a single replica, `extractor-1`, `extractor-2`, … otherwise. */
export function instanceName(kind: ServiceKind, index: number, replicas: number): string {
  return replicas === 1 && index === 1 ? kind : `${kind}-${index}`;
}

/**
 * The environment of one service instance: connection, isolation (bus prefix, lease names),
 * HTTP on a free loopback port, and the per-kind settings the apps read (see each app's config.ts).
 */
export function serviceEnv(
  o: StackOptions,
  kind: ServiceKind,
  name: string,
  runDir = tmpdir(),
): Record<string, string> {
  const prefix = o.prefix ?? '';
  const suffix = leaseSuffix(prefix);
  const env: Record<string, string> = {
    KOLLECT_NATS_URL: o.natsUrl,
    KOLLECT_BUS_PREFIX: prefix,
    KOLLECT_ENSURE_TOPOLOGY: o.topology === false ? 'true' : 'false',
    KOLLECT_CLUSTER: o.cluster,
    KOLLECT_HTTP_PORT: '0',
    KOLLECT_HTTP_HOST: '127.0.0.1',
    KOLLECT_LOG_LEVEL: o.logLevel ?? 'info',
    KOLLECT_POD_NAME: name,
    KOLLECT_PARTITIONS: String(o.partitions ?? 8),
  };
  if (kind === 'controller' || kind === 'watcher' || kind.startsWith('sink-')) {
    // Every service that talks to the apiserver reads the same variables (serviceEnv/kubeEnv/
    // leaseEnv of @kollect/observability); a sink worker's Lease is its prober's.
    env['KUBECONFIG'] = o.kubeconfig;
    env['KOLLECT_LEASE_NAMESPACE'] = o.leaseNamespace ?? 'kollect-system';
    const lease = kind.startsWith('sink-') ? `kollect-${kind}-prober` : `kollect-${kind}`;
    env['KOLLECT_LEASE_NAME'] = suffix ? `${lease}-${suffix}` : lease;
  }
  if (kind.startsWith('sink-')) {
    env['KOLLECT_ALLOW_PRIVATE_ENDPOINTS'] = 'true';
    env['KOLLECT_SINK_WORK_DIR'] = join(runDir, 'work', name);
    // The prober watches sinks and connection tests within the controller's boundary.
    if (o.watchNamespaces?.length) env['KOLLECT_WATCH_NAMESPACES'] = o.watchNamespaces.join(',');
  }
  if (kind === 'controller') {
    if (o.watchNamespaces?.length) env['KOLLECT_WATCH_NAMESPACES'] = o.watchNamespaces.join(',');
    if (o.tenantMode) env['KOLLECT_TENANT_MODE'] = 'true';
    // The test bed's sinks listen on loopback, which the SSRF guard rejects by default.
    env['KOLLECT_ALLOW_PRIVATE_ENDPOINTS'] = 'true';
  }
  return { ...env, ...(o.env ?? {}), ...(o.serviceEnv?.[kind] ?? {}) };
}

/**
 * The Kollect services as separate OS processes against one NATS server and one apiserver: the
 * launcher of the demo, the e2e suites and the benchmarks. Each instance logs to
 * `<runDir>/<name>.log`; `<runDir>/stack.json` lists pids, ports and logs.
 */
export class Stack {
  readonly options: StackOptions;
  readonly runDir: string;
  readonly names: BusNames;
  /** An admin connection of the launcher (topology, tests' own reads). */
  readonly bus: Bus;
  readonly #procs: { kind: ServiceKind; proc: ServiceProcess }[] = [];
  readonly #onExit = (): void => {
    for (const p of this.#procs) p.proc.killNow();
  };
  #closed = false;

  private constructor(options: StackOptions, runDir: string, bus: Bus) {
    this.options = options;
    this.runDir = runDir;
    this.names = busNames(options.prefix ?? '');
    this.bus = bus;
    process.once('exit', this.#onExit);
  }

  /**
   * Build (unless `build: false`), create the topology, then start the controller and wait until it
   * is ready, then every other service in parallel and wait for each.
   */
  static async start(options: StackOptions): Promise<Stack> {
    const replicas = { ...DEFAULT_REPLICAS, ...(options.replicas ?? {}) };
    const kinds = START_ORDER.filter((k) => replicas[k] > 0);
    if (options.build !== false) await buildServices(kinds);
    const runDir = options.runDir ?? mkdtempSync(join(tmpdir(), 'kollect-stack-'));
    mkdirSync(runDir, { recursive: true });
    const bus = await connectBus({
      servers: options.natsUrl,
      name: `kollect-stack-${options.prefix || 'default'}`,
    });
    const stack = new Stack(options, runDir, bus);
    try {
      if (options.topology !== false)
        await ensureTopology(bus.jsm, { ...(options.topology ?? {}), names: stack.names });
      const kube = new KubeClient({ kubeconfigPath: options.kubeconfig });
      try {
        await ensureNamespace(kube, options.leaseNamespace ?? 'kollect-system');
      } finally {
        kube.close();
      }
      for (const kind of kinds)
        for (let i = 1; i <= replicas[kind]; i++) stack.#add(kind, instanceName(kind, i, replicas[kind]));
      const first = stack.#procs.filter((p) => p.kind === 'controller');
      const rest = stack.#procs.filter((p) => p.kind !== 'controller');
      await Promise.all(first.map((p) => stack.#launch(p.proc)));
      await Promise.all(rest.map((p) => stack.#launch(p.proc)));
      return stack;
    } catch (err) {
      await stack.shutdown().catch(() => undefined);
      throw err;
    }
  }

  #add(kind: ServiceKind, name: string): ServiceProcess {
    const proc = new ServiceProcess(
      { name, app: kind, env: serviceEnv(this.options, kind, name) },
      this.runDir,
      REPO_ROOT,
    );
    this.#procs.push({ kind, proc });
    return proc;
  }

  async #launch(proc: ServiceProcess): Promise<void> {
    const timeout = this.options.startTimeoutMs ?? 90_000;
    await proc.start(timeout);
    this.#writeState();
    this.options.onServiceState?.(proc.name, 'started');
    if (this.options.waitReady !== false) {
      await proc.waitReady(timeout);
      this.options.onServiceState?.(proc.name, 'ready');
    }
  }

  #writeState(): void {
    try {
      writeFileSync(
        join(this.runDir, 'stack.json'),
        JSON.stringify(
          { prefix: this.options.prefix ?? '', cluster: this.options.cluster, services: this.services() },
          null,
          2,
        ),
      );
    } catch {
      // the run directory is informational only
    }
  }

  #find(name: string): { kind: ServiceKind; proc: ServiceProcess } {
    const p = this.#procs.find((x) => x.proc.name === name);
    if (!p)
      throw new Error(
        `no service ${JSON.stringify(name)} in this stack (have: ${this.#procs.map((x) => x.proc.name).join(', ')})`,
      );
    return p;
  }

  /** Every instance with its state. */
  services(): StackService[] {
    return this.#procs.map((p) => ({ kind: p.kind, ...p.proc.info() }));
  }

  /** Instance names of one kind (`['extractor-1', 'extractor-2']`). */
  instances(kind: ServiceKind): string[] {
    return this.#procs.filter((p) => p.kind === kind).map((p) => p.proc.name);
  }

  /** The process handle of an instance (logs, /metrics, readiness). */
  service(name: string): ServiceProcess {
    return this.#find(name).proc;
  }

  /** Fault hook: send a signal (default SIGKILL, no cleanup at all) and wait until the process is gone. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.#find(name).proc.kill(signal);
    this.#writeState();
  }

  /** Graceful stop (SIGTERM; SIGKILL after 30 s). */
  async stop(name: string): Promise<void> {
    await this.#find(name).proc.stop();
    this.#writeState();
  }

  /**
   * Start a stopped or killed instance again with the same name and environment; `env` adds or
   * overrides variables for this start only (a rolling upgrade with changed settings).
   */
  async start(name: string, opts: { waitReady?: boolean; env?: Record<string, string> } = {}): Promise<void> {
    const { proc } = this.#find(name);
    await proc.start(this.options.startTimeoutMs ?? 90_000, opts.env ?? {});
    this.#writeState();
    if (opts.waitReady ?? this.options.waitReady !== false)
      await proc.waitReady(this.options.startTimeoutMs ?? 90_000);
  }

  /** Fault hook: kill (SIGKILL by default) and start again. */
  async restart(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.kill(name, signal);
    await this.start(name);
  }

  /** Start one more replica of a kind; returns its name. */
  async addReplica(kind: ServiceKind): Promise<string> {
    await buildServices([kind]);
    const n = this.#procs.filter((p) => p.kind === kind).length + 1;
    const name = `${kind}-${n}`;
    if (this.#procs.some((p) => p.proc.name === name)) throw new Error(`instance ${name} exists`);
    const proc = this.#add(kind, name);
    await this.#launch(proc);
    return name;
  }

  /** Parsed /metrics of one instance. */
  async metrics(name: string): Promise<MetricSample[]> {
    return parseMetrics(await this.#find(name).proc.metrics());
  }

  /** Sum of a metric over every running instance of a kind (or one instance by name). */
  async metricSum(
    kindOrName: ServiceKind | string,
    metric: string,
    labels: Record<string, string> = {},
  ): Promise<number> {
    const procs = this.#procs.filter((p) => p.kind === kindOrName || p.proc.name === kindOrName);
    let sum = 0;
    for (const p of procs) if (p.proc.running) sum += metricSum(await p.proc.metrics(), metric, labels);
    return sum;
  }

  /**
   * Stop every instance, most dependent first (sinks, aggregators, extractors, watcher, controller),
   * each gracefully; close the launcher's connection. With `deleteTopology` (prefixed stacks only)
   * the streams and buckets of the prefix are deleted too.
   */
  async shutdown(opts: { deleteTopology?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const order = [...START_ORDER].reverse();
    for (const kind of order) {
      await Promise.all(this.#procs.filter((p) => p.kind === kind).map((p) => p.proc.stop(20_000)));
    }
    this.#writeState();
    if (opts.deleteTopology) await this.deleteTopology().catch(() => undefined);
    process.removeListener('exit', this.#onExit);
    await this.bus.close().catch(() => undefined);
  }

  /** Delete every stream, KV bucket and object store of this stack's prefix (refuses the production names). */
  async deleteTopology(): Promise<void> {
    if (!this.names.prefix) throw new Error('refusing to delete the unprefixed (production) topology');
    const streams = [
      ...Object.values(this.names.streams),
      ...Object.entries(this.names.buckets).map(([k, b]) => (k === 'full' ? `OBJ_${b}` : `KV_${b}`)),
    ];
    for (const s of streams) await this.bus.jsm.streams.delete(s).catch(() => undefined);
  }

  /** The log file of an instance. */
  logFile(name: string): string {
    return this.#find(name).proc.logFile;
  }
}

/** True when the built entry point of an app exists (e.g. a sink worker that has not landed yet). */
export function appExists(app: string, root = REPO_ROOT): boolean {
  return existsSync(join(root, 'apps', app, 'package.json'));
}
