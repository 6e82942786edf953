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
  /** Keep core Secret data (the plan admitted it). */
  allowSecretData: boolean;
}

/** Options of {@link desiredScopes}. */
export interface ScopeOptions {
  /** See {@link DEFAULT_NAMESPACE_THRESHOLD}. */
  namespaceThreshold?: number;
}

interface Merged {
  spec: WatchSpec;
  namespaces: Set<string> | null;
  allowSecretData: boolean;
}

/**
 * The list+watch scopes a plan needs, pure. Cluster-scoped GVRs and GVRs needed in every
 * namespace get one cluster-wide scope; a namespaced GVR needed in 1..threshold namespaces gets
 * one scope per namespace; above the threshold one cluster-wide scope filtered to those
 * namespaces; needed in no namespace, none. Duplicate specs of a GVR are merged.
 */
export function desiredScopes(watches: readonly WatchSpec[], opts: ScopeOptions = {}): WatchScope[] {
  const threshold = opts.namespaceThreshold ?? DEFAULT_NAMESPACE_THRESHOLD;
  const byGvr = new Map<string, Merged>();
  for (const w of watches) {
    const k = gvrString(w.gvr);
    const prev = byGvr.get(k);
    const ns = w.namespaces === null ? null : new Set(w.namespaces);
    if (!prev) {
      byGvr.set(k, { spec: w, namespaces: ns, allowSecretData: w.allowSecretData === true });
      continue;
    }
    prev.allowSecretData ||= w.allowSecretData === true;
    if (prev.namespaces === null || ns === null) prev.namespaces = null;
    else for (const n of ns) prev.namespaces.add(n);
  }
  const out: WatchScope[] = [];
  for (const [gs, m] of [...byGvr].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const base = {
      gvr: m.spec.gvr,
      kind: m.spec.gvk.kind,
      namespaced: m.spec.namespaced,
      allowSecretData: m.allowSecretData,
    };
    const secret = m.allowSecretData ? '|secret-data' : '';
    if (!m.spec.namespaced || m.namespaces === null) {
      out.push({ ...base, key: `${gs}|*${secret}`, namespace: null, namespaceFilter: null });
      continue;
    }
    const namespaces = [...m.namespaces].sort();
    if (namespaces.length === 0) continue;
    if (namespaces.length <= threshold) {
      for (const ns of namespaces) {
        out.push({ ...base, key: `${gs}|ns=${ns}${secret}`, namespace: ns, namespaceFilter: null });
      }
    } else {
      const sig = sha256Hex(namespaces.join('\n')).slice(0, 16);
      out.push({
        ...base,
        key: `${gs}|*|filter=${sig}${secret}`,
        namespace: null,
        namespaceFilter: namespaces,
      });
    }
  }
  return out;
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
