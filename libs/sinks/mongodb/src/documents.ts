import { itemJson, type InventoryRef, type Item, type RowKey } from '@kollect/contracts';
import type { PayloadMode } from './config.js';

/**
 * The document shapes (pure). Row documents keep the seed's fields in the seed's order
 * (SEED-SPEC §5.7) plus `target_namespace`, so that a row's identity is the contract's row
 * identity (cluster, targetNamespace, targetName, uid) — as in the Postgres sink.
 */

/** Fields of the unique identity index, in index order (the preview's `expectedIndexKeys`). */
export const ROW_INDEX_KEYS = [
  'cluster',
  'inventory_namespace',
  'inventory_name',
  'target_namespace',
  'target_name',
  'source_uid',
] as const;
export const ROW_INDEX_NAME = 'kollect_row_key';
/** The seed's unique index (no cluster): it makes two clusters collide; `ensure` replaces it. */
export const SEED_INDEX_KEYS = [
  'inventory_namespace',
  'inventory_name',
  'target_name',
  'source_uid',
] as const;

export interface RowDocument {
  _id: string;
  inventory_namespace: string;
  inventory_name: string;
  target_name: string;
  source_uid: string;
  cluster: string;
  resource_namespace: string;
  payload: Item | string;
  exported_at: Date;
  target_namespace: string;
}

/**
 * The document `_id`: the row identity as a JSON array string. Deterministic, so a write is a
 * lookup by the primary key on every server (FerretDB only pushes `_id` filters down to its
 * storage: an upsert filtered on six fields scanned the collection, ~5 rows/s).
 */
export function rowId(cluster: string, inventory: InventoryRef, key: RowKey): string {
  return JSON.stringify([
    cluster,
    inventory.namespace,
    inventory.name,
    key.targetNamespace,
    key.targetName,
    key.uid,
  ]);
}

/** The row document of an item. `resource_namespace` falls back to the inventory namespace for cluster-scoped objects. */
export function rowDocument(
  item: Item,
  inventory: InventoryRef,
  cluster: string,
  exportedAt: Date,
  payload: PayloadMode,
): RowDocument {
  return {
    _id: rowId(cluster, inventory, item),
    inventory_namespace: inventory.namespace,
    inventory_name: inventory.name,
    target_name: item.targetName,
    source_uid: item.uid,
    cluster,
    resource_namespace: item.namespace !== '' ? item.namespace : inventory.namespace,
    payload: payload === 'json' ? itemJson(item) : itemDocument(item),
    exported_at: exportedAt,
    target_namespace: item.targetNamespace,
  };
}

/** The Item as a plain object in contract key order (attributes keep their sorted keys). */
function itemDocument(item: Item): Item {
  return JSON.parse(itemJson(item)) as Item;
}

/** Documents of a list of items, one per row key (the last one wins). */
export function rowDocuments(
  items: readonly Item[],
  inventory: InventoryRef,
  cluster: string,
  exportedAt: Date,
  payload: PayloadMode,
): RowDocument[] {
  const byId = new Map<string, RowDocument>();
  for (const it of items) {
    const d = rowDocument(it, inventory, cluster, exportedAt, payload);
    byId.set(d._id, d);
  }
  return [...byId.values()];
}

/** Filter of every row of one (cluster, inventory). */
export function scopeFilter(cluster: string, inventory: InventoryRef): Record<string, string> {
  return { cluster, inventory_namespace: inventory.namespace, inventory_name: inventory.name };
}

export interface ExportDocument {
  _id: string;
  cluster: string;
  inventory_kind: string;
  inventory_namespace: string;
  inventory_name: string;
  /** The collection the rows live in (one `kollect_exports` serves every Kollect collection of the database). */
  sink: string;
  export_generation: number;
  checksum: string;
  item_count: number;
  exported_at: Date;
}

export function exportId(cluster: string, inventory: InventoryRef, collection: string): string {
  return JSON.stringify([cluster, inventory.kind, inventory.namespace, inventory.name, collection]);
}

export function exportDocument(
  cluster: string,
  inventory: InventoryRef,
  collection: string,
  exportGeneration: number,
  checksum: string,
  itemCount: number,
  exportedAt: Date,
): ExportDocument {
  return {
    _id: exportId(cluster, inventory, collection),
    cluster,
    inventory_kind: inventory.kind,
    inventory_namespace: inventory.namespace,
    inventory_name: inventory.name,
    sink: collection,
    export_generation: exportGeneration,
    checksum,
    item_count: itemCount,
    exported_at: exportedAt,
  };
}

/** Split into batches of `size`. */
export function batches<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** Whether an index key document is exactly `fields` (ascending), in order. */
export function sameIndexKeys(key: Record<string, unknown>, fields: readonly string[]): boolean {
  const k = Object.keys(key);
  return k.length === fields.length && k.every((f, i) => f === fields[i] && key[f] === 1);
}

/** The first field name in a value that MongoDB-compatible servers may refuse (`.` or leading `$`). */
export function awkwardKey(v: unknown, path = ''): string | undefined {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const k = awkwardKey(v[i], `${path}[${i}]`);
      if (k) return k;
    }
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  for (const [k, x] of Object.entries(v)) {
    if (k.includes('.') || k.startsWith('$')) return `${path}${path ? '.' : ''}${k}`;
    const inner = awkwardKey(x, `${path}${path ? '.' : ''}${k}`);
    if (inner) return inner;
  }
  return undefined;
}
