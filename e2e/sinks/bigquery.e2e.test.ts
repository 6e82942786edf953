/**
 * The BigQuery sink through the official client against BigQueryApiDouble (e2e/support): the
 * conformance suite and the backend's own cases. No emulator: goccy/bigquery-emulator does not
 * build here (docs/sinks-database.md). The MERGE texts are pinned by golden files in
 * libs/sinks/bigquery; the double refuses any job whose text differs from them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumItems, parseItem, type InventoryRef } from '@kollect/contracts';
import type { CompiledSink } from '@kollect/plan';
import { MaterializedStore, SinkRunner, type SinkCredentials, type SinkLogger } from '@kollect/sink';
import { bigquerySinkFactory, rowsTableResource, type BigQuerySink } from '@kollect/sink-bigquery';
import {
  InventoryModel,
  makeItems,
  sinkConformance,
  type ConformanceDestination,
} from '@kollect/sink-testing';
import { BigQueryApiDouble } from '../support/bigquery-double.js';

const quiet: SinkLogger = { debug() {}, info() {}, warn() {}, error() {} };
const inv: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'web' };
const PROJECT = 'kollect-test';
const DATASET = 'inventory';
const TOKEN = 'double-token-7f3a9c';
let seq = 0;
const newTable = (p = 't') => `${p}_${++seq}`;

const creds = (token = TOKEN): SinkCredentials => ({ data: { token }, roles: {}, version: '1' });

function bqSink(
  double: BigQueryApiDouble,
  table: string,
  spec: Record<string, unknown> = {},
  block: Record<string, unknown> = {},
): CompiledSink {
  return {
    ref: { family: 'database', namespace: 'team-a', name: `bq-${table.replace(/_/g, '-')}` },
    uid: `uid-${table}`,
    generation: 1,
    type: 'bigquery',
    spec: {
      type: 'bigquery',
      endpoint: double.url,
      bigquery: { project: PROJECT, dataset: DATASET, table, ...block },
      options: { 'bigquery.emulator': 'true' },
      ...spec,
    },
  };
}

function harness(
  sink: CompiledSink,
  credentials = creds(),
  cluster = 'east',
  model = new InventoryModel(inv, cluster),
) {
  const s = bigquerySinkFactory.create({
    sink,
    cluster,
    credentials,
    workDir: '/tmp',
    signal: new AbortController().signal,
    log: quiet,
    allowPrivateEndpoints: true,
  }) as BigQuerySink;
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

describe('bigquery sink (official client against BigQueryApiDouble)', () => {
  let double: BigQueryApiDouble;

  beforeAll(async () => {
    double = await BigQueryApiDouble.start({ project: PROJECT, datasets: [DATASET], token: TOKEN });
  });
  afterAll(async () => {
    await double?.close();
  });

  const read = (table: string) => (cluster: string, inventory: InventoryRef) => {
    if (!double.tables.has(`${DATASET}.${table}`)) return Promise.resolve(null);
    const items = double
      .rows(DATASET, table)
      .filter(
        (r) =>
          r.cluster === cluster &&
          r.inventory_namespace === inventory.namespace &&
          r.inventory_name === inventory.name,
      )
      .map((r, i) => parseItem(r.payload, `row ${i}`));
    const pos = double
      .rows(DATASET, 'kollect_exports')
      .find(
        (e) =>
          (e as unknown as Record<string, unknown>)['sink'] === table &&
          e.cluster === cluster &&
          e.inventory_name === inventory.name,
      ) as unknown as { export_generation: number } | undefined;
    return Promise.resolve({ items, ...(pos ? { exportGeneration: pos.export_generation } : {}) });
  };
  const revision = (table: string) => () =>
    Promise.resolve(
      JSON.stringify([
        double.rows(DATASET, table),
        double
          .rows(DATASET, 'kollect_exports')
          .filter((e) => (e as unknown as Record<string, unknown>)['sink'] === table),
      ]),
    );

  sinkConformance({
    name: 'bigquery (BigQueryApiDouble)',
    factory: bigquerySinkFactory,
    fault: {
      async down() {
        double.unavailable = true;
      },
      async up() {
        double.unavailable = false;
      },
    },
    async destination(): Promise<ConformanceDestination> {
      const table = newTable('conf');
      return {
        sink: bqSink(double, table),
        credentials: creds(),
        wrongCredentials: creds('not-the-token-123'),
        read: read(table),
        revision: revision(table),
      };
    },
  });

  describe('bigquery specifics', () => {
    it('ensure creates the day-partitioned, clustered table and kollect_exports; the table request body is pinned', async () => {
      const table = newTable();
      const h = harness(bqSink(double, table));
      await h.sink.connect();
      const create = double.requests.find(
        (r) =>
          r.method === 'POST' &&
          r.path.endsWith('/tables') &&
          (r.body as { tableReference: { tableId: string } }).tableReference.tableId === table,
      );
      expect(create?.body).toEqual(rowsTableResource({ project: PROJECT, dataset: DATASET, table }));
      expect(create?.body).toMatchObject({
        timePartitioning: { type: 'DAY', field: 'exported_at' },
        clustering: { fields: ['cluster', 'inventory_namespace', 'inventory_name', 'resource_namespace'] },
      });
      expect(create?.bearer).toBe(TOKEN);
      expect(double.tables.has(`${DATASET}.kollect_exports`)).toBe(true);
    });

    it('a first export sends one multi-statement job: the seed MERGE over UNNEST(@rows) and the position (request body golden)', async () => {
      const table = 'golden_rows';
      const h = harness(bqSink(double, table));
      h.model.push(makeItems(2));
      const before = double.jobs().length;
      expect((await h.runner.handle(h.model.message(1))).outcome).toBe('exported');
      const writes = double
        .jobs()
        .slice(before)
        .filter(
          (j) =>
            (j['configuration'] as { labels: Record<string, string> }).labels['kollect-op'] === 'replace',
        );
      expect(writes).toHaveLength(1);
      const body = JSON.parse(
        JSON.stringify(writes[0]).replace(/"kollect_[0-9a-f-]{36}"/g, '"kollect_<uuid>"'),
      );
      await expect(JSON.stringify(body, null, 2) + '\n').toMatchFileSnapshot(
        './__golden__/bigquery-replace-job.json',
      );
      expect(checksumItems((await read(table)('east', inv))!.items)).toBe(h.model.checksum(1));
    });

    it('a 1% diff is one MERGE by key with op rows, not a full replace', async () => {
      const table = newTable();
      const h = harness(bqSink(double, table));
      h.model.push(makeItems(200));
      await h.runner.handle(h.model.message(1));
      h.model.push(
        makeItems(200, {
          image: (i) => (i % 100 === 0 ? 'x:patched' : `registry.example/app:${i % 7}`),
        }).filter((_, i) => i !== 5),
      );
      const before = double.jobs().length;
      const out = await h.runner.handle(h.model.message(2));
      expect(out.action).toBe('apply-diff');
      const diffJob = double
        .jobs()
        .slice(before)
        .find(
          (j) => (j['configuration'] as { labels: Record<string, string> }).labels['kollect-op'] === 'diff',
        );
      const rows = (
        diffJob?.['configuration'] as {
          query: { queryParameters: { name: string; parameterValue: { arrayValues: unknown[] } }[] };
        }
      ).query.queryParameters.find((p) => p.name === 'rows')!.parameterValue.arrayValues;
      expect(rows).toHaveLength(3); // 2 changed + 1 delete
      expect(checksumItems((await read(table)('east', inv))!.items)).toBe(h.model.checksum(2));
    });

    it('a dataset that does not exist is terminal: ensure never creates datasets', async () => {
      const h = harness(bqSink(double, newTable(), {}, { dataset: 'nope' }));
      const err = (await h.sink.connect().then(
        () => undefined,
        (e: unknown) => e,
      )) as Error & { code: string; errorClass: string };
      expect(err).toMatchObject({ code: 'KOLLECT_ERR_BIGQUERY_TABLE_MISSING', errorClass: 'terminal' });
      expect(err.message).toContain('dataset kollect-test.nope');
      expect((await h.sink.probe()).ok).toBe(false);
    });

    it('provisioning.mode existing creates nothing: a missing table is terminal; a table with other columns is refused with its columns', async () => {
      const table = newTable();
      const h = harness(bqSink(double, table, { provisioning: { mode: 'existing' } }));
      const err = (await h.sink.connect().then(
        () => undefined,
        (e: unknown) => e,
      )) as Error & { code: string };
      expect(err.code).toBe('KOLLECT_ERR_BIGQUERY_TABLE_MISSING');
      expect(double.tables.has(`${DATASET}.${table}`)).toBe(false);
      double.tables.set(`${DATASET}.${table}`, {
        resource: {
          schema: {
            fields: [
              { name: 'id', type: 'INTEGER', mode: 'REQUIRED' },
              { name: 'payload', type: 'STRING', mode: 'NULLABLE' },
            ],
          },
        },
        rows: new Map(),
      });
      const h2 = harness(bqSink(double, table));
      const err2 = (await h2.sink.connect().then(
        () => undefined,
        (e: unknown) => e,
      )) as Error & { code: string };
      expect(err2.code).toBe('KOLLECT_ERR_BIGQUERY_TABLE');
      expect(err2.message).toContain('column payload is STRING, expected JSON');
      expect(err2.message).toContain('column id is REQUIRED');
      expect(err2.message).toContain('It has: id INTEGER REQUIRED, payload STRING');
    });

    it('ensure adds the NULLABLE target_namespace column to a table the seed created', async () => {
      const table = newTable('seed');
      const seedFields = (
        rowsTableResource({ project: PROJECT, dataset: DATASET, table }) as {
          schema: { fields: { name: string }[] };
        }
      ).schema.fields.filter((f) => f.name !== 'target_namespace');
      double.tables.set(`${DATASET}.${table}`, {
        resource: { schema: { fields: seedFields } },
        rows: new Map(),
      });
      const h = harness(bqSink(double, table));
      await h.sink.connect();
      const patch = double.requests.find((r) => r.method === 'PATCH' && r.path.endsWith(`/tables/${table}`));
      expect(
        (patch?.body as { schema: { fields: { name: string; mode: string }[] } }).schema.fields.at(-1),
      ).toMatchObject({ name: 'target_namespace', mode: 'NULLABLE' });
    });

    it.each([
      [400, 'invalidQuery', 'terminal'],
      [403, 'accessDenied', 'terminal'],
      [403, 'rateLimitExceeded', 'transient'],
      [404, 'notFound', 'terminal'],
      [429, 'rateLimitExceeded', 'transient'],
      [503, 'backendError', 'transient'],
      [400, 'invalidQuery', 'transient', 'Transaction is aborted due to concurrent update against table'],
    ] as const)('a job refused with HTTP %i %s is %s', async (status, reason, cls, message?: string) => {
      const table = newTable();
      const h = harness(bqSink(double, table));
      h.model.push(makeItems(3));
      await h.sink.connect();
      // Three times: the client itself retries 429 and 5xx twice (maxRetries 2) before giving up.
      double.failNext(
        (r) =>
          r.method === 'POST' &&
          r.path.endsWith('/jobs') &&
          JSON.stringify(r.body).includes('"kollect-op":"replace"') &&
          JSON.stringify(r.body).includes(table),
        status,
        reason,
        message,
        3,
      );
      const out = await h.runner.handle(h.model.message(1));
      double.clearFailures();
      expect(out.outcome).toBe('failed');
      expect(out.error?.errorClass).toBe(cls);
      expect(out.error?.message).toContain(reason);
    });

    it('the probe is dataset GET then a dry-run SELECT 1', async () => {
      const h = harness(bqSink(double, newTable()));
      const before = double.requests.length;
      const probe = await h.sink.probe();
      expect(probe.ok).toBe(true);
      const calls = double.requests
        .slice(before)
        .map(
          (r) =>
            `${r.method} ${r.path.replace(/^\/bigquery\/v2/, '')}${(r.body as { configuration?: { dryRun?: boolean } })?.configuration?.dryRun ? ' dryRun' : ''}`,
        );
      expect(calls).toEqual([
        `GET /projects/${PROJECT}/datasets/${DATASET}`,
        `POST /projects/${PROJECT}/jobs dryRun`,
      ]);
      const dry = double.jobs().at(-1) as { configuration: { query: { query: string } } };
      expect(dry.configuration.query.query).toBe('SELECT 1');
    });

    it('a large replace is merged in chunks under the request limit, then swept, and converges', async () => {
      const table = newTable('big');
      const h = harness(bqSink(double, table));
      h.model.push(makeItems(30_000));
      await h.runner.handle(h.model.message(1));
      h.model.push(makeItems(28_000));
      h.model.push(makeItems(25_000, { image: () => 'registry.example/app:v2' }));
      // Generation 2 was lost: the framework replaces from the full snapshot of 3.
      const before = double.jobs().length;
      const out = await h.runner.handle(h.model.message(3));
      expect(out.action).toBe('replace-from-full');
      const ops = double
        .jobs()
        .slice(before)
        .map((j) => (j['configuration'] as { labels: Record<string, string> }).labels['kollect-op']);
      expect(ops.filter((o) => o === 'replace-chunk').length).toBeGreaterThan(1);
      expect(ops.at(-1)).toBe('replace-sweep');
      for (const j of double.jobs().slice(before))
        expect(JSON.stringify(j).length).toBeLessThan(10 * 1024 * 1024);
      const stored = await read(table)('east', inv);
      expect(stored?.items).toHaveLength(25_000);
      expect(checksumItems(stored!.items)).toBe(h.model.checksum(3));
      expect(stored?.exportGeneration).toBe(3);
      // Every row carries the generation's export time (the sweep relies on it).
      const times = [...new Set(double.rows(DATASET, table).map((r) => r.exported_at))];
      expect(times).toHaveLength(1);
      expect(new Date(times[0]!).getTime()).toBe(new Date(h.model.full(3).exportedAt).getTime());
    });
  });
});
