import { describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { requireTestbed, testbedEnv, uniqueName } from '../support/testbed.js';

describe('testbed: S3 (MinIO)', () => {
  it('puts, gets and lists objects', async () => {
    requireTestbed('s3');
    const s3 = new S3Client({
      endpoint: testbedEnv.s3Endpoint,
      region: testbedEnv.s3Region,
      forcePathStyle: true,
      credentials: { accessKeyId: testbedEnv.s3AccessKey, secretAccessKey: testbedEnv.s3SecretKey },
    });
    const Bucket = uniqueName('smoke');
    await s3.send(new CreateBucketCommand({ Bucket }));
    for (const k of ['inv/a.json', 'inv/b.json', 'other/c.json']) {
      await s3.send(
        new PutObjectCommand({
          Bucket,
          Key: k,
          Body: JSON.stringify({ k }),
          ContentType: 'application/json',
          Metadata: { generation: '7' },
        }),
      );
    }
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'inv/b.json' }));
    expect(await got.Body!.transformToString()).toBe('{"k":"inv/b.json"}');
    expect(got.Metadata?.['generation']).toBe('7');
    const list = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'inv/' }));
    expect(list.Contents?.map((o) => o.Key)).toEqual(['inv/a.json', 'inv/b.json']);
    // conditional create is enforced by a real server
    await expect(
      s3.send(new PutObjectCommand({ Bucket, Key: 'inv/a.json', Body: 'x', IfNoneMatch: '*' })),
    ).rejects.toThrow();
    s3.destroy();
  });
});
