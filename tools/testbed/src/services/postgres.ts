import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { postgresBinDir } from '../components.js';
import { TestbedError } from '../log.js';
import { bedPkiPaths, ensureBedPki } from '../pki.js';
import { run, runOk } from '../proc.js';
import type { Ctx, ServiceDef } from './types.js';
import { isRoot, lookupUser } from './users.js';

function bin(name: string): string {
  const dir = postgresBinDir();
  if (!dir) throw new TestbedError('PostgreSQL is not installed', 'apt-get install -y postgresql');
  return join(dir, name);
}

/** Postgres refuses to run as root: as root we run it as the `postgres` user. */
function runAs(): { uid?: number; gid?: number } {
  if (!isRoot()) return {};
  const u = lookupUser('postgres');
  if (!u)
    throw new TestbedError(
      'running as root but there is no `postgres` user to run PostgreSQL as',
      'apt-get install -y postgresql (creates it)',
    );
  return u;
}

function psql(ctx: Ctx, sql: string, db = 'postgres') {
  return run(
    bin('psql'),
    ['-X', '-q', '-h', '127.0.0.1', '-p', String(ctx.ports['pg']), '-U', 'postgres', '-d', db, '-tAc', sql],
    {
      env: { ...process.env, PGCONNECT_TIMEOUT: '3' },
      timeoutMs: 10_000,
    },
  );
}

/** After a SIGKILL the postmaster.pid stays behind; postgres refuses to start while that pid exists at all. */
function removeStalePidFile(data: string): void {
  const f = join(data, 'postmaster.pid');
  if (!existsSync(f)) return;
  const pid = Number(readFileSync(f, 'utf8').split('\n')[0]);
  let state = '';
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '';
  } catch {
    /* gone */
  }
  if (!pid || state === '' || state === 'Z') rmSync(f, { force: true });
}

/** Debian's PostgreSQL server, own cluster directory under the data root, trust auth on loopback. */
export const postgres: ServiceDef = {
  name: 'postgres',
  description:
    "PostgreSQL from Debian's postgresql package (own cluster dir, trust auth, loopback only, ssl = on with the bed CA's certificate)",
  deps: [],
  components: ['postgres'],
  portNames: ['pg'],
  startTimeoutMs: 60_000,
  stopSignal: 'SIGINT', // "fast" shutdown
  async prepare(ctx) {
    const who = runAs();
    const data = join(ctx.dir, 'data');
    const sock = join(ctx.dir, 'sock');
    for (const d of [ctx.dir, sock]) {
      mkdirSync(d, { recursive: true });
      if (who.uid !== undefined) chownSync(d, who.uid, who.gid!);
    }
    if (!existsSync(join(data, 'PG_VERSION'))) {
      await runOk(
        bin('initdb'),
        ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'],
        {
          cwd: ctx.dir,
          ...who,
        },
      );
    }
    removeStalePidFile(data);
    // TLS with the bed CA's server certificate (src/pki.ts). Plain connections keep working:
    // initdb's pg_hba `host … 127.0.0.1/32 trust` lines match SSL and non-SSL connections alike.
    // Postgres insists that its key is owned by the server's user and not group/world readable.
    const pki = await ensureBedPki();
    const tlsDir = join(ctx.dir, 'tls');
    mkdirSync(tlsDir, { recursive: true });
    const cert = join(tlsDir, 'server.crt');
    const key = join(tlsDir, 'server.key');
    copyFileSync(pki.cert, cert);
    copyFileSync(pki.key, key);
    chmodSync(key, 0o600);
    if (who.uid !== undefined) for (const f of [tlsDir, cert, key]) chownSync(f, who.uid, who.gid!);
    return {
      cmd: bin('postgres'),
      args: [
        '-D',
        data,
        '-p',
        String(ctx.ports['pg']),
        '-k',
        sock,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'max_connections=200',
        '-c',
        'ssl=on',
        '-c',
        `ssl_cert_file=${cert}`,
        '-c',
        `ssl_key_file=${key}`,
        '-c',
        'logging_collector=off',
        '-c',
        'log_min_messages=warning',
      ],
      cwd: ctx.dir,
      logFile: join(ctx.dir, 'postgres.log'),
      ...who,
    };
  },
  async health(ctx) {
    try {
      const r = await psql(ctx, 'select 1');
      return r.code === 0 && r.stdout.trim() === '1'
        ? { ok: true, detail: 'select 1 ok' }
        : { ok: false, detail: (r.stderr || r.stdout).trim().split('\n')[0] ?? `psql exit ${r.code}` };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  },
  async afterStart(ctx) {
    const r = await psql(ctx, "select 1 from pg_database where datname = 'kollect'");
    if (r.stdout.trim() !== '1') {
      const c = await psql(ctx, 'create database kollect');
      if (c.code !== 0 && !/already exists/.test(c.stderr))
        throw new TestbedError(`create database kollect failed: ${c.stderr}`);
    }
  },
  env(ctx) {
    const ca = bedPkiPaths().ca;
    return {
      KOLLECT_TEST_POSTGRES_DSN: `postgres://postgres@127.0.0.1:${ctx.ports['pg']}/kollect`,
      // the CA of its server certificate (also published by the tls service)
      ...(existsSync(ca) ? { KOLLECT_TEST_CA_FILE: ca } : {}),
    };
  },
  where(ctx) {
    return `postgres://postgres@127.0.0.1:${ctx.ports['pg']}/kollect`;
  },
};
