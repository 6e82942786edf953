/** The outcome shape the tracker needs (a subset of the bus's PublishOutcome). */
export type TrackedOutcome = { ok: true; seq: number } | { ok: false };

interface Waiter {
  through: number;
  resolve: () => void;
}

/**
 * Follows one producer's asynchronous publishes on a shared publisher: which are still
 * unacknowledged, the highest stream sequence acknowledged, and how many failed. Publishes are
 * numbered in submission order so a caller can wait for "everything I submitted up to now"
 * while newer publishes keep flowing (a checkpoint under continuous load).
 */
export class PublishTracker {
  #next = 0;
  readonly #unsettled = new Set<number>();
  #waiters: Waiter[] = [];
  /** Highest stream sequence acknowledged so far. */
  maxSeq = 0;
  /** Publishes that failed for good, since creation. */
  failures = 0;

  /** Number the next publish and watch its outcome. `onFailure` runs before waiters are released. */
  track<T extends TrackedOutcome>(done: Promise<T>, onFailure: (outcome: T) => void): void {
    const id = ++this.#next;
    this.#unsettled.add(id);
    void done.then((o) => {
      if (o.ok) this.maxSeq = Math.max(this.maxSeq, o.seq);
      else {
        this.failures++;
        onFailure(o);
      }
      this.#unsettled.delete(id);
      this.#release();
    });
  }

  /** The number of the latest submitted publish (0 = none yet). */
  mark(): number {
    return this.#next;
  }

  /** Publishes submitted and not yet settled. */
  get pending(): number {
    return this.#unsettled.size;
  }

  /** Resolves once every publish numbered `<= through` has settled (acked or failed). */
  settledThrough(through: number = this.#next): Promise<void> {
    if (this.#oldestUnsettled() > through) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ through, resolve }));
  }

  #oldestUnsettled(): number {
    let min = Infinity;
    for (const id of this.#unsettled) if (id < min) min = id;
    return min;
  }

  #release(): void {
    if (this.#waiters.length === 0) return;
    const oldest = this.#oldestUnsettled();
    const keep: Waiter[] = [];
    for (const w of this.#waiters) {
      if (oldest > w.through) w.resolve();
      else keep.push(w);
    }
    this.#waiters = keep;
  }
}
