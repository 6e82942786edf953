/**
 * Shared setup of the controller suites: the CRDs applied to the test bed's kube-apiserver, an
 * admin KubeClient, an isolated bus topology (unique prefix), and controller processes started
 * from apps/controller/dist with the environment main.ts reads.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { JsonKv, PLAN_KEY, getPlan, type Bus } from '@kollect/bus';
import { KIND_DEFINITIONS, KINDS, type KollectKind } from '@kollect/crd-types';
import {
  KubeClient,
  KubeConflict,
  KubeNotFound,
  objectPath,
  collectionPath,
  type KubeObject,
} from '@kollect/kube';
import type { CompiledPlan } from '@kollect/plan';
import { REPO_ROOT, requireTestbed, testbedEnv, uniqueName } from '../support/testbed.js';

const execFileP = promisify(execFile);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll until `fn` returns a defined value (or throw with `what` at the deadline). */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}

export function adminClient(): KubeClient {
  requireTestbed('kube-apiserver');
  return new KubeClient({ kubeconfigPath: testbedEnv.kubeconfig });
}

/** Apply the generated CRDs (crds/*.yaml) and wait until each is Established. */
export async function applyCrds(kube: KubeClient): Promise<void> {
  const dir = join(REPO_ROOT, 'crds');
  const base = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
  for (const file of readdirSync(dir).filter((f) => f.startsWith('kollect.dev_') && f.endsWith('.yaml'))) {
    const crd = parse(readFileSync(join(dir, file), 'utf8')) as KubeObject;
    const name = crd.metadata!.name!;
    try {
      await kube.request('POST', base, { body: crd });
    } catch (err) {
      if (!KubeConflict.is(err)) throw err;
      const current = await kube.request<KubeObject>('GET', `${base}/${name}`);
      await kube.request('PUT', `${base}/${name}`, {
        body: { ...crd, metadata: { ...crd.metadata, resourceVersion: current.metadata?.resourceVersion } },
      });
    }
  }
  for (const kind of KINDS) {
    const name = `${KIND_DEFINITIONS[kind].plural}.kollect.dev`;
    await eventually(`CRD ${name} Established`, async () => {
      const c = await kube.request<{ status?: { conditions?: { type: string; status: string }[] } }>(
        'GET',
        `${base}/${name}`,
      );
      return c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')
        ? true
        : undefined;
    });
  }
}

export async function createNamespace(
  kube: KubeClient,
  name: string,
  labels: Record<string, string> = {},
): Promise<void> {
  await kube.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } },
  });
}

const gvrOf = (kind: KollectKind) => ({
  group: 'kollect.dev',
  version: 'v1alpha1',
  resource: KIND_DEFINITIONS[kind].plural,
});
const nsOf = (kind: KollectKind, ns: string | undefined) =>
  KIND_DEFINITIONS[kind].scope === 'Namespaced' ? ns : undefined;

/** Create a Kollect object. */
export async function create(
  kube: KubeClient,
  kind: KollectKind,
  namespace: string | undefined,
  name: string,
  spec: unknown,
  metadata: Record<string, unknown> = {},
): Promise<KubeObject> {
  return kube.request<KubeObject>('POST', collectionPath(gvrOf(kind), nsOf(kind, namespace)), {
    body: {
      apiVersion: 'kollect.dev/v1alpha1',
      kind,
      metadata: { name, ...(nsOf(kind, namespace) ? { namespace } : {}), ...metadata },
      spec,
    },
  });
}

export async function get(
  kube: KubeClient,
  kind: KollectKind,
  namespace: string | undefined,
  name: string,
): Promise<KubeObject> {
  return kube.request<KubeObject>('GET', objectPath(gvrOf(kind), name, nsOf(kind, namespace)));
}

export async function tryGet(
  kube: KubeClient,
  kind: KollectKind,
  namespace: string | undefined,
  name: string,
): Promise<KubeObject | undefined> {
  try {
    return await get(kube, kind, namespace, name);
  } catch (err) {
    if (KubeNotFound.is(err)) return undefined;
    throw err;
  }
}

export async function mergePatch(
  kube: KubeClient,
  kind: KollectKind,
  namespace: string | undefined,
  name: string,
  patch: unknown,
): Promise<KubeObject> {
  return kube.request<KubeObject>('PATCH', objectPath(gvrOf(kind), name, nsOf(kind, namespace)), {
    body: patch,
    contentType: 'application/merge-patch+json',
  });
}

