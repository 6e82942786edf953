/**
 * Export debounce exactly as SEED-SPEC §6.2 / §15.1 define it. **The debounce is not a rate
 * limit**: a changed checksum or a changed spec generation exports at once, whatever the
 * interval; the interval only throttles re-sending an *identical* payload, and `0` means "only on
 * change, never re-send".
 *
 * Used per sink binding by the sink workers (their state is per (inventory, `family/name`) and
 * advances only after a successful export) — and it is the rule the aggregator applies too, with
 * interval 0: it never publishes an identical generation twice.
 */

/** What a binding last exported successfully. */
export interface BindingExportState {
  /** Inventory CR generation of that export. */
  generation: number;
  /** Checksum of that export. */
  checksum: string;
  /** When it succeeded (ms since the epoch). */
  lastExportMs: number;
}

/** Decision of {@link exportDecision}. */
export type ExportDecision =
  | {
      action: 'export';
      /** `first`: no state; `changed`: checksum differs; `spec-changed`: CR generation differs; `resend`: the interval has passed. */
      reason: 'first' | 'changed' | 'spec-changed' | 'resend';
    }
  | {
      action: 'debounced';
      /**
       * When to look again (ms since the epoch): when the identical payload becomes due for a
       * re-send (at least 1 s from now), or — with interval 0, where it never becomes due — the
       * 30 s status watchdog.
       */
      nextDueMs: number;
      /** False with interval 0: waking at `nextDueMs` only refreshes status, it will not re-send. */
      resendDue: boolean;
    };

/** Wake-ups floor at one second (sub-second intervals are allowed, SEED-SPEC §6.2). */
export const MIN_WAKE_MS = 1000;
/** Status watchdog for bindings with interval 0 and the default requeue when nothing is due. */
export const WATCHDOG_MS = 30_000;

/**
 * The seed's skip rule, verbatim:
 * ```
 * skip iff state exists AND state.generation == generation AND state.checksum == checksum
 *          AND (interval == 0 OR now - state.lastExport < interval)
 * ```
 * Everything else exports.
 */
export function exportDecision(
  state: BindingExportState | undefined,
  checksum: string,
  generation: number,
  intervalMs: number,
  nowMs: number,
): ExportDecision {
  if (!state) return { action: 'export', reason: 'first' };
  if (state.checksum !== checksum) return { action: 'export', reason: 'changed' };
  if (state.generation !== generation) return { action: 'export', reason: 'spec-changed' };
  if (intervalMs <= 0) return { action: 'debounced', nextDueMs: nowMs + WATCHDOG_MS, resendDue: false };
  const elapsed = nowMs - state.lastExportMs;
  if (elapsed >= intervalMs) return { action: 'export', reason: 'resend' };
  return {
    action: 'debounced',
    nextDueMs: nowMs + Math.max(MIN_WAKE_MS, intervalMs - elapsed),
    resendDue: true,
  };
}

/** One binding's situation after a round, for {@link requeueDelayMs}. */
export type BindingRound =
  | { outcome: 'exported'; intervalMs: number }
  | { outcome: 'debounced'; decision: Extract<ExportDecision, { action: 'debounced' }> }
  /** The export failed, so no state was recorded: retry soon. */
  | { outcome: 'no-state' };

/**
 * When to run the next round (delay in ms), per the seed's requeue rule: start from the
 * inventory's default interval (the 30 s watchdog when it is 0), then take the minimum of each
 * debounced binding's next due time (floor 1 s; the watchdog for interval 0), 1 s for a binding
 * without state, and for bindings that just exported their interval (or the watchdog when 0).
 */
export function requeueDelayMs(
  defaultIntervalMs: number,
  bindings: readonly BindingRound[],
  nowMs: number,
): number {
  let delay = defaultIntervalMs > 0 ? defaultIntervalMs : WATCHDOG_MS;
  for (const b of bindings) {
    let d: number;
    if (b.outcome === 'no-state') d = MIN_WAKE_MS;
    else if (b.outcome === 'exported') d = b.intervalMs > 0 ? b.intervalMs : WATCHDOG_MS;
    else d = b.decision.nextDueMs - nowMs;
    delay = Math.min(delay, d);
  }
  return Math.max(MIN_WAKE_MS, delay);
}
