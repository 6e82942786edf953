/**
 * The JetStream publisher every Kollect publish goes through (`bus.pub`: acks on one inbox
 * subscription instead of a request per message) against a real NATS server: it must send what
 * `js.publish()` sends and report what it reports.
 *
 *   npm run testbed -- up nats
 *   eval "$(npm run -s testbed -- env)"
 *   npx vitest run --project e2e e2e/bus/jspub
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JetStreamApiError } from '@nats-io/jetstream';
import { headers, NoRespondersError, TimeoutError, ClosedConnectionError } from '@nats-io/transport-node';
import { connectBus, isWrongLastSequence, JsPublisher } from '@kollect/bus';
import { testbedEnv } from '../support/testbed.js';
import { busHarness, type BusHarness } from './harness.js';

describe('JetStream publisher with acks on one inbox', () => {
  let h: BusHarness;
  beforeAll(async () => {
    h = await busHarness('jspub');
  });
  afterAll(async () => {
    await h?.cleanup();
  });
  const subject = (s: string): string => h.names.subject(`kollect.status.watcher.${s}`);

  it('stores what it publishes, with the headers js.publish() would send, and deduplicates by msg id', async () => {
    const hdrs = headers();
    hdrs.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    const a = await h.bus.pub.publish(subject('hdr'), new TextEncoder().encode('{"a":1}'), {
      msgId: 'jspub-1',
      headers: hdrs,
    });
    const again = await h.bus.pub.publish(subject('hdr'), new TextEncoder().encode('{"a":1}'), {
      msgId: 'jspub-1',
    });
    expect(a).toEqual({ stream: h.names.streams.status, seq: a.seq, duplicate: false });
    expect(again).toEqual({ stream: h.names.streams.status, seq: a.seq, duplicate: true });
    const stored = await h.bus.jsm.streams.getMessage(h.names.streams.status, { seq: a.seq });
    if (!stored) throw new Error(`message ${a.seq} not stored`);
    expect(stored.header.get('Nats-Msg-Id')).toBe('jspub-1');
    expect(stored.header.get('traceparent')).toBe(hdrs.get('traceparent'));
    expect(stored.string()).toBe('{"a":1}');
  });

  it('acks every message of a synchronous burst in order, none left waiting', async () => {
    const n = 2000;
    const acks = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        h.bus.pub.publish(subject(`burst.${i % 10}`), new TextEncoder().encode(String(i)), {
          msgId: `burst-${i}`,
        }),
      ),
    );
    const seqs = acks.map((x) => x.seq);
    expect(new Set(seqs).size).toBe(n);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(h.bus.pub.pending).toBe(0);
  });

  it('reports what the stream refuses as the stream error js.publish() reports', async () => {
    // The status stream does not allow per-message TTLs.
    const ttl = await h.bus.pub
      .publish(subject('ttl'), new Uint8Array([1]), { ttl: '1h' })
      .catch((e: unknown) => e);
    expect(ttl).toBeInstanceOf(JetStreamApiError);
    expect((ttl as Error).message).toMatch(/per-message TTL is disabled/);
    const s = subject('expect');
    const first = await h.bus.pub.publish(s, new Uint8Array([1]));
    const err = await h.bus.pub
      .publish(s, new Uint8Array([2]), { expect: { lastSubjectSequence: first.seq - 1 } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JetStreamApiError);
    expect(isWrongLastSequence(err)).toBe(true);
    const ok = await h.bus.pub.publish(s, new Uint8Array([3]), {
      expect: { lastSubjectSequence: first.seq },
    });
    expect(ok.seq).toBeGreaterThan(first.seq);
  });

  it('reports no responders for a subject no stream takes, and a timeout when nobody acks', async () => {
    await expect(
      h.bus.pub.publish(`${h.names.subject('nostream')}.x`, new Uint8Array([1])),
    ).rejects.toBeInstanceOf(NoRespondersError);
    // A plain subscriber takes the message and never answers: no ack.
    const silent = h.bus.nc.subscribe(h.names.subject('silent.x'));
    try {
      const t0 = Date.now();
      const err = await h.bus.pub
        .publish(h.names.subject('silent.x'), new Uint8Array([1]), { timeoutMs: 300 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      expect(h.bus.pub.pending).toBe(0);
    } finally {
      silent.unsubscribe();
    }
  });

  it('rejects what is waiting when the connection closes, and refuses to publish afterwards', async () => {
    const bus = await connectBus({ servers: testbedEnv.natsUrl, name: 'e2e-jspub-close' });
    const silent = bus.nc.subscribe(h.names.subject('silent.y'));
    const waiting = bus.pub.publish(h.names.subject('silent.y'), new Uint8Array([1]), { timeoutMs: 60_000 });
    await bus.nc.flush();
    silent.unsubscribe();
    await bus.close();
    await expect(waiting).rejects.toBeInstanceOf(ClosedConnectionError);
    await expect(bus.pub.publish(subject('closed'), new Uint8Array([1]))).rejects.toBeInstanceOf(
      ClosedConnectionError,
    );
    expect(bus.pub).toBeInstanceOf(JsPublisher);
  });
});
