import {
  aggregateErrorClass,
  checksumShort,
  KollectError,
  sinkExportName,
  type AggregatorStatusReport,
  type ErrorClass,
  type ExtractionStatusReport,
  type Gvr,
  type InventoryKind,
  type OversizedObject,
  type SinkFamily,
  type SinkOutcome,
  type SinkStatusReport,
  type WatcherStatusReport,
  gvrString,
} from '@kollect/contracts';
import { FINALIZERS } from '@kollect/crd-types';
import {
  CONDITION_TYPES as T,
  REASONS as R,
  applyDegradedRule,
  type DesiredCondition,
} from './conditions.js';
import type { DesiredStatus, SinkExportEntry, StatusSubject } from './status-model.js';

/*
 * Runtime status: merges worker reports (sinks, aggregator, extractor, watcher) into the
 * compile-time status of inventories and targets (SEED-SPEC §3.4, §3.6, §3.7).
 */

// ---------------------------------------------------------------------------------------------
// Sinks

/** What the controller remembers of one (inventory, sink) binding, folded from SinkStatusReports. */
export interface SinkExportState {
  sinkType: string;
  /** Last outcome that changes the binding's condition (`full-requested` does not). */
  outcome: SinkOutcome | 'pending';
  lastReportAt: string;
  lastExportTime?: string;
  lastChecksum?: string;
  exportGeneration?: number;
  /** Export generation of the latest report, whatever its outcome (a failure does not move `exportGeneration`). */
  attemptGeneration?: number;
  itemCount?: number;
  errorClass?: ErrorClass;
  reason?: string;
  message?: string;
}

/**
 * Fold one report into the binding state. A report about an older export generation than the
 * one already recorded is ignored (reports may arrive out of order across sink replicas).
 */
export function applySinkReport(prev: SinkExportState | undefined, r: SinkStatusReport): SinkExportState {
  if (prev?.exportGeneration !== undefined && r.exportGeneration < prev.exportGeneration) return prev;
  const base: SinkExportState = prev
    ? { ...prev }
    : { sinkType: r.sinkType, outcome: 'pending', lastReportAt: r.at };
  base.sinkType = r.sinkType;
  base.lastReportAt = r.at;
  base.attemptGeneration = Math.max(base.attemptGeneration ?? 0, r.exportGeneration);
  switch (r.outcome) {
    case 'exported':
    case 'unchanged':
      return {
        sinkType: r.sinkType,
        outcome: r.outcome,
        lastReportAt: r.at,
        lastExportTime: r.at,
        lastChecksum: r.checksum,
        exportGeneration: r.exportGeneration,
        attemptGeneration: Math.max(prev?.attemptGeneration ?? 0, r.exportGeneration),
        itemCount: r.itemCount,
      };
    case 'debounced':
      base.outcome = 'debounced';
      delete base.errorClass;
      delete base.reason;
      if (r.message !== undefined) base.message = r.message;
      else delete base.message;
      return base;
    case 'failed':
      base.outcome = 'failed';
      base.errorClass = r.errorClass ?? 'transient';
      if (r.reason !== undefined) base.reason = r.reason;
      else delete base.reason;
      base.message = r.message ?? 'export failed';
      return base;
    case 'full-requested':
    case 'retained':
    default:
      // full-requested: the sink will apply the full snapshot and report again. retained: the
      // final export of a deleted inventory, left unapplied by a sink that keeps its history.
      // Either way the condition stays as it was.
      return base;
  }
}

/** The `Synced` condition of one `sinkExports[]` entry. */
export function sinkSyncedCondition(s: SinkExportState | undefined): DesiredCondition {
  if (!s || s.outcome === 'pending' || s.outcome === 'full-requested') {
    return {
      type: T.synced,
      status: 'False',
      reason: R.Progressing,
      message: 'waiting for the first export',
    };
  }
  switch (s.outcome) {
    case 'exported':
    case 'unchanged':
      return {
        type: T.synced,
        status: 'True',
        reason: R.Exported,
        message: `export generation ${s.exportGeneration ?? 0}: ${s.itemCount ?? 0} item(s) @ ${checksumShort(s.lastChecksum ?? '')}`,
      };
    case 'debounced':
      return {
        type: T.synced,
        status: 'True',
        reason: R.Debounced,
        message: s.message ?? 'checksum unchanged',
      };
    case 'failed':
    default:
      return {
        type: T.synced,
        status: 'False',
        reason: R.ExportFailed,
        message: s.reason ? `${s.reason}: ${s.message ?? ''}` : (s.message ?? 'export failed'),
      };
  }
}

