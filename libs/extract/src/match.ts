/** The label (on a resource or a namespace) and annotation (on a namespace) that opt in or out. */
export const WATCH_LABEL = 'kollect.dev/watch';

/** The labels of an object, as a string map (non-string values are ignored). */
export function labelsOf(object: unknown): Record<string, string> {
  const labels = (object as { metadata?: { labels?: unknown } } | null | undefined)?.metadata?.labels;
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = v;
  return out;
}

/**
 * The namespace an object counts as for namespace gates, feeds and cluster-target rows:
 * its own, or `default` for cluster-scoped objects (SEED-SPEC §4.5, §15.5).
 */
export function gateNamespace(objectNamespace: string): string {
  return objectNamespace === '' ? 'default' : objectNamespace;
}

/** Why a watch-label check said no. */
export type WatchVerdict = 'collect' | 'resource-disabled' | 'namespace-disabled' | 'opt-in-required';

/**
 * SEED-SPEC §4.5 step 4 (`ShouldCollect`): a resource labelled `kollect.dev/watch: disabled` is
 * skipped and one labelled `enabled` is collected, whatever its namespace says; otherwise a
 * namespace marked `disabled` (label or annotation, resolved into `plan.namespaceWatch`) is
 * skipped, and with `watchMode: OptIn` the namespace must be marked `enabled`.
 * Cluster-scoped objects (`objectNamespace` "") have no namespace marks: under OptIn they are
 * collected only when labelled `enabled` themselves.
 */
export function watchVerdict(
  resourceLabels: Readonly<Record<string, string>>,
  objectNamespace: string,
  namespaceWatch: Readonly<Record<string, 'enabled' | 'disabled'>>,
  watchMode: 'All' | 'OptIn',
): WatchVerdict {
  const own = resourceLabels[WATCH_LABEL];
  if (own === 'disabled') return 'resource-disabled';
  if (own === 'enabled') return 'collect';
  const ns = objectNamespace === '' ? undefined : namespaceWatch[objectNamespace];
  if (ns === 'disabled') return 'namespace-disabled';
  if (watchMode === 'OptIn' && ns !== 'enabled') return 'opt-in-required';
  return 'collect';
}
