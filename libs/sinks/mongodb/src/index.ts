/**
 * @packageDocumentation
 * The `mongodb` database sink (SEED-SPEC §5.7, CONTRACT.md "MongoDB", docs/sinks-database.md):
 * one document per item in the seed's shape plus `target_namespace`, `_id` = the row identity,
 * a unique index including `cluster`, writes in batches of 1,000, delete reconciliation per
 * (cluster, inventory), and the position in `kollect_exports`, written after the rows.
 */
import type { CompiledSink } from '@kollect/plan';
import type { SinkContext, SinkFactory, SinkPreview } from '@kollect/sink';
import { mongoSettings } from './config.js';
import { ROW_INDEX_KEYS } from './documents.js';
import { MONGODB_CAPABILITIES, MongoSink } from './sink.js';

export const mongodbSinkFactory: SinkFactory = {
  type: 'mongodb',
  family: 'database',
  capabilities: MONGODB_CAPABILITIES,
  create(ctx: SinkContext): MongoSink {
    return new MongoSink(ctx);
  },
  preview(sink: CompiledSink): SinkPreview {
    return mongodbPreview(sink);
  },
};

/** The side-effect-free preview (SEED-SPEC §9.5): the identity index keys, and warnings. */
export function mongodbPreview(sink: CompiledSink): SinkPreview {
  const warnings = [
    'MongoDB writes are not transactional: rows are written first and the position (kollect_exports) last, so readers may briefly see a partly applied export; a crash in between re-applies it',
  ];
  let mode = 'ensure';
  try {
    const s = mongoSettings(sink);
    mode = s.mode;
    if (s.mode === 'existing')
      warnings.push(
        'provisioning.mode existing: Kollect creates no collection or index; create the unique index on the keys shown',
      );
    if (s.payload === 'json')
      warnings.push('mongodb.payload json: payload is stored as JSON text, not as a queryable sub-document');
  } catch (err) {
    warnings.push((err as Error).message);
  }
  const fmt = (sink.spec['serialization'] as { format?: unknown } | undefined)?.format;
  return {
    provisioningMode: mode,
    serializationFormat: typeof fmt === 'string' ? fmt : 'json',
    warnings,
    details: { mongodb: { expectedIndexKeys: [...ROW_INDEX_KEYS] } },
  };
}

export {
  MongoSink,
  MONGODB_CAPABILITIES,
  BATCH as MONGODB_BATCH,
  CLIENT as MONGODB_CLIENT,
  mongoClientOptions,
} from './sink.js';
export {
  mongoSettings,
  uriOf,
  URI_KEYS,
  OPTION_PAYLOAD,
  EXPORTS_COLLECTION,
  type MongoSettings,
  type PayloadMode,
} from './config.js';
export {
  rowDocument,
  rowId,
  exportId,
  ROW_INDEX_KEYS,
  ROW_INDEX_NAME,
  SEED_INDEX_KEYS,
  type RowDocument,
  type ExportDocument,
} from './documents.js';
export {
  classifyMongoError,
  MongoCollectionMissing,
  MongoFieldNameRefused,
  MongoIndexConflict,
} from './errors.js';
