import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FencedWriter, FenceLost, JsonKv, PartitionOwner, type Bus, type Fence } from '@kollect/bus';
import { busHarness, waitFor, type BusHarness } from './harness.js';

const LEASE_TTL_MS = 2000;
const PARTITIONS = 4;

describe('partition ownership with fenced writes against a real NATS server', () => {
  let h: BusHarness;
  const owners: PartitionOwner[] = [];
  beforeAll(async () => {
    h = await busHarness('part', { leases: { ttlMs: LEASE_TTL_MS } });
  });
  afterAll(async () => {
    for (const o of owners) await o.stop().catch(() => undefined);
    await h?.cleanup();
  });

  /** Who holds what, as the owners themselves announce it; fails on any overlap. */
  const holders = new Map<number, string>();
  const overlaps: string[] = [];
  async function owner(bus: Bus, holder: string): Promise<PartitionOwner> {
    const leases = await JsonKv.open(bus, h.names.buckets.leases);
    const fenced = await JsonKv.open(bus, h.names.buckets.rows);
    const o = new PartitionOwner({
      bus,
      leases,
      fenced,
      partitions: PARTITIONS,
      holder,
      tickMs: 250,
      onAcquired: (p) => {
        const cur = holders.get(p);
        if (cur && cur !== holder) overlaps.push(`${holder} acquired ${p} while ${cur} held it`);
        holders.set(p, holder);
      },
      onLost: (p) => {
        if (holders.get(p) === holder) holders.delete(p);
      },
    });
    owners.push(o);
    return o;
  }

  it('balances partitions across members, hands over on kill within a bound, and refuses the stale owner', async () => {
    const busA = await h.connect('owner-a');
    const busB = await h.connect('owner-b');
    const a = await owner(busA, 'a');
    await a.start();
    expect(a.owned().size).toBe(PARTITIONS);

    const b = await owner(busB, 'b');
    await b.start();
    expect(await waitFor(() => a.owned().size === 2 && b.owned().size === 2, 10_000)).toBe(true);
    expect(overlaps).toEqual([]);

    // Fenced writes by the current owners land.
    const rowsA = new FencedWriter(busA, await JsonKv.open(busA, h.names.buckets.rows), a);
    const rowsB = new FencedWriter(busB, await JsonKv.open(busB, h.names.buckets.rows), b);
    const [pa, fa] = [...a.owned()][0]!;
    const [pb, fb] = [...b.owned()][0]!;
    expect(await rowsA.put(fa, `p${pa}.row1`, { v: 'a' })).toBeGreaterThan(0);
    expect(await rowsB.put(fb, `p${pb}.row1`, { v: 'b' })).toBeGreaterThan(0);
    const staleFence: Fence = fb;

    // B dies without releasing anything (connection gone, like SIGKILL).
    const killedAt = Date.now();
    await busB.close();
    expect(await waitFor(() => a.owned().size === PARTITIONS, 4 * LEASE_TTL_MS + 2000)).toBe(true);
    const takeoverMs = Date.now() - killedAt;
    console.log(`takeover of B's partitions by A took ${takeoverMs} ms (lease TTL ${LEASE_TTL_MS} ms)`);
    expect(takeoverMs).toBeLessThan(2 * LEASE_TTL_MS + 2000);
    expect(a.fenceOf(pb)!.token).toBeGreaterThan(staleFence.token);
    expect(overlaps).toEqual([]);

    // The dead owner's fence no longer opens the door: the server refuses the write.
    const reader = await JsonKv.open(busA, h.names.buckets.rows);
    const stale = new FencedWriter(busA, reader);
    const err = await stale.put(staleFence, `p${pb}.row1`, { v: 'stale' }).catch((e: unknown) => e);
    expect(FenceLost.is(err)).toBe(true);
    expect((await reader.get(`p${pb}.row1`))?.value).toEqual({ v: 'b' });
    // The new owner's write goes through.
    await rowsA.put(a.fenceOf(pb)!, `p${pb}.row1`, { v: 'a-took-over' });
    expect((await reader.get(`p${pb}.row1`))?.value).toEqual({ v: 'a-took-over' });
  });

  it('hands a partition over at once on a graceful stop, after the old owner finished', async () => {
    // The owners of the previous test leave first (a gracefully; b's connection is already gone).
    for (const o of owners.filter((x) => x.holder === 'a' || x.holder === 'b')) await o.stop();
    const busC = await h.connect('owner-c');
    const busD = await h.connect('owner-d');
    const c = await owner(busC, 'c');
    const d = await owner(busD, 'd');
    await c.start();
    await d.start();
    expect(await waitFor(() => c.owned().size === 2 && d.owned().size === 2, 10_000)).toBe(true);
    const before = new Map(d.owned());
    const t0 = Date.now();
    await d.stop();
    expect(await waitFor(() => c.owned().size === PARTITIONS, 5000)).toBe(true);
    const handover = Date.now() - t0;
    console.log(`graceful handover of ${before.size} partitions took ${handover} ms`);
    // Released leases are deleted, so the next tick takes them: well under the lease TTL.
    expect(handover).toBeLessThan(LEASE_TTL_MS + 1000);
    expect(overlaps).toEqual([]);
  });

  it('keeps its leases while the application takes longer than a lease to load a partition', async () => {
    for (const o of owners) await o.stop();
    holders.clear();
    // Its own topology with a longer lease, so a loaded CI machine cannot delay a renewal past it.
    const ttl = 5000;
    const h2 = await busHarness('slow', { leases: { ttlMs: ttl } });
    try {
      const lost: string[] = [];
      const slow = new PartitionOwner({
        bus: h2.bus,
        leases: await JsonKv.open(h2.bus, h2.names.buckets.leases),
        fenced: await JsonKv.open(h2.bus, h2.names.buckets.rows),
        partitions: PARTITIONS,
        holder: 'slow',
        onAcquired: () => new Promise((r) => setTimeout(r, 2.5 * ttl)),
        onLost: (p, reason) => void lost.push(`${p}:${reason}`),
      });
      await slow.start();
      expect(slow.owned().size).toBe(PARTITIONS);
      await new Promise((r) => setTimeout(r, 2.5 * ttl + 1000));
      expect(lost).toEqual([]);
      expect(slow.owned().size).toBe(PARTITIONS);
      await slow.stop();
      expect(lost.sort()).toEqual(['0:stopped', '1:stopped', '2:stopped', '3:stopped']);
    } finally {
      await h2.cleanup();
    }
  });
});
