import { isRestrictingSelector, matchesLabelSelector } from './selectors.js';
import type { NamespaceInfo } from './input.js';
import type { LabelSelector } from './types.js';

/**
 * The namespaces the operator can see: every Namespace object, or only the `--watch-namespaces`
 * boundary when set (SEED-SPEC §4.5 step 1). A boundary namespace whose object is not visible
 * (team installs often cannot read Namespaces) counts with empty labels.
 */
export interface NamespaceUniverse {
  readonly list: readonly NamespaceInfo[];
  readonly byName: ReadonlyMap<string, NamespaceInfo>;
  /** True when the operator is confined to `--watch-namespaces`. */
  readonly bounded: boolean;
}

export function namespaceUniverse(
  namespaces: readonly NamespaceInfo[],
  watchNamespaces: readonly string[],
): NamespaceUniverse {
  const all = new Map(namespaces.map((n) => [n.name, n]));
  if (watchNamespaces.length === 0) {
    const list = [...all.values()].sort((a, b) => cmp(a.name, b.name));
    return { list, byName: new Map(list.map((n) => [n.name, n])), bounded: false };
  }
  const list = [...new Set(watchNamespaces)]
    .sort(cmp)
    .map((name) => all.get(name) ?? { name, labels: {}, annotations: {} });
  return { list, byName: new Map(list.map((n) => [n.name, n])), bounded: true };
}

/** The namespace-intent fields shared by KollectTarget and KollectClusterTarget. */
export interface NamespaceFilter {
  namespaceSelector?: LabelSelector | undefined;
  includedNamespaces?: readonly string[] | undefined;
  excludedNamespaces?: readonly string[] | undefined;
  namespaceExcludeSelector?: LabelSelector | undefined;
}

/** A scope's namespace ceiling; empty lists mean "no restriction" (SEED-SPEC §3.9). */
export interface NamespaceCeiling {
  allowedNamespaces: readonly string[];
  deniedNamespaces: readonly string[];
}

export const NO_CEILING: NamespaceCeiling = { allowedNamespaces: [], deniedNamespaces: [] };

export interface NamespaceDefaults {
  included: readonly string[];
  excluded: readonly string[];
}

/** Result of resolving a target's namespaces (SEED-SPEC §4.5 step 2). */
export interface ResolvedNamespaces {
  /** Intent before the scope ceiling, as an explicit sorted list (status `matchedNamespaces`). */
  matched: string[];
  /** After the ceiling and every deny list (status `effectiveNamespaces`). */
  effective: string[];
  /**
   * True when nothing restricts the namespaces at all (no selector, no include/exclude lists,
   * no defaults, no ceiling, no operator boundary): the plan then says `null` (= every
   * namespace, including ones created later) instead of the explicit list.
   */
  unrestricted: boolean;
}

/**
 * Resolve intent and effective namespaces against the visible Namespace objects:
 *
 * - intent = namespaces matching (`includedNamespaces`, or the Helm default list when empty)
 *   ∩ `namespaceSelector` (nil = all), minus excluded (target ∪ Helm default), minus
 *   `namespaceExcludeSelector`;
 * - effective = (intent ∩ scope `allowedNamespaces` if set) minus (target excluded ∪ Helm
 *   default excluded ∪ scope denied).
 *
 * Deliberate fix (vs orig): an intent that matches no namespace collects nothing. The Go code
 * treated an empty effective set as "no gate" and collected every namespace.
 */
export function resolveNamespaces(
  filter: NamespaceFilter,
  universe: NamespaceUniverse,
  defaults: NamespaceDefaults,
  ceiling: NamespaceCeiling,
): ResolvedNamespaces {
  const included = filter.includedNamespaces?.length ? filter.includedNamespaces : defaults.included;
  const excluded = new Set([...(filter.excludedNamespaces ?? []), ...defaults.excluded]);
  const excludeSel = filter.namespaceExcludeSelector;
  const includedSet = new Set(included);
  const matched: string[] = [];
  for (const ns of universe.list) {
    if (includedSet.size > 0 && !includedSet.has(ns.name)) continue;
    if (!matchesLabelSelector(filter.namespaceSelector, ns.labels)) continue;
    if (excluded.has(ns.name)) continue;
    // An exclude selector that is present but empty would exclude everything; Kubernetes
    // semantics say an empty selector matches all, and we keep that (the user asked for it).
    if (excludeSel && matchesLabelSelector(excludeSel, ns.labels)) continue;
    matched.push(ns.name);
  }
  const allowed = new Set(ceiling.allowedNamespaces);
  const denied = new Set([...excluded, ...ceiling.deniedNamespaces]);
  const effective = matched.filter((ns) => !denied.has(ns) && (allowed.size === 0 || allowed.has(ns)));
  const unrestricted =
    !universe.bounded &&
    !isRestrictingSelector(filter.namespaceSelector) &&
    included.length === 0 &&
    excluded.size === 0 &&
    excludeSel === undefined &&
    ceiling.allowedNamespaces.length === 0 &&
    ceiling.deniedNamespaces.length === 0;
  return { matched, effective, unrestricted };
}

/** Namespaces of the universe matching a selector (nil = all), sorted. */
export function namespacesMatching(
  selector: LabelSelector | undefined,
  universe: NamespaceUniverse,
): string[] {
  return universe.list.filter((n) => matchesLabelSelector(selector, n.labels)).map((n) => n.name);
}

/** Sorted intersection; `null` stands for "every namespace". */
export function intersectNamespaces(
  a: readonly string[] | null,
  b: readonly string[] | null,
): string[] | null {
  if (a === null) return b === null ? null : [...b];
  if (b === null) return [...a];
  const bs = new Set(b);
  return a.filter((x) => bs.has(x));
}

/** Sorted union; `null` (every namespace) absorbs everything. */
export function unionNamespaces(a: readonly string[] | null, b: readonly string[] | null): string[] | null {
  if (a === null || b === null) return null;
  return [...new Set([...a, ...b])].sort(cmp);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
