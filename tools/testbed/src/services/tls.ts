import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { TLS_FRONT_JS } from '../paths.js';
import { bedPkiPaths, ensureBedPki } from '../pki.js';
import type { Ctx, ServiceDef } from './types.js';

/** Which plain port of which service each front forwards to. */
const ROUTES = [
  { name: 'git', service: 'git', port: 'http' },
  { name: 's3', service: 's3', port: 'api' },
  { name: 'gcs', service: 'gcs', port: 'http' },
  // the MongoDB wire protocol is plain TCP: the same byte pipe serves FerretDB over TLS
  { name: 'mongo', service: 'mongo', port: 'mongo' },
] as const;

function routes(ctx: Ctx) {
  return ROUTES.map((r) => ({
    name: r.name,
    listen: ctx.ports[r.name],
    target: ctx.state.services[r.service]?.ports[r.port],
  }));
}

/** A TLS handshake that verifies the front's certificate against the bed CA (and its SAN 127.0.0.1). */
function handshake(port: number, ca: Buffer): Promise<string | undefined> {
  return new Promise((res) => {
    const s = connect({ host: '127.0.0.1', port, ca, timeout: 3000 });
    const done = (err?: string) => {
      s.destroy();
      res(err);
    };
    s.once('secureConnect', () => done(s.authorized ? undefined : String(s.authorizationError)));
    s.once('timeout', () => done('handshake timeout'));
    s.once('error', (e) => done(e.message));
  });
}

/**
 * TLS fronts of git, s3, gcs (HTTPS) and mongo (FerretDB, mongodb wire protocol) (src/tls-front.ts)
 * with the bed CA's server certificate (src/pki.ts): the sinks' real clients verify a real chain,
 * then talk to the real servers.
 */
export const tls: ServiceDef = {
  name: 'tls',
  description:
    'node:tls fronts (src/tls-front.ts) terminating TLS with the bed CA (src/pki.ts) before git, s3 (MinIO), gcs (fake-gcs-server) and mongo (FerretDB)',
  deps: ['git', 's3', 'gcs', 'mongo'],
  components: [],
  portNames: ROUTES.map((r) => r.name),
  startTimeoutMs: 15_000,
  stopSignal: 'SIGTERM',
  async prepare(ctx) {
    const pki = await ensureBedPki();
    const rs = routes(ctx);
    const missing = rs.filter((r) => r.target === undefined).map((r) => r.name);
    if (missing.length) throw new Error(`tls needs the ports of ${missing.join(', ')}; start them first`);
    return {
      cmd: process.execPath,
      args: [TLS_FRONT_JS],
      cwd: ctx.dir,
      env: {
        ...process.env,
        TLS_FRONT_CERT: pki.cert,
        TLS_FRONT_KEY: pki.key,
        TLS_FRONT_ROUTES: JSON.stringify(rs),
      },
      logFile: join(ctx.dir, 'tls-front.log'),
    };
  },
  async health(ctx) {
    let ca: Buffer;
    try {
      ca = readFileSync(bedPkiPaths().ca);
    } catch (e) {
      return { ok: false, detail: `bed CA: ${(e as Error).message}` };
    }
    const errs: string[] = [];
    for (const r of ROUTES) {
      const err = await handshake(ctx.ports[r.name]!, ca);
      if (err) errs.push(`${r.name}: ${err}`);
    }
    return errs.length
      ? { ok: false, detail: errs.join('; ') }
      : { ok: true, detail: `${ROUTES.length} fronts, handshake verified with the bed CA` };
  },
  env(ctx) {
    const p = bedPkiPaths();
    const url = (name: string) => `https://127.0.0.1:${ctx.ports[name]}`;
    return {
      KOLLECT_TEST_CA_FILE: p.ca,
      KOLLECT_TEST_WRONG_CA_FILE: p.wrongCa,
      KOLLECT_TEST_GIT_HTTPS_URL: `${url('git')}/git`,
      KOLLECT_TEST_S3_HTTPS_ENDPOINT: url('s3'),
      KOLLECT_TEST_GCS_HTTPS_ENDPOINT: url('gcs'),
      // tls=true only: the CA is the client's business (a sink takes it from spec.tls, not the URI)
      KOLLECT_TEST_MONGO_TLS_URI: `mongodb://127.0.0.1:${ctx.ports['mongo']}/?tls=true`,
    };
  },
  where(ctx) {
    return ROUTES.map((r) =>
      r.name === 'mongo'
        ? `mongo=mongodb://127.0.0.1:${ctx.ports[r.name]}/?tls=true`
        : `${r.name}=https://127.0.0.1:${ctx.ports[r.name]}`,
    ).join(' ');
  },
};
