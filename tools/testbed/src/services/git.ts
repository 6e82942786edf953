import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { GIT_SERVER_JS } from '../paths.js';
import { httpCall } from '../proc.js';
import type { Ctx, ServiceDef } from './types.js';
import { randomBytes } from 'node:crypto';

function creds(ctx: Ctx) {
  ctx.extra['username'] ??= 'kollect';
  ctx.extra['password'] ??= `pw-${randomBytes(9).toString('hex')}`;
  ctx.extra['token'] ??= `tok-${randomBytes(16).toString('hex')}`;
  return { username: ctx.extra['username'], password: ctx.extra['password'], token: ctx.extra['token'] };
}

/** Git smart-HTTP remote: Debian `git http-backend` behind our node:http server (src/git-server.ts). */
export const git: ServiceDef = {
  name: 'git',
  description: 'git http-backend (Debian git) behind a node:http server with basic and token auth',
  deps: [],
  components: ['git'],
  portNames: ['http'],
  startTimeoutMs: 15_000,
  stopSignal: 'SIGTERM',
  async prepare(ctx) {
    const repos = join(ctx.dir, 'repos');
    mkdirSync(repos, { recursive: true });
    const c = creds(ctx);
    return {
      cmd: process.execPath,
      args: [GIT_SERVER_JS],
      cwd: ctx.dir,
      env: {
        ...process.env,
        GIT_SERVER_ROOT: repos,
        GIT_SERVER_PORT: String(ctx.ports['http']),
        GIT_SERVER_USERNAME: c.username,
        GIT_SERVER_PASSWORD: c.password,
        GIT_SERVER_TOKEN: c.token,
      },
      logFile: join(ctx.dir, 'git-server.log'),
    };
  },
  async health(ctx) {
    try {
      const r = await httpCall(`http://127.0.0.1:${ctx.ports['http']}/healthz`);
      return { ok: r.status === 200, detail: `healthz ${r.status}` };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  },
  env(ctx) {
    const c = creds(ctx);
    const base = `http://127.0.0.1:${ctx.ports['http']}`;
    return {
      KOLLECT_TEST_GIT_URL: `${base}/git`,
      KOLLECT_TEST_GIT_ADMIN_URL: `${base}/_admin/repos`,
      KOLLECT_TEST_GIT_ROOT: join(ctx.dir, 'repos'),
      KOLLECT_TEST_GIT_USERNAME: c.username,
      KOLLECT_TEST_GIT_PASSWORD: c.password,
      KOLLECT_TEST_GIT_TOKEN: c.token,
    };
  },
  where(ctx) {
    return `http://127.0.0.1:${ctx.ports['http']}/git`;
  },
};
