import { describe, expect, it } from 'vitest';
import { Storage } from '@google-cloud/storage';
import { requireTestbed, testbedEnv, uniqueName } from '../support/testbed.js';

// fake-gcs-server is the reference GCS emulator (there is no real GCS server to run locally).
describe('testbed: GCS (fake-gcs-server emulator)', () => {
  it('puts, gets and lists objects with @google-cloud/storage', async () => {
    requireTestbed('gcs');
    const storage = new Storage({ apiEndpoint: testbedEnv.gcsEndpoint, projectId: testbedEnv.gcsProject });
    const [bucket] = await storage.createBucket(uniqueName('smoke'));
    await bucket.file('inv/a.json').save('{"a":1}', {
      resumable: false,
      contentType: 'application/json',
      metadata: { metadata: { generation: '3' } },
    });
    await bucket.file('inv/b.json').save('{"b":2}', { resumable: false });
    await bucket.file('other/c.json').save('{}', { resumable: false });
    const [content] = await bucket.file('inv/a.json').download();
    expect(content.toString()).toBe('{"a":1}');
    const [meta] = await bucket.file('inv/a.json').getMetadata();
    expect(meta.metadata?.['generation']).toBe('3');
    const [files] = await bucket.getFiles({ prefix: 'inv/' });
    expect(files.map((f) => f.name).sort()).toEqual(['inv/a.json', 'inv/b.json']);
  });
});
