import { envConfig, serviceEnv, type ServiceEnv } from '@kollect/observability';

/**
 * Configuration of the extractor, from the environment: the shared service variables
 * (`ServiceEnv` of @kollect/observability: NATS, bus prefix, topology, HTTP, log level) plus its own.
 */
export interface ExtractorConfig extends Omit<ServiceEnv, 'identity'> {
  /** Replica identity: `KOLLECT_POD_NAME` (or the host name) + a random suffix. */
  holder: string;
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
  const { identity, ...base } = serviceEnv(c);
  return {
    ...base,
    holder: identity,
    durable: c.string('KOLLECT_EXTRACTOR_DURABLE', 'extractor'),
    concurrency: c.int('KOLLECT_EXTRACT_CONCURRENCY', 256, { min: 1, max: 4096 }),
    statusIntervalMs: c.durationMs('KOLLECT_EXTRACT_STATUS_INTERVAL', 1000),
    heartbeatMs: c.durationMs('KOLLECT_EXTRACT_HEARTBEAT', 2000),
    replayWaitMs: c.durationMs('KOLLECT_EXTRACT_REPLAY_WAIT', 30_000),
  };
}
