import { itemJson, type InventoryRef, type Item, type RowKey } from '@kollect/contracts';
import { ROW_KEY, type Names } from './ddl.js';

/**
 * SQL text and row encoding for the write paths (pure). Statement parameters `$1..$4` are always
 * the scope and the timestamp — cluster, inventory namespace, inventory name, exported_at — so
 * every statement is bound to one (cluster, inventory) and cannot touch another cluster's rows.
 */

/** One row as written: the per-row columns (the scope columns are parameters). */
export interface RowValues {
  targetNamespace: string;
  targetName: string;
  uid: string;
  resourceNamespace: string;
  /** The full Item JSON (canonical text). */
  payload: string;
}

/**
 * The row of an item. `resource_namespace` is the object's namespace, or the inventory's for
 * cluster-scoped objects (SEED-SPEC §5.6), so namespace filters in portals keep working.
 */
export function rowValues(item: Item, inventory: InventoryRef): RowValues {
  return {
    targetNamespace: item.targetNamespace,
    targetName: item.targetName,
    uid: item.uid,
    resourceNamespace: item.namespace !== '' ? item.namespace : inventory.namespace,
    payload: itemJson(item),
  };
}

/** Rows of a list of items, one per row key (the last one wins, as in the aggregator). */
export function rowsOf(items: readonly Item[], inventory: InventoryRef): RowValues[] {
  const byKey = new Map<string, RowValues>();
  for (const it of items) {
    const r = rowValues(it, inventory);
    byKey.set(`${r.targetNamespace}\u0000${r.targetName}\u0000${r.uid}`, r);
  }
  return [...byKey.values()];
}

const INSERT_COLUMNS = [
  'cluster',
  'inventory_namespace',
  'inventory_name',
  'target_namespace',
  'target_name',
  'source_uid',
  'resource_namespace',
  'payload',
  'exported_at',
];

/**
 * Rows whose content did not change are not rewritten (no dead tuple, `exported_at` keeps the
 * time the content last changed), which makes a full replace of an unchanged inventory cheap.
 */
function onConflict(): string {
  return (
    `ON CONFLICT (${ROW_KEY.join(', ')}) DO UPDATE SET resource_namespace = EXCLUDED.resource_namespace, ` +
    `payload = EXCLUDED.payload, exported_at = EXCLUDED.exported_at ` +
    `WHERE (t.resource_namespace, t.payload) IS DISTINCT FROM (EXCLUDED.resource_namespace, EXCLUDED.payload)`
  );
}

/** Parameters per row in the multi-row INSERT. */
export const PARAMS_PER_ROW = 5;
/** Rows per multi-row INSERT statement (5,000 parameters, well below Postgres' 65,535). */
export const INSERT_BATCH_ROWS = 1000;

/** `INSERT … VALUES (…), (…) ON CONFLICT …` for `rows` rows; parameters from {@link upsertValuesParams}. */
export function upsertValuesSql(n: Names, rows: number): string {
  const tuples: string[] = [];
  for (let i = 0; i < rows; i++) {
    const p = 5 + i * PARAMS_PER_ROW;
    tuples.push(`($1, $2, $3, $${p}, $${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}::jsonb, $4)`);
  }
  return `INSERT INTO ${n.rows} AS t (${INSERT_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ${onConflict()}`;
}

/** Scope parameters `$1..$4`. */
export function scopeParams(cluster: string, inventory: InventoryRef, exportedAt: string): unknown[] {
  return [cluster, inventory.namespace, inventory.name, exportedAt];
}

export function upsertValuesParams(scope: unknown[], rows: readonly RowValues[]): unknown[] {
  const out = scope.slice();
  for (const r of rows) out.push(r.targetNamespace, r.targetName, r.uid, r.resourceNamespace, r.payload);
  return out;
}

/** The staging table of one transaction (dropped at commit; a rollback never created it). */
export const STAGE = 'pg_temp.kollect_stage';
export const STAGE_COLUMNS = [
  'target_namespace',
  'target_name',
  'source_uid',
  'resource_namespace',
  'payload',
];

export const CREATE_STAGE_SQL =
  `CREATE TEMP TABLE kollect_stage (target_namespace text NOT NULL, target_name text NOT NULL, ` +
  `source_uid text NOT NULL, resource_namespace text NOT NULL, payload jsonb NOT NULL) ON COMMIT DROP`;

export const COPY_STAGE_SQL = `COPY ${STAGE} (${STAGE_COLUMNS.join(', ')}) FROM STDIN`;

/** Merge the staging table into the rows table (scope parameters `$1..$4`). */
export function mergeStageSql(n: Names): string {
  return (
    `INSERT INTO ${n.rows} AS t (${INSERT_COLUMNS.join(', ')}) ` +
    `SELECT $1::text, $2::text, $3::text, s.target_namespace, s.target_name, s.source_uid, s.resource_namespace, s.payload, $4::timestamptz ` +
    `FROM ${STAGE} s ${onConflict()}`
  );
}

const SCOPE = 't.cluster = $1 AND t.inventory_namespace = $2 AND t.inventory_name = $3';

/** Delete the given row keys of one scope (`$1..$3`, then three text arrays). */
export function deleteKeysSql(n: Names): string {
  return (
    `DELETE FROM ${n.rows} t USING unnest($4::text[], $5::text[], $6::text[]) AS d(target_namespace, target_name, source_uid) ` +
    `WHERE ${SCOPE} AND t.target_namespace = d.target_namespace AND t.target_name = d.target_name AND t.source_uid = d.source_uid`
  );
}

