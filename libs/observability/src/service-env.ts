import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { ConfigInvalid, type EnvConfig } from './env.js';
import type { LogLevel } from './logger.js';

/**
 * The environment every Kollect service reads the same way — NATS connection, bus prefix,
 * topology, HTTP endpoint, log level, pod identity, kube config and Lease timings — read once
 * here, so the variable names, defaults and error messages cannot drift between services. Each
 * app adds its own variables next to these (see apps/<service>/src/config.ts).
 */

/** Levels accepted by `KOLLECT_LOG_LEVEL`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** How a service reaches NATS and which bus topology it uses. */
export interface BusEnv {
  /** `KOLLECT_NATS_URL` (required): one URL or a comma-separated list. */
  natsUrl: string;
  /** `KOLLECT_NATS_TOKEN`, or `KOLLECT_NATS_USER` + `KOLLECT_NATS_PASSWORD` (optional). */
  natsToken?: string;
  natsUser?: string;
  natsPass?: string;
  /** `KOLLECT_BUS_PREFIX`: isolated topology on a shared server (tests); "" in production. */
  busPrefix: string;
  /** `KOLLECT_ENSURE_TOPOLOGY` (default true): create/update streams and buckets at start. */
  ensureTopology: boolean;
}

/** {@link BusEnv} plus the service frame: HTTP endpoint, log level, identity. */
export interface ServiceEnv extends BusEnv {
  /** `KOLLECT_HTTP_PORT` (default 8080; 0 = any) and `KOLLECT_HTTP_HOST` (default 0.0.0.0). */
  httpPort: number;
  httpHost: string;
  /** `KOLLECT_LOG_LEVEL` (default info). */
  logLevel: LogLevel;
  /**
   * Unique replica identity (Leases, partition ownership, consumer names):
   * `KOLLECT_POD_NAME` (or the host name) + a random suffix, so a restarted pod never poses as
   * its previous incarnation.
   */
  identity: string;
}

/** Read {@link ServiceEnv}; throws `ConfigInvalid` naming the bad variable. */
export function serviceEnv(c: EnvConfig): ServiceEnv {
  const natsToken = c.optional('KOLLECT_NATS_TOKEN');
  const natsUser = c.optional('KOLLECT_NATS_USER');
  const natsPass = c.optional('KOLLECT_NATS_PASSWORD');
  const pod = c.optional('KOLLECT_POD_NAME') ?? hostname();
  return {
    natsUrl: c.string('KOLLECT_NATS_URL'),
    ...(natsToken !== undefined ? { natsToken } : {}),
    ...(natsUser !== undefined ? { natsUser } : {}),
    ...(natsPass !== undefined ? { natsPass } : {}),
    busPrefix: c.string('KOLLECT_BUS_PREFIX', ''),
    ensureTopology: c.bool('KOLLECT_ENSURE_TOPOLOGY', true),
    httpPort: c.int('KOLLECT_HTTP_PORT', 8080, { min: 0, max: 65535 }),
    httpHost: c.string('KOLLECT_HTTP_HOST', '0.0.0.0'),
    logLevel: c.oneOf('KOLLECT_LOG_LEVEL', LOG_LEVELS, 'info'),
    identity: `${pod}-${randomBytes(3).toString('hex')}`,
  };
}

/** NATS connection options from {@link BusEnv} (spread into `connectBus`, add `name`). */
export function natsConnection(cfg: BusEnv): {
  servers: string;
  token?: string;
  user?: string;
  pass?: string;
} {
  return {
    servers: cfg.natsUrl,
    ...(cfg.natsToken !== undefined ? { token: cfg.natsToken } : {}),
    ...(cfg.natsUser !== undefined ? { user: cfg.natsUser } : {}),
    ...(cfg.natsPass !== undefined ? { pass: cfg.natsPass } : {}),
  };
}

/** Where a service finds the apiserver (a `KubeClient` config source). */
export interface KubeEnv {
  /** The kubeconfig file: `KUBECONFIG` (alias `KOLLECT_KUBECONFIG`). */
  kubeconfigPath?: string;
  /**
   * Use the pod's service account: `KOLLECT_KUBE_IN_CLUSTER`, by default true when no kubeconfig
   * is set and `KUBERNETES_SERVICE_HOST` is (running in a pod).
   */
  inCluster: boolean;
  /** `KOLLECT_KUBE_CONTEXT`: a context of the kubeconfig. */
  context?: string;
}

/**
 * Accepted alias of `KUBECONFIG` (the sink workers read it before every service read `KUBECONFIG`).
 * Setting both to different files is refused rather than guessed.
 */
export const KUBECONFIG_ALIAS = 'KOLLECT_KUBECONFIG';

/**
 * Read {@link KubeEnv}: `KUBECONFIG` (or its alias `KOLLECT_KUBECONFIG`); neither set → in-cluster
 * in a pod, else the default loading rules (`~/.kube/config`). Throws `ConfigInvalid` when both
 * name different files.
 */
