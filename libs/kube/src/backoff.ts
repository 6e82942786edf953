/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** First delay (default 500 ms). */
  initialMs?: number;
  /** Cap (default 30 s). */
  maxMs?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /**
   * Fraction of the delay that is randomised (default 0.5): the delay is uniform in
   * `[base·(1−jitter), base]`, so many clients failing at once spread out (relist storms).
   */
  jitter?: number;
  /** Source of randomness in [0,1) (tests inject a fixed one). */
  random?: () => number;
}

/** Jittered exponential backoff. `next()` gives the delay before the next attempt. */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(opts: BackoffOptions = {}) {
    this.#initial = opts.initialMs ?? 500;
    this.#max = opts.maxMs ?? 30_000;
    this.#factor = opts.factor ?? 2;
    this.#jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.5));
    this.#random = opts.random ?? Math.random;
    if (!(this.#initial > 0) || !(this.#max >= this.#initial) || !(this.#factor >= 1)) {
      throw new RangeError(
        `backoff needs 0 < initialMs <= maxMs and factor >= 1 (got ${this.#initial}, ${this.#max}, ${this.#factor})`,
      );
    }
  }

  /** Consecutive failures since the last {@link reset}. */
  get attempts(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt; each call counts one failure. */
  next(): number {
    const base = Math.min(this.#max, this.#initial * this.#factor ** this.#attempt);
    this.#attempt++;
    return Math.round(base * (1 - this.#jitter * this.#random()));
  }

  /** Back to the first delay (call after a success). */
  reset(): void {
    this.#attempt = 0;
  }
}

/** `base` stretched by a random factor in [1, 1+spread): client-go's watch timeout jitter. */
export function jitterUp(base: number, spread = 1, random: () => number = Math.random): number {
  return base * (1 + spread * random());
}

/** Resolve after `ms`, or reject with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
