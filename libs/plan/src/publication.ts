import { canonicalJson, inventoryKey, sinkKey } from '@kollect/contracts';
import { CONDITION_TYPES as T, REASONS as R, applyDegradedRule } from './conditions.js';
import type { DesiredStatus } from './status-model.js';
import { targetKey, type CompiledPlan } from './types.js';

/**
 * The targets and inventories (as `subjectKey`s, e.g. `KollectTarget/team-a/web`) whose compiled
 * form in `next` differs from `published` — new, or changed themselves, or through their profile
 * (its hash) or a bound sink. When `next` cannot be published, exactly these CRs do not run as
 * their spec says, while the data plane keeps running `published`.
 */
export function unpublishedChanges(published: CompiledPlan | undefined, next: CompiledPlan): Set<string> {
  const out = new Set<string>();
  const targetForm = (p: CompiledPlan, t: CompiledPlan['targets'][number]): string =>
    canonicalJson({ t, profile: p.profiles[t.profileKey]?.hash ?? '' });
  const sinkForm = (p: CompiledPlan): Map<string, string> =>
    new Map(p.sinks.map((s) => [sinkKey(s.ref), canonicalJson(s)]));
  const inventoryForm = (sinks: Map<string, string>, inv: CompiledPlan['inventories'][number]): string =>
    canonicalJson({ inv, sinks: inv.bindings.map((b) => sinks.get(sinkKey(b.sink)) ?? '') });

  const before = new Map<string, string>();
  if (published) {
    for (const t of published.targets) before.set(targetKey(t), targetForm(published, t));
    const sinks = sinkForm(published);
    for (const i of published.inventories) before.set(inventoryKey(i.ref), inventoryForm(sinks, i));
  }
  for (const t of next.targets) {
    const k = targetKey(t);
    if (before.get(k) !== targetForm(next, t)) out.add(k);
  }
  const sinks = sinkForm(next);
  for (const i of next.inventories) {
    const k = inventoryKey(i.ref);
    if (before.get(k) !== inventoryForm(sinks, i)) out.add(k);
  }
  return out;
}

/**
 * The status of a CR whose change is not running because the plan could not be published (it is
 * larger than one KV value): `Degraded=True/PlanTooLarge` with `message`; as with every Degraded
 * reason, Ready and Synced are removed (SEED-SPEC §3.4).
 */
export function withPlanNotPublished(status: DesiredStatus, message: string): DesiredStatus {
  const conditions = status.conditions.filter((c) => c.type !== T.degraded);
  conditions.push({ type: T.degraded, status: 'True', reason: R.PlanTooLarge, message });
  return { ...status, conditions: applyDegradedRule(conditions) };
}
