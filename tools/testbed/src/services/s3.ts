import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { binPath } from '../components.js';
import { httpCall } from '../proc.js';
import type { ServiceDef } from './types.js';

export const S3_ACCESS_KEY = 'kollect-testbed';
export const S3_SECRET_KEY = 'kollect-testbed-secret';

/** S3: MinIO built from its Go module, single-drive mode. */
export const s3: ServiceDef = {
  name: 's3',
  description: 'MinIO (github.com/minio/minio v0.0.0-20260212201848-7aac2a2c5b7c), single drive',
  deps: [],
  // pyarrow: the sink suites read the Parquet objects back with it (KOLLECT_TEST_PYTHON)
  components: ['minio', 'pyarrow'],
  portNames: ['api', 'console'],
  startTimeoutMs: 60_000,
  stopSignal: 'SIGTERM',
  async prepare(ctx) {
    const data = join(ctx.dir, 'data');
    mkdirSync(data, { recursive: true });
    mkdirSync(join(ctx.dir, 'certs'), { recursive: true });
    return {
      cmd: binPath('minio'),
      args: [
        'server',
        data,
        '--address',
        `127.0.0.1:${ctx.ports['api']}`,
        '--console-address',
        `127.0.0.1:${ctx.ports['console']}`,
        '--certs-dir',
        join(ctx.dir, 'certs'),
        '--quiet',
      ],
      cwd: ctx.dir,
      env: {
        ...process.env,
        HOME: ctx.dir,
        MINIO_ROOT_USER: S3_ACCESS_KEY,
        MINIO_ROOT_PASSWORD: S3_SECRET_KEY,
        MINIO_BROWSER: 'off',
        MINIO_UPDATE: 'off',
        MINIO_CALLHOME_ENABLE: 'off',
        MINIO_REGION: 'us-east-1',
      },
      logFile: join(ctx.dir, 'minio.log'),
    };
  },
  async health(ctx) {
    try {
      const r = await httpCall(`http://127.0.0.1:${ctx.ports['api']}/minio/health/ready`);
      return { ok: r.status === 200, detail: `health/ready ${r.status}` };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  },
  env(ctx) {
    return {
      KOLLECT_TEST_S3_ENDPOINT: `http://127.0.0.1:${ctx.ports['api']}`,
      KOLLECT_TEST_S3_ACCESS_KEY: S3_ACCESS_KEY,
      KOLLECT_TEST_S3_SECRET_KEY: S3_SECRET_KEY,
      KOLLECT_TEST_S3_REGION: 'us-east-1',
    };
  },
  where(ctx) {
    return `http://127.0.0.1:${ctx.ports['api']}`;
  },
};
