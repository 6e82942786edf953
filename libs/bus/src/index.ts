/**
 * @packageDocumentation
 * Kollect's bus on NATS JetStream: connection with version checks, the topology (streams, KV
 * buckets, object store) created idempotently, publishers (single and pipelined with bounded
 * in-flight), a durable consumer runner that survives JetStream's failure modes, replay helpers,
 * partition ownership with fenced writes, plan distribution and W3C trace headers.
 */
export { connectBus, type Bus, type BusConnectOptions } from './connect.js';
export { busNames, type BusNames } from './names.js';
export {
  ensureTopology,
  desiredStreams,
  streamDrift,
  kvStreamName,
  objStreamName,
  type TopologyOptions,
  type TopologyReport,
  type StreamLimits,
} from './topology.js';
export {
  publishJson,
  publishBytes,
  isTransientPublishError,
  AsyncPublisher,
  type PublishOptions,
  type Published,
  type PublishOutcome,
  type PublisherStats,
  type AsyncPublisherOptions,
} from './publisher.js';
export {
  runConsumer,
  consumerConfig,
  type ConsumerOptions,
  type ConsumerRunner,
  type ConsumedMessage,
  type ConsumerEvent,
  type ConsumerEventType,
  type ConsumerStats,
  type DeadLetter,
  type DeadLetterReason,
} from './consumer.js';
export {
  replaySubject,
  lastPerSubject,
  type ReplayedMessage,
  type ReplayOptions,
  type ReplayResult,
} from './replay.js';
export {
  PartitionOwner,
  FencedWriter,
  type Fence,
  type LostReason,
  type OwnershipEvent,
  type PartitionOwnerOptions,
} from './partition.js';
export { watchPlan, putPlan, PLAN_KEY, type WatchPlanOptions, type PlanWatch } from './plan.js';
export { JsonKv, isWrongLastSequence, type JsonEntry, type JsonWatchEntry } from './kv.js';
export { encodeJson, decodeJson, kvKey, parseKvKey, encodeKvSegment, decodeKvSegment } from './codec.js';
export {
  newTraceContext,
  childTraceContext,
  formatTraceparent,
  parseTraceparent,
  injectTrace,
  extractTrace,
  type TraceContext,
} from './trace.js';
export { parseSemVer, compareSemVer, versionAtLeast, FEATURE_MIN_VERSION, type SemVer } from './version.js';
export { EventChannel } from './events.js';
export { silentLogger, type BusLogger } from './logger.js';
export {
  BusConnectFailed,
  ServerVersionTooOld,
  JetStreamUnavailable,
  PayloadTooLarge,
  PublishFailed,
  PublishRejected,
  FenceLost,
  InvalidJsonMessage,
  PlanSchemaMismatch,
  InvalidPlan,
  TopologyConflict,
  ConsumerSetupFailed,
  PoisonMessage,
  isTerminalForConsumer,
} from './errors.js';
