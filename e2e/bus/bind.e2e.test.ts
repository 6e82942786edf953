/**
 * Binding the consumer runner to a durable that already exists with other settings — what a
 * rolling upgrade (or a hand edit) leaves behind. Updatable differences are updated in place and
 * the durable keeps its position; the start position of an existing durable is kept; a difference
 * the server cannot change in place fails the bind loudly (event, bind state) until an operator
 * deletes the durable, and the runner then recovers by itself.
 *
 *   npm run testbed -- up nats
 *   eval "$(npm run -s testbed -- env)"
 *   npx vitest run --project e2e e2e/bus/bind
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckPolicy, DeliverPolicy, type ConsumerConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import {
  ConsumerIncompatible,
  publishJson,
  runConsumer,
  type ConsumerEvent,
  type ConsumerOptions,
  type ConsumerRunner,
} from '@kollect/bus';
import { busHarness, sleep, waitFor, type BusHarness } from './harness.js';

let seq = 0;

describe('consumer runner binding to an existing durable with other settings', () => {
  let h: BusHarness;
  const runners: ConsumerRunner[] = [];
  beforeAll(async () => {
    h = await busHarness('bind');
  });
  afterAll(async () => {
    for (const r of runners) await r.stop();
    await h?.cleanup();
  });

  const stream = (): string => h.names.streams.status;
  const subjectFor = (): string => h.names.subject(`kollect.status.extractor.bind${++seq}`);
  type Opts = Omit<ConsumerOptions, 'bus' | 'stream' | 'handler'> & { handler?: ConsumerOptions['handler'] };
  const start = (opts: Opts): { r: ConsumerRunner; events: ConsumerEvent[]; seen: number[] } => {
    const seen: number[] = [];
    const events: ConsumerEvent[] = [];
    const r = runConsumer({
      bus: h.bus,
      stream: stream(),
      pullExpiresMs: 2000,
      handler: async (m) => {
        seen.push(m.json<{ i: number }>().i);
      },
      ...opts,
    });
    r.on((e) => events.push(e));
    runners.push(r);
    return { r, events, seen };
  };
  const publish = async (subject: string, from: number, to: number): Promise<void> => {
    for (let i = from; i < to; i++) await publishJson(h.bus, subject, { i });
  };

  it('updates a changed max_ack_pending in place and resumes where the previous runner stopped', async () => {
    const subject = subjectFor();
    await publish(subject, 0, 10);
    const v1 = start({ durable: 'upgrade', filterSubjects: subject, maxAckPending: 2048, concurrency: 8 });
    expect(await waitFor(() => v1.seen.length === 10, 10_000)).toBe(true);
    await v1.r.stop();
    expect((await h.bus.jsm.consumers.info(stream(), 'upgrade')).config.max_ack_pending).toBe(2048);

    await publish(subject, 10, 20);
    // The "new version": other settings for the same durable.
    const v2 = start({ durable: 'upgrade', filterSubjects: subject, maxAckPending: 1000, ackWaitMs: 20_000 });
    expect(await waitFor(() => v2.seen.length === 10, 10_000)).toBe(true);
    await sleep(300);
    // Position kept: only the messages the first runner had not acked.
    expect(v2.seen).toEqual([...Array(10).keys()].map((i) => i + 10));
    const info = await h.bus.jsm.consumers.info(stream(), 'upgrade');
    expect(info.config.max_ack_pending).toBe(1000);
    expect(info.config.ack_wait).toBe(nanos(20_000));
    const updated = v2.events.find((e) => e.type === 'config_updated');
    expect(updated).toMatchObject({ type: 'config_updated' });
    expect(updated?.type === 'config_updated' && updated.changes.map((c) => c.field).sort()).toEqual([
      'ack_wait',
      'max_ack_pending',
    ]);
    expect(v2.events.find((e) => e.type === 'consuming')).toMatchObject({ created: false });
    expect(v2.events.some((e) => e.type === 'bind_failed')).toBe(false);
    expect(v2.r.bindState()).toEqual({ bound: true });
    await v2.r.stop();
    expect(v2.r.bindState().bound).toBe(false);
  });

  it('moves the filter of an existing durable to new subjects without losing its position', async () => {
    const a = subjectFor();
    const b = subjectFor();
    await publish(a, 0, 3);
    const v1 = start({ durable: 'refilter', filterSubjects: a });
    expect(await waitFor(() => v1.seen.length === 3, 10_000)).toBe(true);
    await v1.r.stop();
    await publish(a, 3, 5);
    await publish(b, 100, 102);
    const v2 = start({ durable: 'refilter', filterSubjects: [a, b] });
    expect(await waitFor(() => v2.seen.length === 4, 10_000)).toBe(true);
    await sleep(300);
    expect(v2.seen.sort((x, y) => x - y)).toEqual([3, 4, 100, 101]);
    const cfg = (await h.bus.jsm.consumers.info(stream(), 'refilter')).config;
    expect(cfg.filter_subjects?.sort()).toEqual([a, b].sort());
    expect(cfg.filter_subject ?? '').toBe('');
  });

  it('updates a partition durable of the work-queue rows stream in place (the aggregator upgrade)', async () => {
    const rows = h.names.streams.rows;
    const subject = h.names.subject('kollect.row.0.inv-bind');
    const filter = h.names.subject('kollect.row.0.>');
    for (let i = 0; i < 5; i++) await publishJson(h.bus, subject, { i });
    const seen: number[] = [];
    const handler: ConsumerOptions['handler'] = async (m) => {
      seen.push(m.json<{ i: number }>().i);
    };
    const opts = { bus: h.bus, stream: rows, durable: 'agg-p0', filterSubjects: filter, handler };
    const v1 = runConsumer({ ...opts, maxAckPending: 5000, ackWaitMs: 10_000 });
    runners.push(v1);
    expect(await waitFor(() => seen.length === 5, 10_000)).toBe(true);
    await v1.stop();
    for (let i = 5; i < 8; i++) await publishJson(h.bus, subject, { i });
    const v2 = runConsumer({ ...opts, maxAckPending: 4000, ackWaitMs: 30_000 });
    runners.push(v2);
    expect(await waitFor(() => seen.length === 8, 10_000)).toBe(true);
    expect(seen).toEqual([...Array(8).keys()]);
    expect((await h.bus.jsm.consumers.info(rows, 'agg-p0')).config.max_ack_pending).toBe(4000);
    expect(v2.bindState().bound).toBe(true);
    await v2.stop();
  });

  it('keeps the start position of a durable created with another deliver policy', async () => {
    const subject = subjectFor();
    await publish(subject, 0, 5);
    // Created by hand (or by an older version) with deliver policy "new": it never sees 0..4.
    await h.bus.jsm.consumers.add(stream(), {
      durable_name: 'start-kept',
      name: 'start-kept',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      filter_subject: subject,
      max_ack_pending: 10,
    } as Partial<ConsumerConfig>);
    const v2 = start({ durable: 'start-kept', filterSubjects: subject, deliverPolicy: 'all' });
    await v2.r.ready();
    await publish(subject, 5, 8);
    expect(await waitFor(() => v2.seen.length === 3, 10_000)).toBe(true);
    await sleep(300);
    expect(v2.seen).toEqual([5, 6, 7]);
    const updated = v2.events.find((e) => e.type === 'config_updated');
    expect(updated?.type === 'config_updated' && updated.kept).toEqual([
      { field: 'deliver_policy', existing: 'new', wanted: 'all' },
    ]);
    const cfg = (await h.bus.jsm.consumers.info(stream(), 'start-kept')).config;
    expect(cfg.deliver_policy).toBe('new');
    expect(cfg.max_ack_pending).toBe(1000);
  });

  it('fails the bind loudly on a change the server cannot make, and recovers once the durable is deleted', async () => {
    const subject = subjectFor();
    await publish(subject, 0, 3);
    await h.bus.jsm.consumers.add(stream(), {
      durable_name: 'incompatible',
      name: 'incompatible',
      ack_policy: AckPolicy.All,
      filter_subject: subject,
    } as Partial<ConsumerConfig>);
    const v2 = start({ durable: 'incompatible', filterSubjects: subject });
    let ready = false;
    void v2.r.ready().then(() => (ready = true));
    expect(await waitFor(() => v2.events.some((e) => e.type === 'bind_failed'), 10_000)).toBe(true);
    const failed = v2.events.find((e) => e.type === 'bind_failed');
    expect(failed).toMatchObject({ reason: 'incompatible', code: ConsumerIncompatible.code });
    // The message names the durable, the field and the remedy.
    const msg = failed?.type === 'bind_failed' ? failed.message : '';
    expect(msg).toContain('incompatible');
    expect(msg).toContain('ack_policy: "all" -> "explicit"');
    expect(msg).toContain(`nats consumer rm ${stream()} incompatible`);
    const state = v2.r.bindState();
    expect(state.bound).toBe(false);
    expect(state.error).toMatchObject({ reason: 'incompatible', code: ConsumerIncompatible.code });
    expect(ready).toBe(false);
    expect(v2.seen).toEqual([]);
    // Never "fixed" behind the operator's back.
    expect((await h.bus.jsm.consumers.info(stream(), 'incompatible')).config.ack_policy).toBe('all');

    // The remedy: delete the durable; the runner creates it and starts from its deliver policy.
    await h.bus.jsm.consumers.delete(stream(), 'incompatible');
    expect(await waitFor(() => v2.seen.length === 3, 20_000)).toBe(true);
    expect(ready).toBe(true);
    expect(v2.r.bindState()).toEqual({ bound: true });
    expect(v2.events.find((e) => e.type === 'consuming')).toMatchObject({ created: true });
  });

  it('fails the bind when the existing durable is a push consumer', async () => {
    const subject = subjectFor();
    await h.bus.jsm.consumers.add(stream(), {
      durable_name: 'push',
      ack_policy: AckPolicy.Explicit,
      deliver_subject: `_INBOX.push.${seq}`,
      filter_subject: subject,
    } as Partial<ConsumerConfig>);
    const v2 = start({ durable: 'push', filterSubjects: subject });
    expect(await waitFor(() => v2.r.bindState().error !== undefined, 10_000)).toBe(true);
    expect(v2.r.bindState().error?.message).toMatch(/deliver_subject/);
    await v2.r.stop();
  });

  it('two replicas starting together with different settings both bind (last update wins)', async () => {
    const subject = subjectFor();
    await publish(subject, 0, 40);
    const seen = new Set<number>();
    const handler: ConsumerOptions['handler'] = async (m) => {
      seen.add(m.json<{ i: number }>().i);
    };
    const a = start({ durable: 'race', filterSubjects: subject, maxAckPending: 2048, handler });
    const b = start({ durable: 'race', filterSubjects: subject, maxAckPending: 1000, handler });
    await Promise.all([a.r.ready(), b.r.ready()]);
    expect(await waitFor(() => seen.size === 40, 10_000)).toBe(true);
    expect(a.r.bindState().bound && b.r.bindState().bound).toBe(true);
    expect([...a.events, ...b.events].some((e) => e.type === 'bind_failed')).toBe(false);
    expect([2048, 1000]).toContain((await h.bus.jsm.consumers.info(stream(), 'race')).config.max_ack_pending);
  });
});
