/**
 * @packageDocumentation
 * The watcher's core, usable in the watcher service and in a one-process pipeline (CLI): keeps
 * KOLLECT_OBJECTS a mirror of the apiserver for every list+watch scope the plan needs —
 * stripped object messages with `Nats-Msg-Id = uid:rv`, tombstones on delete, vanished objects
 * tombstoned after each relist (headers-only log scan), per-scope sync state for the readiness
 * gate, and resume points persisted only behind acknowledged publishes.
 */
export {
  desiredScopes,
  inScope,
  keepsSecretData,
  scopeText,
  DEFAULT_NAMESPACE_THRESHOLD,
  type WatchScope,
  type ScopeOptions,
} from './scopes.js';
export {
  upsertMessage,
  tombstoneMessage,
  objectEnvelope,
  identityOf,
  loggedObjectOf,
  vanishedObjects,
  type ObjectIdentity,
  type LoggedObject,
  type HeaderReader,
} from './object-message.js';
export { syncKeyOf, resumeKeyOf, type ResumePoint } from './keys.js';
export { PublishTracker, type TrackedOutcome } from './tracker.js';
export { ScopeMirror, type MirrorDeps, type MirrorHooks, type MirrorSettings } from './scope-mirror.js';
export { ClusterMirror, type ClusterMirrorOptions, type ScopeHealth } from './cluster-mirror.js';
