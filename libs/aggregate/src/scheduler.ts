/**
 * When the aggregator evaluates an inventory for export. A material change exports at once, but
 * "at once" coalesces a burst: the first change after an export opens a short window
 * (`coalesceMs`, default 250 ms) and every change inside it rides along. The window is **not**
 * extended by later changes, so a steady stream of changes still exports every `coalesceMs` —
 * latency stays bounded. A spec change (inventory CR generation), a gate that just opened and a
 * full-snapshot request are urgent: due immediately.
 *
 * Pure state machine: the caller supplies the clock and arms one timer for {@link nextDueMs}.
 */
export class ExportScheduler {
  readonly #coalesceMs: number;
  readonly #due = new Map<string, number>();

  constructor(opts: { coalesceMs?: number } = {}) {
    this.#coalesceMs = Math.max(0, opts.coalesceMs ?? 250);
  }

  /**
   * Note a change of inventory `key` at `nowMs`; urgent changes are due now. `minWindowMs`
   * widens the window for this inventory — the aggregator passes twice the time its last export
   * took, so a very large inventory under constant churn spends at most about a third of the time
   * exporting.
   */
  touch(key: string, nowMs: number, urgent = false, minWindowMs = 0): void {
    const at = urgent ? nowMs : nowMs + Math.max(this.#coalesceMs, minWindowMs);
    const cur = this.#due.get(key);
    if (cur === undefined || at < cur) this.#due.set(key, at);
  }

  /** Inventories due at `nowMs`, removed from the schedule (in due order). */
  takeDue(nowMs: number): string[] {
    const due = [...this.#due].filter(([, at]) => at <= nowMs).sort((a, b) => a[1] - b[1]);
    for (const [k] of due) this.#due.delete(k);
    return due.map(([k]) => k);
  }

  /** The earliest due time, or null when nothing is scheduled. */
  nextDueMs(): number | null {
    let min: number | null = null;
    for (const at of this.#due.values()) if (min === null || at < min) min = at;
    return min;
  }

  /** Drop an inventory from the schedule (removed, or its partition lost). */
  forget(key: string): void {
    this.#due.delete(key);
  }

  /** Scheduled inventories. */
  get size(): number {
    return this.#due.size;
  }
}
