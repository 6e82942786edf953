/**
 * Per-sink circuit breaker (SEED-SPEC §9.2): opens after `failureThreshold` consecutive
 * failures, stays open `openMs`, then lets `halfOpenTrials` trial operations through; a trial
 * success closes it, a trial failure re-opens it. While closed, the failure count resets every
 * `resetIntervalMs` so that rare failures spread over time never open it.
 * Pure: time comes from the injected clock.
 */
export interface CircuitBreakerOptions {
  failureThreshold: number;
  openMs: number;
  halfOpenTrials: number;
  resetIntervalMs: number;
  now: () => number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export const DEFAULT_BREAKER: Omit<CircuitBreakerOptions, 'now'> = {
  failureThreshold: 5,
  openMs: 30_000,
  halfOpenTrials: 1,
  resetIntervalMs: 60_000,
};

export class CircuitBreaker {
  private readonly opts: CircuitBreakerOptions;
  private failures = 0;
  private windowStart: number;
  private openedAt = 0;
  private trialsInFlight = 0;
  private mode: 'closed' | 'open' = 'closed';

  constructor(opts: Partial<CircuitBreakerOptions> = {}) {
    this.opts = { ...DEFAULT_BREAKER, now: Date.now, ...opts };
    this.windowStart = this.opts.now();
  }

  get state(): BreakerState {
    if (this.mode === 'closed') return 'closed';
    return this.opts.now() - this.openedAt >= this.opts.openMs ? 'half-open' : 'open';
  }

  /** Milliseconds until an open breaker lets a trial through (0 when not open). */
  retryInMs(): number {
    if (this.mode === 'closed') return 0;
    return Math.max(0, this.openedAt + this.opts.openMs - this.opts.now());
  }

  /**
   * Ask to run one operation. Returns false when the breaker is open (or half-open with its
   * trials taken); on true the caller must report the outcome with success()/failure().
   */
  tryAcquire(): boolean {
    const st = this.state;
    if (st === 'closed') {
      const now = this.opts.now();
      if (now - this.windowStart >= this.opts.resetIntervalMs) {
        this.failures = 0;
        this.windowStart = now;
      }
      return true;
    }
    if (st === 'open') return false;
    if (this.trialsInFlight >= this.opts.halfOpenTrials) return false;
    this.trialsInFlight++;
    return true;
  }

  success(): void {
    if (this.mode === 'open') {
      this.trialsInFlight = Math.max(0, this.trialsInFlight - 1);
      this.mode = 'closed';
      this.windowStart = this.opts.now();
    }
    this.failures = 0;
  }

  failure(): void {
    if (this.mode === 'open') {
      // A failed trial re-opens for a full period.
      this.trialsInFlight = Math.max(0, this.trialsInFlight - 1);
      this.openedAt = this.opts.now();
      return;
    }
    this.failures++;
    if (this.failures >= this.opts.failureThreshold) {
      this.mode = 'open';
      this.openedAt = this.opts.now();
      this.failures = 0;
    }
  }
}

/** Exponential backoff with full jitter: attempt 1 → up to base, doubling, capped at max. */
export function backoffDelay(
  attempt: number,
  opts: { baseMs?: number; maxMs?: number; random?: () => number } = {},
): number {
  const base = opts.baseMs ?? 1000;
  const max = opts.maxMs ?? 300_000;
  const random = opts.random ?? Math.random;
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  // Never zero: half the ceiling plus jitter keeps a floor under hot retry loops.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
