/**
 * The MongoDB sink against the test bed's FerretDB (MongoDB wire protocol, SQLite backend): the
 * sink conformance suite, then the backend's own cases. Faults go through a TCP proxy in front of
 * the server, so the shared server is never stopped.
 *
 * FerretDB differences met here (docs/sinks-database.md "FerretDB"): field names with "." or a
 * leading "$" are refused (`invalid key: "a.b" (key must not contain '.' sign)`, code 2), no
 * transactions (`insert: unknown field "autocommit"`, code 9), SCRAM is refused with code 18
 * (`Unsupported authentication mechanism "SCRAM-SHA-256"`), and `replaceOne` upserts are slow.
 */
import { createHash, randomBytes } from 'node:crypto';
import { MongoClient, ObjectId, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumItems, parseItem, type InventoryRef, type Item } from '@kollect/contracts';
import type { CompiledSink } from '@kollect/plan';
import { MaterializedStore, SinkRunner, type SinkCredentials, type SinkLogger } from '@kollect/sink';
import { mongodbSinkFactory, type MongoSink } from '@kollect/sink-mongodb';
import {
  InventoryModel,
  makeItems,
  sinkConformance,
  type ConformanceDestination,
} from '@kollect/sink-testing';
import { TcpProxy } from '../support/tcp-proxy.js';
import { hasTestbed, testbedEnv } from '../support/testbed.js';

const quiet: SinkLogger = { debug() {}, info() {}, warn() {}, error() {} };
const inv: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'web' };
const database = `kollect_e2e_${randomBytes(3).toString('hex')}`;
let seq = 0;
const newCollection = (p = 'c') => `${p}_${++seq}`;

/** The test bed URI, optionally through the proxy, with short timeouts so faults show quickly. */
function uriWith(port?: number, userinfo?: string): string {
  const u = new URL(testbedEnv.mongoUri);
  if (port !== undefined) u.port = String(port);
  if (userinfo) {
    u.username = userinfo.split(':')[0] as string;
    u.password = userinfo.split(':')[1] as string;
  }
  u.searchParams.set('directConnection', 'true');
  u.searchParams.set('serverSelectionTimeoutMS', '3000');
  u.searchParams.set('heartbeatFrequencyMS', '500');
  return u.toString();
}

function creds(uri: string | undefined, extra: Record<string, string> = {}): SinkCredentials {
  return {
    data: { ...extra, ...(uri !== undefined ? { uri } : {}) },
    roles: uri !== undefined ? { uri } : {},
    version: '1',
  };
}

function mongoSink(collection: string, spec: Record<string, unknown> = {}): CompiledSink {
  return {
    ref: { family: 'database', namespace: 'team-a', name: `mongo-${collection.replace(/_/g, '-')}` },
    uid: `uid-${collection}`,
    generation: 1,
    type: 'mongodb',
    spec: { type: 'mongodb', mongodb: { databaseRef: { name: 'db' }, database, collection }, ...spec },
  };
}

let client: MongoClient;
let db: Db;

async function readRows(collection: string, cluster: string, inventory: InventoryRef): Promise<Item[]> {
  const docs = await db
    .collection(collection)
    .find({ cluster, inventory_namespace: inventory.namespace, inventory_name: inventory.name })
    .toArray();
  return docs.map((d, i) =>
    parseItem(
      typeof d['payload'] === 'string' ? JSON.parse(d['payload'] as string) : d['payload'],
      `doc ${i}`,
    ),
  );
}

async function readPosition(collection: string, cluster: string, inventory: InventoryRef) {
  const d = await db.collection('kollect_exports').findOne({
    cluster,
    inventory_kind: inventory.kind,
    inventory_namespace: inventory.namespace,
    inventory_name: inventory.name,
    sink: collection,
  });
  return d ? { exportGeneration: Number(d['export_generation']), checksum: String(d['checksum']) } : null;
}

