import { inventoryKey, type InventoryRef, type RowKey } from '@kollect/contracts';
import { targetKey, type CompiledInventory, type CompiledPlan, type TargetKind } from '@kollect/plan';

/**
 * What the aggregator needs to know about one inventory under one plan, precomputed once per plan
 * change: which rows belong to it and the order of its targets (the dedupe tie-break).
 */
export interface InventoryView {
  readonly cluster: string;
  readonly planGeneration: number;
  readonly inventory: CompiledInventory;
  readonly ref: InventoryRef;
  /** {@link inventoryKey} of the inventory. */
  readonly key: string;
  /**
   * Position of the row's target in the inventory's target list, or -1 when that target does not
   * feed this inventory under this plan.
   */
  targetIndex(key: Pick<RowKey, 'targetNamespace' | 'targetName'>): number;
  /**
   * True when a row belongs here under this plan: its target feeds the inventory and, when the
   * feed restricts namespaces (cluster inventories), the object's namespace is one of them. Pass
   * `undefined` as the namespace when it is not known (a delete): only the target is checked.
   */
  accepts(key: RowKey, objectNamespace: string | undefined): boolean;
}

interface FedTarget {
  index: number;
  /** null = every namespace. */
  namespaces: ReadonlySet<string> | null;
}

/** Parse a plan target key (`KollectTarget/<ns>/<name>`, `KollectClusterTarget//<name>`). */
function parseTargetKey(key: string): { kind: TargetKind; namespace: string; name: string } | undefined {
  const m = /^(KollectTarget|KollectClusterTarget)\/([^/]*)\/([^/]+)$/.exec(key);
  if (!m) return undefined;
  return { kind: m[1] as TargetKind, namespace: m[2] as string, name: m[3] as string };
}

/**
 * Build the view of one inventory of a plan. Throws when the plan does not hold the inventory.
 *
 * Row-to-target mapping follows the plan's row convention: rows of a `KollectTarget` carry the
 * target's namespace as `targetNamespace`; rows of a `KollectClusterTarget` carry the object's
 * namespace there, so they are matched by target name alone.
 */
export function inventoryView(plan: CompiledPlan, ref: InventoryRef): InventoryView {
  const key = inventoryKey(ref);
  const inventory = plan.inventories.find((i) => inventoryKey(i.ref) === key);
  if (!inventory) throw new Error(`the plan (generation ${plan.generation}) has no inventory ${key}`);
  const compiled = new Map(plan.targets.map((t) => [targetKey(t), t]));
  const namespaced = new Map<string, FedTarget>();
  const clusterScoped = new Map<string, FedTarget>();
  inventory.targets.forEach((tk, index) => {
    const parsed = parseTargetKey(tk);
    if (!parsed) return;
    const feed = compiled.get(tk)?.feeds.find((f) => inventoryKey(f.inventory) === key);
    const fed: FedTarget = { index, namespaces: feed?.namespaces ? new Set(feed.namespaces) : null };
    if (parsed.kind === 'KollectTarget') namespaced.set(`${parsed.namespace}\u0000${parsed.name}`, fed);
    else clusterScoped.set(parsed.name, fed);
  });
  const lookup = (k: Pick<RowKey, 'targetNamespace' | 'targetName'>): FedTarget | undefined =>
    namespaced.get(`${k.targetNamespace}\u0000${k.targetName}`) ?? clusterScoped.get(k.targetName);
  return {
    cluster: plan.settings.cluster,
    planGeneration: plan.generation,
    inventory,
    ref: inventory.ref,
    key,
    targetIndex: (k) => lookup(k)?.index ?? -1,
    accepts: (k, ns) => {
      const fed = lookup(k);
      if (!fed) return false;
      if (ns === undefined || fed.namespaces === null) return true;
      // Cluster-scoped objects pass namespace gates as `default` (SEED-SPEC §15.5).
      return fed.namespaces.has(ns === '' ? 'default' : ns);
    },
  };
}
