import { gvrString, type Gvr, type WatchSyncState } from '@kollect/contracts';
import type { CompiledInventory, CompiledPlan } from '@kollect/plan';

/**
 * The readiness gate (ARCHITECTURE.md invariant 4, SEED-SPEC §6.5 rec, §15.13): an inventory does
 * not export until
 * 1. its partition has been loaded from KV (so the table is the persisted truth, not an empty
 *    map that would diff to "everything deleted"), and
 * 2. every GVR feeding it has synced in every namespace scope the plan watches it in — a synced
 *    cluster-wide watch covers every namespace — and
 * 3. optionally, the extractors have processed the object log up to where each of those lists
 *    ended (`objectSeq` of the sync state), and the aggregator has applied every row published so
 *    far, so that the first export after a (re)start is complete rather than partial.
 */
export interface ReadinessInput {
  plan: CompiledPlan;
  inventory: CompiledInventory;
  /** The partition's rows and export records are loaded. */
  loaded: boolean;
  /** Sync state of one watch (`namespace` null = cluster-wide), if the watcher recorded one. */
  syncState: (gvr: Gvr, namespace: string | null) => Pick<WatchSyncState, 'state' | 'objectSeq'> | undefined;
  /**
   * Object-log sequence through which every object message has been extracted (the extractor
   * consumer's ack floor). Omit to skip check 3.
   */
  extractedThroughSeq?: number;
  /** Every row published to the partition so far has been applied. Omit to skip check 3. */
  rowsDrained?: boolean;
}

/** Result of {@link readiness}. */
export interface Readiness {
  ready: boolean;
  /** Human-readable reasons while not ready, e.g. `apps/v1/deployments in team-a not synced`. */
  waitingFor: string[];
}

function scopeText(gvr: Gvr, ns: string | null): string {
  return ns === null ? gvrString(gvr) : `${gvrString(gvr)} in ${ns}`;
}

/** Evaluate the gate for one inventory. */
export function readiness(input: ReadinessInput): Readiness {
  const waitingFor: string[] = [];
  if (!input.loaded) waitingFor.push('partition not loaded');
  let maxSeq = 0;
  for (const gvr of input.inventory.gvrs) {
    const gs = gvrString(gvr);
    const watch = input.plan.watches.find((w) => gvrString(w.gvr) === gs);
    if (!watch) {
      waitingFor.push(`${gs} not watched by the plan`);
      continue;
    }
    const all = input.syncState(gvr, null);
    if (all?.state === 'synced') {
      maxSeq = Math.max(maxSeq, all.objectSeq ?? 0);
      continue;
    }
    if (watch.namespaces === null) {
      waitingFor.push(`${scopeText(gvr, null)} not synced`);
      continue;
    }
    for (const ns of watch.namespaces) {
      const s = input.syncState(gvr, ns);
      if (s?.state === 'synced') maxSeq = Math.max(maxSeq, s.objectSeq ?? 0);
      else waitingFor.push(`${scopeText(gvr, ns)} not synced`);
    }
  }
  if (
    waitingFor.length === 0 &&
    input.extractedThroughSeq !== undefined &&
    input.extractedThroughSeq < maxSeq
  ) {
    waitingFor.push(`extraction behind the initial list (${input.extractedThroughSeq} < ${maxSeq})`);
  }
  if (waitingFor.length === 0 && input.rowsDrained === false) waitingFor.push('rows still pending');
  return { ready: waitingFor.length === 0, waitingFor };
}

/**
 * Remembers, for one ownership session of a partition, which inventories have passed the gate,
 * so that a later relist of a watch (state back to `listing`) does not stall exports that already
 * run: the table stays the truth meanwhile and the relist's changes flow as ordinary rows. The
 * latch is keyed by the inventory's feeding watches, so a plan change that adds a GVR or a
 * namespace closes the gate again until that new watch has synced. Create a new latch per
 * partition acquisition.
 */
export class ReadinessLatch {
  readonly #open = new Map<string, string>();

  /** Evaluate the gate for `input.inventory` unless it already opened for the same feeding watches. */
  check(key: string, input: ReadinessInput): Readiness {
    const sig = feedSignature(input.plan, input.inventory);
    if (input.loaded && this.#open.get(key) === sig) return { ready: true, waitingFor: [] };
    const r = readiness(input);
    if (r.ready) this.#open.set(key, sig);
    return r;
  }

  /** Forget an inventory (removed from the plan). */
  forget(key: string): void {
    this.#open.delete(key);
  }
}

/** The watches an inventory depends on, as a stable string. */
function feedSignature(plan: CompiledPlan, inventory: CompiledInventory): string {
  return inventory.gvrs
    .map((g) => {
      const gs = gvrString(g);
      const w = plan.watches.find((x) => gvrString(x.gvr) === gs);
      return `${gs}=${w?.namespaces === null ? '*' : [...(w?.namespaces ?? [])].sort().join(',')}`;
    })
    .sort()
    .join(';');
}
