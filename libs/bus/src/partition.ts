import { createHash } from 'node:crypto';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { redactSecrets } from '@kollect/contracts';
import type { Bus } from './connect.js';
import { encodeKvSegment } from './codec.js';
import { FenceLost, PayloadTooLarge } from './errors.js';
import { EventChannel } from './events.js';
import { isWrongLastSequence, type JsonKv } from './kv.js';
import { silentLogger, type BusLogger } from './logger.js';
import { FEATURE_MIN_VERSION } from './version.js';

/**
 * Proof of ownership of one partition. `token` is the revision of the partition's fence key in
 * the fenced bucket; a fenced write succeeds only while that key is still at `token`, i.e. while
 * no later owner has taken over. Compare tokens to order owners: later owners have larger tokens.
 */
export interface Fence {
  readonly group: string;
  readonly partition: number;
  readonly token: number;
  readonly holder: string;
}

/** Why a partition was lost. */
export type LostReason = 'released' | 'lease-lost' | 'renew-timeout' | 'fence-lost' | 'stopped';

/** Events of a {@link PartitionOwner}. */
export type OwnershipEvent =
  | { type: 'acquired'; partition: number; fence: number }
  | { type: 'lost'; partition: number; reason: LostReason }
  | { type: 'members'; count: number; target: number }
  | { type: 'error'; message: string };

interface LeaseValue {
  holder: string;
  at: string;
}

/** Options of {@link PartitionOwner}. */
export interface PartitionOwnerOptions {
  bus: Bus;
  /** The leases bucket (`kollect_leases`): its TTL is the lease duration. */
  leases: JsonKv<unknown>;
  /** The bucket the owner writes with fencing (`kollect_rows`); holds the fence keys. */
  fenced: JsonKv<unknown>;
  /** Total partitions (fixed at install). */
  partitions: number;
  /** Unique identity of this process (pod name + a random suffix). */
  holder: string;
  /** Ownership group, e.g. `aggregator` (default). */
  group?: string;
  /** Lease duration; must equal the leases bucket TTL (default: read from the bucket). */
  leaseTtlMs?: number;
  /** How often to renew and rebalance (default a third of the lease TTL). */
  tickMs?: number;
  /** Called when a partition is acquired: load its state, start its consumer. Awaited. */
  onAcquired?: (partition: number, fence: Fence) => void | Promise<void>;
  /** Called when a partition is lost or released: stop its consumer first. Awaited before release. */
  onLost?: (partition: number, reason: LostReason) => void | Promise<void>;
  logger?: BusLogger;
}

interface Held {
  leaseRev: number;
  fence: Fence;
  /** Local time of the last successful renew. */
  renewedAt: number;
}

/** Rendezvous hash: each holder prefers partitions in its own stable order. */
function preference(holder: string, partition: number): number {
  return createHash('sha256').update(`${holder}:${partition}`).digest().readUInt32BE(0);
}

/**
 * Exactly one owner per partition, by a KV lease with fencing. Each partition has a lease key in
 * the leases bucket (created with compare-and-set, renewed with compare-and-set, expiring by the
 * bucket TTL when its owner dies) and a fence key in the fenced bucket, rewritten by every new
 * owner. Owner writes carry `Nats-Expected-Last-Subject-Sequence(-Subject)` against the fence
 * key, so the server itself refuses a write from an owner that was replaced — even one that was
 * paused and does not know it yet (needs nats-server >= 2.11).
 *
 * Partitions are balanced across live members: each owns at most ceil(partitions / members),
 * releasing surplus one per tick when members join and picking up free partitions when they leave.
 */
export class PartitionOwner {
  readonly group: string;
  readonly holder: string;
  readonly #o: PartitionOwnerOptions;
  readonly #held = new Map<number, Held>();
  readonly #events = new EventChannel<OwnershipEvent>();
  readonly #log: BusLogger;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #chains = new Map<number, Promise<void>>();
  #ttlMs = 0;
  #stopped = false;

  constructor(opts: PartitionOwnerOptions) {
    if (!Number.isInteger(opts.partitions) || opts.partitions < 1)
      throw new RangeError('partitions must be a positive integer');
    opts.bus.requireServerVersion(FEATURE_MIN_VERSION.fencedWrites, 'fenced partition writes');
    this.#o = opts;
    this.group = opts.group ?? 'aggregator';
    this.holder = opts.holder;
    this.#log = opts.logger ?? silentLogger;
  }

