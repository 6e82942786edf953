import type { SinkFamily } from '@kollect/contracts';
import { tryParseDuration, type KollectClusterScope, type KollectScope } from '@kollect/crd-types';
import type { NamespaceCeiling } from './namespaces.js';
import type { Gvk } from './types.js';

/**
 * KollectScope / KollectClusterScope enforcement, exactly SEED-SPEC §7.2 ("hard degrade"):
 * every empty list means "no restriction"; when several scopes exist the lexicographically
 * smallest name wins; GVKs match case-insensitively; a violation means no collection (targets)
 * or no export (inventories).
 */

/** The fields shared by both scope kinds, as the compiler reads them. */
export interface EffectiveScope {
  kind: 'KollectScope' | 'KollectClusterScope';
  name: string;
  allowedGVKs: readonly Gvk[];
  allowedNamespaces: readonly string[];
  deniedNamespaces: readonly string[];
  /** Floor for every export interval, in ms (0 when unset or unparsable). */
  minExportIntervalMs: number;
  sinkRefs: Readonly<Record<SinkFamily, readonly string[]>>;
  /** Cluster scope only: namespaces cluster kinds may reference for profiles and sinks. */
  allowedStaticRefNamespaces: readonly string[];
}

/** Pick the scope that applies: the smallest name among those given (none → undefined). */
export function pickScope<T extends KollectScope | KollectClusterScope>(scopes: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const s of scopes) {
    const name = s.metadata.name ?? '';
    if (s.metadata.deletionTimestamp) continue;
    if (best === undefined || name < (best.metadata.name ?? '')) best = s;
  }
  return best;
}

export function effectiveScope(
  scope: KollectScope | KollectClusterScope | undefined,
): EffectiveScope | undefined {
  if (!scope) return undefined;
  const spec = scope.spec ?? {};
  const floor = spec.minExportInterval === undefined ? 0 : (tryParseDuration(spec.minExportInterval) ?? 0);
  return {
    kind: scope.kind,
    name: scope.metadata.name ?? '',
    allowedGVKs: (spec.allowedGVKs ?? []).map((g) => ({
      group: g.group ?? '',
      version: g.version,
      kind: g.kind,
    })),
    allowedNamespaces: spec.allowedNamespaces ?? [],
    deniedNamespaces: spec.deniedNamespaces ?? [],
    minExportIntervalMs: floor,
    sinkRefs: {
      snapshot: spec.snapshotSinkRefs ?? [],
      database: spec.databaseSinkRefs ?? [],
      event: spec.eventSinkRefs ?? [],
    },
    allowedStaticRefNamespaces:
      'allowedStaticRefNamespaces' in spec ? (spec.allowedStaticRefNamespaces ?? []) : [],
  };
}

export function ceilingOf(scope: EffectiveScope | undefined): NamespaceCeiling {
  return scope
    ? { allowedNamespaces: scope.allowedNamespaces, deniedNamespaces: scope.deniedNamespaces }
    : { allowedNamespaces: [], deniedNamespaces: [] };
}

function gvkEqualFold(a: Gvk, b: Gvk): boolean {
  return (
    a.group.toLowerCase() === b.group.toLowerCase() &&
    a.version.toLowerCase() === b.version.toLowerCase() &&
    a.kind.toLowerCase() === b.kind.toLowerCase()
  );
}

/** Human form of a GVK for messages: `apps/v1/Deployment`, core `v1/Secret`. */
export function gvkLabel(g: Gvk): string {
  return g.group ? `${g.group}/${g.version}/${g.kind}` : `${g.version}/${g.kind}`;
}

/** The first GVK the scope does not allow, or undefined when all are allowed. */
export function deniedGvk(scope: EffectiveScope | undefined, gvks: readonly Gvk[]): Gvk | undefined {
  if (!scope || scope.allowedGVKs.length === 0) return undefined;
  return gvks.find((g) => !scope.allowedGVKs.some((a) => gvkEqualFold(a, g)));
}

/** A violation message, or undefined: any namespace inside `deniedNamespaces` or outside a non-empty `allowedNamespaces`. */
export function namespaceViolation(
  scope: EffectiveScope | undefined,
  namespaces: readonly string[],
): string | undefined {
  if (!scope) return undefined;
  const denied = new Set(scope.deniedNamespaces);
  for (const ns of namespaces) {
    if (denied.has(ns))
      return `workload namespace "${ns}" is in ${scope.kind} "${scope.name}" deniedNamespaces`;
  }
  if (scope.allowedNamespaces.length === 0) return undefined;
  const allowed = new Set(scope.allowedNamespaces);
  for (const ns of namespaces) {
    if (!allowed.has(ns))
      return `workload namespace "${ns}" is not in ${scope.kind} "${scope.name}" allowedNamespaces`;
  }
  return undefined;
}

/** A violation message when a family allow-list is non-empty and does not name the sink. */
export function sinkViolation(
  scope: EffectiveScope | undefined,
  family: SinkFamily,
  name: string,
): string | undefined {
  if (!scope) return undefined;
  const allowed = scope.sinkRefs[family];
  if (allowed.length === 0 || allowed.includes(name)) return undefined;
  return `${family} sink ref "${name}" is not in ${scope.kind} "${scope.name}" ${family}SinkRefs`;
}

/** A violation message when a cluster kind references a namespace outside `allowedStaticRefNamespaces`. */
export function staticRefViolation(
  scope: EffectiveScope | undefined,
  what: string,
  namespace: string,
): string | undefined {
  if (
    !scope ||
    scope.allowedStaticRefNamespaces.length === 0 ||
    scope.allowedStaticRefNamespaces.includes(namespace)
  )
    return undefined;
  return `${what} namespace "${namespace}" is not in ${scope.kind} "${scope.name}" allowedStaticRefNamespaces`;
}

/**
 * The effective export interval (SEED-SPEC §6.2, §15.9): the first set value of the chain
 * (ref → sink → inventory, default 30 s), clamped up to the scope floor. The floor also replaces
 * `0` ("only on change"), because 0 is below any positive floor.
 */
export function effectiveInterval(
  chain: readonly (number | undefined)[],
  defaultMs: number,
  floorMs: number,
): number {
  const chosen = chain.find((v) => v !== undefined) ?? defaultMs;
  return Math.max(chosen, floorMs);
}
