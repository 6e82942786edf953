import { DEFAULT_NAMESPACE_THRESHOLD } from '@kollect/mirror';
import {
  envConfig,
  kubeEnv,
  leaseEnv,
  serviceEnv,
  type KubeEnv,
  type LeaseEnv,
  type ServiceEnv,
} from '@kollect/observability';

/**
 * Configuration of the watcher, from the environment: the shared service variables (`ServiceEnv`
 * of @kollect/observability: NATS, bus prefix, topology, HTTP, log level, identity) plus its own.
 */
export interface WatcherConfig extends ServiceEnv {
  /** `KOLLECT_CLUSTER` (required): the pipeline's cluster label (subjects, rows, sinks). */
  cluster: string;
  /**
   * Kube config: `KUBECONFIG` (path; alias `KOLLECT_KUBECONFIG`), else in-cluster in a pod, else `~/.kube/config`;
   * `KOLLECT_KUBE_IN_CLUSTER=true` forces the service account. `KOLLECT_KUBE_CONTEXT` picks a context.
   */
  kube: KubeEnv;
  /** `KOLLECT_LEADER_ELECTION` (default true): one active watcher per cluster via a Lease. */
  leaderElection: boolean;
  /**
   * `KOLLECT_LEASE_NAMESPACE` (default: the pod's namespace — `KOLLECT_POD_NAMESPACE` or the
   * service account's — else `default`), `KOLLECT_LEASE_NAME` (default `kollect-watcher`), and the
   * client-go timings (15s / 10s / 2s).
   */
  lease: LeaseEnv;
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

/** Read the configuration; throws `ConfigInvalid` naming the bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): WatcherConfig {
  const c = envConfig(env);
  return {
    ...serviceEnv(c),
    cluster: c.string('KOLLECT_CLUSTER'),
    kube: kubeEnv(c),
    leaderElection: c.bool('KOLLECT_LEADER_ELECTION', true),
    lease: leaseEnv(c, { namespace: 'default', name: 'kollect-watcher' }),
    pageSize: c.int('KOLLECT_WATCH_PAGE_SIZE', 500, { min: 1, max: 10_000 }),
    watchTimeoutMs: c.durationMs('KOLLECT_WATCH_TIMEOUT', 5 * 60_000),
    stallMs: c.durationMs('KOLLECT_WATCH_STALL', 2 * 60_000),
    namespaceThreshold: c.int('KOLLECT_WATCH_NAMESPACE_THRESHOLD', DEFAULT_NAMESPACE_THRESHOLD, { min: 0 }),
    checkpointIntervalMs: c.durationMs('KOLLECT_CHECKPOINT_INTERVAL', 10_000),
    publishWindow: c.int('KOLLECT_PUBLISH_WINDOW', 128, { min: 1, max: 10_000 }),
  };
}
