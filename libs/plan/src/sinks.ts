import type { CompiledSink } from './types.js';

/**
 * The largest single payload a bound sink accepts, when the backend has a limit that the
 * export size drives; undefined = no practical limit. This gates `ExportShardWarning`.
 *
 * Decision: only event sinks in `mode: snapshot` carry a whole export in one message, and both
 * Kafka (`message.max.bytes`, 1 MB default) and NATS (`max_payload`, 1 MB default) cap a message,
 * so the export is split into parts of at most `maxExportBytes`. Every other backend writes rows
 * or objects without a per-export limit: Git files and S3/GCS objects have none that matters,
 * Postgres/MongoDB/BigQuery write one row or document per item, and `mode: changes` event sinks
 * send one message per row.
 */
export function sinkSizeLimit(
  sink: Pick<CompiledSink, 'type' | 'spec'>,
  maxExportBytes: number,
): number | undefined {
  if (sink.type !== 'kafka' && sink.type !== 'nats') return undefined;
  const block = sink.spec[sink.type] as { mode?: string } | undefined;
  return block?.mode === 'snapshot' ? maxExportBytes : undefined;
}
