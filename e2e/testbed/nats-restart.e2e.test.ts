import { describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, StorageType } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { requireTestbed, testbed, testbedEnv, uniqueName } from '../support/testbed.js';

describe('testbed: fault hooks — kill nats, start nats', () => {
  it('keeps JetStream stream and KV data across SIGKILL + start (file storage)', async () => {
    requireTestbed('nats');
    const stream = uniqueName('DURABLE').replace(/-/g, '_');
    const bucket = uniqueName('durable_kv').replace(/-/g, '_');

    let nc = await connect({ servers: testbedEnv.natsUrl });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], storage: StorageType.File });
    const js = jetstream(nc);
    for (let i = 0; i < 20; i++) await js.publish(`${stream}.x`, String(i));
    const kv = await new Kvm(nc).create(bucket);
    await kv.put('k', 'before-kill');
    await nc.close();

    await testbed.kill('nats');
    const down = await testbed.status('nats');
    expect(down['nats']?.healthy).toBe(false);
    await testbed.start('nats');

    nc = await connect({ servers: testbedEnv.natsUrl }); // same URL: ports are kept
    try {
      const jsm2 = await jetstreamManager(nc);
      const si = await jsm2.streams.info(stream);
      expect(si.state.messages).toBe(20);
      const m = await jsm2.streams.getMessage(stream, { seq: 20 });
      expect(m?.string()).toBe('19');
      const kv2 = await new Kvm(nc).open(bucket);
      expect((await kv2.get('k'))?.string()).toBe('before-kill');
      await jsm2.streams.delete(stream);
      await kv2.destroy();
    } finally {
      await nc.close();
    }
  });
});
