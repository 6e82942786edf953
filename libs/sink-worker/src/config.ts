import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * Configuration of a sink worker (any family), from the environment: the shared service variables
 * (`ServiceEnv` of @kollect/observability: NATS, bus prefix, topology, HTTP, log level, identity),
 * the apiserver and Lease variables every service reads the same way, plus its own.
 */
export interface SinkWorkerConfig extends Omit<ServiceEnv, 'identity'> {
  /** Replica identity: `KOLLECT_POD_NAME` (or the host name) + a random suffix. */
  holder: string;
  /**
   * The apiserver (Secrets, connection tests): `KUBECONFIG` (alias `KOLLECT_KUBECONFIG`, the name
   * sink workers used to read), `KOLLECT_KUBE_IN_CLUSTER`, `KOLLECT_KUBE_CONTEXT`; unset → in-cluster
   * in a pod, else the default loading rules.
   */
  kube: KubeEnv;
  /**
   * The prober's leader Lease: `KOLLECT_LEASE_NAMESPACE` (default: the pod's namespace —
   * `KOLLECT_POD_NAMESPACE` or the service account's — else `kollect-system`), `KOLLECT_LEASE_NAME`
   * (default `kollect-<service>-prober`, suffixed with the bus prefix when there is one, so two
   * stacks on one apiserver never compete for one Lease), and the client-go timings (15s / 10s / 2s).
   */
  lease: LeaseEnv;
  /**
   * `KOLLECT_WATCH_NAMESPACES` (read like the controller does): the namespaces whose sinks and
   * connection tests the prober lists and watches; empty (default) = every namespace.
   */
  watchNamespaces: string[];
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
}

/**
 * Read the configuration; throws `ConfigInvalid` naming the bad variable. `service` (the family's
 * service name, `sink-snapshot`) names the prober Lease by default. Every variable a service
 * shares with the others is read by @kollect/observability (`serviceEnv`, `kubeEnv`, `leaseEnv`,
 * `watchNamespacesEnv`); only the sink worker's own ones are read here.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  opts: { service?: string } = {},
): SinkWorkerConfig {
  const c = envConfig(env);
  const { identity, ...base } = serviceEnv(c);
  return {
    ...base,
    holder: identity,
    kube: kubeEnv(c),
    lease: leaseEnv(c, {
      namespace: 'kollect-system',
      name: `kollect-${opts.service ?? 'sink'}-prober`,
      busPrefix: base.busPrefix,
    }),
    watchNamespaces: watchNamespacesEnv(c),
    workDir: c.string('KOLLECT_SINK_WORK_DIR', join(tmpdir(), 'kollect-sink')),
    allowPrivateEndpoints: c.bool('KOLLECT_ALLOW_PRIVATE_ENDPOINTS', false),
    maxMaterializedRows: c.int('KOLLECT_SINK_MAX_ROWS_IN_MEMORY', 1_000_000, { min: 0 }),
    maxDeliver: c.int('KOLLECT_SINK_MAX_DELIVER', 1000, { min: 2 }),
    ackWaitMs: c.durationMs('KOLLECT_SINK_ACK_WAIT', 5 * 60_000),
    prober: c.bool('KOLLECT_SINK_PROBER', true),
  };
}
