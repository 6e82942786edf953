import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, StorageType, type JsMsg } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { requireTestbed, testbedEnv, uniqueName } from '../support/testbed.js';

describe('testbed: NATS JetStream (real nats-server >= 2.11)', () => {
  let nc: NatsConnection;
  let nc2: NatsConnection;

  beforeAll(async () => {
    requireTestbed('nats');
    nc = await connect({ servers: testbedEnv.natsUrl, name: 'testbed-smoke' });
    nc2 = await connect({ servers: testbedEnv.natsUrl, name: 'testbed-smoke-2' });
  });

  afterAll(async () => {
    await nc?.close();
    await nc2?.close();
  });

  it('serves a current server version with JetStream enabled', async () => {
    const [maj, min] = nc.info!.version.split('.').map(Number);
    expect(maj! > 2 || (maj === 2 && min! >= 11)).toBe(true);
    const res = await fetch(`${testbedEnv.natsMonitorUrl}/healthz`);
    expect(res.status).toBe(200);
  });

  it('stores and reads back messages in a file-backed stream', async () => {
    const name = uniqueName('SMOKE').replace(/-/g, '_');
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name,
      subjects: [`${name}.>`],
      storage: StorageType.File,
      max_msgs_per_subject: 1,
    });
    const js = jetstream(nc);
    for (let i = 0; i < 5; i++)
      await js.publish(`${name}.obj.${i % 3}`, JSON.stringify({ i }), { msgID: `m-${i}` });
    // duplicate msgID is dropped
    const dup = await js.publish(`${name}.obj.0`, 'dup', { msgID: 'm-0' });
    expect(dup.duplicate).toBe(true);
    const si = await jsm.streams.info(name);
    expect(si.state.messages).toBe(3); // last value per subject
    const last = await jsm.streams.getMessage(name, { last_by_subj: `${name}.obj.1` });
    expect(last?.json<{ i: number }>().i).toBe(4);
    await jsm.streams.delete(name);
  });

  it('puts, gets and watches KV entries', async () => {
    const kv = await new Kvm(nc).create(uniqueName('smoke_kv').replace(/-/g, '_'), { history: 3 });
    await kv.put('plan', JSON.stringify({ v: 1 }));
    await kv.put('plan', JSON.stringify({ v: 2 }));
    const e = await kv.get('plan');
    expect(e?.json<{ v: number }>().v).toBe(2);
    expect(e?.revision).toBe(2);
    await kv.destroy();
  });

  it('pins a pull consumer to one client in a priority group (pinned_client)', async () => {
    const stream = uniqueName('PIN').replace(/-/g, '_');
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], storage: StorageType.File });
    await jsm.consumers.add(stream, {
      durable_name: 'owner',
      ack_policy: AckPolicy.Explicit,
      priority_groups: ['partition-0'],
      priority_policy: 'pinned_client',
      priority_timeout: 30_000_000_000, // pin TTL: 30 s (nanos)
    });
    const js = jetstream(nc);
    for (let i = 0; i < 10; i++) await js.publish(`${stream}.row`, String(i));

    const drain = async (it: AsyncIterable<JsMsg>) => {
      const got: string[] = [];
      for await (const m of it) {
        got.push(m.string());
        m.ack();
      }
      return got;
    };

    // client A pulls first and becomes the pinned owner
    const a = await jetstream(nc).consumers.get(stream, 'owner');
    const gotA = await drain(await a.fetch({ max_messages: 5, expires: 2000, group: 'partition-0' }));
    expect(gotA).toEqual(['0', '1', '2', '3', '4']);

    // client B in the same group gets nothing while A holds the pin
    const b = await jetstream(nc2).consumers.get(stream, 'owner');
    const gotB = await drain(await b.fetch({ max_messages: 5, expires: 1500, group: 'partition-0' }));
    expect(gotB).toEqual([]);

    // after an explicit unpin (takeover), B is pinned and receives the rest
    await jsm.consumers.unpin(stream, 'owner', 'partition-0');
    const gotB2 = await drain(await b.fetch({ max_messages: 5, expires: 3000, group: 'partition-0' }));
    expect(gotB2).toEqual(['5', '6', '7', '8', '9']);
    await jsm.streams.delete(stream);
  });
});
