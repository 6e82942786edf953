/**
 * Smoke test of the bed's TLS: the fronts of git, s3, gcs and mongo and PostgreSQL (`ssl = on`) present a
 * certificate for 127.0.0.1/localhost that chains to KOLLECT_TEST_CA_FILE and not to
 * KOLLECT_TEST_WRONG_CA_FILE, and reach the real servers behind; the plain endpoints still work.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { hasTestbed, testbedEnv } from '../support/testbed.js';

function get(url: string, ca: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers, agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

describe.runIf(hasTestbed('tls', 'postgres', 'git', 's3', 'gcs', 'mongo'))('testbed: TLS (bed CA)', () => {
  const ca = () => readFileSync(testbedEnv.caFile, 'utf8');
  const wrong = () => readFileSync(testbedEnv.wrongCaFile, 'utf8');
  const basic = () =>
    `Basic ${Buffer.from(`${testbedEnv.gitUsername}:${testbedEnv.gitPassword}`).toString('base64')}`;

  it('each HTTPS front verifies with the bed CA (IP and DNS name) and reaches the real server', async () => {
    const gitBase = new URL(testbedEnv.gitHttpsUrl);
    expect(await get(`${gitBase.origin}/healthz`, ca())).toBe(200);
    expect(await get(`https://localhost:${gitBase.port}/healthz`, ca())).toBe(200);
    // the git server's auth answers through the front: 401 without credentials, 404 for no repo
    expect(await get(`${testbedEnv.gitHttpsUrl}/nope.git/info/refs?service=git-upload-pack`, ca())).toBe(401);
    expect(await get(`${testbedEnv.s3HttpsEndpoint}/minio/health/ready`, ca())).toBe(200);
    expect(
      await get(`${testbedEnv.gcsHttpsEndpoint}/storage/v1/b?project=${testbedEnv.gcsProject}`, ca()),
    ).toBe(200);
  });

  it('the wrong CA does not verify any front', async () => {
    for (const url of [testbedEnv.gitHttpsUrl, testbedEnv.s3HttpsEndpoint, testbedEnv.gcsHttpsEndpoint]) {
      await expect(get(new URL(url).origin + '/', wrong())).rejects.toMatchObject({
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      });
    }
  });

  it('PostgreSQL: verify-full with the bed CA is encrypted, the wrong CA is refused, plain still works', async () => {
    const u = new URL(testbedEnv.postgresDsn);
    const tlsClient = new pg.Client({
      host: u.hostname,
      port: Number(u.port),
      user: 'postgres',
      database: 'kollect',
      ssl: { ca: ca() },
    });
    await tlsClient.connect();
    const r = await tlsClient.query<{ ssl: boolean }>(
      'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    expect(r.rows[0]?.ssl).toBe(true);
    await tlsClient.end();

    const wrongClient = new pg.Client({
      host: u.hostname,
      port: Number(u.port),
      user: 'postgres',
      database: 'kollect',
      ssl: { ca: wrong() },
    });
    await expect(wrongClient.connect()).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    await wrongClient.end().catch(() => undefined);

    const plain = new pg.Client({ connectionString: testbedEnv.postgresDsn });
    await plain.connect();
    const p = await plain.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    expect(p.rows[0]?.ssl).toBe(false);
    await plain.end();
  });

  it('mongo: FerretDB answers a ping through the front with the bed CA; the wrong CA is refused', async () => {
    const uri = new URL(testbedEnv.mongoTlsUri);
    expect(uri.searchParams.get('tls')).toBe('true');
    expect(uri.searchParams.has('tlsCAFile')).toBe(false); // the client brings the CA
    const opts = { directConnection: true, serverSelectionTimeoutMS: 3000 };
    const ok = new MongoClient(testbedEnv.mongoTlsUri, { ...opts, ca: ca() });
    try {
      expect(await ok.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
    } finally {
      await ok.close();
    }
    const bad = new MongoClient(testbedEnv.mongoTlsUri, { ...opts, ca: wrong() });
    try {
      await expect(bad.db('admin').command({ ping: 1 })).rejects.toMatchObject({
        name: 'MongoServerSelectionError',
        cause: { cause: { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' } },
      });
    } finally {
      await bad.close();
    }
  });

  it('the plain git endpoint still answers', async () => {
    const res = await fetch(`${new URL(testbedEnv.gitUrl).origin}/healthz`, {
      headers: { authorization: basic() },
    });
    expect(res.status).toBe(200);
  });
});
