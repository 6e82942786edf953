import {
  EXPORT_COLUMNS,
  EXPORT_KEY,
  ROW_COLUMNS,
  ROW_KEY,
  SEED_DOCS_ROW_KEY,
  SEED_ROW_KEY,
  type ColumnSpec,
} from './ddl.js';

/**
 * What a table looks like in the database, and whether the sink can use it. The inspection is
 * one catalog query; the verdict is a pure function (tested on plain objects).
 */

export interface ColumnInfo {
  name: string;
  /** `format_type()` text, e.g. `text`, `jsonb`, `timestamp with time zone`. */
  type: string;
  notNull: boolean;
  hasDefault: boolean;
}

export interface UniqueKeyInfo {
  /** Constraint name when the key is a constraint, else the index name. */
  name: string;
  primary: boolean;
  /** Whether `name` is a constraint (droppable with ALTER TABLE … DROP CONSTRAINT). */
  constraint: boolean;
  columns: string[];
}

export interface TableInfo {
  exists: boolean;
  /** `r` table, `p` partitioned table, `v` view… */
  relkind?: string;
  columns: ColumnInfo[];
  uniqueKeys: UniqueKeyInfo[];
}

/** Minimal query surface (a pg Pool or PoolClient). */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

/** Read the shape of `"schema"."table"` from the catalog. */
export async function inspectTable(db: Queryable, schema: string, table: string): Promise<TableInfo> {
  const rel = await db.query<{ oid: number; relkind: string }>(
    `SELECT c.oid::int AS oid, c.relkind::text AS relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, table],
  );
  const r = rel.rows[0];
  if (!r) return { exists: false, columns: [], uniqueKeys: [] };
  const cols = await db.query<{ name: string; type: string; notnull: boolean; hasdef: boolean }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull, a.atthasdef AS hasdef
     FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [r.oid],
  );
  const keys = await db.query<{ name: string; primary: boolean; constraint: boolean; columns: string[] }>(
    `SELECT COALESCE(con.conname, ic.relname) AS name, i.indisprimary AS primary, con.conname IS NOT NULL AS constraint,
            ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns
     FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
     LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u')
     WHERE i.indrelid = $1 AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL`,
    [r.oid],
  );
  return {
    exists: true,
    relkind: r.relkind,
    columns: cols.rows.map((c) => ({ name: c.name, type: c.type, notNull: c.notnull, hasDefault: c.hasdef })),
    uniqueKeys: keys.rows.map((k) => ({
      name: k.name,
      primary: k.primary,
      constraint: k.constraint,
      columns: k.columns,
    })),
  };
}

export type TableVerdict =
  | { verdict: 'missing' }
  | { verdict: 'ok' }
  /** The seed's layout: `ensure` migrates it (see `migrationDdl`). */
  | { verdict: 'legacy'; constraint: string; hasTargetNamespace: boolean; why: string }
  | { verdict: 'incompatible'; problems: string[]; found: string };

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x) => b.includes(x));

/** "name type, name type, …" of what a table has, for messages. */
export function describeColumns(info: TableInfo): string {
  return (
    info.columns.map((c) => `${c.name} ${c.type}${c.notNull ? ' not null' : ''}`).join(', ') || '(no columns)'
  );
}

function columnProblems(
  info: TableInfo,
  expected: readonly ColumnSpec[],
  optional: readonly string[] = [],
): string[] {
  const problems: string[] = [];
  for (const want of expected) {
    const have = info.columns.find((c) => c.name === want.name);
    if (!have) {
      if (!optional.includes(want.name)) problems.push(`column ${want.name} (${want.type}) is missing`);
    } else if (have.type !== want.type) {
      problems.push(`column ${want.name} is ${have.type}, expected ${want.type}`);
    }
  }
  for (const c of info.columns) {
    if (!expected.some((e) => e.name === c.name) && c.notNull && !c.hasDefault)
      problems.push(`column ${c.name} is NOT NULL without a default, so Kollect cannot insert rows`);
  }
  return problems;
}

/** Whether the rows table can be used as is, must be migrated, or is unusable. */
export function rowsTableVerdict(info: TableInfo): TableVerdict {
  if (!info.exists) return { verdict: 'missing' };
  const found = describeColumns(info);
  if (info.relkind !== 'r' && info.relkind !== 'p')
    return {
      verdict: 'incompatible',
      problems: ['it is not a table (a view or another relation kind)'],
      found,
    };
  const hasTargetNamespace = info.columns.some((c) => c.name === 'target_namespace');
  const problems = columnProblems(info, ROW_COLUMNS, ['target_namespace']);
  if (problems.length) return { verdict: 'incompatible', problems, found };
  if (info.uniqueKeys.some((k) => sameSet(k.columns, ROW_KEY))) {
    return hasTargetNamespace
      ? { verdict: 'ok' }
      : { verdict: 'incompatible', problems: ['column target_namespace (text) is missing'], found };
  }
  const pk = info.uniqueKeys.find((k) => k.primary);
  if (pk && pk.constraint && (sameSet(pk.columns, SEED_ROW_KEY) || sameSet(pk.columns, SEED_DOCS_ROW_KEY))) {
    return {
      verdict: 'legacy',
      constraint: pk.name,
      hasTargetNamespace,
      why: `its primary key is (${pk.columns.join(', ')}), the layout of the original operator; Kollect keys rows by (${ROW_KEY.join(', ')})`,
    };
  }
  return {
    verdict: 'incompatible',
    problems: [
      `no primary key or unique index on exactly (${ROW_KEY.join(', ')})${pk ? `; the primary key is (${pk.columns.join(', ')})` : ''}`,
      ...(hasTargetNamespace ? [] : ['column target_namespace (text) is missing']),
    ],
    found,
  };
}

/** Whether `kollect_exports` can be used. */
export function exportsTableVerdict(info: TableInfo): TableVerdict {
  if (!info.exists) return { verdict: 'missing' };
  const found = describeColumns(info);
  const problems = columnProblems(info, EXPORT_COLUMNS);
  if (!info.uniqueKeys.some((k) => sameSet(k.columns, EXPORT_KEY)))
    problems.push(`no primary key or unique index on exactly (${EXPORT_KEY.join(', ')})`);
  return problems.length ? { verdict: 'incompatible', problems, found } : { verdict: 'ok' };
}
