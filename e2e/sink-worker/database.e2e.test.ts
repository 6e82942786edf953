/**
 * The database sink worker end to end on the test bed: plan from KV, the DSN Secret from the real
 * kube-apiserver, snapshot messages on JetStream, rows in the real Postgres (and MongoDB on
 * FerretDB), a full snapshot requested over the bus when a generation is missing, status reports,
 * and a poisoned export that fails terminally without holding back another inventory.
 */
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumItems, parseItem, type InventoryRef, type SinkStatusReport } from '@kollect/contracts';
import { KubeClient } from '@kollect/kube';
import type { CompiledPlan } from '@kollect/plan';
import { InventoryModel, makeItems } from '@kollect/sink-testing';
import { busHarness, waitFor, type BusHarness } from '../bus/harness.js';
import type { ServiceProcess } from '../pipeline/support.js';
import { hasTestbed, testbedEnv, uniqueName } from '../support/testbed.js';
import {
  collectSinkReports,
  namespaceWithSecrets,
  publishPlan,
  publishSnapshot,
  serveFullSnapshots,
  startWorker,
  workerPlan,
} from './support.js';
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
  let reports: SinkStatusReport[] = [];
  let fullRequests = 0;

  const plan = (): CompiledPlan =>
    workerPlan({
      cluster,
      namespace: ns,
      inventories: [
        { ref: web, sinks: ['portal', 'docs'] },
        { ref: api, sinks: ['portal', 'nodsn'] },
      ],
      sinks: [
        {
          family: 'database',
          name: 'portal',
          type: 'postgres',
          spec: { postgres: { databaseRef: { name: 'pg-dsn' }, table } },
        },
        {
          family: 'database',
          name: 'docs',
          type: 'mongodb',
          spec: {
            mongodb: { databaseRef: { name: 'mongo-uri' }, database: mongoDb, collection: 'inventory' },
          },
        },
        {
          family: 'database',
          name: 'nodsn',
          type: 'postgres',
          spec: { postgres: { databaseRef: { name: 'no-such-secret' }, table: `${table}_b` } },
        },
      ],
    });

  const publish = (name: string, g: number): Promise<void> =>
    publishSnapshot(
      h,
      models.get(name)!.message(g),
      `${cluster}/${name}/${g}/${randomBytes(2).toString('hex')}`,
    );

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
    await namespaceWithSecrets(kube, ns, {
      'pg-dsn': { dsn: testbedEnv.postgresDsn },
      'mongo-uri': { MONGODB_URI: testbedEnv.mongoUri },
    });
    for (const m of models.values())
      await serveFullSnapshots(
        h,
        cluster,
        m.inventory,
        () => m.message(m.current, 'full'),
        () => fullRequests++,
      );
    reports = collectSinkReports(h, cluster);
    await publishPlan(h, plan());
    svc = await startWorker(h, 'sink-database');
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
