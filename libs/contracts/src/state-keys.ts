import type { WatcherStatusReport } from './messages.js';
import { gvrString, type Gvr } from './subjects.js';

/**
 * Keys of KV `kollect_state` shared between services. KV keys allow only `[-/_=.A-Za-z0-9]`, with
 * `.` separating segments, so every variable part goes through {@link stateKeySegment}.
 */

const SAFE = /^[A-Za-z0-9_-]$/;

/**
 * One KV key segment from an arbitrary string, losslessly: `A-Z a-z 0-9 _ -` stay, every other
 * character becomes `=HH` per UTF-8 byte; the empty string becomes `=`. Same scheme as
 * `@kollect/bus` `encodeKvSegment`, so keys built here and there agree.
 */
export function stateKeySegment(value: string): string {
  if (value === '') return '=';
  let out = '';
  for (const ch of value) {
    if (SAFE.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += '=' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Segment used for a cluster-wide watch (namespaces cannot contain `_`). */
export const ALL_NAMESPACES_SEGMENT = '_all';

/**
 * The key under which the watcher records the sync state of one list+watch, read by the
 * aggregator's readiness gate: `sync.<cluster>.<gvr>.<namespace | _all>`, e.g.
 * `sync.prod.apps=2Fv1=2Fdeployments._all`. `namespace` null = a cluster-wide watch.
 */
export function watchSyncKey(cluster: string, gvr: Gvr, namespace: string | null): string {
  const ns = namespace === null ? ALL_NAMESPACES_SEGMENT : stateKeySegment(namespace);
  return `sync.${stateKeySegment(cluster)}.${stateKeySegment(gvrString(gvr))}.${ns}`;
}

/** KV filter for every sync state of one cluster. */
export function watchSyncFilter(cluster: string): string {
  return `sync.${stateKeySegment(cluster)}.>`;
}

/**
 * The value under {@link watchSyncKey}: the watcher's latest status of that watch (the same shape
 * it reports on `kollect.status.watcher.<cluster>`), plus where the object log stood when the list
 * completed. Written by the watcher on every state change; `state: 'synced'` means the initial (or
 * latest) LIST has been published in full to KOLLECT_OBJECTS, vanished objects included.
 */
export interface WatchSyncState extends WatcherStatusReport {
  /**
   * KOLLECT_OBJECTS stream sequence of the last object message published by the completed list
   * (0 if it published nothing new). Rows for every listed object come from messages up to it.
   */
  objectSeq?: number;
  /** resourceVersion of the completed list. */
  resourceVersion?: string;
  /** Objects in the scope when the list completed (a resumed watch keeps the last count). */
  objects?: number;
}
