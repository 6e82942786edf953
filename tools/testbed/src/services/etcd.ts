import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { binPath } from '../components.js';
import { httpCall } from '../proc.js';
import type { ServiceDef } from './types.js';

/** etcd, the kube-apiserver's storage, built from its Go module. */
export const etcd: ServiceDef = {
  name: 'etcd',
  description: 'etcd v3.6.16 (go.etcd.io/etcd/server/v3), single member on loopback',
  deps: [],
  components: ['etcd'],
  portNames: ['client', 'peer'],
  startTimeoutMs: 30_000,
  stopSignal: 'SIGTERM',
  async prepare(ctx) {
    const data = join(ctx.dir, 'data');
    mkdirSync(ctx.dir, { recursive: true });
    const client = `http://127.0.0.1:${ctx.ports['client']}`;
    const peer = `http://127.0.0.1:${ctx.ports['peer']}`;
    return {
      cmd: binPath('etcd'),
      args: [
        '--name',
        'kollect-testbed',
        '--data-dir',
        data,
        '--listen-client-urls',
        client,
        '--advertise-client-urls',
        client,
        '--listen-peer-urls',
        peer,
        '--initial-advertise-peer-urls',
        peer,
        '--initial-cluster',
        `kollect-testbed=${peer}`,
        '--initial-cluster-state',
        'new',
        '--log-level',
        'warn',
        '--quota-backend-bytes',
        String(4 * 1024 ** 3),
        '--auto-compaction-mode',
        'periodic',
        '--auto-compaction-retention',
        '5m',
      ],
      cwd: ctx.dir,
      logFile: join(ctx.dir, 'etcd.log'),
    };
  },
  async health(ctx) {
    try {
      const r = await httpCall(`http://127.0.0.1:${ctx.ports['client']}/health`);
      const ok = r.status === 200 && /"health":\s*"true"/.test(r.body);
      return { ok, detail: ok ? 'health true' : `health ${r.status} ${r.body.trim()}` };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  },
  env(ctx) {
    return { KOLLECT_TEST_ETCD_ENDPOINT: `http://127.0.0.1:${ctx.ports['client']}` };
  },
  where(ctx) {
    return `http://127.0.0.1:${ctx.ports['client']}`;
  },
};
