import { DEFAULT_CEL_LIMITS } from '@kollect/cel';
import { DEFAULT_GLOBAL_MAX_EXPORT_BYTES } from '@kollect/crd-types';
import {
  envConfig,
  kubeEnv,
  leaseEnv,
  serviceEnv,
  watchNamespacesEnv,
  type KubeEnv,
  type LeaseEnv,
  type ServiceEnv,
} from '@kollect/observability';
import type { CompileSettings } from '@kollect/plan';

/**
 * Configuration of the controller, from the environment: the shared service variables
 * (`ServiceEnv` of @kollect/observability: NATS, bus prefix, topology, HTTP, log level, identity)
 * plus its own.
 */
export interface ControllerConfig extends ServiceEnv {
  /**
   * `KUBECONFIG` (a path; alias `KOLLECT_KUBECONFIG`); unset → in-cluster when
   * `KUBERNETES_SERVICE_HOST` is set, else `~/.kube/config`.
   */
  kube: KubeEnv;
  /** Compiler settings: `KOLLECT_CLUSTER` (default `default`), `KOLLECT_PARTITIONS` (8), … */
  settings: CompileSettings;
  /** `KOLLECT_LEADER_ELECTION` (default true). Off only for a single replica (tests, laptops). */
  leaderElection: boolean;
  /**
   * `KOLLECT_LEASE_NAMESPACE` (default: the pod's namespace — `KOLLECT_POD_NAMESPACE` or the
   * service account's — else `kollect-system`), `KOLLECT_LEASE_NAME` (default `kollect-controller`),
   * and the client-go timings (15s / 10s / 2s).
   */
  lease: LeaseEnv;
  /** `KOLLECT_COMPILE_DEBOUNCE` (default 200ms): CR changes within this window compile once. */
  compileDebounceMs: number;
  /** `KOLLECT_STATUS_DEBOUNCE` (default 500ms): worker reports within this window write status once. */
  statusDebounceMs: number;
  /** `KOLLECT_RESYNC_INTERVAL` (default 30s): periodic recompile + status sync (timers, retries, discovery). */
  resyncIntervalMs: number;
}

/** Read the configuration; throws `ConfigInvalid` naming the bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): ControllerConfig {
  const c = envConfig(env);
  return {
    ...serviceEnv(c),
    kube: kubeEnv(c),
    settings: {
      cluster: c.string('KOLLECT_CLUSTER', 'default'),
      partitions: c.int('KOLLECT_PARTITIONS', 8, { min: 1, max: 4096 }),
      maxExportBytes: c.int('KOLLECT_MAX_EXPORT_BYTES', DEFAULT_GLOBAL_MAX_EXPORT_BYTES, { min: 1 }),
      scrubKeys: c.list('KOLLECT_SCRUB_KEYS', []),
      defaultIncludedNamespaces: c.list('KOLLECT_DEFAULT_INCLUDED_NAMESPACES', []),
      defaultExcludedNamespaces: c.list('KOLLECT_DEFAULT_EXCLUDED_NAMESPACES', []),
      tenantMode: c.bool('KOLLECT_TENANT_MODE', false),
      allowPrivateEndpoints: c.bool('KOLLECT_ALLOW_PRIVATE_ENDPOINTS', false),
      watchNamespaces: watchNamespacesEnv(c),
      celCostLimit: c.int('KOLLECT_CEL_COST_LIMIT', DEFAULT_CEL_LIMITS.costLimit, { min: 1 }),
      celTimeoutMs: c.durationMs('KOLLECT_CEL_TIMEOUT', DEFAULT_CEL_LIMITS.timeoutMs),
    },
    leaderElection: c.bool('KOLLECT_LEADER_ELECTION', true),
    lease: leaseEnv(c, { namespace: 'kollect-system', name: 'kollect-controller' }),
    compileDebounceMs: c.durationMs('KOLLECT_COMPILE_DEBOUNCE', 200),
    statusDebounceMs: c.durationMs('KOLLECT_STATUS_DEBOUNCE', 500),
    resyncIntervalMs: c.durationMs('KOLLECT_RESYNC_INTERVAL', 30_000),
  };
}
