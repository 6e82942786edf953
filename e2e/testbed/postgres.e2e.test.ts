import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { requireTestbed, testbedEnv, uniqueName } from '../support/testbed.js';

describe('testbed: PostgreSQL', () => {
  let client: pg.Client;

  beforeAll(async () => {
    requireTestbed('postgres');
    client = new pg.Client({ connectionString: testbedEnv.postgresDsn });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
  });

  it('connects to the kollect database', async () => {
    const r = await client.query<{ db: string; v: string }>(
      'select current_database() as db, version() as v',
    );
    expect(r.rows[0]!.db).toBe('kollect');
    expect(r.rows[0]!.v).toMatch(/^PostgreSQL \d+/);
  });

  it('round-trips rows with jsonb and upsert', async () => {
    const table = uniqueName('smoke').replace(/-/g, '_');
    await client.query(`create table ${table} (k text primary key, gen int not null, doc jsonb not null)`);
    await client.query(`insert into ${table} values ($1, 1, $2), ($3, 1, $4)`, [
      'a',
      { image: 'nginx:1' },
      'b',
      { image: 'redis:7' },
    ]);
    await client.query(
      `insert into ${table} values ($1, 2, $2) on conflict (k) do update set gen = excluded.gen, doc = excluded.doc`,
      ['a', { image: 'nginx:2' }],
    );
    const r = await client.query<{ k: string; gen: number; image: string }>(
      `select k, gen, doc->>'image' as image from ${table} order by k`,
    );
    expect(r.rows).toEqual([
      { k: 'a', gen: 2, image: 'nginx:2' },
      { k: 'b', gen: 1, image: 'redis:7' },
    ]);
    await client.query(`drop table ${table}`);
  });
});
