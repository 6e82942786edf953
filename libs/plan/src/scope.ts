import type { SinkFamily } from '@kollect/contracts';
import {
  effectiveScope as smallestNamed,
  gvkAllowed,
  namespaceAllowed,
  resolveExportInterval,
  scopeFloorMs,
  sinkAllowed,
  staticRefNamespaceAllowed,
  type KollectClusterScope,
  type KollectClusterScopeSpec,
  type KollectScope,
  type KollectScopeSpec,
} from '@kollect/crd-types';
import type { NamespaceCeiling } from './namespaces.js';
import type { Gvk } from './types.js';

/**
 * KollectScope / KollectClusterScope enforcement at reconcile, exactly SEED-SPEC §7.2 ("hard
 * degrade"): every empty list means "no restriction"; when several scopes exist the
 * lexicographically smallest name wins; GVKs match case-insensitively; a violation means no
 * collection (targets) or no export (inventories). The ceiling predicates are the crd-types ones
 * (shared with admission); this module adds which scope applies and the condition messages.
 */

/** The scope that applies to one namespace (or to cluster kinds). */
export interface EffectiveScope {
  kind: 'KollectScope' | 'KollectClusterScope';
  name: string;
  spec: KollectScopeSpec | KollectClusterScopeSpec;
  /** Floor for every export interval, in ms (0 when unset). */
  minExportIntervalMs: number;
}

/** Pick the applicable scope among those given: the smallest name, ignoring ones being deleted. */
export function pickScope<T extends KollectScope | KollectClusterScope>(scopes: readonly T[]): T | undefined {
  return smallestNamed(scopes.filter((s) => !s.metadata.deletionTimestamp));
}

export function effectiveScope(
  scope: KollectScope | KollectClusterScope | undefined,
): EffectiveScope | undefined {
  if (!scope) return undefined;
  const spec = scope.spec ?? {};
  return { kind: scope.kind, name: scope.metadata.name ?? '', spec, minExportIntervalMs: scopeFloorMs(spec) };
}

export function ceilingOf(scope: EffectiveScope | undefined): NamespaceCeiling {
  return {
    allowedNamespaces: scope?.spec.allowedNamespaces ?? [],
    deniedNamespaces: scope?.spec.deniedNamespaces ?? [],
  };
}

/** Human form of a GVK for messages: `apps/v1/Deployment`, core `v1/Secret`. */
export function gvkLabel(g: Gvk): string {
  return g.group ? `${g.group}/${g.version}/${g.kind}` : `${g.version}/${g.kind}`;
}

/** The first GVK the scope does not allow, or undefined when all are allowed. */
export function deniedGvk(scope: EffectiveScope | undefined, gvks: readonly Gvk[]): Gvk | undefined {
  if (!scope) return undefined;
  return gvks.find((g) => !gvkAllowed(scope.spec, g));
}

/** A violation message, or undefined: any namespace inside `deniedNamespaces` or outside a non-empty `allowedNamespaces`. */
export function namespaceViolation(
  scope: EffectiveScope | undefined,
  namespaces: readonly string[],
): string | undefined {
  if (!scope) return undefined;
  const bad = namespaces.find((ns) => !namespaceAllowed(scope.spec, ns));
  if (bad === undefined) return undefined;
  return (scope.spec.deniedNamespaces ?? []).includes(bad)
    ? `workload namespace "${bad}" is in ${scope.kind} "${scope.name}" deniedNamespaces`
    : `workload namespace "${bad}" is not in ${scope.kind} "${scope.name}" allowedNamespaces`;
}

/** A violation message when a family allow-list is non-empty and does not name the sink. */
export function sinkViolation(
  scope: EffectiveScope | undefined,
  family: SinkFamily,
  name: string,
): string | undefined {
  if (!scope || sinkAllowed(scope.spec, family, name)) return undefined;
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
    scope.kind !== 'KollectClusterScope' ||
    staticRefNamespaceAllowed(scope.spec as KollectClusterScopeSpec, namespace)
  )
    return undefined;
  return `${what} namespace "${namespace}" is not in ${scope.kind} "${scope.name}" allowedStaticRefNamespaces`;
}

/**
 * The effective export interval of a binding in ms (SEED-SPEC §6.2, §15.9): ref → sink →
 * inventory (30 s), clamped up to the scope floor, which also replaces `0`.
 */
export function effectiveInterval(
  ref: string | undefined,
  sink: string | undefined,
  inventory: string | undefined,
  scope: EffectiveScope | undefined,
): number {
  return resolveExportInterval(ref, sink, inventory, scope?.spec);
}
