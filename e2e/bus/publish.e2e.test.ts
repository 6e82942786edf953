import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AsyncPublisher,
  JsonKv,
  PayloadTooLarge,
  publishJson,
  runConsumer,
  newTraceContext,
  type ConsumedMessage,
} from '@kollect/bus';
import type { KollectError } from '@kollect/contracts';
import { busHarness, waitFor, type BusHarness } from './harness.js';

describe('publishing to JetStream', () => {
  let h: BusHarness;
  beforeAll(async () => {
    h = await busHarness('pub');
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it('stores a message once per msgId and reports the retry as a duplicate', async () => {
    const subject = h.names.subject('kollect.status.watcher.dedupe');
    const first = await publishJson(h.bus, subject, { n: 1 }, { msgId: 'same-id' });
    const again = await publishJson(h.bus, subject, { n: 1 }, { msgId: 'same-id' });
    const other = await publishJson(h.bus, subject, { n: 2 }, { msgId: 'other-id' });
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(again.seq).toBe(first.seq);
    expect(other.seq).toBe(first.seq + 1);
    const si = await h.bus.jsm.streams.info(h.names.streams.status, { subjects_filter: subject });
    expect(si.state.subjects?.[subject]).toBe(2);
  });

  it('keeps at most `window` publishes in flight under load and stores every message', async () => {
    const window = 32;
    const n = 3000;
    const pub = new AsyncPublisher(h.bus, { window });
    let maxInFlight = 0;
    for (let i = 0; i < n; i++) {
      await pub.publishJson(
        h.names.subject(`kollect.obj.load.g.u${i}`),
        { i, pad: 'x'.repeat(200) },
        { msgId: `load-${i}` },
      );
      maxInFlight = Math.max(maxInFlight, pub.stats.inFlight);
    }
    const failures = await pub.flush();
    expect(failures).toEqual([]);
    expect(maxInFlight).toBeLessThanOrEqual(window);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(pub.stats).toMatchObject({ published: n, duplicates: 0, failed: 0, inFlight: 0 });
    const si = await h.bus.jsm.streams.info(h.names.streams.objects, {
      subjects_filter: h.names.subject('kollect.obj.load.>'),
    });
    expect(Object.keys(si.state.subjects ?? {})).toHaveLength(n);

    // Publishing the same ids again is harmless and counted.
    for (let i = 0; i < 100; i++) {
      await pub.publishJson(h.names.subject(`kollect.obj.load.g.u${i}`), { i }, { msgId: `load-${i}` });
    }
    await pub.flush();
    expect(pub.stats.duplicates).toBe(100);
  });

  it('refuses a payload over max_payload with a typed error and keeps the connection usable', async () => {
    const big = { blob: 'x'.repeat(h.bus.maxPayload()) };
    const subject = h.names.subject('kollect.obj.big.g.u1');
    const err = await publishJson(h.bus, subject, big, { msgId: 'big' }).catch((e: unknown) => e);
    expect(PayloadTooLarge.is(err)).toBe(true);
    expect((err as KollectError).errorClass).toBe('payload_too_large');
    expect((err as Error).message).toContain(subject);

    const pub = new AsyncPublisher(h.bus, { window: 4 });
    const { done } = await pub.publishJson(subject, big, { msgId: 'big2' });
    const outcome = await done;
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error.errorClass).toBe('payload_too_large');
    expect(await pub.flush()).toHaveLength(1);
    expect(pub.stats.failed).toBe(1);

    const kv = await JsonKv.open(h.bus, h.names.buckets.rows);
    await expect(kv.put('too-big', big)).rejects.toSatisfy((e: unknown) => PayloadTooLarge.is(e));

    // Still connected: a normal publish works.
    expect((await publishJson(h.bus, subject, { ok: true })).seq).toBeGreaterThan(0);
    expect(h.bus.nc.isClosed()).toBe(false);
  });

  it('refuses a message a stream limit rejects as payload_too_large', async () => {
    // A stream-level max_msg_size below max_payload: the server, not the client, refuses.
    await h.bus.jsm.streams.update(h.names.streams.status, {
      ...(await h.bus.jsm.streams.info(h.names.streams.status)).config,
      max_msg_size: 1024,
    });
    const err = await publishJson(h.bus, h.names.subject('kollect.status.sink.x'), {
      b: 'y'.repeat(2000),
    }).catch((e: unknown) => e);
    expect((err as KollectError).errorClass).toBe('payload_too_large');
  });

  it('carries a trace context to the consumer', async () => {
    const ctx = newTraceContext();
    const subject = h.names.subject('kollect.snap.c.ns.traced');
    await publishJson(h.bus, subject, { x: 1 }, { trace: ctx, headers: { 'Kollect-Schema-Version': 'v1' } });
    const got: ConsumedMessage[] = [];
    const r = runConsumer({
      bus: h.bus,
      stream: h.names.streams.snapshots,
      durable: 'trace-reader',
      filterSubjects: subject,
      handler: async (m) => {
        got.push(m);
      },
    });
    expect(await waitFor(() => got.length === 1, 10_000)).toBe(true);
    await r.stop();
    expect(got[0]!.trace).toEqual(ctx);
    expect(got[0]!.headers?.get('Kollect-Schema-Version')).toBe('v1');
    expect(got[0]!.json()).toEqual({ x: 1 });
  });
});
