/**
 * The database sink worker end to end on the test bed: plan from KV, the DSN Secret from the real
 * kube-apiserver, snapshot messages on JetStream, rows in the real Postgres (and MongoDB on
 * FerretDB), a full snapshot requested over the bus when a generation is missing, status reports,
 * and a poisoned export that fails terminally without holding back another inventory.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSnapshotMessage, planSnapshotPublication } from '@kollect/aggregate';
import { encodeJson, JsonKv, PLAN_KEY, publishBytes, putPlan } from '@kollect/bus';
import {
  checksumItems,
  parseItem,
  subjects,
  type InventoryRef,
  type SinkStatusReport,
} from '@kollect/contracts';
import { KubeClient } from '@kollect/kube';
import { PLAN_SCHEMA_VERSION, type CompiledPlan } from '@kollect/plan';
import { InventoryModel, makeItems } from '@kollect/sink-testing';
import { busHarness, waitFor, type BusHarness } from '../bus/harness.js';
import { startService, waitForLog, type ServiceProcess } from '../pipeline/support.js';
import { hasTestbed, testbedEnv, uniqueName } from '../support/testbed.js';

describe.runIf(hasTestbed('nats', 'kube-apiserver', 'postgres', 'mongo'))('sink-database worker', () => {
  let h: BusHarness;
  let kube: KubeClient;
  let svc: ServiceProcess;
  let admin: pg.Pool;
  let mongo: MongoClient;
  const ns = uniqueName('team');
  const cluster = 'e2e-east';
  const table = `worker_${randomBytes(3).toString('hex')}`;
  const mongoDb = `kollect_worker_${randomBytes(3).toString('hex')}`;
  const web: InventoryRef = { kind: 'KollectInventory', namespace: ns, name: 'web' };
  const api: InventoryRef = { kind: 'KollectInventory', namespace: ns, name: 'api' };
  const models = new Map<string, InventoryModel>([
    ['web', new InventoryModel(web, cluster)],
    ['api', new InventoryModel(api, cluster)],
  ]);
  const reports: SinkStatusReport[] = [];
  let fullRequests = 0;

  const binding = (name: string, type: string) => ({
    sink: { family: 'database' as const, namespace: ns, name },
    type,
    exportMinIntervalMs: 0,
    maxExportBytes: 1_572_864,
  });

  function plan(): CompiledPlan {
    const inventory = (ref: InventoryRef, bindings: ReturnType<typeof binding>[]) => ({
      ref,
      uid: `${ref.name}-uid`,
      generation: 1,
      partition: 0,
      targets: [],
      dedupe: 'keepAll',
      gvrs: [],
      exportMinIntervalMs: 0,
      bindings,
    });
    return {
      schemaVersion: PLAN_SCHEMA_VERSION,
      generation: 1,
      compiledAt: new Date().toISOString(),
      settings: {
        cluster,
        partitions: 1,
        maxExportBytes: 1_572_864,
        scrubKeys: [],
        celCostLimit: 1000,
        celTimeoutMs: 100,
      },
      watches: [],
      profiles: {},
      targets: [],
      inventories: [
        inventory(web, [binding('portal', 'postgres'), binding('docs', 'mongodb')]),
        inventory(api, [binding('portal', 'postgres'), binding('nodsn', 'postgres')]),
      ],
      sinks: [
        {
          ref: { family: 'database', namespace: ns, name: 'portal' },
          uid: 'portal-uid',
          generation: 1,
          type: 'postgres',
          spec: { type: 'postgres', postgres: { databaseRef: { name: 'pg-dsn' }, table } },
        },
        {
          ref: { family: 'database', namespace: ns, name: 'docs' },
          uid: 'docs-uid',
          generation: 1,
          type: 'mongodb',
          spec: {
            type: 'mongodb',
            mongodb: { databaseRef: { name: 'mongo-uri' }, database: mongoDb, collection: 'inventory' },
          },
        },
        {
          ref: { family: 'database', namespace: ns, name: 'nodsn' },
          uid: 'nodsn-uid',
          generation: 1,
          type: 'postgres',
          spec: {
            type: 'postgres',
            postgres: { databaseRef: { name: 'no-such-secret' }, table: `${table}_b` },
          },
        },
      ],
      namespaceWatch: {},
    } as unknown as CompiledPlan;
  }

  async function publish(name: string, g: number): Promise<void> {
    const m = models.get(name)!;
    await publishBytes(
      h.bus,
      h.names.subject(subjects.snapshot(cluster, m.inventory)),
      encodeSnapshotMessage(m.message(g)),
      {
        msgId: `${cluster}/${name}/${g}/${randomBytes(2).toString('hex')}`,
      },
    );
  }

  async function rows(inv: InventoryRef) {
    const r = await admin.query<{ payload: unknown }>(
      `SELECT payload FROM public."${table}" WHERE cluster = $1 AND inventory_namespace = $2 AND inventory_name = $3`,
      [cluster, inv.namespace, inv.name],
    );
    return r.rows.map((x) => parseItem(x.payload));
  }

  const reported = (sink: string, inv: string, g: number, outcome?: string) =>
    reports.some(
      (r) =>
        r.sink.name === sink &&
        r.inventory.name === inv &&
        r.exportGeneration === g &&
        (!outcome || r.outcome === outcome),
    );

  beforeAll(async () => {
    h = await busHarness('sinkdb');
    admin = new pg.Pool({ connectionString: testbedEnv.postgresDsn, max: 2 });
    mongo = new MongoClient(testbedEnv.mongoUri, { serverSelectionTimeoutMS: 5000 });
    kube = new KubeClient({ kubeconfigPath: testbedEnv.kubeconfig });
    await kube.request('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    });
    for (const [name, data] of [
      ['pg-dsn', { dsn: testbedEnv.postgresDsn }],
      ['mongo-uri', { MONGODB_URI: testbedEnv.mongoUri }],
    ] as const)
      await kube.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
        body: { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: data },
      });
    const store = await h.bus.objm.open(h.names.buckets.full);
    for (const m of models.values())
      h.bus.nc.subscribe(h.names.subject(subjects.fullSnapshotRequest(cluster, m.inventory)), {
        callback: (_e, msg) => {
          fullRequests++;
          const pub = planSnapshotPublication(m.message(m.current, 'full'), {
            maxInlineBytes: 0,
            bucket: h.names.buckets.full,
          });
          void store
            .putBlob({ name: pub.object!.name }, pub.object!.data)
            .then(() => msg.respond(encodeJson({ ok: true, snapshot: pub.message })));
        },
      });
    h.bus.nc.subscribe(h.names.subject(subjects.status('sink', cluster)), {
      callback: (_e, m) => {
        reports.push(JSON.parse(new TextDecoder().decode(m.data)) as SinkStatusReport);
      },
    });
    await putPlan(await JsonKv.open(h.bus, h.names.buckets.plan), PLAN_KEY, plan(), {
      schemaVersion: PLAN_SCHEMA_VERSION,
    });
    svc = await startService('sink-database', {
      KOLLECT_NATS_URL: testbedEnv.natsUrl,
      KOLLECT_BUS_PREFIX: h.names.prefix,
      KUBECONFIG: testbedEnv.kubeconfig,
      KOLLECT_ALLOW_PRIVATE_ENDPOINTS: 'true',
      KOLLECT_SINK_PROBER: 'false',
      KOLLECT_SINK_WORK_DIR: mkdtempSync(join(tmpdir(), 'kollect-dbworker-')),
      KOLLECT_LOG_LEVEL: 'info',
    });
    expect(await waitForLog(svc, /database sink worker started/, 60_000)).toBe(true);
  });

  afterAll(async () => {
    await svc?.stop();
    await admin?.query(`DROP TABLE IF EXISTS public."${table}"`).catch(() => {});
    await admin?.query(`DELETE FROM public.kollect_exports WHERE sink = $1`, [table]).catch(() => {});
    await admin?.end();
    await mongo
      ?.db(mongoDb)
      .dropDatabase()
      .catch(() => {});
    await mongo?.close();
    await kube?.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => {});
    await h?.cleanup();
  });

  it('exports a generation into Postgres and MongoDB with the DSN/URI from Secrets, and reports it', async () => {
    models.get('web')!.push(makeItems(5, { namespace: ns }));
    await publish('web', 1);
    expect(
      await waitFor(
        () => reported('portal', 'web', 1, 'exported') && reported('docs', 'web', 1, 'exported'),
        60_000,
      ),
    ).toBe(true);
    expect(checksumItems(await rows(web))).toBe(models.get('web')!.checksum(1));
    await mongo.connect();
    expect(
      await mongo.db(mongoDb).collection('inventory').countDocuments({ cluster, inventory_name: 'web' }),
    ).toBe(5);
    expect(reports.find((r) => r.sink.name === 'portal' && r.exportGeneration === 1)).toMatchObject({
      sinkType: 'postgres',
      itemCount: 5,
      checksum: models.get('web')!.checksum(1),
    });
  });

  it('a missing generation makes the worker fetch the full snapshot over the bus and converge', async () => {
    const m = models.get('web')!;
    m.push(makeItems(7, { namespace: ns }));
    m.push(makeItems(3, { namespace: ns })); // generation 2 is never published
    await publish('web', 3);
    expect(
      await waitFor(
        () => reported('portal', 'web', 3, 'exported') && reported('docs', 'web', 3, 'exported'),
        60_000,
      ),
    ).toBe(true);
    expect(fullRequests).toBeGreaterThanOrEqual(1);
    expect(checksumItems(await rows(web))).toBe(m.checksum(3));
  });

  it('a row Postgres rejects fails that export terminally; the other inventory keeps exporting; a missing Secret is reported, not retried forever', async () => {
    const a = models.get('api')!;
    a.push(
      makeItems(3, { namespace: ns, prefix: 'api' }).map((it, i) =>
        i === 1 ? { ...it, attributes: { ...it.attributes, note: 'nul\u0000here' } } : it,
      ),
    );
    await publish('api', 1);
    expect(
      await waitFor(
        () => reported('portal', 'api', 1, 'failed') && reported('nodsn', 'api', 1, 'failed'),
        60_000,
      ),
    ).toBe(true);
    const poisoned = reports.find(
      (r) => r.sink.name === 'portal' && r.inventory.name === 'api' && r.outcome === 'failed',
    )!;
    expect(poisoned).toMatchObject({ errorClass: 'terminal' });
    expect(poisoned.message).toContain('\\u0000');
    expect(await rows(api)).toHaveLength(0);
    const nodsn = reports.find((r) => r.sink.name === 'nodsn')!;
    expect(nodsn).toMatchObject({ errorClass: 'terminal', reason: 'SecretResolveFailed' });
    expect(nodsn.message).toContain('no-such-secret');
    // The web inventory on the same sink still moves.
    const w = models.get('web')!;
    w.push(makeItems(4, { namespace: ns, image: () => 'registry.example/app:after' }));
    await publish('web', 4);
    expect(await waitFor(() => reported('portal', 'web', 4, 'exported'), 60_000)).toBe(true);
    expect(checksumItems(await rows(web))).toBe(w.checksum(4));
    // The poisoned inventory recovers once its data is fixed.
    a.push(makeItems(3, { namespace: ns, prefix: 'api' }));
    await publish('api', 2);
    expect(await waitFor(() => reported('portal', 'api', 2, 'exported'), 60_000)).toBe(true);
    expect(checksumItems(await rows(api))).toBe(a.checksum(2));
  });
});
