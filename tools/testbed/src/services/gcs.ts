import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { binPath } from '../components.js';
import { httpCall } from '../proc.js';
import type { ServiceDef } from './types.js';

/**
 * GCS: fake-gcs-server, the reference GCS emulator (there is no real GCS server one can run), built from its
 * Go module, filesystem backend under the data root, plain HTTP.
 */
export const gcs: ServiceDef = {
  name: 'gcs',
  description:
    'fake-gcs-server v1.56.1 (github.com/fsouza/fake-gcs-server), the reference GCS emulator, filesystem backend',
  deps: [],
  // pyarrow: the sink suites read the Parquet objects back with it (KOLLECT_TEST_PYTHON)
  components: ['fake-gcs-server', 'pyarrow'],
  portNames: ['http'],
  startTimeoutMs: 30_000,
  stopSignal: 'SIGTERM',
  async prepare(ctx) {
    const data = join(ctx.dir, 'data');
    mkdirSync(data, { recursive: true });
    const url = `http://127.0.0.1:${ctx.ports['http']}`;
    return {
      cmd: binPath('fake-gcs-server'),
      args: [
        '-scheme',
        'http',
        '-host',
        '127.0.0.1',
        '-port',
        String(ctx.ports['http']),
        '-backend',
        'filesystem',
        '-filesystem-root',
        data,
        '-public-host',
        `127.0.0.1:${ctx.ports['http']}`,
        '-external-url',
        url,
        '-log-level',
        'warn',
      ],
      cwd: ctx.dir,
      logFile: join(ctx.dir, 'fake-gcs-server.log'),
    };
  },
  async health(ctx) {
    try {
      const r = await httpCall(`http://127.0.0.1:${ctx.ports['http']}/storage/v1/b?project=kollect-test`);
      return { ok: r.status === 200, detail: `list buckets ${r.status}` };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  },
  env(ctx) {
    return {
      KOLLECT_TEST_GCS_ENDPOINT: `http://127.0.0.1:${ctx.ports['http']}`,
      KOLLECT_TEST_GCS_PROJECT: 'kollect-test',
    };
  },
  where(ctx) {
    return `http://127.0.0.1:${ctx.ports['http']}`;
  },
};
