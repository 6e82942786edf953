import { jitterUp, sleep } from './backoff.js';
import type { KubeClient } from './client.js';
import { KubeConflict, KubeNotFound } from './errors.js';

/** The `spec` of a coordination.k8s.io/v1 Lease. */
export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** Options of {@link LeaderElector}; the timings mean what they mean in client-go. */
export interface LeaderElectorOptions {
  namespace: string;
  name: string;
  /** Unique per process (pod name + random suffix). */
  identity: string;
  /** How long a non-leader waits after the last observed renewal before taking over (default 15 s). */
  leaseDurationSeconds?: number;
  /** The leader steps down when it could not renew for this long (default 10 s; < lease duration). */
  renewDeadlineSeconds?: number;
  /** Between attempts (default 2 s). */
  retryPeriodSeconds?: number;
  /** Called when this process becomes leader. */
  onStartedLeading?: () => void;
  /** Called when this process stops leading (lost the lease, or stop()). */
  onStoppedLeading?: () => void;
  /** Called when the observed holder changes (including to this process). */
  onNewLeader?: (identity: string) => void;
  /** Called on failed attempts (telemetry; the message is safe to log). */
  onError?: (err: unknown) => void;
}

/** A Lease timestamp (`metav1.MicroTime`): RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const leasePath = (ns: string, name: string): string =>
  `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/leases/${encodeURIComponent(name)}`;

/**
 * Lease-based leader election like client-go's: acquire a free or expired lease, renew it every
 * retry period with optimistic concurrency (the lease's resourceVersion), step down when renewals
 * fail for `renewDeadline`, and release on stop so a successor takes over at once. Expiry is
 * judged by the local time at which this process last saw the record change (never by comparing
 * clocks across machines).
 */
export class LeaderElector {
  readonly #client: KubeClient;
  readonly #opts: Required<
    Pick<LeaderElectorOptions, 'leaseDurationSeconds' | 'renewDeadlineSeconds' | 'retryPeriodSeconds'>
  > &
    LeaderElectorOptions;
  #abort = new AbortController();
  #done: Promise<void> | undefined;
  #leader = false;
  #observedKey = '';
  #observedAt = 0;
  #observedHolder = '';
  #observedDuration = 0;
  #lease: Lease | undefined;
  #waiters: (() => void)[] = [];

  constructor(client: KubeClient, opts: LeaderElectorOptions) {
    const leaseDurationSeconds = opts.leaseDurationSeconds ?? 15;
    const renewDeadlineSeconds = opts.renewDeadlineSeconds ?? 10;
    const retryPeriodSeconds = opts.retryPeriodSeconds ?? 2;
    if (!(
      leaseDurationSeconds > renewDeadlineSeconds &&
      renewDeadlineSeconds > retryPeriodSeconds &&
      retryPeriodSeconds > 0
    )) {
      throw new RangeError('leader election needs leaseDuration > renewDeadline > retryPeriod > 0');
    }
    if (!opts.identity) throw new RangeError('leader election needs a non-empty identity');
    this.#client = client;
    this.#opts = { ...opts, leaseDurationSeconds, renewDeadlineSeconds, retryPeriodSeconds };
  }

  /** True while this process holds the lease. */
  get isLeader(): boolean {
    return this.#leader;
  }

  /** The holder this process last observed ('' = none). */
  get observedLeader(): string {
    return this.#observedHolder;
  }

