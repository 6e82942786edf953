/**
 * @packageDocumentation
 * The compiled plan shared by every Kollect service, the pure compiler from CRs to plan
 * ({@link compilePlan}), scope rules, label selectors, and the status functions the controller
 * uses to turn compile results and worker reports into CR status.
 */
export * from './types.js';
export * from './conditions.js';
export * from './input.js';
export { matchesLabelSelector, isRestrictingSelector, ruleLabelSelector } from './selectors.js';
export {
  namespaceUniverse,
  resolveNamespaces,
  namespacesMatching,
  intersectNamespaces,
  unionNamespaces,
  type NamespaceUniverse,
  type NamespaceFilter,
  type NamespaceCeiling,
  type NamespaceDefaults,
  type ResolvedNamespaces,
} from './namespaces.js';
export {
  pickScope,
  effectiveScope,
  deniedGvk,
  namespaceViolation,
  sinkViolation,
  staticRefViolation,
  effectiveInterval,
  gvkLabel,
  type EffectiveScope,
} from './scope.js';
export { sinkSizeLimit } from './sinks.js';
export { secretDataUse, isSecretsGvr, type SecretDataUse } from './secret-data.js';
export {
  structuralValidator,
  admissionValidator,
  memoizeValidator,
  type ObjectValidator,
  type ObjectCheck,
  type ValidationContext,
} from './validation.js';
export {
  compilePlan,
  DEFAULT_EXPORT_INTERVAL_MS,
  NO_TARGETS_BOOTSTRAP_MS,
  type CompileResult,
  type CompileOptions,
} from './compile.js';
export {
  subjectKey,
  buildStatus,
  statusChanged,
  statusMergePatch,
  type StatusSubject,
  type DesiredStatus,
  type SinkExportEntry,
} from './status-model.js';
export {
  applySinkReport,
  sinkStatesFromStatus,
  sinkSyncedCondition,
  inventoryStatusFrom,
  cleanupProgress,
  applyExtractionReport,
  targetStatusFrom,
  watchStateKey,
  currentWatchReports,
  oversizedByGvr,
  EXPORT_SHARD_WARNING_ROWS,
  MAX_TRACKED_FAILURES,
  type SinkExportState,
  type StatusBinding,
  type InventoryStatusBasis,
  type CleanupProgress,
  type TargetStatusBasis,
  type TargetFailureState,
  type WatchStates,
} from './runtime-status.js';
export { transitionEvents, type StatusEvent } from './events.js';
export { unpublishedChanges, withPlanNotPublished } from './publication.js';