// ---------------------------------------------------------------------------------------------
// Inventories

/** One binding as the status needs it. */
export interface StatusBinding {
  family: SinkFamily;
  name: string;
  namespace: string;
  /** `sinkKey()` of the sink: the key of {@link SinkExportState} maps. */
  key: string;
  type: string;
}

/**
 * What the compiler knows about an inventory's status; {@link inventoryStatusFrom} adds the
 * runtime part. Built by `compilePlan` for every inventory it saw.
 */
export interface InventoryStatusBasis {
  subject: StatusSubject;
  kind: InventoryKind;
  /**
   * A compile-time Degraded condition (hold reasons, NoTargets, TargetDegraded, invalid spec).
   * It wins over anything the runtime reports.
   */
  degraded?: DesiredCondition;
  /** Compile-time `Synced` override while nothing can be exported yet (e.g. waiting for targets). */
  waiting?: DesiredCondition;
  /** SinkReachable before any export result: SinksReachable / ConnectionVerified / SinkResolved / NoSinksConfigured / SinkNotFound / SinkUnreachable. */
  preExportReachable: DesiredCondition;
  bindings: StatusBinding[];
  /** True when some binding has a payload size limit (see `sinkSizeLimit`): gates ExportShardWarning. */
  sizeLimited: boolean;
  /** Cluster inventories: cluster targets feeding it. */
  targetCount?: number;
  /** The CR is being deleted (cleanup finalizer pending). */
  deleting: boolean;
}

/** Rows at which an inventory with a size-limited sink gets `ExportShardWarning` (SEED-SPEC §3.6, §11). */
export const EXPORT_SHARD_WARNING_ROWS = 1800;

const INVENTORY_CONDITIONS = [T.ready, T.synced, T.degraded, T.sinkReachable, T.exportShardWarning] as const;
const INVENTORY_FIELDS = [
  'observedGeneration',
  'itemCount',
  'exportGeneration',
  'lastExportTime',
  'sinkExports',
] as const;
const CLUSTER_INVENTORY_FIELDS = [
  ...INVENTORY_FIELDS,
  'targetCount',
  'namespaceShardCount',
  'namespaceShards',
] as const;

/** Where an inventory's deletion cleanup stands. */
export type CleanupProgress =
  | { state: 'waiting-aggregator' }
  | { state: 'waiting-sinks'; finalExportGeneration: number; pending: string[] }
  | { state: 'done' }
  | { state: 'terminal'; message: string };

/**
 * Deletion cleanup (finalizer `kollect.dev/inventory-cleanup`): done when there is no relational
 * binding, or when the aggregator has published the final empty snapshot and every relational
 * binding reported that generation (or a later one) applied. A permanent failure of a binding at
 * that generation is terminal (`Degraded/CleanupTerminal`, finalizer kept, SEED-SPEC §6.4).
 */
export function cleanupProgress(
  basis: Pick<InventoryStatusBasis, 'bindings'>,
  sinks: ReadonlyMap<string, SinkExportState>,
  aggregator: AggregatorStatusReport | undefined,
): CleanupProgress {
  const relational = basis.bindings.filter((b) => b.family === 'database');
  if (relational.length === 0) return { state: 'done' };
  const final = aggregator?.finalExportGeneration;
  if (final === undefined) return { state: 'waiting-aggregator' };
  const pending: string[] = [];
  for (const b of relational) {
    const s = sinks.get(b.key);
    const applied =
      s && (s.outcome === 'exported' || s.outcome === 'unchanged') && (s.exportGeneration ?? 0) >= final;
    if (applied) continue;
    // Only a permanent failure of the final export itself is terminal (an older failure is not).
    if (s?.outcome === 'failed' && s.errorClass !== 'transient' && (s.attemptGeneration ?? 0) >= final) {
      return { state: 'terminal', message: `${sinkExportName(b)}: ${s.message ?? 'export failed'}` };
    }
    pending.push(sinkExportName(b));
  }
  return pending.length === 0
    ? { state: 'done' }
    : { state: 'waiting-sinks', finalExportGeneration: final, pending };
}

