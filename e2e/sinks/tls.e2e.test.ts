/**
 * Custom CAs (`spec.tls.caBundle`, `spec.tls.caSecretRef`) against real TLS servers of the test bed:
 * the git smart-HTTP server, MinIO, fake-gcs-server and FerretDB (mongodb wire protocol) behind the
 * bed's TLS fronts, and PostgreSQL with `ssl = on` reached with `sslmode=verify-full`. Every server certificate is signed by the bed
 * CA (KOLLECT_TEST_CA_FILE); KOLLECT_TEST_WRONG_CA_FILE signed nothing the bed serves.
 *
 * Credentials go the sink worker's way: Secrets in the real kube-apiserver, read with the worker's
 * KubeSecretWatcher, turned into SinkCredentials by `secretNeeds` + `resolveCredentials`. What a
 * sink wrote is read back over the plain endpoints with independent clients (git, the AWS SDK,
 * plain HTTP, pg, the mongodb driver), never through the sink.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { checksumItems, KollectError, parseItem, type InventoryRef, type Item } from '@kollect/contracts';
import { KubeClient } from '@kollect/kube';
import type { CompiledSink } from '@kollect/plan';
import {
  MaterializedStore,
  resolveCredentials,
  secretKey,
  secretNeeds,
  SinkRunner,
  type SecretData,
  type SinkCredentials,
  type SinkFactory,
  type SinkLogger,
} from '@kollect/sink';
import { gcsSinkFactory } from '@kollect/sink-gcs';
import { gitSinkFactory } from '@kollect/sink-git';
import { mongodbSinkFactory } from '@kollect/sink-mongodb';
import { postgresSinkFactory } from '@kollect/sink-postgres';
import { s3SinkFactory } from '@kollect/sink-s3';
import { InventoryModel, makeItems } from '@kollect/sink-testing';
import { KubeSecretWatcher } from '@kollect/sink-worker';
import { namespaceWithSecrets } from '../sink-worker/support.js';
import { hasTestbed, testbedEnv, uniqueName } from '../support/testbed.js';
import { createRepo } from './git-helpers.js';
import { readGit, toItem } from './readers.js';

const quiet: SinkLogger = { debug() {}, info() {}, warn() {}, error() {} };
const inv: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'web' };
const CLUSTER = 'east';
/** Names what to set; every TLS verification failure must say it. */
const REMEDY = /set tls\.caBundle or tls\.caSecretRef/;

/** How a test configures spec.tls. */
type TlsChoice = 'caBundle' | 'caSecretRef' | 'none' | 'wrongCaBundle';

interface Destination {
  /** The sink spec without `type`, `tls` and the credentials reference. */
  spec: Record<string, unknown>;
  /** Data of the credentials Secret (spec.secretRef / postgres.databaseRef); none for the emulator. */
  credentials?: Record<string, string>;
  /** What the sink wrote, read back independently; null when nothing was written. */
  read(): Promise<Item[] | null>;
  /** Extra checks while the sink is connected (Postgres: its sessions are encrypted). */
  whileConnected?(): Promise<void>;
}

interface Backend {
  type: 'git' | 's3' | 'gcs' | 'postgres' | 'mongodb';
  family: 'snapshot' | 'database';
  factory: SinkFactory;
  /** The key the CA Secret uses for this backend (each of CA_SECRET_KEYS is exercised once or more). */
  caKey: 'tls.crt' | 'ca.crt' | 'ca.pem';
  /** Values that must never appear in an error message. */
  secrets: () => string[];
  destination(name: string): Promise<Destination>;
}

let kube: KubeClient;
let watcher: KubeSecretWatcher;
let namespace: string;
let admin: pg.Pool;
const pgSchema = `kollect_tls_${Date.now().toString(36)}`;
let mongoAdmin: MongoClient;
const mongoDb = `kollect_tls_${Date.now().toString(36)}`;

const caPem = () => readFileSync(testbedEnv.caFile, 'utf8');
const wrongCaPem = () => readFileSync(testbedEnv.wrongCaFile, 'utf8');

function s3Plain(): S3Client {
  return new S3Client({
    endpoint: testbedEnv.s3Endpoint,
    region: testbedEnv.s3Region,
    forcePathStyle: true,
    credentials: { accessKeyId: testbedEnv.s3AccessKey, secretAccessKey: testbedEnv.s3SecretKey },
  });
}

