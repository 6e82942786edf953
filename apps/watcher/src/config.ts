import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { DEFAULT_NAMESPACE_THRESHOLD } from '@kollect/mirror';
import { envConfig, type LogLevel } from '@kollect/observability';

const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/** Configuration of the watcher, from the environment. */
export interface WatcherConfig {
  /** `KOLLECT_NATS_URL` (required): one URL or a comma-separated list. */
  natsUrl: string;
  natsToken?: string;
  natsUser?: string;
  natsPass?: string;
  /** `KOLLECT_BUS_PREFIX`: isolated topology on a shared server (tests); "" in production. */
  busPrefix: string;
  /** `KOLLECT_ENSURE_TOPOLOGY` (default true): create/update streams and buckets at start. */
  ensureTopology: boolean;
  /** `KOLLECT_CLUSTER` (required): the pipeline's cluster label (subjects, rows, sinks). */
  cluster: string;
  /**
   * Kube config: `KUBECONFIG` (path), else `~/.kube/config`, else in-cluster; `KOLLECT_KUBE_IN_CLUSTER=true`
   * forces the service account. `KOLLECT_KUBE_CONTEXT` picks a context.
   */
  kubeconfigPath?: string;
  kubeInCluster: boolean;
  kubeContext?: string;
  /** `KOLLECT_HTTP_PORT` (default 8080; 0 = any) and `KOLLECT_HTTP_HOST` (default 0.0.0.0). */
  httpPort: number;
  httpHost: string;
  logLevel: LogLevel;
  /** `KOLLECT_LEADER_ELECTION` (default true): one active watcher per cluster via a Lease. */
  leaderElection: boolean;
  /** `KOLLECT_LEASE_NAMESPACE` (default: the pod's namespace, else `default`). */
  leaseNamespace: string;
  /** `KOLLECT_LEASE_NAME` (default `kollect-watcher`). */
  leaseName: string;
  /** `KOLLECT_LEASE_DURATION` / `_RENEW_DEADLINE` / `_RETRY_PERIOD` (15s / 10s / 2s, as client-go). */
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** Unique identity: `KOLLECT_POD_NAME` (or the host name) + a random suffix. */
  identity: string;
  /** `KOLLECT_WATCH_PAGE_SIZE` (default 500): LIST page size; memory is bounded by one page. */
  pageSize: number;
  /** `KOLLECT_WATCH_TIMEOUT` (default 5m): base server-side watch timeout, jittered up to 2x. */
  watchTimeoutMs: number;
  /** `KOLLECT_WATCH_STALL` (default 2m): a watch silent this long (no event, no bookmark) is restarted. */
  stallMs: number;
  /** `KOLLECT_WATCH_NAMESPACE_THRESHOLD` (default 10): above it a GVR is watched cluster-wide. */
  namespaceThreshold: number;
  /** `KOLLECT_CHECKPOINT_INTERVAL` (default 10s): how often resume points are persisted. */
  checkpointIntervalMs: number;
  /** `KOLLECT_PUBLISH_WINDOW` (default 128): object messages in flight at once. */
  publishWindow: number;
}

function podNamespace(): string | undefined {
  try {
    return existsSync(SERVICE_ACCOUNT_NAMESPACE)
      ? readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim() || undefined
      : undefined;
  } catch {
    return undefined;
  }
}

/** Read the configuration; throws `ConfigInvalid` naming the bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): WatcherConfig {
  const c = envConfig(env);
  const pod = c.optional('KOLLECT_POD_NAME') ?? hostname();
  const opt = <K extends string>(key: K, v: string | undefined): Partial<Record<K, string>> =>
    (v !== undefined ? { [key]: v } : {}) as Partial<Record<K, string>>;
  const leaseDurationMs = c.durationMs('KOLLECT_LEASE_DURATION', 15_000);
  const renewDeadlineMs = c.durationMs('KOLLECT_LEASE_RENEW_DEADLINE', 10_000);
  const retryPeriodMs = c.durationMs('KOLLECT_LEASE_RETRY_PERIOD', 2_000);
  return {
    natsUrl: c.string('KOLLECT_NATS_URL'),
    ...opt('natsToken', c.optional('KOLLECT_NATS_TOKEN')),
    ...opt('natsUser', c.optional('KOLLECT_NATS_USER')),
    ...opt('natsPass', c.optional('KOLLECT_NATS_PASSWORD')),
    busPrefix: c.string('KOLLECT_BUS_PREFIX', ''),
    ensureTopology: c.bool('KOLLECT_ENSURE_TOPOLOGY', true),
    cluster: c.string('KOLLECT_CLUSTER'),
    ...opt('kubeconfigPath', c.optional('KUBECONFIG')),
    kubeInCluster: c.bool('KOLLECT_KUBE_IN_CLUSTER', false),
    ...opt('kubeContext', c.optional('KOLLECT_KUBE_CONTEXT')),
    httpPort: c.int('KOLLECT_HTTP_PORT', 8080, { min: 0, max: 65535 }),
    httpHost: c.string('KOLLECT_HTTP_HOST', '0.0.0.0'),
    logLevel: c.oneOf(
      'KOLLECT_LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      'info',
    ),
    leaderElection: c.bool('KOLLECT_LEADER_ELECTION', true),
    leaseNamespace: c.string('KOLLECT_LEASE_NAMESPACE', podNamespace() ?? 'default'),
    leaseName: c.string('KOLLECT_LEASE_NAME', 'kollect-watcher'),
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    identity: `${pod}-${randomBytes(3).toString('hex')}`,
    pageSize: c.int('KOLLECT_WATCH_PAGE_SIZE', 500, { min: 1, max: 10_000 }),
    watchTimeoutMs: c.durationMs('KOLLECT_WATCH_TIMEOUT', 5 * 60_000),
    stallMs: c.durationMs('KOLLECT_WATCH_STALL', 2 * 60_000),
    namespaceThreshold: c.int('KOLLECT_WATCH_NAMESPACE_THRESHOLD', DEFAULT_NAMESPACE_THRESHOLD, { min: 0 }),
    checkpointIntervalMs: c.durationMs('KOLLECT_CHECKPOINT_INTERVAL', 10_000),
    publishWindow: c.int('KOLLECT_PUBLISH_WINDOW', 128, { min: 1, max: 10_000 }),
  };
}
