/**
 * The s3 sink against the test bed's MinIO (real S3 API): the conformance suite for the JSON
 * envelope and for Parquet, read back with the AWS SDK and pyarrow (an independent Parquet reader).
 */
import { describe } from 'vitest';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { InventoryRef } from '@kollect/contracts';
import type { CompiledSink } from '@kollect/plan';
import type { SinkCredentials } from '@kollect/sink';
import { s3SinkFactory } from '@kollect/sink-s3';
import { sinkConformance, type ConformanceDestination, type StoredInventory } from '@kollect/sink-testing';
import { hasTestbed, testbed, testbedEnv, uniqueName } from '../support/testbed.js';
import { readParquetItems, toItem } from './readers.js';

function s3(): S3Client {
  return new S3Client({
    endpoint: testbedEnv.s3Endpoint,
    region: testbedEnv.s3Region,
    forcePathStyle: true,
    credentials: { accessKeyId: testbedEnv.s3AccessKey, secretAccessKey: testbedEnv.s3SecretKey },
  });
}

export function s3Creds(accessKeyID: string, secretAccessKey: string): SinkCredentials {
  return {
    data: { accessKeyID, secretAccessKey },
    roles: { accessKeyId: accessKeyID, secretAccessKey },
    version: '1',
  };
}

const ns = (inv: InventoryRef) => (inv.kind === 'KollectClusterInventory' ? 'cluster' : inv.namespace);

async function getBytes(client: S3Client, bucket: string, key: string): Promise<Buffer | null> {
  try {
    const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await r.Body!.transformToByteArray());
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
    throw err;
  }
}

async function listAll(
  client: S3Client,
  bucket: string,
  prefix: string,
): Promise<{ key: string; etag: string }[]> {
  const out: { key: string; etag: string }[] = [];
  let token: string | undefined;
  do {
    const r = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const o of r.Contents ?? []) out.push({ key: o.Key!, etag: o.ETag ?? '' });
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** A fresh bucket per destination on the object store behind `endpoint`, read with the AWS SDK. */
export function objectDestination(opts: {
  type: 's3' | 'gcs';
  endpoint: (bucket: string, prefix: string) => string;
  client: () => S3Client;
  spec: Record<string, unknown>;
  format: 'json' | 'parquet';
  credentials: SinkCredentials;
  wrongCredentials: SinkCredentials;
  clusterPartitioned: boolean;
  createBucket?: (bucket: string) => Promise<void>;
}): Promise<ConformanceDestination> {
  const bucket = uniqueName('conf');
  const prefix = 'exports';
  const client = opts.client();
  const spec = {
    ...opts.spec,
    ...(opts.clusterPartitioned && opts.format === 'json'
      ? { pathTemplate: '{cluster}/inventory/{namespace}/{name}.json' }
      : {}),
  };
  const sink: CompiledSink = {
    ref: { family: 'snapshot', namespace: 'team-a', name: uniqueName(opts.type) },
    uid: 'uid',
    generation: 1,
    type: opts.type,
    spec: { type: opts.type, endpoint: opts.endpoint(bucket, prefix), ...spec },
  };
  return (async () => {
    await opts.createBucket?.(bucket);
    return {
      sink,
      credentials: opts.credentials,
      wrongCredentials: opts.wrongCredentials,
      async read(cluster: string, inv: InventoryRef): Promise<StoredInventory | null> {
        if (opts.format === 'json') {
          const key = `${prefix}/${opts.clusterPartitioned ? `${cluster}/` : ''}inventory/${ns(inv)}/${inv.name}.json`;
          const body = await getBytes(client, bucket, key);
          if (!body) return null;
          const env = JSON.parse(body.toString('utf8')) as {
            items: Record<string, unknown>[];
            exportGeneration?: number;
            cluster?: string;
          };
          const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
          const g = Number(head.Metadata?.['kollect-export-generation']);
          if (env.exportGeneration !== g)
            throw new Error(`envelope generation ${env.exportGeneration} != metadata ${g}`);
          return { items: env.items.map(toItem), exportGeneration: g };
        }
        const dir = `${prefix}/inventory/cluster=${cluster}/ns=${ns(inv)}/name=${inv.name}/`;
        const files = await listAll(client, bucket, dir);
        if (files.length === 0) return null;
        const newest = files.sort(
          (a, b) => Number(/generation=(\d+)/.exec(b.key)![1]) - Number(/generation=(\d+)/.exec(a.key)![1]),
        )[0]!;
        const body = (await getBytes(client, bucket, newest.key))!;
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: newest.key }));
        return {
          items: await readParquetItems(body, cluster, inv),
          exportGeneration: Number(head.Metadata?.['kollect-export-generation']),
        };
      },
      async revision(): Promise<string> {
        const all = await listAll(client, bucket, '');
        return all.map((o) => `${o.key}@${o.etag}`).join(',');
      },
    };
  })();
}

describe.runIf(hasTestbed('s3'))('s3 sink (test bed MinIO)', () => {
  for (const format of ['json', 'parquet'] as const) {
    sinkConformance({
      name: `s3 ${format}`,
      factory: s3SinkFactory,
      fault: { down: () => testbed.stop('s3'), up: () => testbed.start('s3') },
      destination: (o) =>
        objectDestination({
          type: 's3',
          endpoint: (b, p) => `${testbedEnv.s3Endpoint}/${b}/${p}`,
          client: s3,
          spec: format === 'parquet' ? { objectStore: { format: 'parquet' } } : {},
          format,
          credentials: s3Creds(testbedEnv.s3AccessKey, testbedEnv.s3SecretKey),
          wrongCredentials: s3Creds(testbedEnv.s3AccessKey, 'not-the-secret-key'),
          clusterPartitioned: o.clusterPartitioned === true,
        }),
    });
  }
});
