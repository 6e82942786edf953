import { itemJson, type InventoryRef, type Item, type RowKey } from '@kollect/contracts';
import { EXPORTS_TABLE, type BigQuerySettings } from './config.js';

/**
 * Statements, parameters and table resources of the BigQuery sink (pure; pinned by golden
 * files). Every statement is bound to one (cluster, inventory) through the parameters
 * `@cluster`, `@inventory_namespace`, `@inventory_name`; rows travel as one array parameter
 * `@rows` read with `UNNEST(@rows)` (SEED-SPEC §5.8).
 */

export interface TableField {
  name: string;
  type: 'STRING' | 'JSON' | 'TIMESTAMP' | 'INT64';
  mode: 'REQUIRED' | 'NULLABLE';
}

/**
 * The seed's columns (the Postgres column set, `payload` as JSON) plus `target_namespace`, which
 * is NULLABLE so that it can be added to a table the seed created (BigQuery adds only NULLABLE
 * columns); NULL reads as "".
 */
export const ROW_FIELDS: readonly TableField[] = [
  { name: 'inventory_namespace', type: 'STRING', mode: 'REQUIRED' },
  { name: 'inventory_name', type: 'STRING', mode: 'REQUIRED' },
  { name: 'target_name', type: 'STRING', mode: 'REQUIRED' },
  { name: 'source_uid', type: 'STRING', mode: 'REQUIRED' },
  { name: 'cluster', type: 'STRING', mode: 'REQUIRED' },
  { name: 'resource_namespace', type: 'STRING', mode: 'REQUIRED' },
  { name: 'payload', type: 'JSON', mode: 'REQUIRED' },
  { name: 'exported_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
  { name: 'target_namespace', type: 'STRING', mode: 'NULLABLE' },
];

export const EXPORT_FIELDS: readonly TableField[] = [
  { name: 'cluster', type: 'STRING', mode: 'REQUIRED' },
  { name: 'inventory_kind', type: 'STRING', mode: 'REQUIRED' },
  { name: 'inventory_namespace', type: 'STRING', mode: 'REQUIRED' },
  { name: 'inventory_name', type: 'STRING', mode: 'REQUIRED' },
  { name: 'sink', type: 'STRING', mode: 'REQUIRED' },
  { name: 'export_generation', type: 'INT64', mode: 'REQUIRED' },
  { name: 'checksum', type: 'STRING', mode: 'REQUIRED' },
  { name: 'item_count', type: 'INT64', mode: 'REQUIRED' },
  { name: 'exported_at', type: 'TIMESTAMP', mode: 'REQUIRED' },
];

/** Clustering of the rows table (SEED-SPEC §5.8). */
export const CLUSTERING = ['cluster', 'inventory_namespace', 'inventory_name', 'resource_namespace'];

/** The `tables.insert` body of the rows table: day partitions on exported_at, clustered. */
export function rowsTableResource(
  s: Pick<BigQuerySettings, 'project' | 'dataset' | 'table'>,
): Record<string, unknown> {
  return {
    tableReference: { projectId: s.project, datasetId: s.dataset, tableId: s.table },
    description:
      'Kollect inventory rows: one row per item (payload = the Item JSON); maintained by the Kollect BigQuery sink.',
    schema: { fields: ROW_FIELDS.map((f) => ({ ...f })) },
    timePartitioning: { type: 'DAY', field: 'exported_at' },
    clustering: { fields: [...CLUSTERING] },
  };
}

export function exportsTableResource(
  s: Pick<BigQuerySettings, 'project' | 'dataset'>,
): Record<string, unknown> {
  return {
    tableReference: { projectId: s.project, datasetId: s.dataset, tableId: EXPORTS_TABLE },
    description: 'Kollect export positions: the last generation written per (cluster, inventory, table).',
    schema: { fields: EXPORT_FIELDS.map((f) => ({ ...f })) },
    clustering: { fields: ['cluster', 'inventory_namespace', 'inventory_name'] },
  };
}

const ref = (s: Pick<BigQuerySettings, 'project' | 'dataset'>, table: string) =>
  `\`${s.project}.${s.dataset}.${table}\``;

/** One element of `@rows`. `op` is `upsert` or `delete`; `payload` is JSON text ("" for a delete). */
export interface RowParam {
  op: 'upsert' | 'delete';
  target_namespace: string;
  target_name: string;
  source_uid: string;
  resource_namespace: string;
  payload: string;
}

/** Parameter types (arrays cannot be typed from an empty value). */
export const ROW_PARAM_TYPE = {
  op: 'STRING',
  target_namespace: 'STRING',
  target_name: 'STRING',
  source_uid: 'STRING',
  resource_namespace: 'STRING',
  payload: 'STRING',
} as const;

export function upsertParam(item: Item, inventory: InventoryRef): RowParam {
  return {
    op: 'upsert',
    target_namespace: item.targetNamespace,
    target_name: item.targetName,
    source_uid: item.uid,
    resource_namespace: item.namespace !== '' ? item.namespace : inventory.namespace,
    payload: itemJson(item),
  };
}

export function deleteParam(key: RowKey): RowParam {
  return {
    op: 'delete',
    target_namespace: key.targetNamespace,
    target_name: key.targetName,
    source_uid: key.uid,
    resource_namespace: '',
    payload: '',
  };
}

/** Encoded size of a row parameter in the request (for chunking under the request limit). */
export function paramBytes(r: RowParam): number {
  return (
    r.target_namespace.length +
    r.target_name.length +
    r.source_uid.length +
    r.resource_namespace.length +
    r.payload.length * 1.1 +
    160
  );
}

/** Split rows into chunks whose encoded size stays under `budget` bytes. */
export function chunkRows(rows: readonly RowParam[], budget: number): RowParam[][] {
  const out: RowParam[][] = [];
  let cur: RowParam[] = [];
  let size = 0;
  for (const r of rows) {
    const b = paramBytes(r);
    if (cur.length > 0 && size + b > budget) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(r);
    size += b;
  }
  if (cur.length > 0 || out.length === 0) out.push(cur);
  return out;
}

const SCOPE_T =
  'T.cluster = @cluster AND T.inventory_namespace = @inventory_namespace AND T.inventory_name = @inventory_name';
const KEY_ON = `${SCOPE_T}
  AND IFNULL(T.target_namespace, '') = S.target_namespace AND T.target_name = S.target_name AND T.source_uid = S.source_uid`;
const SOURCE = `SELECT r.op, r.target_namespace, r.target_name, r.source_uid, r.resource_namespace,
    IF(r.op = 'upsert', PARSE_JSON(r.payload), NULL) AS payload
  FROM UNNEST(@rows) AS r`;
const UPDATE = `UPDATE SET payload = S.payload, exported_at = @exported_at, resource_namespace = S.resource_namespace, target_namespace = S.target_namespace`;
const INSERT = `INSERT (inventory_namespace, inventory_name, target_name, source_uid, cluster, resource_namespace, payload, exported_at, target_namespace)
  VALUES (@inventory_namespace, @inventory_name, S.target_name, S.source_uid, @cluster, S.resource_namespace, S.payload, @exported_at, S.target_namespace)`;

/**
 * The seed's MERGE for a whole generation: matched → update payload, exported_at,
 * resource_namespace; not matched by target → insert; not matched by source within
 * (cluster, inventory) → delete.
 */
export function replaceMergeSql(s: Pick<BigQuerySettings, 'project' | 'dataset' | 'table'>): string {
  return `MERGE ${ref(s, s.table)} AS T
USING (${SOURCE}) AS S
ON ${KEY_ON}
WHEN MATCHED THEN
  ${UPDATE}
WHEN NOT MATCHED BY TARGET THEN
  ${INSERT}
WHEN NOT MATCHED BY SOURCE AND ${SCOPE_T} THEN
  DELETE;`;
}

/** A diff (or one chunk of a large export): upserts and deletes by key, nothing else touched. */
export function diffMergeSql(s: Pick<BigQuerySettings, 'project' | 'dataset' | 'table'>): string {
  return `MERGE ${ref(s, s.table)} AS T
USING (${SOURCE}) AS S
ON ${KEY_ON}
WHEN MATCHED AND S.op = 'delete' THEN
  DELETE
WHEN MATCHED THEN
  ${UPDATE}
WHEN NOT MATCHED BY TARGET AND S.op = 'upsert' THEN
  ${INSERT};`;
}

/**
 * After a replace too large for one request was merged in chunks (every row of the generation
 * now has `exported_at = @exported_at`): delete what the chunks did not write.
 */
export function sweepSql(s: Pick<BigQuerySettings, 'project' | 'dataset' | 'table'>): string {
  return `DELETE FROM ${ref(s, s.table)} AS T
WHERE ${SCOPE_T} AND T.exported_at != @exported_at;`;
}

/** Record the position (same job as the rows). */
export function recordPositionSql(s: Pick<BigQuerySettings, 'project' | 'dataset' | 'table'>): string {
  return `MERGE ${ref(s, EXPORTS_TABLE)} AS E
USING (SELECT @cluster AS cluster, @inventory_kind AS inventory_kind, @inventory_namespace AS inventory_namespace,
    @inventory_name AS inventory_name, @sink AS sink, @export_generation AS export_generation, @checksum AS checksum,
    @item_count AS item_count, @exported_at AS exported_at) AS S
ON E.cluster = S.cluster AND E.inventory_kind = S.inventory_kind AND E.inventory_namespace = S.inventory_namespace
  AND E.inventory_name = S.inventory_name AND E.sink = S.sink
WHEN MATCHED THEN
  UPDATE SET export_generation = S.export_generation, checksum = S.checksum, item_count = S.item_count, exported_at = S.exported_at
WHEN NOT MATCHED THEN
  INSERT ROW;`;
}

/** A multi-statement transaction: the rows and the position commit together. */
export function transaction(...statements: string[]): string {
  return ['BEGIN TRANSACTION;', ...statements, 'COMMIT TRANSACTION;'].join('\n');
}

export function positionSql(s: Pick<BigQuerySettings, 'project' | 'dataset'>): string {
  return `SELECT export_generation, checksum FROM ${ref(s, EXPORTS_TABLE)}
WHERE cluster = @cluster AND inventory_kind = @inventory_kind AND inventory_namespace = @inventory_namespace
  AND inventory_name = @inventory_name AND sink = @sink
ORDER BY export_generation DESC
LIMIT 1`;
}

export function forgetSql(s: Pick<BigQuerySettings, 'project' | 'dataset' | 'table'>): string {
  return transaction(
    `DELETE FROM ${ref(s, s.table)} AS T WHERE ${SCOPE_T};`,
    `DELETE FROM ${ref(s, EXPORTS_TABLE)} AS E WHERE E.cluster = @cluster AND E.inventory_kind = @inventory_kind AND E.inventory_namespace = @inventory_namespace AND E.inventory_name = @inventory_name AND E.sink = @sink;`,
  );
}

/**
 * BigQuery timestamps have microseconds; the contract's `exportedAt` has nanoseconds. Truncate
 * (never round up, which could move a timestamp past the next export's).
 */
export function bqTimestamp(rfc3339: string): string {
  return rfc3339.replace(/(\.\d{6})\d+/, '$1');
}

/** Scalar parameters shared by every statement of one (cluster, inventory). */
export function scopeParams(
  s: Pick<BigQuerySettings, 'table'>,
  cluster: string,
  inventory: InventoryRef,
): Record<string, string> {
  return {
    cluster,
    inventory_kind: inventory.kind,
    inventory_namespace: inventory.namespace,
    inventory_name: inventory.name,
    sink: s.table,
  };
}

export const SCOPE_TYPES = {
  cluster: 'STRING',
  inventory_kind: 'STRING',
  inventory_namespace: 'STRING',
  inventory_name: 'STRING',
  sink: 'STRING',
} as const;

export const WRITE_TYPES = {
  ...SCOPE_TYPES,
  exported_at: 'TIMESTAMP',
  export_generation: 'INT64',
  checksum: 'STRING',
  item_count: 'INT64',
  rows: [ROW_PARAM_TYPE],
} as const;
