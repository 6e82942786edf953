import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AsyncPublisher, runConsumer, type ConsumerEvent } from '@kollect/bus';
import { testbed } from '../support/testbed.js';
import { busHarness, sleep, waitFor, type BusHarness } from './harness.js';

describe('bus across a NATS server restart (test bed fault hooks)', () => {
  let h: BusHarness;
  beforeAll(async () => {
    h = await busHarness('restart');
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it('loses no acked message and the consumer resumes by itself', async () => {
    const total = 3000;
    const stream = h.names.streams.objects;
    const subject = (i: number) => h.names.subject(`kollect.obj.c.restart.u${i}`);
    const received = new Set<number>();
    const events: ConsumerEvent[] = [];
    const runner = runConsumer({
      bus: h.bus,
      stream,
      durable: 'restart-reader',
      filterSubjects: h.names.subject('kollect.obj.c.restart.*'),
      pullExpiresMs: 2000,
      handler: async (m) => {
        received.add(m.json<{ i: number }>().i);
      },
    });
    runner.on((e) => events.push(e));
    await runner.ready();

    const pub = new AsyncPublisher(h.bus, { window: 64, attempts: 12 });
    const acked = new Set<number>();
    const failed = new Set<number>();
    const publishing = (async () => {
      for (let i = 0; i < total; i++) {
        const { done } = await pub.publishJson(subject(i), { i }, { msgId: `restart-${i}` });
        void done.then((o) => (o.ok ? acked.add(i) : failed.add(i)));
        if (i % 100 === 0) await sleep(20); // spread the load over the restart
      }
      return pub.flush();
    })();

    await waitFor(() => acked.size > total / 4, 30_000);
    await testbed.restart('nats');
    const failures = await publishing;

    // Every publish either was acked or reported as failed; none vanished.
    expect(acked.size + failed.size).toBe(total);
    expect(failures.map((f) => f.error.errorClass).every((c) => c === 'transient')).toBe(true);
    // Acked means stored: the file-backed stream holds every acked message after the restart.
    const si = await h.bus.jsm.streams.info(stream, {
      subjects_filter: h.names.subject('kollect.obj.c.restart.*'),
    });
    const stored = new Set(Object.keys(si.state.subjects ?? {}).map((s) => Number(s.split('.u').at(-1))));
    for (const i of acked) expect(stored.has(i)).toBe(true);
    // Retries used the same msgId: no subject holds a second copy (max 1 per subject anyway), and
    // the stream saw each message at most once.
    expect(si.state.messages).toBe(stored.size);
    // The consumer got everything that was stored, without being restarted by us.
    expect(await waitFor(() => [...stored].every((i) => received.has(i)), 60_000)).toBe(true);
    expect(events.some((e) => e.type === 'disconnected')).toBe(true);
    expect(events.some((e) => e.type === 'reconnected')).toBe(true);
    console.log(
      `restart: ${acked.size} acked, ${failed.size} failed, ${pub.stats.duplicates} duplicate acks, ` +
        `${received.size} consumed, events: ${[...new Set(events.map((e) => e.type))].join(',')}`,
    );
    await runner.stop();
  });
});
