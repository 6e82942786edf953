import { randomBytes } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { envConfig, type LogLevel } from '@kollect/observability';

/** Configuration of a sink worker (any family), from the environment. */
export interface SinkWorkerConfig {
  /** `KOLLECT_NATS_URL` (required). */
  natsUrl: string;
  natsToken?: string;
  natsUser?: string;
  natsPass?: string;
  /** `KOLLECT_BUS_PREFIX`: isolated topology on a shared server (tests); "" in production. */
  busPrefix: string;
  /** `KOLLECT_ENSURE_TOPOLOGY` (default true). */
  ensureTopology: boolean;
  /** `KOLLECT_KUBECONFIG`: a kubeconfig file; unset = in-cluster (or the default loading rules). */
  kubeconfig?: string;
  /** `KOLLECT_SINK_WORK_DIR` (default `$TMPDIR/kollect-sink`): git mirrors and key files. */
  workDir: string;
  /** `KOLLECT_ALLOW_PRIVATE_ENDPOINTS` (default false): test installs only; relaxes the SSRF guard. */
  allowPrivateEndpoints: boolean;
  /** `KOLLECT_SINK_MAX_ROWS_IN_MEMORY` (default 1,000,000): materialised rows kept across inventories. */
  maxMaterializedRows: number;
  /** `KOLLECT_SINK_MAX_DELIVER` (default 1000): deliveries of one snapshot message before it is dropped. */
  maxDeliver: number;
  /** `KOLLECT_SINK_ACK_WAIT` (default 5m): a sink export may take long (first 100k-row commit). */
  ackWaitMs: number;
  /** `KOLLECT_SINK_PROBER` (default true): run connection tests / previews (leader only). */
  prober: boolean;
  /** `KOLLECT_POD_NAMESPACE` (default `kollect-system`): where the prober's leader Lease lives. */
  podNamespace: string;
  holder: string;
  httpPort: number;
  httpHost: string;
  logLevel: LogLevel;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): SinkWorkerConfig {
  const c = envConfig(env);
  const pod = c.optional('KOLLECT_POD_NAME') ?? hostname();
  const opt = (k: string) => c.optional(k);
  const natsToken = opt('KOLLECT_NATS_TOKEN');
  const natsUser = opt('KOLLECT_NATS_USER');
  const natsPass = opt('KOLLECT_NATS_PASSWORD');
  const kubeconfig = opt('KOLLECT_KUBECONFIG');
  return {
    natsUrl: c.string('KOLLECT_NATS_URL'),
    ...(natsToken !== undefined ? { natsToken } : {}),
    ...(natsUser !== undefined ? { natsUser } : {}),
    ...(natsPass !== undefined ? { natsPass } : {}),
    busPrefix: c.string('KOLLECT_BUS_PREFIX', ''),
    ensureTopology: c.bool('KOLLECT_ENSURE_TOPOLOGY', true),
    ...(kubeconfig !== undefined ? { kubeconfig } : {}),
    workDir: c.string('KOLLECT_SINK_WORK_DIR', join(tmpdir(), 'kollect-sink')),
    allowPrivateEndpoints: c.bool('KOLLECT_ALLOW_PRIVATE_ENDPOINTS', false),
    maxMaterializedRows: c.int('KOLLECT_SINK_MAX_ROWS_IN_MEMORY', 1_000_000, { min: 0 }),
    maxDeliver: c.int('KOLLECT_SINK_MAX_DELIVER', 1000, { min: 2 }),
    ackWaitMs: c.durationMs('KOLLECT_SINK_ACK_WAIT', 5 * 60_000),
    prober: c.bool('KOLLECT_SINK_PROBER', true),
    podNamespace: c.string('KOLLECT_POD_NAMESPACE', 'kollect-system'),
    holder: `${pod}-${randomBytes(3).toString('hex')}`,
    httpPort: c.int('KOLLECT_HTTP_PORT', 8080, { min: 0, max: 65535 }),
    httpHost: c.string('KOLLECT_HTTP_HOST', '0.0.0.0'),
    logLevel: c.oneOf(
      'KOLLECT_LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      'info',
    ),
  };
}
