/**
 * @packageDocumentation
 * Kollect's bus on NATS JetStream: connection with version checks, the topology (streams, KV
 * buckets, object store) created idempotently, publishers (single and pipelined with bounded
 * in-flight), a durable consumer runner that survives JetStream's failure modes, replay helpers,
 * partition ownership with fenced writes, plan distribution and W3C trace headers.
 *
 * ```ts
 * const bus = await connectBus({ servers: env.string('KOLLECT_NATS_URL'), name: 'extractor' });
 * const names = busNames(env.string('KOLLECT_BUS_PREFIX', ''));      // '' in production
 * await ensureTopology(bus.jsm, { names });
 *
 * // publish (one at a time, or pipelined with a bounded window)
 * const pub = new AsyncPublisher(bus, { window: 128 });
 * await pub.publishJson(names.subject(subjects.row(p, inv)), rowMsg, { msgId });
 * const failures = await pub.flush();                                 // per-message outcomes
 *
 * // consume: return = ack, transient throw = NAK with delay, PoisonMessage/terminal = TERM
 * const runner = runConsumer({
 *   bus, stream: names.streams.objects, durable: 'extractor',
 *   filterSubjects: names.subject(subjects.objectsAll),
 *   handler: async (m) => handleObject(m.json<ObjectMessage>(), m.streamSeq),
 *   onDeadLetter: (dl) => reportPoison(dl),
 * });
 * for await (const e of runner.status()) log.info({ event: e }, 'consumer event');
 *
 * // the plan, validated by schemaVersion
 * const plans = await JsonKv.open(bus, names.buckets.plan);
 * watchPlan<CompiledPlan>(plans, PLAN_KEY, applyPlan, { schemaVersion: PLAN_SCHEMA_VERSION });
 *
 * // one owner per partition; writes refused by the server once another owner took over
 * const rows = await JsonKv.open(bus, names.buckets.rows);
 * const owner = new PartitionOwner({ bus, leases: await JsonKv.open(bus, names.buckets.leases),
 *   fenced: rows, partitions: 16, holder: podName, onAcquired, onLost });
 * const writer = new FencedWriter(bus, rows, owner);
 * await writer.put(owner.fenceOf(p)!, kvKey('p', String(p), invKey, rowKey), row);
 * ```
 */
export { connectBus, type Bus, type BusConnectOptions } from './connect.js';
export { JsPublisher, publishHeaders, type JsAck, type JsPublishOptions } from './jspub.js';
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
  type ConsumerBindState,
  type ConsumedMessage,
  type ConsumerEvent,
  type ConsumerEventType,
  type ConsumerStats,
  type DeadLetter,
  type DeadLetterReason,
} from './consumer.js';
export {
  planConsumerBind,
  describeChanges,
  type ConsumerBindPlan,
  type ConsumerFieldChange,
} from './consumer-bind.js';
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
export {
  watchPlan,
  putPlan,
  putEncodedPlan,
  getPlan,
  encodePlan,
  decodePlan,
  PLAN_KEY,
  PLAN_COMPRESS_ABOVE_BYTES,
  type EncodePlanOptions,
  type EncodedPlan,
  type WatchPlanOptions,
  type PlanWatch,
} from './plan.js';
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
  ConsumerIncompatible,
  PoisonMessage,
  isTerminalForConsumer,
} from './errors.js';