  /** Start campaigning (idempotent). */
  start(): void {
    if (this.#done) return;
    this.#done = this.#run();
  }

  /** Resolves when this process is leader (or rejects when the signal aborts). */
  waitForLeadership(signal?: AbortSignal): Promise<void> {
    if (this.#leader) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  /** Stop campaigning; a leader releases the lease so another candidate takes over at once. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#done;
    if (this.#leader) {
      this.#setLeader(false);
      await this.#release().catch((err: unknown) => this.#opts.onError?.(err));
    }
  }

  async #run(): Promise<void> {
    const { retryPeriodSeconds, renewDeadlineSeconds } = this.#opts;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      // Campaign.
      while (!signal.aborted) {
        if (await this.#tryAcquireOrRenew(renewDeadlineSeconds * 1000)) break;
        await sleep(jitterUp(retryPeriodSeconds * 1000, 0.2), signal).catch(() => undefined);
      }
      if (signal.aborted) return;
      this.#setLeader(true);
      // Lead: renew until a renewal cannot be made within the deadline.
      let lastRenew = Date.now();
      while (!signal.aborted) {
        await sleep(retryPeriodSeconds * 1000, signal).catch(() => undefined);
        if (signal.aborted) return;
        const left = renewDeadlineSeconds * 1000 - (Date.now() - lastRenew);
        if (left > 0 && (await this.#tryAcquireOrRenew(left))) {
          lastRenew = Date.now();
          continue;
        }
        // Someone else holds it: step down now rather than at the deadline.
        if (this.#observedHolder !== '' && this.#observedHolder !== this.#opts.identity) break;
        if (Date.now() - lastRenew >= renewDeadlineSeconds * 1000) break;
      }
      if (signal.aborted) return;
      this.#setLeader(false);
    }
  }

  #setLeader(leader: boolean): void {
    if (this.#leader === leader) return;
    this.#leader = leader;
    if (leader) {
      this.#opts.onStartedLeading?.();
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    } else {
      this.#opts.onStoppedLeading?.();
    }
  }

  #observe(lease: Lease): void {
    const spec = lease.spec ?? {};
    const key = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}|${spec.leaseTransitions ?? 0}|${spec.leaseDurationSeconds ?? ''}`;
    if (key !== this.#observedKey) {
      this.#observedKey = key;
      this.#observedAt = Date.now();
      this.#observedDuration = spec.leaseDurationSeconds ?? this.#opts.leaseDurationSeconds;
      const holder = spec.holderIdentity ?? '';
      if (holder !== this.#observedHolder) {
        this.#observedHolder = holder;
        if (holder) this.#opts.onNewLeader?.(holder);
      }
    }
    this.#lease = lease;
  }

  async #tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const { namespace, name, identity } = this.#opts;
    // The Lease field is an integer number of seconds.
    const leaseDurationSeconds = Math.max(1, Math.ceil(this.#opts.leaseDurationSeconds));
    const path = leasePath(namespace, name);
    const now = Date.now();
    const reqOpts = {
      signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(Math.max(100, timeoutMs))]),
    };
    try {
      let lease: Lease;
      try {
        lease = await this.#client.request<Lease>('GET', path, reqOpts);
      } catch (err) {
        if (!KubeNotFound.is(err)) throw err;
        const created = await this.#client.request<Lease>(
          'POST',
          `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`,
          {
            ...reqOpts,
            body: {
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              metadata: { name, namespace },
              spec: {
                holderIdentity: identity,
                leaseDurationSeconds,
                acquireTime: microTime(now),
                renewTime: microTime(now),
                leaseTransitions: 0,
              },
            },
          },
        );
        this.#observe(created);
        return true;
      }
      this.#observe(lease);
      const spec = lease.spec ?? {};
      const holder = spec.holderIdentity ?? '';
      const mine = holder === identity;
      if (!mine && holder !== '' && this.#observedAt + this.#observedDuration * 1000 > now) return false;
      const next: LeaseSpec = {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      };
      const updated = await this.#client.request<Lease>('PUT', path, {
        ...reqOpts,
        body: { ...lease, spec: next },
      });
      this.#observe(updated);
      return true;
    } catch (err) {
      if (!KubeConflict.is(err) && !this.#abort.signal.aborted) this.#opts.onError?.(err);
      return false;
    }
  }

  async #release(): Promise<void> {
    const lease = this.#lease;
    if (!lease || (lease.spec?.holderIdentity ?? '') !== this.#opts.identity) return;
    const now = microTime(Date.now());
    await this.#client.request<Lease>('PUT', leasePath(this.#opts.namespace, this.#opts.name), {
      timeoutMs: 5000,
      body: {
        ...lease,
        spec: {
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: lease.spec?.leaseTransitions ?? 0,
        },
      },
    });
  }
}
