import { canonicalJson, compareUtf8, gvrString, sha256Hex } from '@kollect/contracts';
import { collectedGvrs, targetKey, type CompiledPlan } from '@kollect/plan';

/**
 * What extraction of one GVR depends on, as a digest: every target that collects that GVR (its
 * profile's, or a `resourceRules` GVR) (its whole compiled definition, feeds included) with its profile's hash, plus the plan-wide
 * inputs of matching and extraction (namespace watch labels, operator scrub keys, CEL limits).
 * When the digest of a GVR changes between plans, its rows may change, so it is re-extracted by
 * replaying the object log; GVRs whose digest is unchanged are left alone.
 */
export function gvrSignatures(plan: CompiledPlan): Map<string, string> {
  const byGvr = new Map<string, { key: string; target: unknown; profileHash: string }[]>();
  for (const t of plan.targets) {
    const profile = plan.profiles[t.profileKey];
    if (!profile) continue;
    // A target depends on every GVR it collects (its rule GVRs may differ from the profile's).
    for (const gvr of collectedGvrs(t, profile)) {
      const g = gvrString(gvr);
      let list = byGvr.get(g);
      if (!list) byGvr.set(g, (list = []));
      list.push({ key: targetKey(t), target: t, profileHash: profile.hash });
    }
  }
  const common = {
    namespaceWatch: plan.namespaceWatch,
    scrubKeys: [...plan.settings.scrubKeys].sort(),
    celCostLimit: plan.settings.celCostLimit,
    celTimeoutMs: plan.settings.celTimeoutMs,
    partitions: plan.settings.partitions,
  };
  const out = new Map<string, string>();
  for (const [g, list] of byGvr) {
    list.sort((a, b) => compareUtf8(a.key, b.key));
    out.set(g, sha256Hex(canonicalJson({ gvr: g, targets: list, common })));
  }
  return out;
}

/** Targets whose compiled definition or profile changed between two plans (their failures reset). */
export function changedTargets(prev: CompiledPlan | undefined, next: CompiledPlan): string[] {
  const before = new Map<string, string>();
  if (prev) {
    for (const t of prev.targets)
      before.set(targetKey(t), canonicalJson({ t, h: prev.profiles[t.profileKey]?.hash ?? '' }));
  }
  const out: string[] = [];
  for (const t of next.targets) {
    const k = targetKey(t);
    if (before.get(k) !== canonicalJson({ t, h: next.profiles[t.profileKey]?.hash ?? '' })) out.push(k);
  }
  return out;
}

/**
 * The replay claim of one GVR in KV `kollect_state` (`replay.<cluster>.<gvr>`): which extraction
 * signature the object log of that GVR was (or is being) re-extracted for. Exactly one replica
 * runs a replay: it takes the claim with compare-and-set, refreshes `at` while it works and marks
 * it `done`. A `running` claim whose `at` is older than the staleness bound belongs to a dead
 * replica and is taken over the same way.
 */
export interface ReplayClaim {
  signature: string;
  planGeneration: number;
  state: 'running' | 'done';
  holder: string;
  /** Last heartbeat of the holder, ms since the epoch. */
  at: number;
  /** Objects replayed (when done). */
  objects?: number;
}

/** What a replica should do about one GVR, given the claim it read. */
export type ClaimDecision = 'nothing' | 'claim' | 'wait';

/**
 * Decide on one GVR: nothing when the claim already covers this signature (done) or a newer plan;
 * wait while another live replica works on this signature; claim otherwise (no claim, another
 * signature, or a stale holder).
 */
export function claimDecision(
  claim: ReplayClaim | null,
  signature: string,
  planGeneration: number,
  holder: string,
  nowMs: number,
  staleMs: number,
): ClaimDecision {
  if (!claim) return 'claim';
  if (claim.planGeneration > planGeneration) return 'nothing';
  if (claim.signature === signature && claim.state === 'done') return 'nothing';
  if (
    claim.signature === signature &&
    claim.state === 'running' &&
    claim.holder !== holder &&
    nowMs - claim.at < staleMs
  ) {
    return 'wait';
  }
  return 'claim';
}