const BACKENDS: Backend[] = [
  {
    type: 'git',
    family: 'snapshot',
    factory: gitSinkFactory,
    caKey: 'tls.crt',
    secrets: () => [testbedEnv.gitPassword],
    async destination(name) {
      await createRepo(name);
      const bare = join(testbedEnv.gitRoot, `${name}.git`);
      const plainUrl = `${testbedEnv.gitUrl}/${name}.git`;
      return {
        spec: { endpoint: `${testbedEnv.gitHttpsUrl}/${name}.git`, git: {} },
        credentials: { username: testbedEnv.gitUsername, password: testbedEnv.gitPassword },
        async read() {
          const refs = execFileSync('git', ['-C', bare, 'for-each-ref', '--format=%(refname)'], {
            encoding: 'utf8',
          }).trim();
          if (refs === '') return null;
          const r = await readGit(
            plainUrl,
            { username: testbedEnv.gitUsername, password: testbedEnv.gitPassword },
            { mode: 'document', format: 'yaml', path: (_c, i) => `inventory/${i.namespace}/${i.name}.yaml` },
            CLUSTER,
            inv,
          );
          return r?.items ?? null;
        },
      };
    },
  },
  {
    type: 's3',
    family: 'snapshot',
    factory: s3SinkFactory,
    caKey: 'ca.crt',
    secrets: () => [testbedEnv.s3SecretKey],
    async destination(bucket) {
      const client = s3Plain();
      return {
        spec: { endpoint: `${testbedEnv.s3HttpsEndpoint}/${bucket}/exports` },
        credentials: { accessKeyID: testbedEnv.s3AccessKey, secretAccessKey: testbedEnv.s3SecretKey },
        async read() {
          try {
            await client.send(new HeadBucketCommand({ Bucket: bucket }));
          } catch (err) {
            if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
              return null;
            throw err;
          }
          const r = await client.send(
            new GetObjectCommand({
              Bucket: bucket,
              Key: `exports/inventory/${inv.namespace}/${inv.name}.json`,
            }),
          );
          const env = JSON.parse(await r.Body!.transformToString()) as { items: Record<string, unknown>[] };
          return env.items.map(toItem);
        },
      };
    },
  },
  {
    type: 'gcs',
    family: 'snapshot',
    factory: gcsSinkFactory,
    caKey: 'ca.pem',
    secrets: () => [],
    async destination(bucket) {
      const base = `${testbedEnv.gcsEndpoint}/storage/v1/b/${bucket}`;
      return {
        // the emulator is reached without credentials (JSON API, no Authorization header)
        spec: {
          endpoint: `${testbedEnv.gcsHttpsEndpoint}/${bucket}/exports`,
          options: { project: testbedEnv.gcsProject },
        },
        async read() {
          const b = await fetch(base);
          if (b.status === 404) return null;
          const key = encodeURIComponent(`exports/inventory/${inv.namespace}/${inv.name}.json`);
          const o = await fetch(`${base}/o/${key}?alt=media`);
          if (o.status !== 200) throw new Error(`GCS read: HTTP ${o.status} ${await o.text()}`);
          const env = (await o.json()) as { items: Record<string, unknown>[] };
          return env.items.map(toItem);
        },
      };
    },
  },
  {
    type: 'postgres',
    family: 'database',
    factory: postgresSinkFactory,
    caKey: 'ca.crt',
    secrets: () => [],
    async destination(name) {
      const table = name.replace(/-/g, '_');
      const app = `kollect-tls-${name}`;
      const dsn = new URL(testbedEnv.postgresDsn);
      dsn.searchParams.set('sslmode', 'verify-full');
      dsn.searchParams.set('application_name', app); // tags the sink's sessions for whileConnected()
      return {
        spec: { postgres: { table, schema: pgSchema } },
        credentials: { dsn: dsn.toString() },
        async read() {
          const t = await admin.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [
            `"${pgSchema}"."${table}"`,
          ]);
          if (t.rows[0]?.t == null) return null;
          const r = await admin.query<{ payload: unknown }>(`SELECT payload FROM "${pgSchema}"."${table}"`);
          return r.rows.map((x, i) => parseItem(x.payload, `row ${i}`));
        },
        async whileConnected() {
          // every session of the sink (application_name from its DSN) is encrypted
          const r = await admin.query<{ ssl: boolean }>(
            `SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = $1`,
            [app],
          );
          expect(r.rows.length).toBeGreaterThan(0);
          expect(r.rows.every((x) => x.ssl)).toBe(true);
        },
      };
    },
  },
  {
    type: 'mongodb',
    family: 'database',
    factory: mongodbSinkFactory,
    caKey: 'tls.crt',
    secrets: () => [],
    async destination(name) {
      const collection = name.replace(/-/g, '_');
      // the front's URI says tls=true and names no CA: the CA comes from spec.tls. A short server
      // selection timeout (the URI wins over the sink's 30 s) keeps the failing handshakes quick.
      const uri = new URL(testbedEnv.mongoTlsUri);
      uri.searchParams.set('directConnection', 'true');
      uri.searchParams.set('serverSelectionTimeoutMS', '5000');
      return {
        spec: { mongodb: { database: mongoDb, collection } },
        credentials: { uri: uri.toString() },
        async read() {
          // the same FerretDB over its plain port: nothing written means no document at all
          const docs = await mongoAdmin.db(mongoDb).collection(collection).find({}).toArray();
          if (docs.length === 0) return null;
          return docs.map((d, i) =>
            parseItem(
              typeof d['payload'] === 'string' ? JSON.parse(d['payload'] as string) : d['payload'],
              `doc ${i}`,
            ),
          );
        },
      };
    },
  },
];