  /** Partitions held now, with their fences. */
  owned(): Map<number, Fence> {
    return new Map([...this.#held].map(([p, h]) => [p, h.fence]));
  }

  /** The fence of a partition if held. */
  fenceOf(partition: number): Fence | undefined {
    return this.#held.get(partition)?.fence;
  }

  /** Ownership events as an async iterator or callback. */
  events(): AsyncIterableIterator<OwnershipEvent> {
    return this.#events.iterate();
  }
  on(cb: (e: OwnershipEvent) => void): () => void {
    return this.#events.on(cb);
  }

  leaseKey(partition: number): string {
    return `lease.${encodeKvSegment(this.group)}.${partition}`;
  }
  memberKey(): string {
    return `member.${encodeKvSegment(this.group)}.${encodeKvSegment(this.holder)}`;
  }
  fenceKey(partition: number): string {
    return `_fence.${encodeKvSegment(this.group)}.${partition}`;
  }

  /** Start acquiring and renewing. Resolves after the first round. */
  async start(): Promise<void> {
    if (this.#o.leaseTtlMs) this.#ttlMs = this.#o.leaseTtlMs;
    else {
      const st = await this.#o.leases.kv.status();
      this.#ttlMs = st.ttl > 0 ? st.ttl : 15_000;
    }
    const tick = this.#o.tickMs ?? Math.max(200, Math.floor(this.#ttlMs / 3));
    await this.#guard('renew', () => this.#renew());
    await this.#guard('balance', () => this.#balance());
    // Two loops: renewing never waits for the application (loading a partition may take longer
    // than a lease lives), balancing may.
    this.#schedule('renew', tick, () => this.#renew());
    this.#schedule('balance', tick, () => this.#balance());
  }

  /** Release every partition (calling onLost first) and stop. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    await Promise.all([...this.#running.values()].map((p) => p.catch(() => undefined)));
    for (const p of [...this.#held.keys()]) await this.#release(p, 'stopped');
    await Promise.all([...this.#chains.values()]);
    await this.#o.leases.kv.delete(this.memberKey()).catch(() => undefined);
    this.#events.close();
  }

  #schedule(name: string, everyMs: number, fn: () => Promise<void>): void {
    if (this.#stopped) return;
    const t = setTimeout(
      () => {
        const run = this.#guard(name, fn).finally(() => {
          this.#running.delete(name);
          this.#schedule(name, everyMs, fn);
        });
        this.#running.set(name, run);
      },
      everyMs * (0.9 + Math.random() * 0.2),
    );
    this.#timers.set(name, t);
  }

  async #guard(name: string, fn: () => Promise<void>): Promise<void> {
    if (this.#stopped) return;
    try {
      await fn();
    } catch (err) {
      this.#events.emit({ type: 'error', message: redactSecrets(String(err)) });
      this.#log.warn(
        { group: this.group, step: name, err: redactSecrets(String(err)) },
        'partition ownership step failed',
      );
    }
  }

  /** Run application callbacks of one partition one after another (acquired, then lost). */
  #chain(p: number, fn: () => void | Promise<void>): Promise<void> {
    const next = (this.#chains.get(p) ?? Promise.resolve()).then(fn).catch((err: unknown) => {
      this.#log.error(
        { group: this.group, partition: p, err: redactSecrets(String(err)) },
        'partition callback failed',
      );
    });
    this.#chains.set(p, next);
    return next;
  }

  /** Renew held leases and our membership; drop locally what could not be renewed in time. */
  async #renew(): Promise<void> {
    await Promise.all(
      [...this.#held].map(async ([p, h]) => {
        if (this.#held.get(p) !== h) return; // released meanwhile
        try {
          h.leaseRev = await this.#o.leases.update(this.leaseKey(p), this.#leaseValue(), h.leaseRev);
          h.renewedAt = Date.now();
        } catch (err) {
          // Dropping before the server-side expiry (0.8 of the TTL) means the old owner stops
          // before any new owner can start, even without fencing.
          if (isWrongLastSequence(err)) this.#drop(p, 'lease-lost');
          else if (Date.now() - h.renewedAt > this.#ttlMs * 0.8) this.#drop(p, 'renew-timeout');
        }
      }),
    );
    await this.#o.leases.put(this.memberKey(), this.#leaseValue());
  }

