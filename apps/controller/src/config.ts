import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_CEL_LIMITS } from '@kollect/cel';
import { DEFAULT_GLOBAL_MAX_EXPORT_BYTES } from '@kollect/crd-types';
import { envConfig, type LogLevel } from '@kollect/observability';
import type { CompileSettings } from '@kollect/plan';

/** Configuration of the controller, from the environment. */
export interface ControllerConfig {
  /** `KOLLECT_NATS_URL` (required): one URL or a comma-separated list. */
  natsUrl: string;
  natsToken?: string;
  natsUser?: string;
  natsPass?: string;
  /** `KOLLECT_BUS_PREFIX`: isolated topology on a shared server (tests); "" in production. */
  busPrefix: string;
  /** `KOLLECT_ENSURE_TOPOLOGY` (default true): create/update streams and buckets at start. */
  ensureTopology: boolean;
  /** `KUBECONFIG` (a path); unset → in-cluster when `KUBERNETES_SERVICE_HOST` is set, else `~/.kube/config`. */
  kubeconfigPath?: string;
  inCluster: boolean;
  /** Compiler settings: `KOLLECT_CLUSTER` (default `default`), `KOLLECT_PARTITIONS` (8), … */
  settings: CompileSettings;
  /** `KOLLECT_LEADER_ELECTION` (default true). Off only for a single replica (tests, laptops). */
  leaderElection: boolean;
  /** `KOLLECT_LEASE_NAMESPACE` (default `KOLLECT_POD_NAMESPACE`, else `kollect-system`) and `KOLLECT_LEASE_NAME`. */
  leaseNamespace: string;
  leaseName: string;
  /** `KOLLECT_LEASE_DURATION` (15s), `KOLLECT_LEASE_RENEW_DEADLINE` (10s), `KOLLECT_LEASE_RETRY_PERIOD` (2s). */
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
  /** Unique identity: `KOLLECT_POD_NAME` (or the host name) + a random suffix. */
  identity: string;
  /** `KOLLECT_HTTP_PORT` (default 8080; 0 = any) and `KOLLECT_HTTP_HOST` (default 0.0.0.0). */
  httpPort: number;
  httpHost: string;
  logLevel: LogLevel;
  /** `KOLLECT_COMPILE_DEBOUNCE` (default 200ms): CR changes within this window compile once. */
  compileDebounceMs: number;
  /** `KOLLECT_STATUS_DEBOUNCE` (default 500ms): worker reports within this window write status once. */
  statusDebounceMs: number;
  /** `KOLLECT_RESYNC_INTERVAL` (default 30s): periodic recompile + status sync (timers, retries, discovery). */
  resyncIntervalMs: number;
}

const seconds = (ms: number): number => Math.max(1, Math.round(ms / 1000));

/** Read the configuration; throws `ConfigInvalid` naming the bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): ControllerConfig {
  const c = envConfig(env);
  const pod = c.optional('KOLLECT_POD_NAME') ?? hostname();
  const natsToken = c.optional('KOLLECT_NATS_TOKEN');
  const natsUser = c.optional('KOLLECT_NATS_USER');
  const natsPass = c.optional('KOLLECT_NATS_PASSWORD');
  const kubeconfigPath = c.optional('KUBECONFIG');
  return {
    natsUrl: c.string('KOLLECT_NATS_URL'),
    ...(natsToken !== undefined ? { natsToken } : {}),
    ...(natsUser !== undefined ? { natsUser } : {}),
    ...(natsPass !== undefined ? { natsPass } : {}),
    busPrefix: c.string('KOLLECT_BUS_PREFIX', ''),
    ensureTopology: c.bool('KOLLECT_ENSURE_TOPOLOGY', true),
    ...(kubeconfigPath !== undefined ? { kubeconfigPath } : {}),
    inCluster: kubeconfigPath === undefined && c.optional('KUBERNETES_SERVICE_HOST') !== undefined,
    settings: {
      cluster: c.string('KOLLECT_CLUSTER', 'default'),
      partitions: c.int('KOLLECT_PARTITIONS', 8, { min: 1, max: 4096 }),
      maxExportBytes: c.int('KOLLECT_MAX_EXPORT_BYTES', DEFAULT_GLOBAL_MAX_EXPORT_BYTES, { min: 1 }),
      scrubKeys: c.list('KOLLECT_SCRUB_KEYS', []),
      defaultIncludedNamespaces: c.list('KOLLECT_DEFAULT_INCLUDED_NAMESPACES', []),
      defaultExcludedNamespaces: c.list('KOLLECT_DEFAULT_EXCLUDED_NAMESPACES', []),
      tenantMode: c.bool('KOLLECT_TENANT_MODE', false),
      allowPrivateEndpoints: c.bool('KOLLECT_ALLOW_PRIVATE_ENDPOINTS', false),
      watchNamespaces: c.list('KOLLECT_WATCH_NAMESPACES', []),
      celCostLimit: c.int('KOLLECT_CEL_COST_LIMIT', DEFAULT_CEL_LIMITS.costLimit, { min: 1 }),
      celTimeoutMs: c.durationMs('KOLLECT_CEL_TIMEOUT', DEFAULT_CEL_LIMITS.timeoutMs),
    },
    leaderElection: c.bool('KOLLECT_LEADER_ELECTION', true),
    leaseNamespace: c.string('KOLLECT_LEASE_NAMESPACE', c.string('KOLLECT_POD_NAMESPACE', 'kollect-system')),
    leaseName: c.string('KOLLECT_LEASE_NAME', 'kollect-controller'),
    leaseDurationSeconds: seconds(c.durationMs('KOLLECT_LEASE_DURATION', 15_000)),
    renewDeadlineSeconds: seconds(c.durationMs('KOLLECT_LEASE_RENEW_DEADLINE', 10_000)),
    retryPeriodSeconds: seconds(c.durationMs('KOLLECT_LEASE_RETRY_PERIOD', 2_000)),
    identity: `${pod}-${randomBytes(3).toString('hex')}`,
    httpPort: c.int('KOLLECT_HTTP_PORT', 8080, { min: 0, max: 65535 }),
    httpHost: c.string('KOLLECT_HTTP_HOST', '0.0.0.0'),
    logLevel: c.oneOf(
      'KOLLECT_LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      'info',
    ),
    compileDebounceMs: c.durationMs('KOLLECT_COMPILE_DEBOUNCE', 200),
    statusDebounceMs: c.durationMs('KOLLECT_STATUS_DEBOUNCE', 500),
    resyncIntervalMs: c.durationMs('KOLLECT_RESYNC_INTERVAL', 30_000),
  };
}
