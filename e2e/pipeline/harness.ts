/**
 * The world of a pipeline suite: unique namespaces with the demo scenario (tools/demo) applied to
 * the real apiserver, the whole pipeline started as separate processes by tools/stack under a
 * unique bus prefix, a subscriber of the public snapshot subjects folding diffs into tables, and
 * the oracle's expectations computed from the apiserver's objects.
 *
 * Isolation: the controller runs in tenant mode bounded to the suite's namespaces (the apiserver
 * and NATS are shared with other suites), Leases are named after the prefix. A suite of the
 * cluster kinds turns tenant mode off (`tenantMode: false`) and keeps its cluster-scoped objects
 * apart by name and namespace labels itself.
 */
import { expect } from 'vitest';
import { type TopologyOptions } from '@kollect/bus';
import { checksumItems, inventoryKey, type InventoryRef, type Item } from '@kollect/contracts';
import {
  DEFAULT_SCENARIO,
  kollectResources,
  namespaces,
  scenarioNamespaces,
  workloads,
  type KubeObject,
  type ScenarioOptions,
} from '@kollect/demo';
import { KubeClient } from '@kollect/kube';
import {
  clearTerminatingNamespace,
  Applier,
  installCrds,
  SnapshotFeed,
  Stack,
  type InventoryTable,
  type Manifest,
  type ServiceKind,
} from '@kollect/stack';
import { AuditLog, type AuditMark } from '../support/audit.js';
import { requireTestbed, testbedEnv } from '../support/testbed.js';
import {
  diffRows,
  expectedClusterRows,
  expectedRows,
  kindKey,
  SCENARIO_PROFILES,
  type ApiObject,
  type NamespaceMeta,
  type OracleClusterInventory,
  type OracleProfile,
  type OracleTarget,
} from './oracle.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A short, DNS-safe, unique tag (lowercase). */
export function uniqueTag(prefix: string): string {
  return `${prefix}${Date.now().toString(36).slice(-5)}${Math.floor(Math.random() * 1296)
    .toString(36)
    .padStart(2, '0')}`;
}

/** Service settings that make faults cheap to observe: short leases, fast status. */
export const FAST_ENV: Partial<Record<ServiceKind, Record<string, string>>> = {
  controller: {
    KOLLECT_LEASE_DURATION: '4s',
    KOLLECT_LEASE_RENEW_DEADLINE: '3s',
    KOLLECT_LEASE_RETRY_PERIOD: '1s',
    KOLLECT_RESYNC_INTERVAL: '5s',
  },
  watcher: {
    KOLLECT_LEASE_DURATION: '4s',
    KOLLECT_LEASE_RENEW_DEADLINE: '3s',
    KOLLECT_LEASE_RETRY_PERIOD: '1s',
    KOLLECT_CHECKPOINT_INTERVAL: '1s',
  },
  extractor: { KOLLECT_EXTRACT_HEARTBEAT: '1s' },
  aggregator: { KOLLECT_AGG_STATUS_INTERVAL: '1s', KOLLECT_AGG_COALESCE: '100ms' },
};

export const FAST_TOPOLOGY: Omit<TopologyOptions, 'names'> = { leases: { ttlMs: 3000 } };

const K = 'kollect.dev/v1alpha1';

/** Options of {@link startWorld}. */
export interface WorldOptions {
  /** Short tag for names (letters/digits). */
  tag: string;
  scenario?: Partial<ScenarioOptions>;
  replicas?: Partial<Record<ServiceKind, number>>;
  partitions?: number;
  /** Extra Kollect resources / workloads applied before the stack starts. */
  extra?: (w: { ns: WorldNamespaces }) => Manifest[];
  serviceEnv?: Partial<Record<ServiceKind, Record<string, string>>>;
  /** Do not start the stack (the suite starts its own). */
  noStack?: boolean;
  /**
   * Controller tenant mode (default true: cluster kinds are refused, so suites never act on each
   * other's cluster-scoped objects). False only for a suite of the cluster kinds.
   */
  tenantMode?: boolean;
}

export interface WorldNamespaces {
  teams: string[];
  system: string;
  sandbox: string;
  ingressDenied: string | undefined;
  all: string[];
}

/** The inventory every team namespace has in the scenario. */
export function teamInventory(team: string): InventoryRef {
  return { kind: 'KollectInventory', namespace: team, name: 'team-inventory' };
}