/** The CompiledSink of a backend with the chosen spec.tls, referencing `secretName` for credentials. */
function compiled(
  b: Backend,
  name: string,
  dest: Destination,
  tls: TlsChoice,
  secretName: string,
): CompiledSink {
  const tlsBlock =
    tls === 'caBundle'
      ? { caBundle: Buffer.from(caPem()).toString('base64') } // a CRD bytes field: base64 in JSON
      : tls === 'wrongCaBundle'
        ? { caBundle: Buffer.from(wrongCaPem()).toString('base64') }
        : tls === 'caSecretRef'
          ? { caSecretRef: { name: `ca-${b.caKey.replace('.', '-')}` } }
          : undefined;
  const spec: Record<string, unknown> = {
    type: b.type,
    ...dest.spec,
    ...(tlsBlock ? { tls: tlsBlock } : {}),
  };
  if (dest.credentials && (b.type === 'postgres' || b.type === 'mongodb'))
    spec[b.type] = { ...(spec[b.type] as object), databaseRef: { name: secretName } };
  else if (dest.credentials) spec['secretRef'] = { name: secretName };
  return {
    ref: { family: b.family, namespace, name },
    uid: `uid-${name}`,
    generation: 1,
    type: b.type,
    spec,
  };
}

/** The worker's credential path: read every Secret the sink needs from the apiserver, then resolve. */
async function workerCredentials(sink: CompiledSink): Promise<SinkCredentials> {
  const secrets = new Map<string, SecretData | undefined>();
  for (const n of secretNeeds(sink)) secrets.set(secretKey(n), await watcher.get(n.namespace, n.name));
  return resolveCredentials(sink, secrets);
}

/** Create, connect, export one generation, probe, close; connect/handshake failures are returned. */
async function exportOnce(b: Backend, dest: Destination, sink: CompiledSink, model: InventoryModel) {
  const credentials = await workerCredentials(sink);
  const s = b.factory.create({
    sink,
    cluster: CLUSTER,
    credentials,
    workDir: `/tmp/${uniqueName('tls-work')}`,
    signal: new AbortController().signal,
    log: quiet,
    allowPrivateEndpoints: true,
  });
  try {
    const probe = await s.probe();
    try {
      await s.connect();
    } catch (err) {
      return { probe, error: err };
    }
    const runner = new SinkRunner({
      sink: s,
      sinkName: `${b.family}/${namespace}/${sink.ref.name}`,
      full: model,
      store: new MaterializedStore(),
      clusterLabel: CLUSTER,
      log: quiet,
    });
    const out = await runner.handle(model.message(model.current));
    if (out.outcome === 'exported') await dest.whileConnected?.();
    return { probe, out };
  } finally {
    await s.close();
  }
}

