import { derivedName, quoteIdent, type PostgresSettings } from './config.js';

/**
 * The table layout (CONTRACT.md "Postgres", docs/sinks-database.md) as data and DDL text. Pure:
 * the same strings are run in `ensure` mode and shown in `status.preview.postgres.expectedDDL`.
 */

/** One column: name and the type as `format_type()` prints it. */
export interface ColumnSpec {
  name: string;
  type: 'text' | 'jsonb' | 'timestamp with time zone' | 'bigint' | 'integer';
  ddl: string;
}

/**
 * The seed's columns in the seed's order (SEED-SPEC §5.6), then `target_namespace`, which we
 * add so that a row's identity is the contract's row identity (cluster, targetNamespace,
 * targetName, uid): a cluster inventory gathers rows of targets from many namespaces.
 */
export const ROW_COLUMNS: readonly ColumnSpec[] = [
  { name: 'inventory_namespace', type: 'text', ddl: 'TEXT NOT NULL' },
  { name: 'inventory_name', type: 'text', ddl: 'TEXT NOT NULL' },
  { name: 'target_name', type: 'text', ddl: 'TEXT NOT NULL' },
  { name: 'source_uid', type: 'text', ddl: 'TEXT NOT NULL' },
  { name: 'cluster', type: 'text', ddl: "TEXT NOT NULL DEFAULT ''" },
  { name: 'resource_namespace', type: 'text', ddl: "TEXT NOT NULL DEFAULT ''" },
  { name: 'payload', type: 'jsonb', ddl: 'JSONB NOT NULL' },
  { name: 'exported_at', type: 'timestamp with time zone', ddl: 'TIMESTAMPTZ NOT NULL' },
  { name: 'target_namespace', type: 'text', ddl: "TEXT NOT NULL DEFAULT ''" },
];

/** Primary key of the rows table: the delete scope (cluster, inventory) first, then the row key. */
export const ROW_KEY: readonly string[] = [
  'cluster',
  'inventory_namespace',
  'inventory_name',
  'target_namespace',
  'target_name',
  'source_uid',
];

/** The seed's primary key (no cluster, no target namespace); migrated in `ensure` mode. */
export const SEED_ROW_KEY: readonly string[] = [
  'inventory_namespace',
  'inventory_name',
  'target_name',
  'source_uid',
];
/** The primary key the seed's docs claimed (with cluster); migrated too. */
export const SEED_DOCS_ROW_KEY: readonly string[] = ['cluster', ...SEED_ROW_KEY];

/** The bookkeeping table: one row per (cluster, inventory, destination table). */
export const EXPORTS_TABLE = 'kollect_exports';
export const EXPORT_COLUMNS: readonly ColumnSpec[] = [
  { name: 'cluster', type: 'text', ddl: 'TEXT NOT NULL' },
  { name: 'inventory_kind', type: 'text', ddl: 'TEXT NOT NULL' },
  { name: 'inventory_namespace', type: 'text', ddl: 'TEXT NOT NULL' },
  { name: 'inventory_name', type: 'text', ddl: 'TEXT NOT NULL' },
  { name: 'sink', type: 'text', ddl: 'TEXT NOT NULL' },
  { name: 'export_generation', type: 'bigint', ddl: 'BIGINT NOT NULL' },
  { name: 'checksum', type: 'text', ddl: 'TEXT NOT NULL' },
  { name: 'item_count', type: 'integer', ddl: 'INTEGER NOT NULL' },
  { name: 'exported_at', type: 'timestamp with time zone', ddl: 'TIMESTAMPTZ NOT NULL' },
];
/**
 * `sink` is the name of the table the rows live in: the position describes what that table
 * holds, and one schema's `kollect_exports` serves every Kollect table in it.
 */
export const EXPORT_KEY: readonly string[] = [
  'cluster',
  'inventory_kind',
  'inventory_namespace',
  'inventory_name',
  'sink',
];

/** Qualified, quoted names of everything the sink touches. */
export interface Names {
  schema: string;
  table: string;
  /** `"schema"."table"` */
  rows: string;
  /** `"schema"."kollect_exports"` */
  exports: string;
  pkey: string;
  indexes: { kind: string; resourceNamespace: string; payload: string };
  views: { images: string; perTeam: string };
}

export function names(s: Pick<PostgresSettings, 'schema' | 'table'>): Names {
  const q = (n: string) => `${quoteIdent(s.schema)}.${quoteIdent(n)}`;
  return {
    schema: s.schema,
    table: s.table,
    rows: q(s.table),
    exports: q(EXPORTS_TABLE),
    pkey: derivedName(s.table, '_pkey'),
    indexes: {
      kind: derivedName(s.table, '_kind_idx'),
      resourceNamespace: derivedName(s.table, '_resource_namespace_idx'),
      payload: derivedName(s.table, '_payload_gin'),
    },
    views: {
      images: derivedName(s.table, '_images'),
      perTeam: derivedName(s.table, '_objects_per_team'),
    },
  };
}

