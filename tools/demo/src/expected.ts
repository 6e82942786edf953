import type { InventoryRef } from '@kollect/contracts';
import type { Applier } from '@kollect/stack';
import { scenarioNamespaces, type ScenarioOptions } from './scenario.js';

interface Obj {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}

const WATCH = 'kollect.dev/watch';

/** The demo's inventories. */
export function demoInventories(opts: ScenarioOptions): InventoryRef[] {
  const out: InventoryRef[] = opts.teams.map((team) => ({
    kind: 'KollectInventory',
    namespace: team,
    name: 'team-inventory',
  }));
  if (opts.clusterKinds !== false)
    out.push({ kind: 'KollectClusterInventory', namespace: '', name: 'platform-images' });
  return out;
}

/**
 * How many rows each inventory must hold, counted from what the apiserver holds now with the
 * scenario's rules written out by hand (target namespaces and label selectors, the watch labels of
 * objects and namespaces, the scope that denies Ingresses) — independent of the pipeline's code.
 * Keyed by `inventoryKey`-like `kind/namespace/name`.
 */
export async function expectedCounts(applier: Applier, opts: ScenarioOptions): Promise<Map<string, number>> {
  const names = scenarioNamespaces(opts);
  const nsDisabled = new Map<string, boolean>();
  const nsTenant = new Map<string, boolean>();
  for (const ns of [...names.teams, names.sandbox]) {
    const o = await applier.get<Obj>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const state = o?.metadata.labels?.[WATCH] ?? o?.metadata.annotations?.['kollect.dev/namespace-watch'];
    nsDisabled.set(ns, state === 'disabled');
    nsTenant.set(ns, o?.metadata.labels?.['kollect.dev/tenant'] !== undefined);
  }
  const collectable = (o: Obj): boolean => {
    const own = o.metadata.labels?.[WATCH];
    if (own === 'disabled') return false;
    if (own === 'enabled') return true;
    return !nsDisabled.get(o.metadata.namespace ?? '');
  };
  const out = new Map<string, number>();
  let platform = 0;
  for (const team of names.teams) {
    const deployments = (await applier.list<Obj>('apps/v1', 'Deployment', team)).filter(collectable);
    const services = (await applier.list<Obj>('v1', 'Service', team)).filter(collectable);
    const ingresses = (await applier.list<Obj>('networking.k8s.io/v1', 'Ingress', team)).filter(collectable);
    const web = deployments.filter((d) => d.metadata.labels?.['app.kubernetes.io/part-of'] === 'shop');
    const n = web.length + services.length + (names.ingressDenied === team ? 0 : ingresses.length);
    out.set(`KollectInventory/${team}/team-inventory`, n);
    if (nsTenant.get(team)) platform += deployments.length;
  }
  if (opts.clusterKinds !== false) {
    // the sandbox carries the tenant label but opts out as a namespace
    if (nsTenant.get(names.sandbox) && !nsDisabled.get(names.sandbox))
      platform += (await applier.list<Obj>('apps/v1', 'Deployment', names.sandbox)).filter(
        collectable,
      ).length;
    out.set('KollectClusterInventory//platform-images', platform);
  }
  return out;
}

/** The key {@link expectedCounts} uses for an inventory. */
export function countKey(ref: InventoryRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}
