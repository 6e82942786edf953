/**
 * The Postgres sink against the test bed's real PostgreSQL 15: the sink conformance suite, then the
 * backend's own cases (bad input, provisioning modes, the seed's table layout, portal objects).
 * Faults go through a TCP proxy in front of the server, so the shared server is never stopped.
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumItems, parseItem, type InventoryRef, type Item } from '@kollect/contracts';
import type { CompiledSink } from '@kollect/plan';
import { MaterializedStore, SinkRunner, type SinkCredentials, type SinkLogger } from '@kollect/sink';
import { postgresSinkFactory, type PostgresSink } from '@kollect/sink-postgres';
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
const suffix = randomBytes(3).toString('hex');
const schema = `kollect_e2e_${suffix}`;
let tableSeq = 0;
const newTable = (p = 't') => `${p}_${suffix}_${++tableSeq}`;

function dsnWith(port: number | undefined, user?: string): string {
  const u = new URL(testbedEnv.postgresDsn);
  if (port !== undefined) u.port = String(port);
  if (user !== undefined) {
    u.username = user;
    u.password = 'wrong-password-for-kollect';
  }
  return u.toString();
}

function creds(dsn: string | undefined, extra: Record<string, string> = {}): SinkCredentials {
  const data: Record<string, string> = { ...extra, ...(dsn !== undefined ? { dsn } : {}) };
  return { data, roles: dsn !== undefined ? { dsn } : {}, version: '1' };
}

function pgSink(
  table: string,
  spec: Record<string, unknown> = {},
  pgBlock: Record<string, unknown> = {},
): CompiledSink {
  return {
    ref: { family: 'database', namespace: 'team-a', name: `pg-${table.replace(/_/g, '-')}` },
    uid: `uid-${table}`,
    generation: 1,
    type: 'postgres',
    spec: { type: 'postgres', postgres: { databaseRef: { name: 'db' }, table, schema, ...pgBlock }, ...spec },
  };
}

let admin: pg.Pool;

async function readRows(table: string, cluster: string, inventory: InventoryRef, s = schema) {
  const r = await admin.query<{ payload: unknown }>(
    `SELECT payload FROM "${s}"."${table}" WHERE cluster = $1 AND inventory_namespace = $2 AND inventory_name = $3`,
    [cluster, inventory.namespace, inventory.name],
  );
  return r.rows.map((x, i) => parseItem(x.payload, `row ${i}`));
}

async function readPosition(table: string, cluster: string, inventory: InventoryRef, s = schema) {
  const r = await admin.query<{ export_generation: string; checksum: string; item_count: number }>(
    `SELECT export_generation::text, checksum, item_count FROM "${s}".kollect_exports
     WHERE cluster = $1 AND inventory_kind = $2 AND inventory_namespace = $3 AND inventory_name = $4 AND sink = $5`,
    [cluster, inventory.kind, inventory.namespace, inventory.name, table],
  );
  const row = r.rows[0];
  return row
    ? { exportGeneration: Number(row.export_generation), checksum: row.checksum, itemCount: row.item_count }
    : null;
}

/** Changes whenever a row or the position of the table is written (tuple versions). */
async function revision(table: string, s = schema): Promise<string> {
  const r = await admin.query<{ a: string | null; b: string | null }>(
    `SELECT (SELECT string_agg(xmin::text || ctid::text, ',' ORDER BY ctid) FROM "${s}"."${table}") AS a,
            (SELECT string_agg(xmin::text || ctid::text, ',' ORDER BY ctid) FROM "${s}".kollect_exports WHERE sink = $1) AS b`,
    [table],
  );
  return createHash('sha256').update(`${r.rows[0]?.a}|${r.rows[0]?.b}`).digest('hex');
}

