/**
 * @packageDocumentation
 * The `bigquery` database sink (Beta; SEED-SPEC §5.8, CONTRACT.md "BigQuery",
 * docs/sinks-database.md): rows in a table partitioned by day on `exported_at` and clustered by
 * cluster, inventory_namespace, inventory_name, resource_namespace; a full replace is the seed's
 * parameterised MERGE over `UNNEST(@rows)`, a diff a MERGE by key, each in one multi-statement
 * transaction with the position in `kollect_exports`. Probe as the seed: credentials → dataset
 * GET → dry-run `SELECT 1`.
 *
 * Tested with golden files and `BigQueryApiDouble` (e2e/support), not an emulator: the
 * goccy/bigquery-emulator build (ZetaSQL through cgo) does not finish here (docs/sinks-database.md).
 */
import type { CompiledSink } from '@kollect/plan';
import type { SinkContext, SinkFactory, SinkPreview } from '@kollect/sink';
import { bigquerySettings } from './config.js';
import { BIGQUERY_CAPABILITIES, BigQuerySink } from './sink.js';

export const bigquerySinkFactory: SinkFactory = {
  type: 'bigquery',
  family: 'database',
  capabilities: BIGQUERY_CAPABILITIES,
  create(ctx: SinkContext): BigQuerySink {
    return new BigQuerySink(ctx);
  },
  preview(sink: CompiledSink): SinkPreview {
    return bigqueryPreview(sink);
  },
};

/** SEED-SPEC §9.5: BigQuery gets the generic preview fields only, plus warnings. */
export function bigqueryPreview(sink: CompiledSink): SinkPreview {
  const warnings = ['the BigQuery sink is Beta'];
  let mode = 'ensure';
  try {
    const s = bigquerySettings(sink);
    mode = s.mode;
    if (s.mode === 'existing')
      warnings.push(
        'provisioning.mode existing: the table and kollect_exports must already exist with the documented schema',
      );
    if (s.emulator)
      warnings.push('bigquery.emulator: requests go to spec.endpoint without Google credentials');
  } catch (err) {
    warnings.push((err as Error).message);
  }
  const fmt = (sink.spec['serialization'] as { format?: unknown } | undefined)?.format;
  return {
    provisioningMode: mode,
    serializationFormat: typeof fmt === 'string' ? fmt : 'json',
    warnings,
    details: {},
  };
}

export { BigQuerySink, BIGQUERY_CAPABILITIES, LIMITS as BIGQUERY_LIMITS } from './sink.js';
export {
  bigquerySettings,
  credentialsJsonOf,
  OPTION_EMULATOR,
  EXPORTS_TABLE,
  type BigQuerySettings,
} from './config.js';
export {
  replaceMergeSql,
  diffMergeSql,
  sweepSql,
  recordPositionSql,
  positionSql,
  forgetSql,
  transaction,
  rowsTableResource,
  exportsTableResource,
  upsertParam,
  deleteParam,
  chunkRows,
  bqTimestamp,
  ROW_FIELDS,
  EXPORT_FIELDS,
  CLUSTERING,
  type RowParam,
  type TableField,
} from './sql.js';
export { classifyBigQueryError, BigQueryTableIncompatible, BigQueryTableMissing } from './errors.js';
