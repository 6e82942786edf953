import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { envConfig, type LogLevel } from '@kollect/observability';

/** Configuration of the aggregator, from the environment. */
export interface AggregatorConfig {
  /** `KOLLECT_NATS_URL` (required): one URL or a comma-separated list. */
  natsUrl: string;
  natsToken?: string;
  natsUser?: string;
  natsPass?: string;
  /** `KOLLECT_BUS_PREFIX`: isolated topology on a shared server (tests); "" in production. */
  busPrefix: string;
  /** `KOLLECT_ENSURE_TOPOLOGY` (default true): create/update streams and buckets at start. */
  ensureTopology: boolean;
  /** Unique identity for partition leases: `KOLLECT_POD_NAME` (or the host name) + a random suffix. */
  holder: string;
  /** `KOLLECT_HTTP_PORT` (default 8080; 0 = any) and `KOLLECT_HTTP_HOST` (default 0.0.0.0). */
  httpPort: number;
  httpHost: string;
  logLevel: LogLevel;
  /** `KOLLECT_AGG_COALESCE` (default 250ms): window that coalesces a burst of changes into one export. */
  coalesceMs: number;
  /** `KOLLECT_AGG_TOMBSTONE_TTL` (default 10m): how long a delete guards against older upserts. */
  tombstoneTtlMs: number;
  /** `KOLLECT_AGG_MAX_TOMBSTONES` (default 200000): expirable tombstones kept per inventory at most. */
  maxTombstones: number;
  /** `KOLLECT_AGG_STATUS_INTERVAL` (default 30s): periodic status report of every owned inventory. */
  statusIntervalMs: number;
  /** `KOLLECT_EXTRACTOR_DURABLE` (default `extractor`): the extractors' consumer, for the gate. */
  extractorDurable: string;
  /**
   * `KOLLECT_AGG_GATE_EXTRACTION` (default true): the gate also waits until extraction has reached
   * the end of each feeding list, so the first export after a start is complete.
   */
  gateOnExtraction: boolean;
  /** `KOLLECT_AGG_ROWS_ACK_WAIT` (default 10s): ack wait of the partition row consumers. */
  rowsAckWaitMs: number;
}

/** Read the configuration; throws `ConfigInvalid` naming the bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AggregatorConfig {
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
    coalesceMs: c.durationMs('KOLLECT_AGG_COALESCE', 250),
    tombstoneTtlMs: c.durationMs('KOLLECT_AGG_TOMBSTONE_TTL', 10 * 60_000),
    maxTombstones: c.int('KOLLECT_AGG_MAX_TOMBSTONES', 200_000, { min: 0 }),
    statusIntervalMs: c.durationMs('KOLLECT_AGG_STATUS_INTERVAL', 30_000),
    extractorDurable: c.string('KOLLECT_EXTRACTOR_DURABLE', 'extractor'),
    gateOnExtraction: c.bool('KOLLECT_AGG_GATE_EXTRACTION', true),
    rowsAckWaitMs: c.durationMs('KOLLECT_AGG_ROWS_ACK_WAIT', 10_000),
  };
}