/** Changes whenever a document of the collection or its positions is written. */
async function revision(collection: string): Promise<string> {
  const rows = await db.collection(collection).find({}).sort({ _id: 1 }).toArray();
  const pos = await db.collection('kollect_exports').find({ sink: collection }).sort({ _id: 1 }).toArray();
  return createHash('sha256')
    .update(JSON.stringify([rows, pos]))
    .digest('hex');
}

async function harness(
  sink: CompiledSink,
  credentials: SinkCredentials,
  cluster = 'east',
  model = new InventoryModel(inv, cluster),
) {
  const s = mongodbSinkFactory.create({
    sink,
    cluster,
    credentials,
    workDir: '/tmp',
    signal: new AbortController().signal,
    log: quiet,
  }) as MongoSink;
  const runner = new SinkRunner({
    sink: s,
    sinkName: `database/team-a/${sink.ref.name}`,
    full: model,
    store: new MaterializedStore(),
    clusterLabel: cluster,
    log: quiet,
  });
  return { sink: s, runner, model };
}

describe.runIf(hasTestbed('mongo'))('mongodb sink (test bed FerretDB)', () => {
  let proxy: TcpProxy;

  beforeAll(async () => {
    client = new MongoClient(uriWith());
    await client.connect();
    db = client.db(database);
    const u = new URL(testbedEnv.mongoUri);
    proxy = await TcpProxy.start(u.hostname, Number(u.port));
  });

  afterAll(async () => {
    await db?.dropDatabase().catch(() => undefined);
    await client?.close();
    await proxy?.close();
  });

  sinkConformance({
    name: 'mongodb',
    factory: mongodbSinkFactory,
    fault: {
      async down() {
        proxy.refuse(true);
        proxy.cut();
      },
      async up() {
        proxy.refuse(false);
      },
    },
    async destination(): Promise<ConformanceDestination> {
      const collection = newCollection('conf');
      return {
        sink: mongoSink(collection),
        credentials: creds(uriWith(proxy.port)),
        wrongCredentials: creds(uriWith(proxy.port, 'kollect:not-the-password')),
        async read(cluster, inventory) {
          const exists = (await db.listCollections({ name: collection }).toArray()).length > 0;
          if (!exists) return null;
          const items = await readRows(collection, cluster, inventory);
          const pos = await readPosition(collection, cluster, inventory);
          return { items, ...(pos ? { exportGeneration: pos.exportGeneration } : {}) };
        },
        revision: () => revision(collection),
        async cleanup() {
          await db
            .collection(collection)
            .drop()
            .catch(() => undefined);
        },
      };
    },
  });

  describe('mongodb specifics', () => {
    it("writes the seed's document shape plus target_namespace, with the row identity as _id and the unique index including cluster", async () => {
      const collection = newCollection();
      const h = await harness(mongoSink(collection), creds(uriWith()));
      const items: Item[] = [
        ...makeItems(2),
        {
          targetNamespace: 'team-a',
          targetName: 'nodes',
          namespace: '',
          name: 'node-1',
          group: '',
          version: 'v1',
          kind: 'Node',
          uid: 'node-uid-1',
          attributes: { zone: 'a' },
        },
      ];
      h.model.push(items);
      expect((await h.runner.handle(h.model.message(1))).outcome).toBe('exported');
      const node = await db.collection(collection).findOne({ source_uid: 'node-uid-1' });
      expect(Object.keys(node ?? {})).toEqual([
        '_id',
        'inventory_namespace',
        'inventory_name',
        'target_name',
        'source_uid',
        'cluster',
        'resource_namespace',
        'payload',
        'exported_at',
        'target_namespace',
      ]);
      expect(node).toMatchObject({
        _id: JSON.stringify(['east', 'team-a', 'web', 'team-a', 'nodes', 'node-uid-1']),
        inventory_namespace: 'team-a',
        inventory_name: 'web',
        target_namespace: 'team-a',
        target_name: 'nodes',
        cluster: 'east',
        resource_namespace: 'team-a',
      });
      expect(parseItem(node?.['payload'])).toEqual(items[2]);
      expect((node?.['exported_at'] as Date).toISOString()).toBe(
        new Date(h.model.full(1).exportedAt).toISOString(),
      );
      const ix = (await db.collection(collection).indexes()).find((i) => i.name === 'kollect_row_key');
      expect(ix?.unique).toBe(true);
      expect(Object.keys(ix?.key ?? {})).toEqual([
        'cluster',
        'inventory_namespace',
        'inventory_name',
        'target_namespace',
        'target_name',
        'source_uid',
      ]);
      expect(await readPosition(collection, 'east', inv)).toEqual({
        exportGeneration: 1,
        checksum: checksumItems(items),
      });
      await h.sink.close();
    });

    it('a label key with dots is refused by FerretDB as a terminal error naming the attribute; mongodb.payload json stores it', async () => {
      const labelled = makeItems(3).map((it) => ({
        ...it,
        attributes: { ...it.attributes, labels: { 'app.kubernetes.io/name': it.name } },
      }));
      const c1 = newCollection();
      const h = await harness(mongoSink(c1), creds(uriWith()));
      h.model.push(labelled);
      const out = await h.runner.handle(h.model.message(1));
      expect(out.outcome).toBe('failed');
      expect(out.error?.errorClass).toBe('terminal');
      expect(out.error?.code).toBe('KOLLECT_ERR_MONGODB_FIELD_NAME');
      expect(out.error?.message).toContain('labels.app.kubernetes.io/name');
      expect(out.error?.message).toContain('mongodb.payload');
      expect(await readPosition(c1, 'east', inv)).toBeNull();
      await h.sink.close();

      const c2 = newCollection();
      const j = await harness(mongoSink(c2, { options: { 'mongodb.payload': 'json' } }), creds(uriWith()));
      j.model.push(labelled);
      expect((await j.runner.handle(j.model.message(1))).outcome).toBe('exported');
      const doc = await db.collection(c2).findOne({ source_uid: labelled[0]!.uid });
      expect(typeof doc?.['payload']).toBe('string');
      expect(checksumItems(await readRows(c2, 'east', inv))).toBe(j.model.checksum(1));
      await j.sink.close();
    });

    it('a Secret without a URI key, or with something that is not a MongoDB URI, is a terminal SecretResolveFailed', async () => {
      const a = await harness(mongoSink(newCollection()), creds(undefined, { password: 'x' }));
      expect(
        await a.sink.connect().then(
          () => undefined,
          (e: unknown) => e,
        ),
      ).toMatchObject({ errorClass: 'terminal', reason: 'SecretResolveFailed' });
      expect(await a.sink.probe()).toMatchObject({ ok: false, reason: 'SecretResolveFailed' });
      await a.sink.close();
      const b = await harness(mongoSink(newCollection()), creds('postgres://u:hunter2xyz@h/db'));
      const err = (await b.sink.connect().then(
        () => undefined,
        (e: unknown) => e,
      )) as Error & { errorClass: string };
      expect(err.errorClass).toBe('terminal');
      expect(err.message).not.toContain('hunter2xyz');
      await b.sink.close();
    });

    it('provisioning.mode existing creates nothing: a missing collection is a clear terminal error; an existing one is used', async () => {
      const collection = newCollection();
      const spec = { provisioning: { mode: 'existing' } };
      const h = await harness(mongoSink(collection, spec), creds(uriWith()));
      const err = (await h.sink.connect().then(
        () => undefined,
        (e: unknown) => e,
      )) as Error & { code: string; errorClass: string };
      expect(err).toMatchObject({ code: 'KOLLECT_ERR_MONGODB_COLLECTION_MISSING', errorClass: 'terminal' });
      expect(err.message).toContain(`${database}.${collection}`);
      expect((await h.sink.probe()).ok).toBe(false);
      expect((await db.listCollections({ name: collection }).toArray()).length).toBe(0);
      await h.sink.close();
      await db.createCollection(collection);
      const again = await harness(mongoSink(collection, spec), creds(uriWith()));
      expect((await again.sink.probe()).ok).toBe(true);
      again.model.push(makeItems(3));
      expect((await again.runner.handle(again.model.message(1))).outcome).toBe('exported');
      expect((await db.collection(collection).indexes()).map((i) => i.name)).toEqual(['_id_']);
      await again.sink.close();
    });

    it("ensure replaces the seed's unique index (no cluster) and the first export reconciles the seed's documents away", async () => {
      const collection = newCollection('seed');
      const col = db.collection(collection);
      await col.createIndex(
        { inventory_namespace: 1, inventory_name: 1, target_name: 1, source_uid: 1 },
        { unique: true, name: 'seed_key' },
      );
      const old = makeItems(4);
      await col.insertMany(
        old.map((it) => ({
          _id: new ObjectId(),
          inventory_namespace: 'team-a',
          inventory_name: 'web',
          target_name: it.targetName,
          source_uid: it.uid,
          cluster: 'east',
          resource_namespace: it.namespace,
          payload: it,
          exported_at: new Date(),
        })),
      );
      const h = await harness(mongoSink(collection), creds(uriWith()));
      await h.sink.connect();
      const names = (await col.indexes()).map((i) => i.name);
      expect(names).not.toContain('seed_key');
      expect(names).toContain('kollect_row_key');
      h.model.push(makeItems(3));
      const out = await h.runner.handle(h.model.message(1));
      expect(out.action).toBe('replace-from-full');
      expect(await col.countDocuments({})).toBe(3);
      expect(await col.countDocuments({ _id: { $type: 'objectId' } })).toBe(0);
      expect(checksumItems(await readRows(collection, 'east', inv))).toBe(h.model.checksum(1));
      await h.sink.close();
    });

    it('rows written without the position (a crash between the two) are re-applied by the redelivered export and converge', async () => {
      const collection = newCollection();
      const h = await harness(mongoSink(collection), creds(uriWith()));
      h.model.push(makeItems(10));
      await h.runner.handle(h.model.message(1));
      h.model.push(makeItems(8, { image: () => 'registry.example/app:crash' }));
      // Half of generation 2 reached the collection, the position did not.
      const half = h.model.items(2).slice(0, 4);
      for (const it of half)
        await db.collection(collection).updateOne(
          {
            _id: JSON.stringify([
              'east',
              'team-a',
              'web',
              it.targetNamespace,
              it.targetName,
              it.uid,
            ]) as unknown as ObjectId,
          },
          { $set: { payload: JSON.parse(JSON.stringify(it)) } },
        );
      expect(await readPosition(collection, 'east', inv)).toMatchObject({ exportGeneration: 1 });
      const out = await h.runner.handle(h.model.message(2));
      expect(out).toMatchObject({ outcome: 'exported', action: 'apply-diff' });
      expect(checksumItems(await readRows(collection, 'east', inv))).toBe(h.model.checksum(2));
      expect(await readPosition(collection, 'east', inv)).toMatchObject({ exportGeneration: 2 });
      await h.sink.close();
    });

    it('forget removes the rows and the position of one (cluster, inventory) only', async () => {
      const collection = newCollection();
      const east = await harness(mongoSink(collection), creds(uriWith()), 'east');
      const west = await harness(mongoSink(collection), creds(uriWith()), 'west');
      east.model.push(makeItems(3));
      west.model.push(makeItems(4));
      await east.runner.handle(east.model.message(1));
      await west.runner.handle(west.model.message(1));
      expect((await east.sink.forget(inv)).changed).toBe(true);
      expect(await readRows(collection, 'east', inv)).toHaveLength(0);
      expect(await readPosition(collection, 'east', inv)).toBeNull();
      expect(await readRows(collection, 'west', inv)).toHaveLength(4);
      await east.sink.close();
      await west.sink.close();
    });
  });
});