export function kubeEnv(c: EnvConfig): KubeEnv {
  const main = c.optional('KUBECONFIG');
  const alias = c.optional(KUBECONFIG_ALIAS);
  if (main !== undefined && alias !== undefined && main !== alias)
    throw ConfigInvalid(
      `KUBECONFIG (${main}) and its alias ${KUBECONFIG_ALIAS} (${alias}) name different files; set only KUBECONFIG`,
    );
  const kubeconfigPath = main ?? alias;
  const context = c.optional('KOLLECT_KUBE_CONTEXT');
  const inPod = kubeconfigPath === undefined && c.optional('KUBERNETES_SERVICE_HOST') !== undefined;
  return {
    ...(kubeconfigPath !== undefined ? { kubeconfigPath } : {}),
    inCluster: c.bool('KOLLECT_KUBE_IN_CLUSTER', inPod),
    ...(context !== undefined ? { context } : {}),
  };
}

/** The `KubeClient` config source of a {@link KubeEnv} (an explicit in-cluster wins over a path). */
export function kubeSource(k: KubeEnv): { kubeconfigPath?: string; inCluster?: boolean; context?: string } {
  return {
    ...(k.inCluster
      ? { inCluster: true }
      : k.kubeconfigPath !== undefined
        ? { kubeconfigPath: k.kubeconfigPath }
        : {}),
    ...(k.context !== undefined ? { context: k.context } : {}),
  };
}

/** Where Kubernetes mounts the pod's namespace (service account). */
export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/**
 * The namespace this pod runs in: `KOLLECT_POD_NAMESPACE` (set it from the downward API), else the
 * service account's namespace file, else undefined (not in a pod).
 */
export function podNamespace(c: EnvConfig, saFile = SERVICE_ACCOUNT_NAMESPACE_FILE): string | undefined {
  const fromEnv = c.optional('KOLLECT_POD_NAMESPACE');
  if (fromEnv !== undefined) return fromEnv;
  try {
    return existsSync(saFile) ? readFileSync(saFile, 'utf8').trim() || undefined : undefined;
  } catch {
    return undefined;
  }
}

/** Leader-election settings (client-go's timings). */
export interface LeaseEnv {
  /**
   * `KOLLECT_LEASE_NAMESPACE`, else the pod's namespace ({@link podNamespace}:
   * `KOLLECT_POD_NAMESPACE` or the service account's), else the service's fallback.
   */
  namespace: string;
  /** `KOLLECT_LEASE_NAME` (default: the service's). */
  name: string;
  /** `KOLLECT_LEASE_DURATION` (15s), `KOLLECT_LEASE_RENEW_DEADLINE` (10s), `KOLLECT_LEASE_RETRY_PERIOD` (2s). */
  durationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/**
 * The Lease name of a service on a bus topology: `name` itself for the production topology (empty
 * prefix), else `name-<prefix>` with the prefix made a valid object name (lower case, `-` for
 * anything else) — the same suffix tools/stack gives its Leases. Two stacks on one apiserver with
 * different bus prefixes then never compete for one Lease.
 */
export function leaseNameFor(name: string, busPrefix: string): string {
  const suffix = busPrefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '');
  return suffix ? `${name}-${suffix}` : name;
}

/**
 * Read {@link LeaseEnv}. `defaults.namespace` is the fallback outside a pod (when neither
 * `KOLLECT_LEASE_NAMESPACE` nor the pod's namespace is known); `defaults.name` the Lease name
 * unless `KOLLECT_LEASE_NAME` is set, suffixed by `defaults.busPrefix` when given
 * ({@link leaseNameFor}). `saFile` is for tests.
 */
export function leaseEnv(
  c: EnvConfig,
  defaults: { namespace: string; name: string; busPrefix?: string },
  saFile = SERVICE_ACCOUNT_NAMESPACE_FILE,
): LeaseEnv {
  return {
    namespace: c.optional('KOLLECT_LEASE_NAMESPACE') ?? podNamespace(c, saFile) ?? defaults.namespace,
    name: c.string('KOLLECT_LEASE_NAME', leaseNameFor(defaults.name, defaults.busPrefix ?? '')),
    durationMs: c.durationMs('KOLLECT_LEASE_DURATION', 15_000),
    renewDeadlineMs: c.durationMs('KOLLECT_LEASE_RENEW_DEADLINE', 10_000),
    retryPeriodMs: c.durationMs('KOLLECT_LEASE_RETRY_PERIOD', 2_000),
  };
}

/**
 * `KOLLECT_WATCH_NAMESPACES`: the namespaces whose Kollect CRs a service may list and watch
 * (comma-separated, duplicates dropped); empty (default) = every namespace. The controller bounds
 * its CR cache with it, and the sink workers' prober its watches of sinks and connection tests,
 * so a team install needs only namespaced RBAC in those namespaces.
 */
export function watchNamespacesEnv(c: EnvConfig): string[] {
  return [...new Set(c.list('KOLLECT_WATCH_NAMESPACES', []))];
}
