import { MAX_EXPORT_INTERVAL_MS } from '../constants.js';
import { formatDuration, tryParseDuration } from '../duration.js';
import type { GroupVersionKind } from '../schema/common.js';
import type { KollectClusterScopeSpec, KollectScopeSpec } from '../schema/scope.js';
import type { SinkFamily } from '../sink-refs.js';

/**
 * KollectScope / KollectClusterScope ceilings (SEED-SPEC §7.2). Pure functions of the scope spec;
 * an absent scope and an empty list both mean "no restriction".
 */
export type ScopeCeiling = KollectScopeSpec | KollectClusterScopeSpec;

/**
 * The scope that applies when several exist in one namespace (or cluster-wide): the one with the
 * lexicographically smallest name (plain code-unit order, as Go compares strings).
 */
export function effectiveScope<T extends { readonly metadata: { readonly name?: string | undefined } }>(
  scopes: readonly T[],
): T | undefined {
  let best: T | undefined;
  for (const s of scopes) {
    const name = s.metadata.name ?? '';
    if (best === undefined || name < (best.metadata.name ?? '')) best = s;
  }
  return best;
}

const normGroup = (g: string | undefined) => {
  const l = (g ?? '').toLowerCase();
  return l === 'core' ? '' : l;
};

/** Whether two GVKs are the same kind, compared case-insensitively (`core` = the empty group). */
export function sameGVK(a: GroupVersionKind, b: GroupVersionKind): boolean {
  return (
    normGroup(a.group) === normGroup(b.group) &&
    a.version.toLowerCase() === b.version.toLowerCase() &&
    a.kind.toLowerCase() === b.kind.toLowerCase()
  );
}

/** Whether the scope allows collecting `gvk`. */
export function gvkAllowed(scope: ScopeCeiling | undefined, gvk: GroupVersionKind): boolean {
  const allowed = scope?.allowedGVKs ?? [];
  return allowed.length === 0 || allowed.some((a) => sameGVK(a, gvk));
}

/** Whether the scope allows collecting from `namespace`: not denied, and allowed when an allow-list exists. */
export function namespaceAllowed(scope: ScopeCeiling | undefined, namespace: string): boolean {
  if ((scope?.deniedNamespaces ?? []).includes(namespace)) return false;
  const allowed = scope?.allowedNamespaces ?? [];
  return allowed.length === 0 || allowed.includes(namespace);
}

/** Why `namespace` is refused, for messages; `undefined` when allowed. */
export function namespaceDenial(scope: ScopeCeiling | undefined, namespace: string): string | undefined {
  if ((scope?.deniedNamespaces ?? []).includes(namespace))
    return `namespace "${namespace}" is in the scope's deniedNamespaces`;
  const allowed = scope?.allowedNamespaces ?? [];
  if (allowed.length > 0 && !allowed.includes(namespace))
    return `namespace "${namespace}" is not in the scope's allowedNamespaces (${allowed.join(', ')})`;
  return undefined;
}

/** Apply the ceiling to a set of intended namespaces: keep allowed ones, drop denied and `extraDenied`. */
export function applyScopeCeiling(
  namespaces: readonly string[],
  scope: ScopeCeiling | undefined,
  extraDenied: readonly string[] = [],
): string[] {
  return namespaces.filter((ns) => namespaceAllowed(scope, ns) && !extraDenied.includes(ns));
}

const FAMILY_FIELD = {
  snapshot: 'snapshotSinkRefs',
  database: 'databaseSinkRefs',
  event: 'eventSinkRefs',
} as const;

/** Whether the scope's allow-list for `family` admits the sink `name` (empty list = any). */
export function sinkAllowed(scope: ScopeCeiling | undefined, family: SinkFamily, name: string): boolean {
  const allowed = scope?.[FAMILY_FIELD[family]] ?? [];
  return allowed.length === 0 || allowed.includes(name);
}

/** Whether a cluster scope lets cluster kinds reference objects in `namespace`. */
export function staticRefNamespaceAllowed(
  scope: KollectClusterScopeSpec | undefined,
  namespace: string,
): boolean {
  const allowed = scope?.allowedStaticRefNamespaces ?? [];
  return allowed.length === 0 || allowed.includes(namespace);
}

/** The scope floor in milliseconds (0 when none or unparseable). */
export function scopeFloorMs(scope: ScopeCeiling | undefined): number {
  const raw = scope?.minExportInterval;
  return raw === undefined ? 0 : (tryParseDuration(raw) ?? 0);
}

/**
 * Why an interval is below the scope floor, or `undefined` when it is not (or cannot be parsed —
 * the schema reports that).
 */
export function intervalBelowFloor(
  interval: string | undefined,
  scope: ScopeCeiling | undefined,
): string | undefined {
  if (interval === undefined) return undefined;
  const floor = scopeFloorMs(scope);
  const ms = tryParseDuration(interval);
  if (floor <= 0 || ms === undefined || ms >= floor) return undefined;
  return `interval ${interval} is shorter than the scope minExportInterval ${scope?.minExportInterval}; use at least ${formatDuration(floor)}`;
}

/**
 * The effective export interval of one binding in milliseconds (SEED-SPEC §6.2, §15.9): the ref
 * override, else the sink default, else the inventory default (30s when unset); then raised to
 * the scope floor, which also replaces `0`.
 */
export function resolveExportInterval(
  refInterval: string | undefined,
  sinkInterval: string | undefined,
  inventoryInterval: string | undefined,
  scope?: ScopeCeiling,
): number {
  const pick = refInterval ?? sinkInterval ?? inventoryInterval ?? '30s';
  const chosen = Math.min(tryParseDuration(pick) ?? 30_000, MAX_EXPORT_INTERVAL_MS);
  const floor = scopeFloorMs(scope);
  return floor > 0 && (chosen === 0 || chosen < floor) ? floor : chosen;
}
