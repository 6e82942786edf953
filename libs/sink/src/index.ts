/**
 * @packageDocumentation
 * The Sink interface and the framework shared by the snapshot, database and event sink workers:
 * generation bookkeeping ({@link planApply}, {@link SinkRunner}), materialised state, circuit
 * breaker and backoff, credential resolution, the endpoint guard call, error classes, metrics names.
 */
export * from './types.js';
export * from './errors.js';
export {
  planApply,
  appliesFinalExport,
  type ApplyPlan,
  type ApplyInput,
  type ReplaceReason,
} from './decide.js';
export { MaterializedInventory, MaterializedStore } from './materialized.js';
export {
  CircuitBreaker,
  DEFAULT_BREAKER,
  backoffDelay,
  type BreakerState,
  type CircuitBreakerOptions,
} from './breaker.js';
export { SinkRunner, type SinkRunnerOptions, type ExportOutcome } from './runner.js';
export type { FullSnapshotSource } from './source.js';
export { SINK_METRICS, NO_METRICS, type SinkMetrics } from './metrics.js';
export { KeyedMutex } from './mutex.js';
export {
  CA_SECRET_KEYS,
  credentialsRef,
  secretNeeds,
  secretKey,
  resolveCredentials,
  decodeSecretData,
  type SecretNeed,
  type SecretData,
  type SecretWatcher,
} from './credentials.js';
export { guardEndpoints, sinkEndpoints, type EndpointGuardPolicy } from './endpoint.js';
export { SinkRegistry } from './registry.js';
