import { inventoryPathNamespace, type InventoryRef } from '@kollect/contracts';
import { DEFAULT_CLUSTER_LABEL, renderDocumentPath } from './paths.js';

/** Default object key template of s3/gcs (SEED-SPEC §5.5; the extension is always `.json`). */
export const DEFAULT_OBJECT_TEMPLATE = 'inventory/{namespace}/{name}.json';

/** Join a bucket prefix and a key with exactly one `/`. */
export function joinKey(prefix: string, key: string): string {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  const k = key.replace(/^\/+/, '');
  return p ? `${p}/${k}` : k;
}

/** The JSON object key of an inventory: prefix + rendered `pathTemplate`. */
export function objectKey(
  prefix: string,
  template: string | undefined,
  v: { cluster: string; inventory: InventoryRef; generation: number },
): string {
  return joinKey(
    prefix,
    renderDocumentPath(template || DEFAULT_OBJECT_TEMPLATE, { ...v, extension: '.json' }),
  );
}

function hive(v: string): string {
  return v.replace(/[^A-Za-z0-9._-]/g, '_');
}

/**
 * The Parquet object key (SEED-SPEC §5.5):
 * `inventory/cluster=<c|default>/ns=<invNs>/name=<invName>/generation=<g>.parquet`, hive values
 * sanitised to `[A-Za-z0-9._-]`, after the bucket prefix.
 */
export function parquetKey(
  prefix: string,
  v: { cluster: string; inventory: InventoryRef; generation: number },
): string {
  const key = `inventory/cluster=${hive(v.cluster || DEFAULT_CLUSTER_LABEL)}/ns=${hive(inventoryPathNamespace(v.inventory))}/name=${hive(v.inventory.name)}/generation=${v.generation}.parquet`;
  return joinKey(prefix, key);
}