export async function remove(
  kube: KubeClient,
  kind: KollectKind,
  namespace: string | undefined,
  name: string,
): Promise<void> {
  await kube.request('DELETE', objectPath(gvrOf(kind), name, nsOf(kind, namespace)));
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export function conditionOf(obj: KubeObject | undefined, type: string): Condition | undefined {
  return ((obj?.['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []).find(
    (c) => c.type === type,
  );
}

/** Environment of one controller replica under test. */
export interface ReplicaEnv {
  prefix: string;
  cluster: string;
  leaseNamespace: string;
  watchNamespaces: string[];
  extra?: Record<string, string>;
}

export function uniquePrefix(tag: string): string {
  return `t${tag}${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
}

let built: Promise<unknown> | undefined;

/** Build the controller once per run (apps run from dist). */
export function buildController(): Promise<unknown> {
  built ??= execFileP('npx', ['tsc', '-b', join('apps', 'controller')], { cwd: REPO_ROOT, timeout: 600_000 });
  return built;
}

/** One controller process, observed through its JSON log lines. */
export interface Replica {
  readonly name: string;
  readonly logs: Record<string, unknown>[];
  /** The Lease identity it logs (`KOLLECT_POD_NAME` + random suffix). */
  identity(): string | undefined;
  /** Leading according to its last leadership log line. */
  leading(): boolean;
  /** Generations of the plans it published. */
  published(): number[];
  /** SIGTERM and wait (graceful: the Lease is released). */
  stop(): Promise<number | null>;
  /** SIGKILL and wait (a crash: the Lease must expire). */
  kill(): Promise<void>;
}

/** Start `apps/controller/dist/main.js` configured for the suite (the env main.ts reads). */
export async function startReplica(env: ReplicaEnv, pod: string): Promise<Replica> {
  requireTestbed('kube-apiserver', 'nats');
  await buildController();
  const main = join(REPO_ROOT, 'apps', 'controller', 'dist', 'main.js');
  const proc: ChildProcess = spawn(process.execPath, [main], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      KOLLECT_NATS_URL: testbedEnv.natsUrl,
      KOLLECT_BUS_PREFIX: env.prefix,
      KOLLECT_CLUSTER: env.cluster,
      KUBECONFIG: testbedEnv.kubeconfig,
      KOLLECT_POD_NAME: pod,
      KOLLECT_HTTP_PORT: '0',
      KOLLECT_HTTP_HOST: '127.0.0.1',
      KOLLECT_LEASE_NAMESPACE: env.leaseNamespace,
      KOLLECT_LEASE_DURATION: '4s',
      KOLLECT_LEASE_RENEW_DEADLINE: '3s',
      KOLLECT_LEASE_RETRY_PERIOD: '1s',
      KOLLECT_WATCH_NAMESPACES: env.watchNamespaces.join(','),
      // Cluster kinds are global on the shared apiserver: keep the suites to their own namespaces.
      KOLLECT_TENANT_MODE: 'true',
      KOLLECT_ALLOW_PRIVATE_ENDPOINTS: 'true',
      KOLLECT_RESYNC_INTERVAL: '5s',
      KOLLECT_LOG_LEVEL: 'info',
      ...env.extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let buf = '';
  const collect = (b: Buffer): void => {
    buf += b.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
      if (process.env['KOLLECT_TEST_LOG_LEVEL']) console.log(`[${pod}] ${line}`);
    }
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const replica: Replica = {
    name: pod,
    logs,
    identity: () => logs.find((l) => typeof l['identity'] === 'string')?.['identity'] as string | undefined,
    leading: () => {
      const last = [...logs]
        .reverse()
        .find(
          (l) =>
            l['msg'] === 'leading: compiling and writing' || l['msg'] === 'stopped leading: no more writes',
        );
      return last?.['msg'] === 'leading: compiling and writing';
    },
    published: () => logs.filter((l) => l['msg'] === 'plan published').map((l) => l['generation'] as number),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
  await eventually(
    `${pod} started`,
    () => {
      if (proc.exitCode !== null)
        throw new Error(`${pod} exited with ${proc.exitCode}: ${JSON.stringify(logs.slice(-5))}`);
      return logs.some((l) => l['msg'] === 'controller started') ? true : undefined;
    },
    60_000,
  );
  return replica;
}

/** Read the published plan of a cluster from the isolated plan bucket. */
export async function readPlan(bus: Bus, prefix: string, cluster: string): Promise<CompiledPlan | undefined> {
  const kv = await JsonKv.open<unknown>(bus, `${prefix}_kollect_plan`);
  // getPlan reads compressed (large) plans too.
  const plan = (await getPlan(kv, PLAN_KEY))?.value as CompiledPlan | undefined;
  return plan?.settings.cluster === cluster ? plan : undefined;
}

/** Delete the isolated topology of a prefix. */
export async function deleteTopology(bus: Bus, prefix: string): Promise<void> {
  const streams = await bus.jsm.streams.names().next();
  for (const s of streams)
    if (s.startsWith(`${prefix}_`) || s.startsWith(`KV_${prefix}_`) || s.startsWith(`OBJ_${prefix}_`))
      await bus.jsm.streams.delete(s).catch(() => undefined);
}

export { uniqueName };
