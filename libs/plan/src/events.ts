import { CONDITION_TYPES as T, REASONS as R, findCondition, type Condition } from './conditions.js';

/** A Kubernetes event the controller should emit about one object. */
export interface StatusEvent {
  type: 'Warning' | 'Normal';
  /** Enum reason (SEED-SPEC §10.3). */
  reason: string;
  /** Human-readable; already free of secrets (it comes from condition messages). */
  note: string;
}

type StatusObject = Record<string, unknown> | undefined;

function conditionsOf(s: StatusObject): Condition[] | undefined {
  return s?.['conditions'] as Condition[] | undefined;
}

function sinkSynced(s: StatusObject): Map<string, Condition | undefined> {
  const out = new Map<string, Condition | undefined>();
  for (const e of (s?.['sinkExports'] as { name?: string; conditions?: Condition[] }[] | undefined) ?? []) {
    if (typeof e?.name === 'string') out.set(e.name, findCondition(e.conditions, T.synced));
  }
  return out;
}

/**
 * The events of one status transition (computed on the status the controller is about to write,
 * so each transition yields its event exactly once, however often the controller re-syncs):
 *
 * - Warning `<reason>` when `Degraded` becomes True or changes reason (ScopeGVKDenied,
 *   ExtractionFailed, CleanupTerminal, …);
 * - Warning `<reason>` when `SinkReachable` becomes False or changes reason (ExportFailed,
 *   ExportTerminal, SinkUnreachable, SinkNotFound);
 * - Warning `ExportFailed` when one `sinkExports[]` entry starts failing;
 * - Warning `ApproachingExportCap` when `ExportShardWarning` becomes True;
 * - Normal `ExportSucceeded` when `SinkReachable` recovers to ExportSucceeded.
 */
export function transitionEvents(prev: StatusObject, next: StatusObject): StatusEvent[] {
  const events: StatusEvent[] = [];
  const before = conditionsOf(prev);
  const after = conditionsOf(next);
  const changedTo = (type: string, status: Condition['status']): Condition | undefined => {
    const n = findCondition(after, type);
    if (!n || n.status !== status) return undefined;
    const p = findCondition(before, type);
    return p && p.status === n.status && p.reason === n.reason ? undefined : n;
  };
  const degraded = changedTo(T.degraded, 'True');
  if (degraded) events.push({ type: 'Warning', reason: degraded.reason, note: degraded.message });
  const unreachable = changedTo(T.sinkReachable, 'False');
  if (unreachable) events.push({ type: 'Warning', reason: unreachable.reason, note: unreachable.message });
  const shard = changedTo(T.exportShardWarning, 'True');
  if (shard) events.push({ type: 'Warning', reason: R.ApproachingExportCap, note: shard.message });
  const recovered = changedTo(T.sinkReachable, 'True');
  const wasFailing = findCondition(before, T.sinkReachable)?.status === 'False';
  if (recovered && wasFailing && recovered.reason === R.ExportSucceeded) {
    events.push({ type: 'Normal', reason: R.ExportSucceeded, note: recovered.message });
  }
  const oldSinks = sinkSynced(prev);
  for (const [name, c] of sinkSynced(next)) {
    if (c?.status !== 'False' || c.reason !== R.ExportFailed) continue;
    const o = oldSinks.get(name);
    if (o?.status === 'False' && o.reason === R.ExportFailed) continue;
    events.push({ type: 'Warning', reason: R.ExportFailed, note: `${name}: ${c.message}` });
  }
  return events;
}
