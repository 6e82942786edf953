import type { LabelSelector } from './types.js';

/**
 * Kubernetes label-selector semantics (`metav1.LabelSelectorAsSelector`): every `matchLabels`
 * pair and every `matchExpressions` requirement must hold. An empty selector (`{}`) matches
 * everything; callers decide what an *absent* selector means (usually also "everything").
 *
 * `NotIn` and `DoesNotExist` match objects that lack the key, as in Kubernetes.
 */
export function matchesLabelSelector(
  selector: LabelSelector | undefined,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (l[k] !== v) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, req.key);
    const value = l[req.key];
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (!has || !values.includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        // An unknown operator cannot be satisfied (the apiserver would have rejected it).
        return false;
    }
  }
  return true;
}

/** True when the selector has at least one requirement (a non-empty selector restricts). */
export function isRestrictingSelector(selector: LabelSelector | undefined): boolean {
  if (!selector) return false;
  return Object.keys(selector.matchLabels ?? {}).length > 0 || (selector.matchExpressions ?? []).length > 0;
}

/**
 * A resource label selector from the `matchLabels` / `matchExpressions` pair of a resource rule;
 * undefined when both are empty (no restriction).
 */
export function ruleLabelSelector(
  matchLabels: Record<string, string> | undefined,
  matchExpressions: LabelSelector['matchExpressions'] | undefined,
): LabelSelector | undefined {
  const hasLabels = matchLabels !== undefined && Object.keys(matchLabels).length > 0;
  const hasExpr = matchExpressions !== undefined && matchExpressions.length > 0;
  if (!hasLabels && !hasExpr) return undefined;
  return {
    ...(hasLabels ? { matchLabels: { ...matchLabels } } : {}),
    ...(hasExpr
      ? {
          matchExpressions: matchExpressions.map((e) => ({
            ...e,
            ...(e.values ? { values: [...e.values] } : {}),
          })),
        }
      : {}),
  };
}