/**
 * The status of an inventory from its compile-time basis and the runtime reports:
 * `itemCount`, `exportGeneration`, `lastExportTime` (max over sinks), `sinkExports[]` (one per
 * binding, `Synced` Exported/Debounced/ExportFailed), and the aggregate conditions of
 * SEED-SPEC §3.6:
 *
 * - Synced: True/Exported (all exported) · False/PartiallySynced (some failed or some debounced)
 *   · False/Progressing (nothing exported yet, gate closed, or failures only) · True/NoExport (no refs).
 * - Ready: True/Exported when no sink failed (debounced included) · True/PartiallySynced when some
 *   failed and ≥1 exported.
 * - Degraded: compile-time reasons; or every reporting sink failed → ExportTerminal when all
 *   failures are permanent (PayloadTooLarge / SpillRequired when they all say so), else Progressing.
 *   When Degraded is set, Ready and Synced are removed.
 * - SinkReachable: before any result the compile-time reason; after, ExportSucceeded / ExportFailed
 *   / ExportTerminal.
 * - ExportShardWarning=True/ApproachingExportCap at ≥1,800 rows, only if a bound sink has a size limit.
 */
export function inventoryStatusFrom(
  basis: InventoryStatusBasis,
  sinks: ReadonlyMap<string, SinkExportState>,
  aggregator: AggregatorStatusReport | undefined,
): DesiredStatus {
  const fields: Record<string, unknown> = { observedGeneration: basis.subject.generation };
  const conditions: DesiredCondition[] = [];

  const entries: SinkExportEntry[] = [];
  let lastExport: string | undefined;
  let exported = 0;
  let debounced = 0;
  let pending = 0;
  const failures: SinkExportState[] = [];
  for (const b of basis.bindings) {
    const s = sinks.get(b.key);
    const entry: SinkExportEntry = { name: sinkExportName(b), namespace: b.namespace };
    if (s?.lastExportTime) entry.lastExportTime = s.lastExportTime;
    if (s?.lastChecksum) entry.lastChecksum = s.lastChecksum;
    if (s?.exportGeneration !== undefined) entry.exportGeneration = s.exportGeneration;
    entry.conditions = [sinkSyncedCondition(s)];
    entries.push(entry);
    if (s?.lastExportTime && (!lastExport || s.lastExportTime > lastExport)) lastExport = s.lastExportTime;
    const outcome = s?.outcome ?? 'pending';
    if (outcome === 'exported' || outcome === 'unchanged') exported++;
    else if (outcome === 'debounced') debounced++;
    else if (outcome === 'failed') failures.push(s as SinkExportState);
    else pending++;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  fields['sinkExports'] = entries;
  if (lastExport) fields['lastExportTime'] = lastExport;
  if (aggregator) {
    fields['itemCount'] = aggregator.itemCount;
    fields['exportGeneration'] = aggregator.exportGeneration;
    if (basis.kind === 'KollectClusterInventory' && aggregator.namespaceShards) {
      const shards = [...aggregator.namespaceShards].sort((a, b) => (a.namespace < b.namespace ? -1 : 1));
      fields['namespaceShardCount'] = shards.length;
      fields['namespaceShards'] = shards;
    }
  }
  if (basis.kind === 'KollectClusterInventory') fields['targetCount'] = basis.targetCount ?? 0;

  const failed = failures.length;
  const total = basis.bindings.length;

  // SinkReachable
  if (exported + debounced + failed === 0) {
    conditions.push(basis.preExportReachable);
  } else if (failed === 0) {
    conditions.push({
      type: T.sinkReachable,
      status: 'True',
      reason: R.ExportSucceeded,
      message: `${exported + debounced} of ${total} sink(s) current`,
    });
  } else {
    const terminal = aggregateErrorClass(failures.map(asError)) === 'terminal';
    conditions.push({
      type: T.sinkReachable,
      status: 'False',
      reason: terminal ? R.ExportTerminal : R.ExportFailed,
      message: failedMessage(basis.bindings, sinks),
    });
  }

  if (basis.deleting) {
    const progress = cleanupProgress(basis, sinks, aggregator);
    if (progress.state === 'terminal') {
      conditions.push({
        type: T.degraded,
        status: 'True',
        reason: R.CleanupTerminal,
        message: `inventory cleanup failed permanently: ${progress.message}; fix the sink (a later successful export completes the cleanup) or remove the finalizer ${basis.kind === 'KollectClusterInventory' ? FINALIZERS.clusterInventory : FINALIZERS.inventory} by hand`,
      });
    } else {
      const msg =
        progress.state === 'waiting-aggregator'
          ? 'deleting: waiting for the aggregator to publish the final empty export'
          : progress.state === 'waiting-sinks'
            ? `deleting: waiting for relational sinks to apply export generation ${progress.finalExportGeneration}: ${progress.pending.join(', ')}`
            : 'deleting: cleanup complete';
      conditions.push({ type: T.ready, status: 'False', reason: R.CleanupInProgress, message: msg });
      conditions.push({ type: T.synced, status: 'False', reason: R.CleanupInProgress, message: msg });
    }
    return finish(basis, conditions, fields);
  }

  if (basis.degraded) {
    conditions.push(basis.degraded);
  } else if (total === 0) {
    conditions.push({
      type: T.ready,
      status: 'True',
      reason: R.Exported,
      message: 'no sinks bound; nothing to export',
    });
    conditions.push(
      basis.waiting ?? { type: T.synced, status: 'True', reason: R.NoExport, message: 'no sink refs' },
    );
  } else if (failed > 0 && exported === 0 && pending === 0) {
    // Every sink that was due failed (debounced ones were not due): SEED-SPEC §9.2.
    conditions.push({
      type: T.degraded,
      status: 'True',
      reason: degradedReasonFor(failures),
      message: failedMessage(basis.bindings, sinks),
    });
  } else {
    if (failed === 0) {
      conditions.push({
        type: T.ready,
        status: 'True',
        reason: R.Exported,
        message: readyMessage(exported, debounced, pending, total),
      });
    } else {
      conditions.push({
        type: T.ready,
        status: 'True',
        reason: R.PartiallySynced,
        message: `${failed} of ${total} sink(s) failing: ${failedMessage(basis.bindings, sinks)}`,
      });
    }
    conditions.push(
      syncedCondition(
        basis,
        aggregator,
        { exported, debounced, failed, pending, total },
        basis.bindings,
        sinks,
      ),
    );
  }

  const itemCount = aggregator?.itemCount ?? 0;
  if (basis.sizeLimited && itemCount >= EXPORT_SHARD_WARNING_ROWS) {
    conditions.push({
      type: T.exportShardWarning,
      status: 'True',
      reason: R.ApproachingExportCap,
      message: `${itemCount} rows (warning at ${EXPORT_SHARD_WARNING_ROWS}); a bound sink has a payload size limit, so exports are split into parts — consider sharding the inventory`,
    });
  }
  return finish(basis, conditions, fields);
}

function finish(
  basis: InventoryStatusBasis,
  conditions: DesiredCondition[],
  fields: Record<string, unknown>,
): DesiredStatus {
  return {
    subject: basis.subject,
    conditions: applyDegradedRule(conditions),
    ownedConditionTypes: INVENTORY_CONDITIONS,
    fields,
    ownedFields: basis.kind === 'KollectClusterInventory' ? CLUSTER_INVENTORY_FIELDS : INVENTORY_FIELDS,
  };
}

function syncedCondition(
  basis: InventoryStatusBasis,
  aggregator: AggregatorStatusReport | undefined,
  n: { exported: number; debounced: number; failed: number; pending: number; total: number },
  bindings: readonly StatusBinding[],
  sinks: ReadonlyMap<string, SinkExportState>,
): DesiredCondition {
  if (basis.waiting) return basis.waiting;
  if (n.exported === n.total) {
    return { type: T.synced, status: 'True', reason: R.Exported, message: `exported to ${n.total} sink(s)` };
  }
  if (n.exported + n.debounced + n.failed === 0) {
    const gate =
      aggregator && !aggregator.gateOpen
        ? `; readiness gate waiting for: ${(aggregator.waitingFor ?? ['partition load']).join(', ')}`
        : '';
    return {
      type: T.synced,
      status: 'False',
      reason: R.Progressing,
      message: `waiting for the first export to ${n.total} sink(s)${gate}`,
    };
  }
  if (n.failed > 0 && n.exported + n.debounced === 0) {
    return {
      type: T.synced,
      status: 'False',
      reason: R.Progressing,
      message: failedMessage(bindings, sinks),
    };
  }
  const parts = [`${n.exported} exported`];
  if (n.debounced) parts.push(`${n.debounced} debounced`);
  if (n.failed) parts.push(`${n.failed} failed`);
  if (n.pending) parts.push(`${n.pending} pending`);
  return {
    type: T.synced,
    status: 'False',
    reason: R.PartiallySynced,
    message: `${parts.join(', ')} of ${n.total} sink(s)`,
  };
}

function readyMessage(exported: number, debounced: number, pending: number, total: number): string {
  if (pending === total) return `no sink failed; waiting for the first export to ${total} sink(s)`;
  return `no sink failed (${exported} exported, ${debounced} debounced, ${pending} pending)`;
}

function failedMessage(
  bindings: readonly StatusBinding[],
  sinks: ReadonlyMap<string, SinkExportState>,
): string {
  const parts: string[] = [];
  for (const b of bindings) {
    const s = sinks.get(b.key);
    if (s?.outcome !== 'failed') continue;
    parts.push(`${sinkExportName(b)}: ${s.reason ? `${s.reason}: ` : ''}${s.message ?? 'export failed'}`);
  }
  return parts.join('; ');
}

function asError(s: SinkExportState): KollectError {
  return new KollectError(
    'KOLLECT_ERR_SINK_EXPORT',
    s.errorClass ?? 'transient',
    s.message ?? 'export failed',
  );
}

function degradedReasonFor(failures: readonly SinkExportState[]): DesiredCondition['reason'] {
  if (failures.every((f) => f.errorClass === 'payload_too_large')) return R.PayloadTooLarge;
  if (failures.every((f) => f.errorClass === 'spill_required')) return R.SpillRequired;
  return aggregateErrorClass(failures.map(asError)) === 'terminal' ? R.ExportTerminal : R.Progressing;
}

// ---------------------------------------------------------------------------------------------
// Targets

/** What the compiler knows about a target's status; {@link targetStatusFrom} adds the runtime part. */
export interface TargetStatusBasis {
  subject: StatusSubject;
  /** The compile-time status (conditions already follow the Degraded rule). */
  status: DesiredStatus;
  /** In the plan (collecting); false when degraded at compile time. */
  active: boolean;
  /** GVRs the target watches (profile GVR or rule GVRs). */
  gvrs: Gvr[];
  /**
   * Where the target collects each GVR: namespaces after intent, ceiling and rule selectors (null
   * = every namespace). Decides which oversized objects concern it; absent = `gvrs` everywhere.
   */
  scopes?: { gvr: Gvr; namespaces: string[] | null }[];
  /** Changes whenever the target's definition changes (generation, profile hash): failures are reset then. */
  fingerprint: string;
}

/** Extraction failures of one target, folded from ExtractionStatusReports. */
export interface TargetFailureState {
  fingerprint: string;
  /** uid → failure. Bounded by {@link MAX_TRACKED_FAILURES}. */
  failures: Map<string, { namespace: string; name: string; reason: string; message: string; at: string }>;
  last?: { namespace: string; name: string; reason: string; message: string; at: string };
}

/** At most this many failing uids are remembered per target (the count saturates there). */
export const MAX_TRACKED_FAILURES = 10_000;

/** Fold an extractor report into a target's failure state (reset when the fingerprint changed). */
export function applyExtractionReport(
  prev: TargetFailureState | undefined,
  fingerprint: string,
  r: ExtractionStatusReport,
): TargetFailureState {
  const state: TargetFailureState =
    prev && prev.fingerprint === fingerprint ? prev : { fingerprint, failures: new Map() };
  for (const uid of r.cleared) state.failures.delete(uid);
  for (const f of r.failed) {
    if (!state.failures.has(f.uid) && state.failures.size >= MAX_TRACKED_FAILURES) continue;
    const entry = { namespace: f.namespace, name: f.name, reason: f.reason, message: f.message, at: r.at };
    state.failures.set(f.uid, entry);
    state.last = entry;
  }
  if (state.failures.size === 0) delete state.last;
  return state;
}

/** Watch state per `gvrString` (+ namespace), folded from WatcherStatusReports. */
export type WatchStates = ReadonlyMap<string, WatcherStatusReport>;

/** Key of a watch in {@link WatchStates}: `group/version/resource@namespace` (`@*` = cluster-wide). */
export function watchStateKey(gvr: Gvr, namespace: string | null): string {
  return `${gvrString(gvr)}@${namespace ?? '*'}`;
}

/**
 * The reports that describe the watcher's current scopes. A GVR is watched either cluster-wide or
 * per namespace, and the watcher switches between the two when the plan's namespace count crosses
 * its threshold; the reports of the replaced scopes stay in memory, so per GVR only the
 * reports at least as recent as the latest switch count (a stopped scope sends no more reports).
 */
export function currentWatchReports(watches: WatchStates): WatcherStatusReport[] {
  const byGvr = new Map<string, { wide?: WatcherStatusReport; perNs: WatcherStatusReport[] }>();
  for (const w of watches.values()) {
    const g = gvrString(w.gvr);
    const e = byGvr.get(g) ?? byGvr.set(g, { perNs: [] }).get(g)!;
    if (w.namespace === null) e.wide = w;
    else e.perNs.push(w);
  }
  const out: WatcherStatusReport[] = [];
  const t = (r: WatcherStatusReport): number => Date.parse(r.at) || 0;
  for (const { wide, perNs } of byGvr.values()) {
    if (!wide) {
      out.push(...perNs);
      continue;
    }
    const newer = perNs.filter((r) => t(r) > t(wide));
    if (newer.length > 0) out.push(...newer);
    else out.push(wide);
  }
  return out;
}

/**
 * Objects too large for the bus right now, per `gvrString`, deduplicated by uid, from the current
 * watch reports. A report from a watcher that predates `oversized.current` names only its last
 * oversized object; it is taken as current (it cannot be cleared).
 */
export function oversizedByGvr(watches: WatchStates): Map<string, OversizedObject[]> {
  const out = new Map<string, Map<string, OversizedObject>>();
  for (const w of currentWatchReports(watches)) {
    const o = w.oversized;
    if (!o) continue;
    const list = o.current !== undefined ? (o.objects ?? []) : o.count > 0 && o.last ? [o.last] : [];
    if (list.length === 0) continue;
    const g = gvrString(w.gvr);
    const m = out.get(g) ?? out.set(g, new Map()).get(g)!;
    for (const x of list) m.set(x.uid, x);
  }
  return new Map([...out].map(([g, m]) => [g, [...m.values()]]));
}

/** Objects listed in an oversize message at most (the count covers the rest). */
const OVERSIZED_LISTED = 5;

/** The oversized objects a target's GVRs and namespaces cover (cluster-scoped objects count as `default`). */
function oversizedFor(basis: TargetStatusBasis, watches: WatchStates): OversizedObject[] {
  const by = oversizedByGvr(watches);
  if (by.size === 0) return [];
  const scopes = basis.scopes ?? basis.gvrs.map((gvr) => ({ gvr, namespaces: null }));
  const out = new Map<string, OversizedObject>();
  for (const sc of scopes) {
    const ns = sc.namespaces === null ? null : new Set(sc.namespaces);
    for (const o of by.get(gvrString(sc.gvr)) ?? []) {
      if (ns === null || ns.has(o.namespace === '' ? 'default' : o.namespace)) out.set(o.uid, o);
    }
  }
  return [...out.values()].sort((a, b) =>
    a.namespace === b.namespace ? (a.name < b.name ? -1 : 1) : a.namespace < b.namespace ? -1 : 1,
  );
}

function oversizedMessage(objects: readonly OversizedObject[]): string {
  const shown = objects
    .slice(0, OVERSIZED_LISTED)
    .map((o) => `${o.namespace ? `${o.namespace}/` : ''}${o.name} (${o.bytes} bytes)`);
  const more = objects.length > OVERSIZED_LISTED ? `, and ${objects.length - OVERSIZED_LISTED} more` : '';
  const limit = Math.max(...objects.map((o) => o.limit));
  return `${objects.length} object(s) larger than the bus max payload (${limit} bytes) cannot be collected (a previous row stays as it was): ${shown.join(', ')}${more}; shrink them or raise the NATS max_payload`;
}

/**
 * A target's status with runtime facts: `extractionFailures` / `lastExtractionError` and
 * `Degraded/ExtractionFailed` from extractor reports (collection continues: the failing objects
 * keep their previous rows); `Degraded/InformerRegistrationFailed` when the watcher reports a GVR
 * the target needs as not served; `Degraded/PayloadTooLarge` while objects its GVRs and
 * namespaces cover are too large for the bus (reported by the watcher; cleared when they shrink
 * or go — like an extraction failure, the object cannot be collected but the rest is, so the same
 * seed rule applies: Degraded, which removes Ready and Synced); `Synced=True/ScopeForbidden` when
 * RBAC denies some watches (partial collection continues).
 */
export function targetStatusFrom(
  basis: TargetStatusBasis,
  failures: TargetFailureState | undefined,
  watches: WatchStates,
): DesiredStatus {
  const base = basis.status;
  if (!basis.active) return base;
  const fields = { ...base.fields };
  const current = failures && failures.fingerprint === basis.fingerprint ? failures : undefined;
  const count = current?.failures.size ?? 0;
  fields['extractionFailures'] = count;
  if (current?.last)
    fields['lastExtractionError'] =
      `${current.last.namespace ? `${current.last.namespace}/` : ''}${current.last.name}: ${current.last.message}`;
  else delete fields['lastExtractionError'];

  const gvrs = new Set(basis.gvrs.map(gvrString));
  const notServed: string[] = [];
  const forbidden: string[] = [];
  const oversized = oversizedFor(basis, watches);
  for (const w of currentWatchReports(watches)) {
    if (!gvrs.has(gvrString(w.gvr)) || w.state !== 'failed') continue;
    const where = `${gvrString(w.gvr)}${w.namespace ? ` in ${w.namespace}` : ''}`;
    if (w.reason === 'NotFound') notServed.push(where);
    else if (w.reason === 'Forbidden') forbidden.push(where);
  }

  let conditions = [...base.conditions];
  if (notServed.length > 0) {
    conditions.push({
      type: T.degraded,
      status: 'True',
      reason: R.InformerRegistrationFailed,
      message: `not served by the apiserver: ${notServed.sort().join(', ')}`,
    });
  } else if (count > 0 && current?.last) {
    conditions.push({
      type: T.degraded,
      status: 'True',
      reason: R.ExtractionFailed,
      message: `${count}${count >= MAX_TRACKED_FAILURES ? '+' : ''} object(s) failing extraction; last: ${fields['lastExtractionError'] as string}${oversized.length > 0 ? `; also ${oversizedMessage(oversized)}` : ''}`,
    });
  } else if (oversized.length > 0) {
    conditions.push({
      type: T.degraded,
      status: 'True',
      reason: R.PayloadTooLarge,
      message: oversizedMessage(oversized),
    });
  } else if (forbidden.length > 0) {
    conditions = conditions.map((c) =>
      c.type === T.synced
        ? {
            type: T.synced,
            status: 'True',
            reason: R.ScopeForbidden,
            message: `RBAC denies watching ${forbidden.sort().join(', ')}; collecting the rest`,
          }
        : c,
    );
  }
  return { ...base, conditions: applyDegradedRule(conditions), fields };
}

// ---------------------------------------------------------------------------------------------
// Memory from status

/**
 * Rebuild the binding states from an inventory's stored status, for a controller that starts (or
 * becomes leader) after the reports it would need have aged out of the status stream. The CR
 * status is small by design (invariant 8) but holds exactly this: per sink the last export time,
 * checksum, generation and outcome.
 */
export function sinkStatesFromStatus(
  status: Record<string, unknown> | undefined,
  bindings: readonly StatusBinding[],
): Map<string, SinkExportState> {
  const out = new Map<string, SinkExportState>();
  const entries = (status?.['sinkExports'] as SinkExportEntry[] | undefined) ?? [];
  for (const b of bindings) {
    const e = entries.find((x) => x?.name === sinkExportName(b));
    if (!e) continue;
    const synced = e.conditions?.find((c) => c.type === T.synced);
    const outcome: SinkExportState['outcome'] =
      synced?.reason === R.Exported
        ? 'exported'
        : synced?.reason === R.Debounced
          ? 'debounced'
          : synced?.reason === R.ExportFailed
            ? 'failed'
            : 'pending';
    if (outcome === 'pending' && !e.lastExportTime) continue;
    out.set(b.key, {
      sinkType: b.type,
      outcome,
      lastReportAt: e.lastExportTime ?? '',
      ...(e.lastExportTime ? { lastExportTime: e.lastExportTime } : {}),
      ...(e.lastChecksum ? { lastChecksum: e.lastChecksum } : {}),
      ...(e.exportGeneration !== undefined ? { exportGeneration: e.exportGeneration } : {}),
      ...(outcome === 'failed' || outcome === 'debounced' ? { message: synced?.message ?? '' } : {}),
    });
  }
  return out;
}
