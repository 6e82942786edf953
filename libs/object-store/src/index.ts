/**
 * @packageDocumentation
 * Object-store snapshot writing shared by the s3 and gcs sinks (SEED-SPEC §5.5): endpoint
 * parsing, the {@link ObjectStoreClient} abstraction with an S3 implementation (AWS, MinIO, GCS
 * HMAC interop), JSON envelope and Parquet bodies, and the position in object metadata.
 */
export { parseObjectEndpoint, type ObjectLocation } from './location.js';
export type { ObjectStoreClient, ObjectHead } from './client.js';
export { S3ObjectClient, type S3ClientOptions } from './s3-client.js';
export { renderParquet, hotColumnName, rfc3339Micros, DEFAULT_HOT_ATTRIBUTES } from './parquet.js';
export {
  ObjectSnapshotSink,
  objectSinkSettings,
  objectPreview,
  OBJECT_METADATA,
  type ObjectSinkSettings,
} from './sink.js';