/** The scenario's targets of one team, as the oracle sees them. */
export function scenarioTargets(ns: WorldNamespaces, team: string): OracleTarget[] {
  return [
    {
      namespace: team,
      name: 'web-deployments',
      profile: SCENARIO_PROFILES['deployment-images'] as OracleProfile,
      namespaces: [team],
      matchLabels: { 'app.kubernetes.io/part-of': 'shop' },
    },
    {
      namespace: team,
      name: 'services',
      profile: SCENARIO_PROFILES['service-ports'] as OracleProfile,
      namespaces: [team],
    },
    {
      namespace: team,
      name: 'ingresses',
      profile: SCENARIO_PROFILES['ingress-hosts'] as OracleProfile,
      namespaces: [team],
      denied: ns.ingressDenied === team,
    },
  ];
}

export { AuditLog, type AuditEvent, type AuditMark } from '../support/audit.js';

/** Everything a pipeline suite works with. */
export class World {
  readonly kube: KubeClient;
  readonly applier: Applier;
  readonly ns: WorldNamespaces;
  readonly scenario: ScenarioOptions;
  readonly cluster: string;
  readonly prefix: string;
  readonly audit = new AuditLog();
  stack: Stack | undefined;
  feed: SnapshotFeed | undefined;
  /** Extra oracle targets per inventory key (added by suites). */
  readonly extraTargets = new Map<string, OracleTarget[]>();
  /** The oracle's cluster inventories, by name (added by suites of the cluster kinds). */
  readonly clusterInventories = new Map<string, OracleClusterInventory>();
  /** Targets of the scenario that suites replaced (e.g. after a profile change), by `ns/name`. */
  readonly overrides = new Map<string, OracleTarget>();

  constructor(tag: string, scenario: ScenarioOptions, cluster: string) {
    this.kube = new KubeClient({ kubeconfigPath: testbedEnv.kubeconfig, userAgent: 'kollect-e2e' });
    this.applier = new Applier(this.kube, 'kollect-e2e');
    this.scenario = scenario;
    const n = scenarioNamespaces(scenario);
    this.ns = { ...n, all: [...n.teams, n.system, n.sandbox] };
    this.cluster = cluster;
    this.prefix = `p${tag}`;
  }

  get stackOrThrow(): Stack {
    if (!this.stack) throw new Error('the stack is not running');
    return this.stack;
  }

  /** Start the pipeline for this world's namespaces (tenant mode, unique prefix, fast leases). */
  async startStack(
    opts: Pick<WorldOptions, 'replicas' | 'partitions' | 'serviceEnv' | 'tenantMode'> & {
      prefix?: string;
    } = {},
  ): Promise<Stack> {
    const env: Partial<Record<ServiceKind, Record<string, string>>> = {};
    for (const k of new Set([
      ...Object.keys(FAST_ENV),
      ...Object.keys(opts.serviceEnv ?? {}),
    ]) as Set<ServiceKind>)
      env[k] = { ...(FAST_ENV[k] ?? {}), ...(opts.serviceEnv?.[k] ?? {}) };
    this.stack = await Stack.start({
      natsUrl: testbedEnv.natsUrl,
      kubeconfig: testbedEnv.kubeconfig,
      cluster: this.cluster,
      prefix: opts.prefix ?? this.prefix,
      partitions: opts.partitions ?? 4,
      replicas: opts.replicas ?? {},
      watchNamespaces: this.ns.all,
      tenantMode: opts.tenantMode ?? true,
      leaseNamespace: this.ns.system,
      serviceEnv: env,
      topology: FAST_TOPOLOGY,
      startTimeoutMs: 60_000,
    });
    this.feed = await SnapshotFeed.start(this.stack.bus, this.stack.names);
    return this.stack;
  }

  /** Stop the pipeline and delete its topology. */
  async stopStack(): Promise<void> {
    await this.feed?.stop();
    this.feed = undefined;
    await this.stack?.shutdown({ deleteTopology: true });
    this.stack = undefined;
  }

  // ---- apiserver -----------------------------------------------------------------------------

