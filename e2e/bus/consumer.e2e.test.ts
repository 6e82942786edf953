import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureTopology,
  PoisonMessage,
  publishJson,
  runConsumer,
  type ConsumerEvent,
  type DeadLetter,
  type ConsumerRunner,
} from '@kollect/bus';
import { busHarness, sleep, waitFor, type BusHarness } from './harness.js';

/** Each test works on its own subject of the status stream (limits retention, replayable). */
let seq = 0;
function subjectFor(h: BusHarness): string {
  return h.names.subject(`kollect.status.extractor.case${++seq}`);
}

describe('durable consumer runner against a real NATS server', () => {
  let h: BusHarness;
  const runners: ConsumerRunner[] = [];
  beforeAll(async () => {
    h = await busHarness('cons');
  });
  afterAll(async () => {
    for (const r of runners) await r.stop();
    await h?.cleanup();
  });
  const start = (opts: Omit<Parameters<typeof runConsumer>[0], 'bus' | 'stream'>): ConsumerRunner => {
    const r = runConsumer({ bus: h.bus, stream: h.names.streams.status, ...opts });
    runners.push(r);
    return r;
  };

  it('acks every message a handler accepts, once', async () => {
    const subject = subjectFor(h);
    for (let i = 0; i < 20; i++) await publishJson(h.bus, subject, { i });
    const seen: number[] = [];
    const r = start({
      durable: 'ack-all',
      filterSubjects: subject,
      handler: async (m) => {
        seen.push(m.json<{ i: number }>().i);
      },
    });
    expect(await waitFor(() => seen.length === 20, 10_000)).toBe(true);
    await r.stop();
    expect(seen).toEqual([...Array(20).keys()]);
    const info = await r.info();
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
    expect(r.stats).toMatchObject({ delivered: 20, acked: 20, naked: 0, termed: 0 });
  });

  it('NAKs a transient failure with a delay and succeeds on redelivery', async () => {
    const subject = subjectFor(h);
    await publishJson(h.bus, subject, { x: 1 });
    const deliveries: number[] = [];
    const events: ConsumerEvent[] = [];
    const r = start({
      durable: 'nak-then-ok',
      filterSubjects: subject,
      nakDelayMs: () => 300,
      handler: async (m) => {
        deliveries.push(m.deliveryCount);
        if (m.deliveryCount < 3) throw new Error('backend busy');
      },
    });
    r.on((e) => events.push(e));
    expect(await waitFor(() => r.stats.acked === 1, 10_000)).toBe(true);
    await r.stop();
    expect(deliveries).toEqual([1, 2, 3]);
    expect(events.filter((e) => e.type === 'nak')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'redelivery')).toHaveLength(2);
    expect(r.stats.redeliveries).toBe(2);
  });

  it('TERMs a message that keeps failing after maxDeliver and hands it to the dead-letter hook once', async () => {
    const subject = subjectFor(h);
    await publishJson(h.bus, subject, { doomed: true });
    const dead: DeadLetter[] = [];
    let calls = 0;
    const r = start({
      durable: 'max-deliver',
      filterSubjects: subject,
      maxDeliver: 3,
      nakDelayMs: () => 100,
      handler: async () => {
        calls++;
        throw new Error('still failing');
      },
      onDeadLetter: (dl) => {
        dead.push(dl);
      },
    });
    expect(await waitFor(() => dead.length === 1, 10_000)).toBe(true);
    await sleep(1500); // nothing more may arrive
    await r.stop();
    expect(calls).toBe(3);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ reason: 'max_deliver', deliveryCount: 3, subject });
    expect(new TextDecoder().decode(dead[0]!.data)).toBe('{"doomed":true}');
    expect(r.stats.termed).toBe(1);
    expect((await r.info()).num_ack_pending).toBe(0);
  });

  it('TERMs a poison message at once without redelivery', async () => {
    const subject = subjectFor(h);
    await publishJson(h.bus, subject, { bad: true });
    await publishJson(h.bus, subject, { good: true });
    const dead: DeadLetter[] = [];
    const ok: unknown[] = [];
    let calls = 0;
    const r = start({
      durable: 'poison',
      filterSubjects: subject,
      handler: async (m) => {
        calls++;
        const v = m.json<{ bad?: boolean }>();
        if (v.bad) throw PoisonMessage('CEL expression failed on this object');
        ok.push(v);
      },
      onDeadLetter: (dl) => {
        dead.push(dl);
      },
    });
    expect(await waitFor(() => ok.length === 1 && dead.length === 1, 10_000)).toBe(true);
    await sleep(500);
    await r.stop();
    expect(calls).toBe(2);
    expect(dead[0]).toMatchObject({ reason: 'poison', deliveryCount: 1 });
    expect(dead[0]!.error?.message).toMatch(/CEL expression failed/);
  });

  it('TERMs a message whose body is not JSON (terminal decode error)', async () => {
    const subject = subjectFor(h);
    await h.bus.js.publish(subject, '{not json');
    const dead: DeadLetter[] = [];
    const r = start({
      durable: 'not-json',
      filterSubjects: subject,
      handler: async (m) => {
        m.json();
      },
      onDeadLetter: (dl) => {
        dead.push(dl);
      },
    });
    expect(await waitFor(() => dead.length === 1, 10_000)).toBe(true);
    await r.stop();
    expect(dead[0]!.reason).toBe('poison');
  });

  it('keeps a long handler from being redelivered by signalling progress', async () => {
    const subject = subjectFor(h);
    await publishJson(h.bus, subject, { slow: true });
    const deliveries: number[] = [];
    const r = start({
      durable: 'long-handler',
      filterSubjects: subject,
      ackWaitMs: 2000,
      handler: async (m) => {
        deliveries.push(m.deliveryCount);
        await sleep(4000);
      },
    });
    expect(await waitFor(() => r.stats.acked === 1, 15_000)).toBe(true);
    await r.stop();
    expect(deliveries).toEqual([1]);
  });

  it('reports a handler that hangs past the last delivery through the max-deliveries advisory', async () => {
    const subject = subjectFor(h);
    await publishJson(h.bus, subject, { hang: true });
    const dead: DeadLetter[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const r = start({
      durable: 'hangs',
      filterSubjects: subject,
      ackWaitMs: 1000,
      maxDeliver: 2,
      autoWorking: false,
      concurrency: 4,
      handler: () => gate,
      onDeadLetter: (dl) => {
        dead.push(dl);
      },
    });
    expect(await waitFor(() => dead.length >= 1, 15_000)).toBe(true);
    release();
    await r.stop();
    expect(dead[0]).toMatchObject({ reason: 'max_deliveries_advisory', deliveryCount: 2 });
    expect(dead[0]!.streamSeq).toBeGreaterThan(0);
  });

  it('recreates a consumer deleted while consuming and resumes', async () => {
    const subject = subjectFor(h);
    const seen = new Set<number>();
    const events: ConsumerEvent[] = [];
    const r = start({
      durable: 'deleted-midway',
      filterSubjects: subject,
      pullExpiresMs: 2000,
      handler: async (m) => {
        seen.add(m.json<{ i: number }>().i);
      },
    });
    const statusIter = r.status();
    void (async () => {
      for await (const e of statusIter) events.push(e);
    })();
    await r.ready();
    for (let i = 0; i < 5; i++) await publishJson(h.bus, subject, { i });
    expect(await waitFor(() => seen.size === 5, 10_000)).toBe(true);

    await h.bus.jsm.consumers.delete(h.names.streams.status, 'deleted-midway');
    expect(
      await waitFor(
        () => events.some((e) => e.type === 'consumer_deleted' || e.type === 'consumer_not_found'),
        15_000,
      ),
    ).toBe(true);
    expect(await waitFor(() => events.filter((e) => e.type === 'consuming').length >= 2, 15_000)).toBe(true);
    for (let i = 5; i < 10; i++) await publishJson(h.bus, subject, { i });
    expect(await waitFor(() => seen.size === 10, 15_000)).toBe(true);
    await r.stop();
    expect(events.some((e) => e.type === 'recreating')).toBe(true);
    expect(events.at(-1)?.type).toBe('stopped');
  });

  it('recreates a deleted stream through the hook and resumes', async () => {
    const names = h.names;
    const subject = names.subject('kollect.snap.c.ns.recreated');
    const seen: number[] = [];
    const events: ConsumerEvent[] = [];
    const r = runConsumer({
      bus: h.bus,
      stream: names.streams.snapshots,
      durable: 'stream-gone',
      filterSubjects: subject,
      pullExpiresMs: 2000,
      onStreamMissing: async () => {
        await ensureTopology(h.bus.jsm, { names });
      },
      handler: async (m) => {
        seen.push(m.json<{ i: number }>().i);
      },
    });
    runners.push(r);
    r.on((e) => events.push(e));
    await r.ready();
    await publishJson(h.bus, subject, { i: 1 });
    expect(await waitFor(() => seen.length === 1, 10_000)).toBe(true);
    await h.bus.jsm.streams.delete(names.streams.snapshots);
    expect(await waitFor(() => events.some((e) => e.type === 'stream_not_found'), 20_000)).toBe(true);
    expect(await waitFor(() => events.filter((e) => e.type === 'consuming').length >= 2, 20_000)).toBe(true);
    await publishJson(h.bus, subject, { i: 2 });
    expect(await waitFor(() => seen.includes(2), 15_000)).toBe(true);
    await r.stop();
  });

  it('stops cleanly: no handler runs after stop and unstarted messages go back at once', async () => {
    const subject = subjectFor(h);
    for (let i = 0; i < 50; i++) await publishJson(h.bus, subject, { i });
    let handled = 0;
    let afterStop = 0;
    let stopped = false;
    const r = start({
      durable: 'stop-clean',
      filterSubjects: subject,
      ackWaitMs: 60_000,
      handler: async () => {
        if (stopped) afterStop++;
        await sleep(50);
        handled++;
      },
    });
    expect(await waitFor(() => handled >= 5, 10_000)).toBe(true);
    await r.stop();
    stopped = true;
    const atStop = handled;
    await sleep(300);
    expect(afterStop).toBe(0);
    expect(handled).toBe(atStop);
    // Nothing waits for the 60 s ack wait: a new runner on the same durable gets the rest at once.
    let rest = 0;
    const r2 = start({
      durable: 'stop-clean',
      filterSubjects: subject,
      ackWaitMs: 60_000,
      handler: async () => {
        rest++;
      },
    });
    expect(await waitFor(() => atStop + rest >= 50, 15_000)).toBe(true);
    await r2.stop();
    expect(atStop + rest).toBe(50);
    expect(r.stats.acked).toBe(atStop);
  });
});
