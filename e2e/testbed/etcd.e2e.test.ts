import { describe, expect, it } from 'vitest';
import { requireTestbed, testbedEnv, uniqueName } from '../support/testbed.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('testbed: etcd (storage of the kube-apiserver)', () => {
  it('is healthy and serves the v3 KV API', async () => {
    requireTestbed('etcd');
    const h = await fetch(`${testbedEnv.etcdEndpoint}/health`);
    expect(((await h.json()) as { health: string }).health).toBe('true');
    const key = `/kollect-smoke/${uniqueName('k')}`;
    const put = await fetch(`${testbedEnv.etcdEndpoint}/v3/kv/put`, {
      method: 'POST',
      body: JSON.stringify({ key: b64(key), value: b64('v1') }),
    });
    expect(put.status).toBe(200);
    const get = await fetch(`${testbedEnv.etcdEndpoint}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({ key: b64(key) }),
    });
    const body = (await get.json()) as { kvs: { value: string }[] };
    expect(Buffer.from(body.kvs[0]!.value, 'base64').toString()).toBe('v1');
    await fetch(`${testbedEnv.etcdEndpoint}/v3/kv/deleterange`, {
      method: 'POST',
      body: JSON.stringify({ key: b64(key) }),
    });
  });
});
