/** The two inventory kinds. */
export type InventoryKind = 'KollectInventory' | 'KollectClusterInventory';

/** Names one inventory. Cluster inventories have namespace "". */
export interface InventoryRef {
  kind: InventoryKind;
  namespace: string;
  name: string;
}

/** Stable string form: `KollectInventory/team-a/web` or `KollectClusterInventory//fleet`. */
export function inventoryKey(ref: InventoryRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

/** Inverse of {@link inventoryKey}. */
export function parseInventoryKey(key: string): InventoryRef {
  const m = /^(KollectInventory|KollectClusterInventory)\/([^/]*)\/([^/]+)$/.exec(key);
  if (!m) throw new Error(`not an inventory key: ${JSON.stringify(key)}`);
  return { kind: m[1] as InventoryKind, namespace: m[2] as string, name: m[3] as string };
}

/**
 * The namespace segment used in paths and subjects: the inventory namespace, or the literal
 * `cluster` for cluster inventories (SEED-SPEC §5.4: `inventory/cluster/<name>.json`).
 */
export function inventoryPathNamespace(ref: InventoryRef): string {
  return ref.kind === 'KollectClusterInventory' ? 'cluster' : ref.namespace;
}

/** The three sink families. */
export type SinkFamily = 'snapshot' | 'database' | 'event';

/** Names one family sink object. */
export interface SinkRef {
  family: SinkFamily;
  namespace: string;
  name: string;
}

/** The `status.sinkExports[].name` form: `<family>/<name>`, e.g. `database/warehouse`. */
export function sinkExportName(ref: Pick<SinkRef, 'family' | 'name'>): string {
  return `${ref.family}/${ref.name}`;
}

/** Stable string form of a sink ref: `snapshot/team-a/audit-git`. */
export function sinkKey(ref: SinkRef): string {
  return `${ref.family}/${ref.namespace}/${ref.name}`;
}
