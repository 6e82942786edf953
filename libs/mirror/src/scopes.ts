import { gvrString, sha256Hex, type Gvr } from '@kollect/contracts';
import type { WatchSpec } from '@kollect/plan';

/**
 * Above this many namespaces a GVR is watched cluster-wide (with a client-side namespace filter)
 * instead of with one list+watch per namespace.
 *
 * Why 10: every namespace scope is one long-lived watch connection and, on every relist, one LIST
 * and one headers-only scan of the GVR's part of the object log; a 410 storm multiplies all three
 * by the namespace count. A cluster-wide watch costs one connection and one LIST, but the watcher
 * also receives (and drops) the events of namespaces nobody needs. With a handful of namespaces
 * the per-namespace watches win (the apiserver serves them from its namespace-indexed watch
 * cache and nothing unneeded crosses the wire); past about ten, the connection count and the
 * relist fan-out cost more than parsing the extra events, which are cheap to discard by namespace.
 * Operators with very uneven namespaces can tune it (`KOLLECT_WATCH_NAMESPACE_THRESHOLD`).
 */
export const DEFAULT_NAMESPACE_THRESHOLD = 10;

/** One list+watch the watcher runs. */
export interface WatchScope {
  /** Stable identity: a scope whose key changes is restarted (relist). */
  key: string;
  gvr: Gvr;
  /** Kind of the items (list items carry none). */
  kind: string;
  namespaced: boolean;
  /** Server-side namespace of a per-namespace watch; null = cluster-wide. */
  namespace: string | null;
  /**
   * Client-side filter of a cluster-wide watch of a namespaced GVR: only objects in these
   * namespaces are published and reconciled (sorted). null = every namespace.
   */
  namespaceFilter: string[] | null;
  /** Keep core Secret data of every object of the scope (the plan admitted it). */
  allowSecretData: boolean;
  /**
   * When `allowSecretData` is false: keep core Secret data only for objects in these namespaces
   * (sorted) and strip it from the others — a cluster-wide Secret scope shared by targets that
   * asked for data and targets that did not. null = strip everywhere (or keep everywhere).
   */
  secretDataNamespaces: string[] | null;
}

/** Options of {@link desiredScopes}. */
export interface ScopeOptions {
  /** See {@link DEFAULT_NAMESPACE_THRESHOLD}. */
  namespaceThreshold?: number;
}

interface Merged {
  spec: WatchSpec;
  namespaces: Set<string> | null;
  /** Secret data wanted in every namespace / in these. */
  dataAll: boolean;
  dataNamespaces: Set<string>;
}

/** The namespaces of a spec whose Secret data the plan admits (null = all of the spec's). */
function dataOf(w: WatchSpec): { all: boolean; namespaces: string[] } {
  if (w.allowSecretData === true)
    return w.namespaces === null ? { all: true, namespaces: [] } : { all: false, namespaces: w.namespaces };
  return { all: false, namespaces: w.secretDataNamespaces ?? [] };
}

/**
 * The list+watch scopes a plan needs, pure. Cluster-scoped GVRs and GVRs needed in every
 * namespace get one cluster-wide scope; a namespaced GVR needed in 1..threshold namespaces gets
 * one scope per namespace; above the threshold one cluster-wide scope filtered to those
 * namespaces; needed in no namespace, none. Duplicate specs of a GVR are merged.
 *
 * Secret data (core Secrets) is kept per namespace, as the plan admits it: a per-namespace scope
 * keeps it or not; a cluster-wide scope keeps it everywhere, or only in `secretDataNamespaces`.
 * Whether and where data is kept is part of the scope key, so a change restarts the scope and its
 * relist rewrites the log with (or without) the data.
 */
