import { ALL_NAMESPACES_SEGMENT, gvrString, stateKeySegment, watchSyncKey } from '@kollect/contracts';
import type { WatchScope } from './scopes.js';

/** KV `kollect_state` key of a scope's sync state (read by the aggregator's readiness gate). */
export function syncKeyOf(cluster: string, scope: WatchScope): string {
  return watchSyncKey(cluster, scope.gvr, scope.namespace);
}

/**
 * KV `kollect_state` key of a scope's resume point: `resume.<cluster>.<gvr>.<namespace | _all>`.
 * Only the watcher reads it (a restarted watcher resumes its watch instead of relisting).
 */
export function resumeKeyOf(cluster: string, scope: WatchScope): string {
  const ns = scope.namespace === null ? ALL_NAMESPACES_SEGMENT : stateKeySegment(scope.namespace);
  return `resume.${stateKeySegment(cluster)}.${stateKeySegment(gvrString(scope.gvr))}.${ns}`;
}

/** Value under {@link resumeKeyOf}. */
export interface ResumePoint {
  /** The scope it belongs to: a changed scope (filter, secret data) must relist, not resume. */
  scopeKey: string;
  /** Every event up to it is acknowledged in the object log. */
  resourceVersion: string;
  /**
   * Object-log sequence floor: every message this scope published after the checkpoint has a
   * higher sequence. A resuming watcher reads what lies above it to know which objects the
   * previous process already published past the resume point (see ScopeMirror's replay guard).
   */
  objectSeqFloor: number;
  at: string;
}