async function harness(
  sink: CompiledSink,
  credentials: SinkCredentials,
  cluster = 'east',
  model = new InventoryModel(inv, cluster),
) {
  const s = postgresSinkFactory.create({
    sink,
    cluster,
    credentials,
    workDir: '/tmp',
    signal: new AbortController().signal,
    log: quiet,
  }) as PostgresSink;
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

describe.runIf(hasTestbed('postgres'))('postgres sink (test bed PostgreSQL)', () => {
  let proxy: TcpProxy;

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: testbedEnv.postgresDsn, max: 2 });
    await admin.query(`CREATE SCHEMA "${schema}"`);
    const u = new URL(testbedEnv.postgresDsn);
    proxy = await TcpProxy.start(u.hostname, Number(u.port));
  });

  afterAll(async () => {
    await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin?.end();
    await proxy?.close();
  });

  sinkConformance({
    name: 'postgres',
    factory: postgresSinkFactory,
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
      const table = newTable('conf');
      return {
        sink: pgSink(table),
        credentials: creds(dsnWith(proxy.port)),
        wrongCredentials: creds(dsnWith(proxy.port, 'kollect_no_such_role')),
        async read(cluster, inventory) {
          const exists = await admin.query('SELECT to_regclass($1) AS r', [`"${schema}"."${table}"`]);
          if (!exists.rows[0]?.r) return null;
          const items = await readRows(table, cluster, inventory);
          const pos = await readPosition(table, cluster, inventory);
          return { items, ...(pos ? { exportGeneration: pos.exportGeneration } : {}) };
        },
        revision: () => revision(table),
        async cleanup() {
          await admin.query(`DROP TABLE IF EXISTS "${schema}"."${table}"`);
        },
      };
    },
  });

  describe('postgres specifics', () => {
    const dsn = () => testbedEnv.postgresDsn;

    it('a first export writes the seed columns, target_namespace, the full Item JSON and the export time', async () => {
      const table = newTable();
      const h = await harness(pgSink(table), creds(dsn()));
      const items: Item[] = [
        ...makeItems(3),
        {
          targetNamespace: 'team-a',
          targetName: 'nodes',
          namespace: '',
          name: 'node-1',
          group: '',
          version: 'v1',
          kind: 'Node',
          uid: 'node-uid-1',
          attributes: {},
        },
      ];
      h.model.push(items);
      const out = await h.runner.handle(h.model.message(1));
      expect(out.outcome).toBe('exported');
      const r = await admin.query(
        `SELECT inventory_namespace, inventory_name, target_namespace, target_name, source_uid, cluster, resource_namespace, payload, exported_at
         FROM "${schema}"."${table}" ORDER BY source_uid`,
      );
      expect(r.rows).toHaveLength(4);
      const node = r.rows.find((x) => x.source_uid === 'node-uid-1');
      // Cluster-scoped objects get the inventory namespace (SEED-SPEC §5.6).
      expect(node).toMatchObject({
        inventory_namespace: 'team-a',
        inventory_name: 'web',
        target_namespace: 'team-a',
        target_name: 'nodes',
        cluster: 'east',
        resource_namespace: 'team-a',
      });
      expect(parseItem(node.payload)).toEqual(items[3]);
      expect((node.exported_at as Date).toISOString()).toBe(
        new Date(h.model.full(1).exportedAt).toISOString(),
      );
      const dep = r.rows.find((x) => x.source_uid === items[0]!.uid);
      expect(dep.resource_namespace).toBe(items[0]!.namespace);
      expect(await readPosition(table, 'east', inv)).toEqual({
        exportGeneration: 1,
        checksum: checksumItems(items),
        itemCount: 4,
      });
      await h.sink.close();
    });

    for (const path of ['INSERT', 'COPY'] as const) {
      it(`a row Postgres rejects (\\u0000 in a string) rolls the whole ${path} transaction back with a terminal, named error; other inventories keep exporting`, async () => {
        const table = newTable();
        const sink = pgSink(table, path === 'COPY' ? { options: { 'postgres.copyThreshold': '1' } } : {});
        const h = await harness(sink, creds(dsn()));
        h.model.push(makeItems(20));
        expect((await h.runner.handle(h.model.message(1))).outcome).toBe('exported');
        const before = await revision(table);
        const poisoned = makeItems(20).map((it, i) =>
          i === 7
            ? { ...it, attributes: { ...it.attributes, note: 'bad\u0000value' } }
            : { ...it, attributes: { ...it.attributes, image: 'changed' } },
        );
        h.model.push([...poisoned, ...makeItems(5, { prefix: 'new' })]);
        const out = await h.runner.handle(h.model.message(2));
        expect(out.outcome).toBe('failed');
        expect(out.error?.errorClass).toBe('terminal');
        expect(out.error?.code).toBe('KOLLECT_ERR_POSTGRES_ROW_REJECTED');
        expect(out.error?.message).toMatch(/22P05/);
        expect(out.error?.message).toContain('Deployment team-a-7/app-7');
        expect(out.error?.message).toContain('rolled back');
        // Nothing half-written: rows and position are exactly generation 1.
        expect(await revision(table)).toBe(before);
        expect(await readPosition(table, 'east', inv)).toMatchObject({ exportGeneration: 1 });
        expect(checksumItems(await readRows(table, 'east', inv))).toBe(h.model.checksum(1));
        // The same sink keeps serving other inventories.
        const other: InventoryRef = { kind: 'KollectInventory', namespace: 'team-b', name: 'api' };
        const m2 = new InventoryModel(other, 'east');
        const h2 = await harness(sink, creds(dsn()), 'east', m2);
        m2.push(makeItems(4, { namespace: 'team-b' }));
        expect((await h2.runner.handle(m2.message(1))).outcome).toBe('exported');
        expect(await readRows(table, 'east', other)).toHaveLength(4);
        await h.sink.close();
        await h2.sink.close();
      });
    }

    it('a DSN Secret without any DSN key is a terminal SecretResolveFailed, and the probe says which keys it wants', async () => {
      const h = await harness(pgSink(newTable()), creds(undefined, { password: 'x' }));
      const err = await h.sink.connect().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ errorClass: 'terminal', reason: 'SecretResolveFailed' });
      expect((err as Error).message).toContain('dsn, url, connectionString, DATABASE_URL');
      const probe = await h.sink.probe();
      expect(probe).toMatchObject({ ok: false, errorClass: 'terminal', reason: 'SecretResolveFailed' });
      await h.sink.close();
    });

    it('a malformed DSN is terminal and the message does not repeat it', async () => {
      const bad = 'host=db user=kollect password=hunter2secret';
      const h = await harness(pgSink(newTable()), creds(bad));
      const err = (await h.sink.connect().then(
        () => undefined,
        (e: unknown) => e,
      )) as Error & { errorClass: string };
      expect(err.errorClass).toBe('terminal');
      expect(err.message).toMatch(/not a URL/);
      expect(err.message).not.toContain('hunter2secret');
      await h.sink.close();
    });

    // The bed's server has ssl = on (bed CA); verified TLS (verify-full, tls.caBundle/caSecretRef)
    // is e2e/sinks/tls.e2e.test.ts. A server without TLS ("does not support SSL") is a unit test of
    // classifyPgError: the bed has no Postgres without TLS.
    it('sslmode=require encrypts without verifying the certificate (libpq semantics; no CA given)', async () => {
      const app = `kollect-require-${suffix}`;
      const u = new URL(dsn());
      u.searchParams.set('sslmode', 'require');
      u.searchParams.set('application_name', app);
      const h = await harness(pgSink(newTable()), creds(u.toString()));
      const probe = await h.sink.probe();
      expect(probe.ok, probe.message).toBe(true);
      await h.sink.connect();
      const r = await admin.query<{ ssl: boolean }>(
        'SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = $1',
        [app],
      );
      expect(r.rows.length).toBeGreaterThan(0);
      expect(r.rows.every((x) => x.ssl)).toBe(true);
      await h.sink.close();
    });

    it('a table that exists with other columns is refused (ensure does not touch it) with the column list', async () => {
      const table = newTable();
      await admin.query(
        `CREATE TABLE "${schema}"."${table}" (id serial PRIMARY KEY, name text, payload json)`,
      );
      const h = await harness(pgSink(table), creds(dsn()));
      const err = (await h.sink.connect().then(
        () => undefined,
        (e: unknown) => e,
      )) as Error & { errorClass: string; code: string };
      expect(err.code).toBe('KOLLECT_ERR_POSTGRES_TABLE');
      expect(err.errorClass).toBe('terminal');
      expect(err.message).toContain('column inventory_namespace (text) is missing');
      expect(err.message).toContain('column payload is json, expected jsonb');
      expect(err.message).toContain('It has: id integer not null, name text, payload json');
      const cols = await admin.query(
        `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`,
        [schema, table],
      );
      expect(cols.rows[0].n).toBe(3);
      await h.sink.close();
    });

    it('provisioning.mode existing runs no DDL: a missing table is a clear error with the DDL, an ensured one is used as is', async () => {
      const table = newTable();
      const existing = pgSink(table, { provisioning: { mode: 'existing' } });
      const h = await harness(existing, creds(dsn()));
      const err = (await h.sink.connect().then(
        () => undefined,
        (e: unknown) => e,
      )) as Error & { code: string };
      expect(err.code).toBe('KOLLECT_ERR_POSTGRES_TABLE_MISSING');
      expect(err.message).toContain(`CREATE TABLE IF NOT EXISTS "${schema}"."${table}"`);
      expect((await h.sink.probe()).ok).toBe(false);
      expect(
        (await admin.query('SELECT to_regclass($1) AS r', [`"${schema}"."${table}"`])).rows[0].r,
      ).toBeNull();
      await h.sink.close();
      const ensured = await harness(pgSink(table), creds(dsn()));
      await ensured.sink.connect();
      await ensured.sink.close();
      const again = await harness(existing, creds(dsn()));
      const probe = await again.sink.probe();
      expect(probe.ok).toBe(true);
      expect(probe.message).toContain('usable');
      again.model.push(makeItems(3));
      expect((await again.runner.handle(again.model.message(1))).outcome).toBe('exported');
      await again.sink.close();
    });

    it("ensure migrates a table in the seed's layout (no cluster in the key, no target_namespace) without losing rows", async () => {
      const table = newTable('seed');
      await admin.query(`CREATE TABLE "${schema}"."${table}" (
        inventory_namespace TEXT NOT NULL, inventory_name TEXT NOT NULL,
        target_name TEXT NOT NULL, source_uid TEXT NOT NULL,
        cluster TEXT NOT NULL DEFAULT '', resource_namespace TEXT NOT NULL DEFAULT '',
        payload JSONB NOT NULL, exported_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (inventory_namespace, inventory_name, target_name, source_uid))`);
      const old = makeItems(5);
      for (const it of old)
        await admin.query(
          `INSERT INTO "${schema}"."${table}" VALUES ('team-a', 'web', $1, $2, 'east', $3, $4, now())`,
          [it.targetName, it.uid, it.namespace, JSON.stringify(it)],
        );
      const existing = await harness(pgSink(table, { provisioning: { mode: 'existing' } }), creds(dsn()));
      const err = (await existing.sink.connect().then(
        () => undefined,
        (e: unknown) => e,
      )) as Error;
      expect(err.message).toMatch(
        /primary key is \(inventory_namespace, inventory_name, target_name, source_uid\)/,
      );
      expect(err.message).toContain('ADD CONSTRAINT');
      await existing.sink.close();

      const h = await harness(pgSink(table), creds(dsn()));
      await h.sink.connect();
      const pk = await admin.query(
        `SELECT array_agg(a.attname::text ORDER BY k.ord) AS cols FROM pg_index i
         CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
         WHERE i.indrelid = $1::regclass AND i.indisprimary`,
        [`"${schema}"."${table}"`],
      );
      expect(pk.rows[0].cols).toEqual([
        'cluster',
        'inventory_namespace',
        'inventory_name',
        'target_namespace',
        'target_name',
        'source_uid',
      ]);
      const tn = await admin.query(`SELECT DISTINCT target_namespace FROM "${schema}"."${table}"`);
      expect(tn.rows).toEqual([{ target_namespace: 'team-a' }]);
      expect(await readRows(table, 'east', inv)).toHaveLength(5);
      // No position was recorded by the seed: the first export replaces, and converges.
      expect(await h.sink.lastApplied(inv)).toBeNull();
      h.model.push(makeItems(4));
      const out = await h.runner.handle(h.model.message(1));
      expect(out.action).toBe('replace-from-full');
      expect(checksumItems(await readRows(table, 'east', inv))).toBe(h.model.checksum(1));
      await h.sink.close();
    });

    it('portal indexes and views are created on request and answer the two portal questions', async () => {
      const table = newTable('portal');
      const sink = pgSink(table, { options: { 'postgres.indexes': 'portal', 'postgres.views': 'portal' } });
      const h = await harness(sink, creds(dsn()));
      h.model.push([
        ...makeItems(3, { image: (i) => `nginx:1.2${i}` }),
        {
          targetNamespace: 'team-a',
          targetName: 'pods',
          namespace: 'team-b',
          name: 'p',
          group: '',
          version: 'v1',
          kind: 'Pod',
          uid: 'pod-1',
          attributes: { images: ['envoy:1.30', 'nginx:1.20'], team: 'payments' },
        },
      ]);
      await h.runner.handle(h.model.message(1));
      const idx = await admin.query(
        `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY 1`,
        [schema, table],
      );
      expect(idx.rows.map((r) => r.indexname)).toEqual([
        `${table}_kind_idx`,
        `${table}_payload_gin`,
        `${table}_pkey`,
        `${table}_resource_namespace_idx`,
      ]);
      const images = await admin.query(
        `SELECT image, count(*)::int AS n FROM "${schema}"."${table}_images" GROUP BY image ORDER BY image`,
      );
      expect(images.rows).toEqual([
        { image: 'envoy:1.30', n: 1 },
        { image: 'nginx:1.20', n: 2 },
        { image: 'nginx:1.21', n: 1 },
        { image: 'nginx:1.22', n: 1 },
      ]);
      const teams = await admin.query(
        `SELECT team, kind, objects::int FROM "${schema}"."${table}_objects_per_team" ORDER BY team, kind`,
      );
      expect(teams.rows).toEqual([
        { team: 'payments', kind: 'Pod', objects: 1 },
        { team: 'team-a-0', kind: 'Deployment', objects: 1 },
        { team: 'team-a-1', kind: 'Deployment', objects: 1 },
        { team: 'team-a-2', kind: 'Deployment', objects: 1 },
      ]);
      // The GIN index serves containment queries.
      const hit = await admin.query(
        `SELECT payload->>'name' AS name FROM "${schema}"."${table}" WHERE payload @> '{"attributes":{"team":"payments"}}'`,
      );
      expect(hit.rows).toEqual([{ name: 'p' }]);
      await h.sink.close();
    });

    it('two replicas writing the same inventory serialise: the late diff is refused and replaced, never applied on the wrong base', async () => {
      const table = newTable();
      const model = new InventoryModel(inv, 'east');
      const a = await harness(pgSink(table), creds(dsn()), 'east', model);
      const b = await harness(pgSink(table), creds(dsn()), 'east', model);
      model.push(makeItems(10));
      await a.runner.handle(model.message(1));
      model.push(makeItems(12));
      model.push(makeItems(9));
      const [ra, rb] = await Promise.all([
        a.runner.handle(model.message(2)),
        b.runner.handle(model.message(3)),
      ]);
      expect(ra.outcome === 'failed' || rb.outcome === 'failed').toBe(false);
      expect(await readPosition(table, 'east', inv)).toMatchObject({ exportGeneration: 3 });
      expect(checksumItems(await readRows(table, 'east', inv))).toBe(model.checksum(3));
      await a.sink.close();
      await b.sink.close();
    });

    it('forget removes the rows and the position of one (cluster, inventory) only', async () => {
      const table = newTable();
      const east = await harness(pgSink(table), creds(dsn()), 'east');
      const west = await harness(pgSink(table), creds(dsn()), 'west');
      east.model.push(makeItems(3));
      west.model.push(makeItems(4));
      await east.runner.handle(east.model.message(1));
      await west.runner.handle(west.model.message(1));
      const res = await east.sink.forget(inv);
      expect(res.changed).toBe(true);
      expect(await readRows(table, 'east', inv)).toHaveLength(0);
      expect(await readPosition(table, 'east', inv)).toBeNull();
      expect(await readRows(table, 'west', inv)).toHaveLength(4);
      expect(await readPosition(table, 'west', inv)).toMatchObject({ exportGeneration: 1 });
      await east.sink.close();
      await west.sink.close();
    });
  });
});