  async namespaceMeta(): Promise<Map<string, NamespaceMeta>> {
    const out = new Map<string, NamespaceMeta>();
    for (const name of this.ns.all) {
      const ns = await this.applier.get<ApiObject>({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name },
      });
      if (ns)
        out.set(name, { name, labels: ns.metadata.labels ?? {}, annotations: ns.metadata.annotations ?? {} });
    }
    return out;
  }

  /** Every object of the profiles' kinds in the world's namespaces, fresh from the apiserver. */
  async objects(profiles: readonly OracleProfile[]): Promise<Map<string, ApiObject[]>> {
    const out = new Map<string, ApiObject[]>();
    for (const p of profiles) {
      const key = kindKey(p);
      if (out.has(key)) continue;
      const all: ApiObject[] = [];
      for (const ns of this.ns.all) {
        all.push(
          ...(await this.applier.list<ApiObject>(
            p.group ? `${p.group}/${p.version}` : p.version,
            p.kind,
            ns,
          )),
        );
      }
      out.set(key, all);
    }
    return out;
  }

  /** The oracle targets of an inventory (scenario targets with overrides, plus extras). */
  targetsOf(inv: InventoryRef): OracleTarget[] {
    const base =
      inv.kind === 'KollectInventory' && this.ns.teams.includes(inv.namespace)
        ? scenarioTargets(this.ns, inv.namespace)
        : [];
    const merged = base.map((t) => this.overrides.get(`${t.namespace}/${t.name}`) ?? t);
    return [...merged, ...(this.extraTargets.get(inventoryKey(inv)) ?? [])];
  }

  /** What the inventory must hold now, from the apiserver's objects (`previous`: rows kept on failure). */
  async expected(
    inv: InventoryRef,
    previous?: ReadonlyMap<string, Item>,
  ): Promise<{ items: Item[]; failed: { target: string; uid: string; name: string }[] }> {
    if (inv.kind === 'KollectClusterInventory') {
      const c = this.clusterInventories.get(inv.name);
      if (!c)
        throw new Error(`the oracle knows no cluster inventory ${inv.name} (set world.clusterInventories)`);
      const objects = await this.objects(c.targets.map((t) => t.profile));
      return { items: expectedClusterRows(c, objects, await this.namespaceMeta()), failed: [] };
    }
    const targets = this.targetsOf(inv);
    const objects = await this.objects(targets.map((t) => t.profile));
    return expectedRows(targets, objects, await this.namespaceMeta(), previous);
  }

  /**
   * Wait until the apiserver's audit log holds every request completed before this call — the
   * signal to read it on, instead of a fixed sleep: a marker request (a LIST with a label selector
   * no object carries) is made now, and its event must appear after `since`.
   */
  async auditCaughtUp(since: AuditMark, timeoutMs = 30_000): Promise<void> {
    const marker = `kollect-e2e-audit-${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
    await this.kube.request('GET', `/api/v1/namespaces/${this.ns.system}/configmaps?labelSelector=${marker}`);
    const end = Date.now() + timeoutMs;
    while (!this.audit.eventsSince(since).some((e) => e.requestURI.includes(marker))) {
      if (Date.now() > end)
        throw new Error(
          `the audit log ${this.audit.path} did not record the marker request within ${timeoutMs} ms`,
        );
      await sleep(100);
    }
  }

  table(inv: InventoryRef): InventoryTable | undefined {
    return this.feed?.table(inv);
  }

  /**
   * Wait until the inventory's folded snapshot table equals the oracle's rows (items and checksum);
   * fails with the differences at the deadline.
   */
  async converged(
    inv: InventoryRef,
    timeoutMs = 60_000,
    previous?: ReadonlyMap<string, Item>,
  ): Promise<InventoryTable> {
    const end = Date.now() + timeoutMs;
    let detail: string;
    for (;;) {
      const want = (await this.expected(inv, previous)).items;
      const t = this.table(inv);
      if (t) {
        const d = diffRows(t.rows.values(), want);
        const sumOk = t.checksum === checksumItems(want);
        if (d.missing.length === 0 && d.extra.length === 0 && d.different.length === 0 && sumOk) {
          expect(t.problems, `snapshot chain of ${inventoryKey(inv)}`).toEqual([]);
          return t;
        }
        detail = `generation ${t.exportGeneration}, ${t.rows.size} rows vs ${want.length} expected; missing ${d.missing.length} [${d.missing.slice(0, 3).join('; ')}], extra ${d.extra.length} [${d.extra.slice(0, 3).join('; ')}], different ${d.different.length} [${d.different.slice(0, 2).join('; ')}]${sumOk ? '' : ', checksum differs'}`;
      } else {
        detail = `no snapshot of ${inventoryKey(inv)} yet (${this.feed?.received ?? 0} snapshot messages seen)`;
      }
      if (Date.now() > end)
        throw new Error(`inventory ${inventoryKey(inv)} did not converge within ${timeoutMs} ms: ${detail}`);
      await sleep(300);
    }
  }

  /** Every team inventory converged. */
  async allConverged(timeoutMs = 90_000): Promise<void> {
    for (const team of this.ns.teams) await this.converged(teamInventory(team), timeoutMs);
  }

  /** Status condition of a Kollect object. */
  async condition(
    kind: string,
    namespace: string,
    name: string,
    type: string,
  ): Promise<Condition | undefined> {
    const o = await this.applier.get<{ status?: { conditions?: Condition[] } }>({
      apiVersion: K,
      kind,
      metadata: { name, namespace },
    });
    return o?.status?.conditions?.find((c) => c.type === type);
  }

  async status(kind: string, namespace: string, name: string): Promise<Record<string, unknown> | undefined> {
    const o = await this.applier.get<{ status?: Record<string, unknown> }>({
      apiVersion: K,
      kind,
      metadata: { name, namespace },
    });
    return o?.status;
  }

  /** Delete everything the world created: Kollect CRs (finalizers cleared), workloads, namespaces. */
  async cleanup(): Promise<void> {
    await this.stopStack().catch(() => undefined);
    const kinds = ['KollectInventory', 'KollectTarget', 'KollectProfile', 'KollectScope'];
    for (const ns of this.ns.all) {
      for (const kind of kinds) {
        const items = await this.applier.list<ApiObject>(K, kind, ns).catch(() => [] as ApiObject[]);
        for (const o of items)
          await this.applier
            .forceDelete({ apiVersion: K, kind, metadata: { name: o.metadata.name, namespace: ns } })
            .catch(() => undefined);
      }
      for (const path of [
        `/apis/apps/v1/namespaces/${ns}/deployments`,
        `/api/v1/namespaces/${ns}/services`,
        `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`,
      ]) {
        await this.kube.request('DELETE', path).catch(() => undefined);
      }
      await this.applier
        .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
        .catch(() => undefined);
      // The test bed runs no namespace controller: finalize, or the namespace stays Terminating.
      await clearTerminatingNamespace(this.kube, ns).catch(() => undefined);
    }
    this.kube.close();
  }
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/**
 * Build a world: namespaces, workloads and Kollect resources of the scenario (small by default:
 * the suites need coverage, not volume), then the stack (unless `noStack`).
 */
export async function startWorld(opts: WorldOptions): Promise<World> {
  requireTestbed('nats', 'kube-apiserver');
  const tag = opts.tag.toLowerCase();
  const scenario: ScenarioOptions = {
    ...DEFAULT_SCENARIO,
    deploymentsPerTeam: 12,
    servicesPerTeam: 4,
    ingressesPerTeam: 2,
    teams: [`${tag}-a`, `${tag}-b`, `${tag}-c`],
    systemNamespace: `${tag}-sys`,
    sandboxNamespace: `${tag}-sandbox`,
    ingressDeniedTeam: `${tag}-c`,
    clusterKinds: false,
    ...(opts.scenario ?? {}),
  };
  const w = new World(tag, scenario, `c-${tag}`);
  await installCrds(w.kube);
  const apply = (objs: KubeObject[] | Manifest[]): Promise<void> => w.applier.applyAll(objs as Manifest[], 8);
  await apply(namespaces(scenario));
  await apply(workloads(scenario));
  await apply(kollectResources(scenario));
  if (opts.extra) await apply(opts.extra({ ns: w.ns }));
  if (!opts.noStack) {
    await w.startStack({
      ...(opts.replicas ? { replicas: opts.replicas } : {}),
      ...(opts.partitions ? { partitions: opts.partitions } : {}),
      ...(opts.serviceEnv ? { serviceEnv: opts.serviceEnv } : {}),
      ...(opts.tenantMode !== undefined ? { tenantMode: opts.tenantMode } : {}),
    });
  }
  return w;
}

/** A Deployment like the scenario's, for tests that add their own. */
export function testDeployment(
  namespace: string,
  name: string,
  opts: { images?: string[]; labels?: Record<string, string>; replicas?: number } = {},
): Manifest {
  const images = opts.images ?? ['nginx:1.27'];
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace,
      labels: { app: name, 'app.kubernetes.io/part-of': 'shop', ...(opts.labels ?? {}) },
    },
    spec: {
      replicas: opts.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) },
      },
    },
  };
}
