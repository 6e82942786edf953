import { envConfig, serviceEnv, type ServiceEnv } from '@kollect/observability';

/**
 * Configuration of the aggregator, from the environment: the shared service variables
 * (`ServiceEnv` of @kollect/observability: NATS, bus prefix, topology, HTTP, log level) plus its own.
 */
export interface AggregatorConfig extends Omit<ServiceEnv, 'identity'> {
  /** Unique identity for partition leases: `KOLLECT_POD_NAME` (or the host name) + a random suffix. */
  holder: string;
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
  const { identity, ...base } = serviceEnv(c);
  return {
    ...base,
    holder: identity,
    coalesceMs: c.durationMs('KOLLECT_AGG_COALESCE', 250),
    tombstoneTtlMs: c.durationMs('KOLLECT_AGG_TOMBSTONE_TTL', 10 * 60_000),
    maxTombstones: c.int('KOLLECT_AGG_MAX_TOMBSTONES', 200_000, { min: 0 }),
    statusIntervalMs: c.durationMs('KOLLECT_AGG_STATUS_INTERVAL', 30_000),
    extractorDurable: c.string('KOLLECT_EXTRACTOR_DURABLE', 'extractor'),
    gateOnExtraction: c.bool('KOLLECT_AGG_GATE_EXTRACTION', true),
    rowsAckWaitMs: c.durationMs('KOLLECT_AGG_ROWS_ACK_WAIT', 10_000),
  };
}
