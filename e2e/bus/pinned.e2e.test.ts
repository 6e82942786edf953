import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishJson, runConsumer, type ConsumerEvent, type ConsumerRunner } from '@kollect/bus';
import { busHarness, waitFor, type BusHarness } from './harness.js';

/** Live subscriptions of a connection (what nats.js's own leak tests count). */
function subscriptionCount(nc: unknown): number {
  return (nc as { protocol: { subscriptions: { size(): number } } }).protocol.subscriptions.size();
}

describe('pinned-client priority groups (nats-server >= 2.11) against a real server', () => {
  let h: BusHarness;
  const runners: ConsumerRunner[] = [];
  beforeAll(async () => {
    h = await busHarness('pin');
  });
  afterAll(async () => {
    for (const r of runners) await r.stop();
    await h?.cleanup();
  });

  it('delivers to one pinned client at a time and moves the pin when it stops', async () => {
    const subject = h.names.subject('kollect.status.aggregator.pinned');
    const busA = await h.connect('pin-a');
    const busB = await h.connect('pin-b');
    const got = { a: 0, b: 0 };
    const events = { a: [] as ConsumerEvent[], b: [] as ConsumerEvent[] };
    const mk = (who: 'a' | 'b') => {
      const r = runConsumer({
        bus: who === 'a' ? busA : busB,
        stream: h.names.streams.status,
        durable: 'partition-7',
        filterSubjects: subject,
        priorityGroup: 'owners',
        priorityTimeoutMs: 2000,
        pullExpiresMs: 1000,
        handler: async () => {
          got[who]++;
        },
      });
      r.on((e) => events[who].push(e));
      runners.push(r);
      return r;
    };
    const ra = mk('a');
    await ra.ready();
    const rb = mk('b');
    await rb.ready();

    for (let i = 0; i < 20; i++) await publishJson(h.bus, subject, { i });
    expect(await waitFor(() => got.a + got.b === 20, 10_000)).toBe(true);
    // Exactly one of them got everything.
    expect([got.a, got.b].sort((x, y) => x - y)).toEqual([0, 20]);
    const [pinned, other] = got.a === 20 ? (['a', 'b'] as const) : (['b', 'a'] as const);
    expect(events[pinned].some((e) => e.type === 'pinned')).toBe(true);

    await (pinned === 'a' ? ra : rb).stop();
    for (let i = 20; i < 30; i++) await publishJson(h.bus, subject, { i });
    expect(await waitFor(() => got[other] === 10, 15_000)).toBe(true);
    expect(events[other].some((e) => e.type === 'pinned')).toBe(true);
  });

  it('leaves no subscription behind after stop', async () => {
    const bus = await h.connect('leak');
    const before = subscriptionCount(bus.nc);
    const subject = h.names.subject('kollect.status.aggregator.leak');
    for (let round = 0; round < 3; round++) {
      const r = runConsumer({
        bus,
        stream: h.names.streams.status,
        durable: 'leak-check',
        filterSubjects: subject,
        handler: async () => undefined,
      });
      await r.ready();
      await publishJson(h.bus, subject, { round });
      expect(await waitFor(() => r.stats.acked === 1, 10_000)).toBe(true);
      await r.stop();
    }
    expect(subscriptionCount(bus.nc)).toBe(before);
  });
});
