import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { envConfig, type LogLevel } from '@kollect/observability';

/** Configuration of the extractor, from the environment. */
export interface ExtractorConfig {
  /** `KOLLECT_NATS_URL` (required). */
  natsUrl: string;
  natsToken?: string;
  natsUser?: string;
  natsPass?: string;
  /** `KOLLECT_BUS_PREFIX`: isolated topology on a shared server (tests); "" in production. */
  busPrefix: string;
  /** `KOLLECT_ENSURE_TOPOLOGY` (default true). */
  ensureTopology: boolean;
  /** Replica identity: `KOLLECT_POD_NAME` (or the host name) + a random suffix. */
  holder: string;
  httpPort: number;
  httpHost: string;
  logLevel: LogLevel;
  /** `KOLLECT_EXTRACTOR_DURABLE` (default `extractor`): the shared durable consumer on the object log. */
  durable: string;
  /** `KOLLECT_EXTRACT_CONCURRENCY` (default 256): object messages in flight per replica (extraction is cheap; the bound is publish-ack latency). */
  concurrency: number;
  /** `KOLLECT_EXTRACT_STATUS_INTERVAL` (default 1s): how often failure transitions are reported. */
  statusIntervalMs: number;
  /** `KOLLECT_EXTRACT_HEARTBEAT` (default 2s): presence heartbeat (replays wait on it). */
  heartbeatMs: number;
  /**
   * `KOLLECT_EXTRACT_REPLAY_WAIT` (default 30s): how long a replay waits for every live replica to
   * run the new plan before its closing pass (then it proceeds and logs a warning).
   */
  replayWaitMs: number;
}

/** Read the configuration; throws `ConfigInvalid` naming the bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): ExtractorConfig {
  const c = envConfig(env);
  const pod = c.optional('KOLLECT_POD_NAME') ?? hostname();
  const natsToken = c.optional('KOLLECT_NATS_TOKEN');
  const natsUser = c.optional('KOLLECT_NATS_USER');
  const natsPass = c.optional('KOLLECT_NATS_PASSWORD');
  return {
    natsUrl: c.string('KOLLECT_NATS_URL'),
    ...(natsToken !== undefined ? { natsToken } : {}),
    ...(natsUser !== undefined ? { natsUser } : {}),
    ...(natsPass !== undefined ? { natsPass } : {}),
    busPrefix: c.string('KOLLECT_BUS_PREFIX', ''),
    ensureTopology: c.bool('KOLLECT_ENSURE_TOPOLOGY', true),
    holder: `${pod}-${randomBytes(3).toString('hex')}`,
    httpPort: c.int('KOLLECT_HTTP_PORT', 8080, { min: 0, max: 65535 }),
    httpHost: c.string('KOLLECT_HTTP_HOST', '0.0.0.0'),
    logLevel: c.oneOf(
      'KOLLECT_LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      'info',
    ),
    durable: c.string('KOLLECT_EXTRACTOR_DURABLE', 'extractor'),
    concurrency: c.int('KOLLECT_EXTRACT_CONCURRENCY', 256, { min: 1, max: 4096 }),
    statusIntervalMs: c.durationMs('KOLLECT_EXTRACT_STATUS_INTERVAL', 1000),
    heartbeatMs: c.durationMs('KOLLECT_EXTRACT_HEARTBEAT', 2000),
    replayWaitMs: c.durationMs('KOLLECT_EXTRACT_REPLAY_WAIT', 30_000),
  };
}
