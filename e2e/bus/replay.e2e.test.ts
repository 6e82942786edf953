import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastPerSubject, publishJson, replaySubject } from '@kollect/bus';
import { busHarness, type BusHarness } from './harness.js';

describe('replay helpers against a real NATS server', () => {
  let h: BusHarness;
  beforeAll(async () => {
    h = await busHarness('replay');
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it('replays a GVR from the compacted object log: the last message per object, in order', async () => {
    const obj = (gvr: string, uid: string) => h.names.subject(`kollect.obj.c1.${gvr}.${uid}`);
    for (let i = 0; i < 30; i++) await publishJson(h.bus, obj('deploy', `u${i}`), { uid: `u${i}`, v: 1 });
    for (let i = 0; i < 10; i++) await publishJson(h.bus, obj('deploy', `u${i}`), { uid: `u${i}`, v: 2 });
    for (let i = 0; i < 5; i++) await publishJson(h.bus, obj('svc', `s${i}`), { uid: `s${i}`, v: 1 });

    const seen: { uid: string; v: number; seq: number }[] = [];
    const res = await replaySubject(h.bus, h.names.streams.objects, obj('deploy', '*'), (m) => {
      seen.push({ ...m.json<{ uid: string; v: number }>(), seq: m.streamSeq });
    });
    expect(res.messages).toBe(30);
    expect(seen).toHaveLength(30);
    expect(new Set(seen.map((s) => s.uid)).size).toBe(30);
    expect(seen.filter((s) => s.v === 2)).toHaveLength(10);
    expect(seen.map((s) => s.seq)).toEqual([...seen.map((s) => s.seq)].sort((a, b) => a - b));
    // The ordered consumer is ephemeral: nothing is left behind on the server.
    const consumers = await h.bus.jsm.consumers.list(h.names.streams.objects).next();
    expect(consumers.filter((c) => c.config.durable_name)).toEqual([]);
  });

  it('stops at the last sequence that existed when it started', async () => {
    const subject = (i: number) => h.names.subject(`kollect.obj.c2.cm.u${i}`);
    for (let i = 0; i < 20; i++) await publishJson(h.bus, subject(i), { i });
    const res0 = (await h.bus.jsm.streams.info(h.names.streams.objects)).state.last_seq;
    let published = 0;
    const res = await replaySubject(
      h.bus,
      h.names.streams.objects,
      h.names.subject('kollect.obj.c2.>'),
      async (m) => {
        // Publishing while replaying must not extend the replay forever.
        if (published < 20) await publishJson(h.bus, subject(100 + published++), { late: true });
        expect(m.streamSeq).toBeLessThanOrEqual(res0);
      },
    );
    expect(res.messages).toBe(20);
    expect(res.upToSeq).toBe(res0);
  });

  it('returns nothing for a filter without messages', async () => {
    const res = await replaySubject(
      h.bus,
      h.names.streams.objects,
      h.names.subject('kollect.obj.none.>'),
      () => {
        throw new Error('no message expected');
      },
    );
    expect(res.messages).toBe(0);
  });

  it('reads the last message of every subject', async () => {
    const s = (k: string) => h.names.subject(`kollect.status.watcher.${k}`);
    for (let i = 0; i < 3; i++) {
      await publishJson(h.bus, s('a'), { k: 'a', i });
      await publishJson(h.bus, s('b'), { k: 'b', i });
    }
    const got: Record<string, number> = {};
    const res = await lastPerSubject(
      h.bus,
      h.names.streams.status,
      h.names.subject('kollect.status.watcher.*'),
      (m) => {
        const v = m.json<{ k: string; i: number }>();
        got[v.k] = v.i;
      },
    );
    expect(res.messages).toBe(2);
    expect(got).toEqual({ a: 2, b: 2 });
  });

  it('can scan headers only', async () => {
    const subject = h.names.subject('kollect.obj.c3.x.u1');
    await publishJson(h.bus, subject, { big: 'x'.repeat(10_000) }, { msgId: 'u1:7' });
    let bytes = -1;
    let msgId: string | undefined;
    await lastPerSubject(
      h.bus,
      h.names.streams.objects,
      h.names.subject('kollect.obj.c3.>'),
      (m) => {
        bytes = m.data.length;
        msgId = m.headers?.get('Nats-Msg-Id');
      },
      { headersOnly: true },
    );
    expect(bytes).toBe(0);
    expect(msgId).toBe('u1:7');
  });
});