  /** Release surplus and take free partitions up to the fair share. */
  async #balance(): Promise<void> {
    const members = Math.max(
      1,
      (await this.#o.leases.keys(`member.${encodeKvSegment(this.group)}.*`)).length,
    );
    const target = Math.ceil(this.#o.partitions / members);
    this.#events.emit({ type: 'members', count: members, target });
    // Release surplus, one per round, least preferred first.
    if (this.#held.size > target) {
      const worst = [...this.#held.keys()].sort(
        (a, b) => preference(this.holder, a) - preference(this.holder, b),
      )[0];
      if (worst !== undefined) await this.#release(worst, 'released');
      return;
    }
    // Take free partitions up to the share, most preferred first.
    const order = Array.from({ length: this.#o.partitions }, (_, i) => i)
      .filter((p) => !this.#held.has(p))
      .sort((a, b) => preference(this.holder, b) - preference(this.holder, a));
    for (const p of order) {
      if (this.#held.size >= target || this.#stopped) break;
      await this.#tryAcquire(p);
    }
  }

  #leaseValue(): LeaseValue {
    return { holder: this.holder, at: new Date().toISOString() };
  }

  async #tryAcquire(p: number): Promise<void> {
    let leaseRev: number;
    try {
      leaseRev = await this.#o.leases.create(this.leaseKey(p), this.#leaseValue());
    } catch (err) {
      if (isWrongLastSequence(err)) return; // someone else holds it
      throw err;
    }
    // New fence: every fenced write of the previous owner is refused from this point on, and
    // anything it wrote before is visible to the load that follows.
    const token = await this.#o.fenced.put(this.fenceKey(p), {
      holder: this.holder,
      leaseRev,
      at: new Date().toISOString(),
    });
    const fence: Fence = { group: this.group, partition: p, token, holder: this.holder };
    this.#held.set(p, { leaseRev, fence, renewedAt: Date.now() });
    this.#log.info({ group: this.group, partition: p, fence: token }, 'partition acquired');
    this.#events.emit({ type: 'acquired', partition: p, fence: token });
    void this.#chain(p, async () => {
      try {
        await this.#o.onAcquired?.(p, fence);
      } catch (err) {
        this.#log.error(
          { group: this.group, partition: p, err: redactSecrets(String(err)) },
          'onAcquired failed; releasing',
        );
        // Outside the chain: release waits for the chain itself.
        setTimeout(() => void this.#release(p, 'released'), 0);
      }
    });
  }

  /** Forget a partition we no longer hold; the application hears it after its onAcquired ended. */
  #drop(p: number, reason: LostReason): Promise<void> {
    if (!this.#held.delete(p)) return this.#chains.get(p) ?? Promise.resolve();
    this.#log.warn({ group: this.group, partition: p, reason }, 'partition lost');
    this.#events.emit({ type: 'lost', partition: p, reason });
    return this.#chain(p, () => this.#o.onLost?.(p, reason));
  }

  /** Hand a partition back: the application stops first, then the lease goes so another member takes it now. */
  async #release(p: number, reason: LostReason): Promise<void> {
    const h = this.#held.get(p);
    if (!h) return;
    await this.#drop(p, reason);
    await this.#o.leases.kv.delete(this.leaseKey(p), { previousSeq: h.leaseRev }).catch(() => undefined);
  }

  /**
   * Called by {@link FencedWriter} when the server refused a write: the partition is gone.
   * @internal
   */
  async fenceRefused(p: number, token: number): Promise<void> {
    const h = this.#held.get(p);
    if (h && h.fence.token === token) void this.#drop(p, 'fence-lost');
  }
}

/**
 * Writes to the fenced bucket that only land while `fence` is current. A refused write throws
 * {@link FenceLost} (terminal: do not retry; stop working on the partition).
 */
export class FencedWriter {
  readonly #bus: Bus;
  readonly #kv: JsonKv<unknown>;
  readonly #owner: PartitionOwner | undefined;

  constructor(bus: Bus, fenced: JsonKv<unknown>, owner?: PartitionOwner) {
    this.#bus = bus;
    this.#kv = fenced;
    this.#owner = owner;
  }

  #fenceSubject(fence: Fence): string {
    return `$KV.${this.#kv.bucket}._fence.${encodeKvSegment(fence.group)}.${fence.partition}`;
  }

  async #publish(fence: Fence, key: string, data: Uint8Array, op?: 'DEL' | 'PURGE'): Promise<number> {
    const subject = `$KV.${this.#kv.bucket}.${key}`;
    const h = natsHeaders();
    if (op) h.set('KV-Operation', op);
    if (op === 'PURGE') h.set('Nats-Rollup', 'sub');
    const limit = this.#bus.maxPayload() - 512;
    if (data.length > limit) throw PayloadTooLarge(`KV ${this.#kv.bucket}/${key}`, data.length, limit);
    try {
      const pa = await this.#bus.pub.publish(subject, data, {
        headers: h,
        expect: { lastSubjectSequence: fence.token, lastSubjectSequenceSubject: this.#fenceSubject(fence) },
      });
      return pa.seq;
    } catch (err) {
      if (isWrongLastSequence(err)) {
        await this.#owner?.fenceRefused(fence.partition, fence.token);
        throw FenceLost(fence.partition, fence.token, { cause: err });
      }
      throw err;
    }
  }

  /** Put a JSON value under `key` if `fence` is still current; returns the revision. */
  async put(fence: Fence, key: string, value: unknown): Promise<number> {
    return this.#publish(fence, key, this.#kv.encode(key, value));
  }

  /** Delete `key` (delete marker) if `fence` is still current. */
  delete(fence: Fence, key: string): Promise<number> {
    return this.#publish(fence, key, new Uint8Array(0), 'DEL');
  }

  /** Purge `key` and its history if `fence` is still current. */
  purge(fence: Fence, key: string): Promise<number> {
    return this.#publish(fence, key, new Uint8Array(0), 'PURGE');
  }

  /** The underlying bucket (reads need no fence). */
  get kv(): KV {
    return this.#kv.kv;
  }
}
