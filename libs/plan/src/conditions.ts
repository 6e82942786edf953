/**
 * Status conditions: the enum of condition types and reasons the controller writes
 * (SEED-SPEC §3.4–3.7, §10.3), and the merge rules that keep `lastTransitionTime` stable so
 * that status is patched only when something really changed (SEED-SPEC §7.5).
 */

/** Condition types the controller writes. */
export const CONDITION_TYPES = {
  ready: 'Ready',
  synced: 'Synced',
  degraded: 'Degraded',
  sinkReachable: 'SinkReachable',
  exportShardWarning: 'ExportShardWarning',
  tlsInsecure: 'TLSInsecure',
} as const;

/**
 * Condition reasons. Reasons are an enum; free text goes only in `message` (SEED-SPEC §9.1).
 * The seed's reasons are kept verbatim; the few additions are marked "(Kollect)".
 */
export const REASONS = {
  // Targets
  Collecting: 'Collecting',
  ScopeForbidden: 'ScopeForbidden',
  Suspended: 'Suspended',
  MissingProfileRef: 'MissingProfileRef',
  ProfileNotFound: 'ProfileNotFound',
  /** (Kollect) The referenced profile fails schema or admission validation (webhooks off). */
  ProfileInvalid: 'ProfileInvalid',
  ProfileForbidden: 'ProfileForbidden',
  ScopeLookupFailed: 'ScopeLookupFailed',
  ScopeGVKDenied: 'ScopeGVKDenied',
  ScopeNamespaceDenied: 'ScopeNamespaceDenied',
  InformerRegistrationFailed: 'InformerRegistrationFailed',
  AccessCheckFailed: 'AccessCheckFailed',
  ExtractionFailed: 'ExtractionFailed',
  SinkNotFound: 'SinkNotFound',
  SinkForbidden: 'SinkForbidden',
  SinkUnreachable: 'SinkUnreachable',
  SinkLookupFailed: 'SinkLookupFailed',
  InventoryListFailed: 'InventoryListFailed',
  /** (Kollect) The object itself fails schema or admission validation (webhooks off). */
  InvalidSpec: 'InvalidSpec',
  /**
   * (Kollect) A profile on core Secrets reads Secret data (a `helm:` path, a `data` path, or
   * Resource export of `All`) without the annotation that lets that data onto the bus.
   */
  SecretDataNotAllowed: 'SecretDataNotAllowed',
  /**
   * (Kollect) The compiled plan is larger than one KV value (NATS max_payload): this object's
   * change is not published; the data plane keeps running the previous plan.
   */
  PlanTooLarge: 'PlanTooLarge',
  /** (Kollect) A cluster-scoped kind while the operator runs in tenant mode. */
  TenantModeForbidden: 'TenantModeForbidden',
  // Profiles
  /** (Kollect) Profile validated and its targetGVK is served. */
  Resolved: 'Resolved',
  // Inventories
  Exported: 'Exported',
  PartiallySynced: 'PartiallySynced',
  Progressing: 'Progressing',
  NoExport: 'NoExport',
  Debounced: 'Debounced',
  ExportFailed: 'ExportFailed',
  ExportTerminal: 'ExportTerminal',
  ScopeSinkDenied: 'ScopeSinkDenied',
  /** (Kollect) A bound sink fails schema or admission validation (webhooks off). */
  SinkInvalid: 'SinkInvalid',
  PayloadTooLarge: 'PayloadTooLarge',
  SpillRequired: 'SpillRequired',
  CleanupTerminal: 'CleanupTerminal',
  /** (Kollect) Deletion in progress: waiting for relational sinks to receive the empty export. */
  CleanupInProgress: 'CleanupInProgress',
  NoTargets: 'NoTargets',
  TargetDegraded: 'TargetDegraded',
  ExportUnavailable: 'ExportUnavailable',
  SinksReachable: 'SinksReachable',
  ConnectionVerified: 'ConnectionVerified',
  SinkResolved: 'SinkResolved',
  NoSinksConfigured: 'NoSinksConfigured',
  ExportSucceeded: 'ExportSucceeded',
  ApproachingExportCap: 'ApproachingExportCap',
  // Sinks
  TLSInsecure: 'TLSInsecure',
  /** Written by the sink prober (apps/sink-*): ConnectionVerified=True / Degraded=False. */
  ConnectionOK: 'ConnectionOK',
  /** Written by the sink prober: the probe failed (ConnectionVerified=False, Degraded=True). */
  ConnectionTestFailed: 'ConnectionTestFailed',
  /** Written by the sink prober: a referenced Secret or key is missing. */
  SecretResolveFailed: 'SecretResolveFailed',
  // KollectConnectionTest (written by the sink prober)
  ProbeSucceeded: 'ProbeSucceeded',
  InvalidSinkRef: 'InvalidSinkRef',
} as const;
export type Reason = (typeof REASONS)[keyof typeof REASONS];

export type ConditionStatus = 'True' | 'False' | 'Unknown';

/** `metav1.Condition`, as stored in CR status. */
export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

/** A condition the controller wants, before timestamps are decided. */
export interface DesiredCondition {
  type: string;
  status: ConditionStatus;
  reason: Reason;
  message: string;
}

/** Status messages are user-facing; keep them bounded (etcd limits, SEED-SPEC §7.5). */
export const MAX_CONDITION_MESSAGE = 4096;

function clip(message: string): string {
  return message.length <= MAX_CONDITION_MESSAGE
    ? message
    : `${message.slice(0, MAX_CONDITION_MESSAGE - 1)}…`;
}

/**
 * Apply the seed's rule: when `Degraded` is set, `Ready` and `Synced` are removed (not set to
 * False). Returns a new list.
 */
export function applyDegradedRule(conditions: readonly DesiredCondition[]): DesiredCondition[] {
  const degraded = conditions.some((c) => c.type === CONDITION_TYPES.degraded && c.status === 'True');
  if (!degraded) return conditions.filter((c) => c.type !== CONDITION_TYPES.degraded);
  return conditions.filter((c) => c.type !== CONDITION_TYPES.ready && c.type !== CONDITION_TYPES.synced);
}

/**
 * Merge desired conditions into the existing list. Types in `owned` are replaced by `desired`
 * (and removed when absent from it); other types (written by someone else, e.g. a sink prober)
 * are preserved. `lastTransitionTime` only moves when the status of a type flips.
 * Order: desired types first (in the given order), then foreign ones in their existing order.
 */
export function mergeConditions(
  existing: readonly Condition[] | undefined,
  desired: readonly DesiredCondition[],
  owned: readonly string[],
  observedGeneration: number | undefined,
  now: Date,
): Condition[] {
  const prior = new Map((existing ?? []).map((c) => [c.type, c]));
  const nowStr = formatConditionTime(now);
  const out: Condition[] = [];
  for (const d of desired) {
    const old = prior.get(d.type);
    out.push({
      type: d.type,
      status: d.status,
      reason: d.reason,
      message: clip(d.message),
      ...(observedGeneration !== undefined ? { observedGeneration } : {}),
      lastTransitionTime: old && old.status === d.status ? old.lastTransitionTime : nowStr,
    });
  }
  const desiredTypes = new Set(desired.map((d) => d.type));
  const ownedSet = new Set(owned);
  for (const c of existing ?? []) {
    if (desiredTypes.has(c.type) || ownedSet.has(c.type)) continue;
    out.push(c);
  }
  return out;
}

/** Conditions carry whole seconds, as `metav1.Time` serializes. */
export function formatConditionTime(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

/** Find a condition by type. */
export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