export function desiredScopes(watches: readonly WatchSpec[], opts: ScopeOptions = {}): WatchScope[] {
  const threshold = opts.namespaceThreshold ?? DEFAULT_NAMESPACE_THRESHOLD;
  const byGvr = new Map<string, Merged>();
  for (const w of watches) {
    const k = gvrString(w.gvr);
    const prev = byGvr.get(k);
    const ns = w.namespaces === null ? null : new Set(w.namespaces);
    const data = dataOf(w);
    if (!prev) {
      byGvr.set(k, { spec: w, namespaces: ns, dataAll: data.all, dataNamespaces: new Set(data.namespaces) });
      continue;
    }
    prev.dataAll ||= data.all;
    for (const n of data.namespaces) prev.dataNamespaces.add(n);
    if (prev.namespaces === null || ns === null) prev.namespaces = null;
    else for (const n of ns) prev.namespaces.add(n);
  }
  const out: WatchScope[] = [];
  for (const [gs, m] of [...byGvr].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const base = { gvr: m.spec.gvr, kind: m.spec.gvk.kind, namespaced: m.spec.namespaced };
    /** Secret-data fields and key suffix of a cluster-wide scope covering `filter` (null = all). */
    const clusterData = (
      filter: string[] | null,
    ): Pick<WatchScope, 'allowSecretData' | 'secretDataNamespaces'> & { suffix: string } => {
      const kept = filter === null ? [...m.dataNamespaces] : filter.filter((n) => m.dataNamespaces.has(n));
      if (m.dataAll || (filter !== null && kept.length === filter.length))
        return { allowSecretData: true, secretDataNamespaces: null, suffix: '|secret-data' };
      if (kept.length === 0) return { allowSecretData: false, secretDataNamespaces: null, suffix: '' };
      const list = kept.sort();
      return {
        allowSecretData: false,
        secretDataNamespaces: list,
        suffix: `|secret-data=${sha256Hex(list.join('\n')).slice(0, 16)}`,
      };
    };
    if (!m.spec.namespaced || m.namespaces === null) {
      const { suffix, ...data } = clusterData(null);
      out.push({ ...base, ...data, key: `${gs}|*${suffix}`, namespace: null, namespaceFilter: null });
      continue;
    }
    const namespaces = [...m.namespaces].sort();
    if (namespaces.length === 0) continue;
    if (namespaces.length <= threshold) {
      for (const ns of namespaces) {
        const keep = m.dataAll || m.dataNamespaces.has(ns);
        out.push({
          ...base,
          allowSecretData: keep,
          secretDataNamespaces: null,
          key: `${gs}|ns=${ns}${keep ? '|secret-data' : ''}`,
          namespace: ns,
          namespaceFilter: null,
        });
      }
    } else {
      const sig = sha256Hex(namespaces.join('\n')).slice(0, 16);
      const { suffix, ...data } = clusterData(namespaces);
      out.push({
        ...base,
        ...data,
        key: `${gs}|*|filter=${sig}${suffix}`,
        namespace: null,
        namespaceFilter: namespaces,
      });
    }
  }
  return out;
}

/** True when the scope publishes Secret data of an object in `namespace`. */
export function keepsSecretData(scope: WatchScope, namespace: string): boolean {
  return scope.allowSecretData || (scope.secretDataNamespaces?.includes(namespace) ?? false);
}

/** True when an object in `namespace` ("" = cluster-scoped) belongs to the scope. */
export function inScope(scope: WatchScope, namespace: string): boolean {
  if (scope.namespace !== null) return namespace === scope.namespace;
  if (scope.namespaceFilter === null) return true;
  return scope.namespaceFilter.includes(namespace);
}

/** `apps/v1/deployments in team-a` / `… (all namespaces)` for messages. */
export function scopeText(scope: WatchScope): string {
  const gs = gvrString(scope.gvr);
  if (scope.namespace !== null) return `${gs} in ${scope.namespace}`;
  if (scope.namespaceFilter !== null) return `${gs} in ${scope.namespaceFilter.length} namespaces`;
  return scope.namespaced ? `${gs} (all namespaces)` : gs;
}