/** CREATE TABLE for the rows. */
export function rowsTableDdl(n: Names): string {
  const cols = ROW_COLUMNS.map((c) => `  ${c.name} ${c.ddl},`).join('\n');
  return `CREATE TABLE IF NOT EXISTS ${n.rows} (\n${cols}\n  CONSTRAINT ${quoteIdent(n.pkey)} PRIMARY KEY (${ROW_KEY.join(', ')})\n);`;
}

/** CREATE TABLE for the bookkeeping. */
export function exportsTableDdl(n: Names): string {
  const cols = EXPORT_COLUMNS.map((c) => `  ${c.name} ${c.ddl},`).join('\n');
  return `CREATE TABLE IF NOT EXISTS ${n.exports} (\n${cols}\n  PRIMARY KEY (${EXPORT_KEY.join(', ')})\n);`;
}

/**
 * Indexes for portal queries (`postgres.indexes: portal`): by kind, by the object's namespace,
 * and a GIN index on the payload with `jsonb_path_ops` (serves `payload @> '{…}'` containment,
 * smaller than the default operator class; key-existence `?` queries are not served).
 */
export function portalIndexDdl(n: Names): string[] {
  return [
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(n.indexes.kind)} ON ${n.rows} ((payload->>'kind'));`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(n.indexes.resourceNamespace)} ON ${n.rows} (resource_namespace);`,
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(n.indexes.payload)} ON ${n.rows} USING gin (payload jsonb_path_ops);`,
  ];
}

/**
 * Views for the two questions every portal asks (`postgres.views: portal`):
 * - `<table>_images`: one row per (object, container image), from the conventional attributes
 *   `image` (a string) and `images` (an array of strings, SEED-SPEC §3.11);
 * - `<table>_objects_per_team`: object counts per team, the team being the `team` attribute when
 *   the profile extracts one, else the object's namespace.
 */
export function portalViewDdl(n: Names): string[] {
  const q = (v: string) => `${quoteIdent(n.schema)}.${quoteIdent(v)}`;
  return [
    `CREATE OR REPLACE VIEW ${q(n.views.images)} AS
SELECT r.cluster, r.inventory_namespace, r.inventory_name, r.resource_namespace,
       r.payload->>'kind' AS kind, r.payload->>'name' AS name, r.source_uid, i.image
FROM ${n.rows} r
CROSS JOIN LATERAL (
  SELECT jsonb_array_elements_text(r.payload->'attributes'->'images') AS image
  WHERE jsonb_typeof(r.payload->'attributes'->'images') = 'array'
  UNION
  SELECT r.payload->'attributes'->>'image'
  WHERE jsonb_typeof(r.payload->'attributes'->'image') = 'string'
) i;`,
    `CREATE OR REPLACE VIEW ${q(n.views.perTeam)} AS
SELECT r.cluster,
       COALESCE(NULLIF(r.payload->'attributes'->>'team', ''), r.resource_namespace) AS team,
       r.payload->>'kind' AS kind,
       count(*) AS objects
FROM ${n.rows} r
GROUP BY 1, 2, 3;`,
  ];
}

/** Every statement `ensure` runs on a fresh database, in order (also the preview text). */
export function ensureDdl(
  s: Pick<PostgresSettings, 'schema' | 'table' | 'portalIndexes' | 'portalViews'>,
): string[] {
  const n = names(s);
  return [
    `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s.schema)};`,
    rowsTableDdl(n),
    exportsTableDdl(n),
    ...(s.portalIndexes ? portalIndexDdl(n) : []),
    ...(s.portalViews ? portalViewDdl(n) : []),
  ];
}

/**
 * Migration of a table created by the seed (primary key without `cluster` and without
 * `target_namespace`) or with the key its docs described (with `cluster`): add the column, fill it
 * from the payload, swap the primary key. Runs in one transaction; no row is lost.
 */
export function migrationDdl(n: Names, oldConstraint: string, hasTargetNamespace: boolean): string[] {
  return [
    ...(hasTargetNamespace
      ? []
      : [`ALTER TABLE ${n.rows} ADD COLUMN target_namespace TEXT NOT NULL DEFAULT '';`]),
    `UPDATE ${n.rows} SET target_namespace = COALESCE(payload->>'targetNamespace', '') WHERE target_namespace = '';`,
    `ALTER TABLE ${n.rows} DROP CONSTRAINT ${quoteIdent(oldConstraint)};`,
    `ALTER TABLE ${n.rows} ADD CONSTRAINT ${quoteIdent(n.pkey)} PRIMARY KEY (${ROW_KEY.join(', ')});`,
  ];
}