export function deleteKeysParams(
  cluster: string,
  inventory: InventoryRef,
  keys: readonly RowKey[],
): unknown[] {
  return [
    cluster,
    inventory.namespace,
    inventory.name,
    keys.map((k) => k.targetNamespace),
    keys.map((k) => k.targetName),
    keys.map((k) => k.uid),
  ];
}

/** Delete every row of the scope that is not in the staging table (full replace, large). */
export function deleteStaleFromStageSql(n: Names): string {
  return (
    `DELETE FROM ${n.rows} t WHERE ${SCOPE} AND NOT EXISTS (SELECT 1 FROM ${STAGE} s ` +
    `WHERE s.target_namespace = t.target_namespace AND s.target_name = t.target_name AND s.source_uid = t.source_uid)`
  );
}

/** Delete every row of the scope whose key is not in the given arrays (full replace, small). */
export function deleteStaleFromKeysSql(n: Names): string {
  return (
    `DELETE FROM ${n.rows} t WHERE ${SCOPE} AND NOT EXISTS (SELECT 1 FROM unnest($4::text[], $5::text[], $6::text[]) ` +
    `AS k(target_namespace, target_name, source_uid) WHERE k.target_namespace = t.target_namespace ` +
    `AND k.target_name = t.target_name AND k.source_uid = t.source_uid)`
  );
}

/**
 * Reconciliation compares every row of the scope with every key of the snapshot, which is only
 * linear as a hash or merge anti-join. Right after a bulk load the table has no statistics, the
 * scope is estimated at one row, and the planner picks a nested loop: 100k × 100k comparisons
 * (measured: a 20k-row replace ran into the 5-minute statement timeout). The setting is local to
 * the transaction and switched back right after the statement.
 */
export const NO_NESTLOOP_SQL = 'SET LOCAL enable_nestloop = off';
export const NESTLOOP_SQL = 'SET LOCAL enable_nestloop = on';

/** Delete every row of the scope (inventory deleted). */
export function deleteScopeSql(n: Names): string {
  return `DELETE FROM ${n.rows} t WHERE ${SCOPE}`;
}

const EXPORT_SCOPE =
  'cluster = $1 AND inventory_kind = $2 AND inventory_namespace = $3 AND inventory_name = $4 AND sink = $5';

/** The recorded position (`$1..$5`: cluster, kind, namespace, name, table). */
export function positionSql(n: Names, forUpdate: boolean): string {
  return `SELECT export_generation::text AS export_generation, checksum FROM ${n.exports} WHERE ${EXPORT_SCOPE}${forUpdate ? ' FOR UPDATE' : ''}`;
}

export function positionParams(n: Names, cluster: string, inventory: InventoryRef): unknown[] {
  return [cluster, inventory.kind, inventory.namespace, inventory.name, n.table];
}

/** Record the position (`$1..$5` as in {@link positionSql}, then generation, checksum, count, time). */
export function recordPositionSql(n: Names): string {
  return (
    `INSERT INTO ${n.exports} (cluster, inventory_kind, inventory_namespace, inventory_name, sink, export_generation, checksum, item_count, exported_at) ` +
    `VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (cluster, inventory_kind, inventory_namespace, inventory_name, sink) ` +
    `DO UPDATE SET export_generation = EXCLUDED.export_generation, checksum = EXCLUDED.checksum, ` +
    `item_count = EXCLUDED.item_count, exported_at = EXCLUDED.exported_at`
  );
}

export function forgetPositionSql(n: Names): string {
  return `DELETE FROM ${n.exports} WHERE ${EXPORT_SCOPE}`;
}

/**
 * Serialises writers of one (table, cluster, inventory) across worker replicas: held until the
 * transaction ends, so a second writer sees the first one's position before deciding.
 */
export const LOCK_SQL = 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))';

export function lockKey(n: Names, cluster: string, inventory: InventoryRef): string {
  return JSON.stringify([
    'kollect',
    n.schema,
    n.table,
    cluster,
    inventory.kind,
    inventory.namespace,
    inventory.name,
  ]);
}

/** Escape one value for COPY text format: backslash, and the row/column delimiters. */
export function copyEscape(v: string): string {
  if (!/[\\\t\n\r]/.test(v)) return v;
  return v.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

/** One staging row in COPY text format (tab-separated, newline-terminated). */
export function copyLine(r: RowValues): string {
  return (
    copyEscape(r.targetNamespace) +
    '\t' +
    copyEscape(r.targetName) +
    '\t' +
    copyEscape(r.uid) +
    '\t' +
    copyEscape(r.resourceNamespace) +
    '\t' +
    copyEscape(r.payload) +
    '\n'
  );
}

/**
 * COPY data in chunks of about `chunkBytes`: writing row by row to the stream is slow
 * (brianc/node-pg-copy-streams#127), one string per chunk is not.
 */
export function* copyChunks(rows: readonly RowValues[], chunkBytes = 256 * 1024): Generator<string> {
  let buf = '';
  for (const r of rows) {
    buf += copyLine(r);
    if (buf.length >= chunkBytes) {
      yield buf;
      buf = '';
    }
  }
  if (buf !== '') yield buf;
}
