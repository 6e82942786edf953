/**
 * @packageDocumentation
 * The `postgres` database sink (SEED-SPEC §5.6, CONTRACT.md "Postgres", docs/sinks-database.md):
 * one row per item in `<schema>.<table>`, keyed by (cluster, inventory_namespace, inventory_name,
 * target_namespace, target_name, source_uid); each diff or full replace is one transaction that
 * also records the generation in `kollect_exports` (the sink's position). Large upserts go
 * through COPY into a staging table, small ones through a multi-row INSERT.
 */
import type { CompiledSink } from '@kollect/plan';
import type { SinkContext, SinkFactory, SinkPreview } from '@kollect/sink';
import { postgresSettings } from './config.js';
import { expectedDdl, POSTGRES_CAPABILITIES, PostgresSink } from './sink.js';

export const postgresSinkFactory: SinkFactory = {
  type: 'postgres',
  family: 'database',
  capabilities: POSTGRES_CAPABILITIES,
  create(ctx: SinkContext): PostgresSink {
    return new PostgresSink(ctx);
  },
  preview(sink: CompiledSink): SinkPreview {
    return postgresPreview(sink);
  },
};

/** The side-effect-free preview (SEED-SPEC §9.5): the DDL `ensure` runs, and warnings. */
export function postgresPreview(sink: CompiledSink): SinkPreview {
  const warnings: string[] = [];
  let mode = 'ensure';
  const details: Record<string, unknown> = {};
  try {
    const s = postgresSettings(sink);
    mode = s.mode;
    details['postgres'] = { expectedDDL: expectedDdl(s) };
    if (s.mode === 'existing')
      warnings.push(
        'provisioning.mode existing: no DDL is run; the table and kollect_exports must already exist as shown in expectedDDL',
      );
    if (s.portalIndexes)
      warnings.push(
        'postgres.indexes portal: the indexes are created with CREATE INDEX (not CONCURRENTLY); on a large existing table writes wait until they are built',
      );
  } catch (err) {
    warnings.push((err as Error).message);
  }
  const fmt = (sink.spec['serialization'] as { format?: unknown } | undefined)?.format;
  return {
    provisioningMode: mode,
    serializationFormat: typeof fmt === 'string' ? fmt : 'json',
    warnings,
    details,
  };
}

export { PostgresSink, POSTGRES_CAPABILITIES, POOL, expectedDdl } from './sink.js';
export {
  postgresSettings,
  parseDsn,
  dsnOf,
  identifierProblem,
  quoteIdent,
  DEFAULT_COPY_THRESHOLD,
  DSN_KEYS,
  OPTION_INDEXES,
  OPTION_VIEWS,
  OPTION_COPY_THRESHOLD,
  type PostgresSettings,
  type PostgresConnection,
  type SslMode,
  type ProvisioningMode,
} from './config.js';
export {
  ensureDdl,
  names as postgresNames,
  rowsTableDdl,
  exportsTableDdl,
  portalIndexDdl,
  portalViewDdl,
  migrationDdl,
  ROW_COLUMNS,
  ROW_KEY,
  SEED_ROW_KEY,
  EXPORT_COLUMNS,
  EXPORT_KEY,
  EXPORTS_TABLE,
} from './ddl.js';
export {
  rowValues,
  copyEscape,
  copyLine,
  copyChunks,
  upsertValuesSql,
  mergeStageSql,
  INSERT_BATCH_ROWS,
} from './sql.js';
export {
  classifyPgError,
  PostgresRowRejected,
  PostgresTableIncompatible,
  PostgresTableMissing,
} from './errors.js';
