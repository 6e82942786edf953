/**
 * @packageDocumentation
 * The Kollect data contract: rows (items), envelopes, canonical JSON and checksums, the bus
 * message types, NATS subject encoding and the error taxonomy. Imports nothing of ours.
 */
export { canonicalJson, canonicalString, canonicalNumber, compareUtf8 } from './canonical-json.js';
export {
  type Item,
  type RowKey,
  rowKeyOf,
  rowKeyString,
  parseRowKeyString,
  itemSortKey,
  compareItems,
  sortItems,
  itemJson,
  itemsJson,
  parseItem,
} from './item.js';
export {
  checksumItems,
  checksumSortedItems,
  checksumOfItemJsons,
  checksumShort,
  sha256Hex,
} from './checksum.js';
export {
  SCHEMA_VERSION,
  type Envelope,
  type EnvelopeInput,
  buildEnvelope,
  envelopeJson,
  parseEnvelope,
  EnvelopeFormatError,
} from './envelope.js';
export {
  type InventoryKind,
  type InventoryRef,
  inventoryKey,
  parseInventoryKey,
  inventoryPathNamespace,
  type SinkFamily,
  type SinkRef,
  sinkExportName,
  sinkKey,
} from './inventory.js';
export {
  encodeToken,
  decodeToken,
  type Gvr,
  gvrString,
  parseGvrString,
  STREAMS,
  BUCKETS,
  CLUSTER_INVENTORY_NAMESPACE_TOKEN,
  subjects,
  fnv1a32,
  partitionOf,
} from './subjects.js';
export {
  BUS_SCHEMA_VERSION,
  HEADERS,
  type ObjectOrigin,
  type ObjectMessage,
  objectMsgId,
  type RowMessage,
  type SnapshotMessage,
  type SnapshotFinal,
  FINAL_INVENTORY_DELETED,
  isFinalSnapshot,
  type SinkOutcome,
  type SinkStatusReport,
  type AggregatorStatusReport,
  type TargetRef,
  type ExtractionStatusReport,
  type WatcherStatusReport,
  type OversizedObject,
  MAX_REPORTED_OVERSIZED,
  SINK_TYPES,
} from './messages.js';
export {
  type ErrorClass,
  ERROR_CLASSES,
  KollectError,
  type ErrorFactory,
  defineError,
  errorClassOf,
  isPermanent,
  aggregateErrorClass,
  redactSecrets,
} from './errors.js';
export {
  stateKeySegment,
  ALL_NAMESPACES_SEGMENT,
  watchSyncKey,
  watchSyncFilter,
  type WatchSyncState,
} from './state-keys.js';
export { formatRfc3339Nano, formatRfc3339Seconds, nowNanos } from './time.js';
