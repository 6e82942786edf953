/**
 * The gcs sink against fake-gcs-server, the reference GCS emulator (no real GCS server can run
 * here), through the native JSON API with a service-account key from the Secret.
 *
 * fake-gcs-server accepts any bearer token, so the OAuth2 half is exercised against
 * `GoogleTokenEndpointDouble`: a recorded-contract double of Google's token endpoint (RFC 7523
 * JWT bearer grant) that verifies the JWT signature against the key pair generated for the test
 * and refuses any other key with `400 invalid_grant`, as Google does.
 *
 * The seed's S3-interop HMAC mode is not run here: fake-gcs-server does not implement the XML
 * upload API. That mode uses the same S3 client as the s3 sink, whose conformance runs against
 * MinIO; its GCS-specific settings are unit-tested.
 */
import { createServer, type Server } from 'node:http';
import { createVerify, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import type { InventoryRef } from '@kollect/contracts';
import type { CompiledSink } from '@kollect/plan';
import type { SinkCredentials } from '@kollect/sink';
import { gcsSinkFactory } from '@kollect/sink-gcs';
import { sinkConformance, type ConformanceDestination, type StoredInventory } from '@kollect/sink-testing';
import { hasTestbed, testbed, testbedEnv, uniqueName } from '../support/testbed.js';
import { readParquetItems, toItem } from './readers.js';

/** Google's OAuth2 token endpoint, as far as the JWT-bearer grant goes. */
class GoogleTokenEndpointDouble {
  private server: Server | undefined;
  url = '';
  issued = 0;
  constructor(private readonly publicKeyPem: string) {}
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const p = new URLSearchParams(body);
        const jwt = p.get('assertion') ?? '';
        const [h, c, s] = jwt.split('.');
        const ok =
          p.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer' &&
          h &&
          c &&
          s &&
          createVerify('RSA-SHA256')
            .update(`${h}.${c}`)
            .verify(this.publicKeyPem, Buffer.from(s, 'base64url'));
        res.setHeader('content-type', 'application/json');
        if (!ok) {
          res.statusCode = 400;
          res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }));
          return;
        }
        this.issued++;
        res.end(
          JSON.stringify({
            access_token: `ya29.test-${this.issued}`,
            expires_in: 3599,
            token_type: 'Bearer',
          }),
        );
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
    const addr = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${addr.port}/token`;
  }
  async stop(): Promise<void> {
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

const good = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const tokenEndpoint = new GoogleTokenEndpointDouble(
  good.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
);

function keyJson(privateKey: typeof good.privateKey): string {
  return JSON.stringify({
    type: 'service_account',
    project_id: 'kollect-test',
    private_key_id: 'k1',
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    client_email: 'kollect-sink@kollect-test.iam.gserviceaccount.com',
    token_uri: tokenEndpoint.url,
  });
}

function gcsCreds(json: string): SinkCredentials {
  return { data: { 'credentials.json': json }, roles: { credentialsJson: json }, version: '1' };
}

const ns = (inv: InventoryRef) => (inv.kind === 'KollectClusterInventory' ? 'cluster' : inv.namespace);

async function gcsGet(
  bucket: string,
  key: string,
): Promise<{ body: Buffer; metadata: Record<string, string> } | null> {
  const base = `${testbedEnv.gcsEndpoint}/storage/v1/b/${bucket}/o/${encodeURIComponent(key)}`;
  const meta = await fetch(base);
  if (meta.status === 404) return null;
  const m = (await meta.json()) as { metadata?: Record<string, string> };
  const body = Buffer.from(await (await fetch(`${base}?alt=media`)).arrayBuffer());
  return { body, metadata: m.metadata ?? {} };
}

async function gcsList(bucket: string, prefix: string): Promise<{ name: string; etag: string }[]> {
  const out: { name: string; etag: string }[] = [];
  let token: string | undefined;
  do {
    const q = new URLSearchParams({ prefix, ...(token ? { pageToken: token } : {}) });
    const r = (await (await fetch(`${testbedEnv.gcsEndpoint}/storage/v1/b/${bucket}/o?${q}`)).json()) as {
      items?: { name: string; etag: string; generation?: string }[];
      nextPageToken?: string;
    };
    for (const i of r.items ?? []) out.push({ name: i.name, etag: `${i.etag}/${i.generation ?? ''}` });
    token = r.nextPageToken;
  } while (token);
  return out;
}

describe.runIf(hasTestbed('gcs'))('gcs sink (fake-gcs-server, the reference GCS emulator)', () => {
  beforeAll(() => tokenEndpoint.start());
  afterAll(() => tokenEndpoint.stop());
  for (const format of ['json', 'parquet'] as const) {
    sinkConformance({
      name: `gcs ${format} (JSON API, service-account key)`,
      factory: gcsSinkFactory,
      fault: { down: () => testbed.stop('gcs'), up: () => testbed.start('gcs') },
      async destination(o): Promise<ConformanceDestination> {
        const bucket = uniqueName('conf');
        const prefix = 'exports';
        const partitioned = o.clusterPartitioned === true;
        const spec: Record<string, unknown> = {
          ...(format === 'parquet' ? { serialization: { format: 'parquet' } } : {}),
          ...(partitioned && format === 'json'
            ? { pathTemplate: '{cluster}/inventory/{namespace}/{name}.json' }
            : {}),
          options: { project: testbedEnv.gcsProject },
        };
        const sink: CompiledSink = {
          ref: { family: 'snapshot', namespace: 'team-a', name: uniqueName('gcs') },
          uid: 'uid',
          generation: 1,
          type: 'gcs',
          spec: { type: 'gcs', endpoint: `${testbedEnv.gcsEndpoint}/${bucket}/${prefix}`, ...spec },
        };
        return {
          sink,
          credentials: gcsCreds(keyJson(good.privateKey)),
          wrongCredentials: gcsCreds(keyJson(other.privateKey)),
          async read(cluster, inv): Promise<StoredInventory | null> {
            if (format === 'json') {
              const o2 = await gcsGet(
                bucket,
                `${prefix}/${partitioned ? `${cluster}/` : ''}inventory/${ns(inv)}/${inv.name}.json`,
              );
              if (!o2) return null;
              const env = JSON.parse(o2.body.toString('utf8')) as { items: Record<string, unknown>[] };
              return {
                items: env.items.map(toItem),
                exportGeneration: Number(o2.metadata['kollect-export-generation']),
              };
            }
            const files = await gcsList(
              bucket,
              `${prefix}/inventory/cluster=${cluster}/ns=${ns(inv)}/name=${inv.name}/`,
            );
            if (files.length === 0) return null;
            const newest = files.sort(
              (a, b) =>
                Number(/generation=(\d+)/.exec(b.name)![1]) - Number(/generation=(\d+)/.exec(a.name)![1]),
            )[0]!;
            const o2 = (await gcsGet(bucket, newest.name))!;
            return {
              items: await readParquetItems(o2.body, cluster, inv),
              exportGeneration: Number(o2.metadata['kollect-export-generation']),
            };
          },
          async revision(): Promise<string> {
            return (await gcsList(bucket, '')).map((x) => `${x.name}@${x.etag}`).join(',');
          },
        };
      },
    });
  }
});