describe.runIf(hasTestbed('tls', 'git', 's3', 'gcs', 'mongo', 'postgres', 'kube-apiserver'))(
  'sink TLS with custom CAs (bed CA; git/s3/gcs/mongodb behind TLS fronts, PostgreSQL ssl=on)',
  () => {
    beforeAll(async () => {
      kube = new KubeClient({ kubeconfigPath: testbedEnv.kubeconfig });
      watcher = new KubeSecretWatcher(kube);
      namespace = uniqueName('tls');
      const ca = caPem();
      await namespaceWithSecrets(kube, namespace, {
        // one CA Secret per key the resolver accepts
        'ca-tls-crt': { 'tls.crt': ca },
        'ca-ca-crt': { 'ca.crt': ca },
        'ca-ca-pem': { 'ca.pem': ca },
      });
      admin = new pg.Pool({ connectionString: testbedEnv.postgresDsn, max: 2 });
      await admin.query(`CREATE SCHEMA IF NOT EXISTS "${pgSchema}"`);
      mongoAdmin = new MongoClient(testbedEnv.mongoUri, { directConnection: true });
    });
    afterAll(async () => {
      await admin?.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
      await admin?.end();
      await mongoAdmin?.db(mongoDb).dropDatabase();
      await mongoAdmin?.close();
      await kube
        ?.request('DELETE', `/api/v1/namespaces/${namespace}`)
        .catch(() => undefined /* already gone */);
    });

    for (const b of BACKENDS) {
      describe(`${b.type}`, () => {
        /** A fresh destination plus its credentials Secret (the sink's own DSN/keys/password). */
        async function setup(tls: TlsChoice) {
          const name = uniqueName(`tls-${b.type}`);
          const dest = await b.destination(name);
          const secretName = `creds-${name}`;
          if (dest.credentials)
            await kube.request('POST', `/api/v1/namespaces/${namespace}/secrets`, {
              body: {
                apiVersion: 'v1',
                kind: 'Secret',
                metadata: { name: secretName },
                stringData: dest.credentials,
              },
            });
          const sink = compiled(b, name, dest, tls, secretName);
          const model = new InventoryModel(inv, CLUSTER);
          model.push(makeItems(4));
          return { dest, sink, model };
        }

        for (const tls of ['caBundle', 'caSecretRef'] as const) {
          it(`with the bed CA from tls.${tls} an export lands and reads back${tls === 'caSecretRef' ? ` (Secret key ${b.caKey})` : ''}; the probe succeeds`, async () => {
            const { dest, sink, model } = await setup(tls);
            const r = await exportOnce(b, dest, sink, model);
            expect(r.error).toBeUndefined();
            expect(r.probe.ok, r.probe.message).toBe(true);
            expect(r.out?.outcome, r.out?.error?.message).toBe('exported');
            const read = await dest.read();
            expect(read).not.toBeNull();
            expect(checksumItems(read!)).toBe(model.checksum());
          });
        }

        for (const tls of ['none', 'wrongCaBundle'] as const) {
          it(`${tls === 'none' ? 'without a CA' : 'with the wrong CA in tls.caBundle'} the export fails terminal naming tls.caBundle / tls.caSecretRef, nothing is written, the probe reports the TLS failure`, async () => {
            const { dest, sink, model } = await setup(tls);
            const r = await exportOnce(b, dest, sink, model);
            // the failure surfaces at connect (the worker's build) or, at the latest, as the export outcome
            const err = (r.error ?? r.out?.error) as KollectError | undefined;
            expect(r.out?.outcome).not.toBe('exported');
            expect(err).toBeInstanceOf(KollectError);
            expect(err!.errorClass).toBe('terminal');
            expect(err!.message).toMatch(REMEDY);
            expect(err!.message).toMatch(/certificate/i);
            for (const secret of [...b.secrets(), '-----BEGIN']) expect(err!.message).not.toContain(secret);
            expect(await dest.read()).toBeNull();
            expect(r.probe.ok).toBe(false);
            expect(r.probe.errorClass).toBe('terminal');
            expect(r.probe.message).toMatch(REMEDY);
            for (const secret of b.secrets()) expect(r.probe.message).not.toContain(secret);
          });
        }
      });
    }

    it('the bed CA file is what the fronts and PostgreSQL present (sanity of the fixture)', () => {
      expect(existsSync(testbedEnv.caFile)).toBe(true);
      expect(caPem()).not.toBe(wrongCaPem());
    });
  },
);
