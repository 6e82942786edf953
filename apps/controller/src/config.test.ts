import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

const base = { KOLLECT_NATS_URL: 'nats://127.0.0.1:4222' };

describe('controller config', () => {
  it('needs the NATS URL and defaults the rest (cluster default, 8 partitions, client-go lease)', () => {
    expect(() => loadConfig({})).toThrow(/KOLLECT_NATS_URL is required/);
    const c = loadConfig(base);
    expect(c.settings).toMatchObject({
      cluster: 'default',
      partitions: 8,
      tenantMode: false,
      watchNamespaces: [],
    });
    expect(c.lease).toEqual({
      namespace: 'kollect-system',
      name: 'kollect-controller',
      durationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
    expect([c.busPrefix, c.ensureTopology, c.httpPort, c.logLevel]).toEqual(['', true, 8080, 'info']);
  });

  it('puts the Lease in the pod namespace unless told otherwise', () => {
    expect(loadConfig({ ...base, KOLLECT_POD_NAMESPACE: 'ops' }).lease.namespace).toBe('ops');
    expect(
      loadConfig({ ...base, KOLLECT_POD_NAMESPACE: 'ops', KOLLECT_LEASE_NAMESPACE: 'x' }).lease.namespace,
    ).toBe('x');
  });

  it('reads the kubeconfig path, or runs in-cluster inside a pod', () => {
    expect(loadConfig({ ...base, KUBECONFIG: '/k' }).kube).toEqual({
      kubeconfigPath: '/k',
      inCluster: false,
    });
    expect(loadConfig({ ...base, KUBERNETES_SERVICE_HOST: '10.0.0.1' }).kube).toEqual({ inCluster: true });
  });

  it('reads watch namespaces, tenant mode and CEL limits', () => {
    const c = loadConfig({
      ...base,
      KOLLECT_WATCH_NAMESPACES: 'a, b',
      KOLLECT_TENANT_MODE: 'true',
      KOLLECT_CEL_TIMEOUT: '250ms',
    });
    expect(c.settings).toMatchObject({ watchNamespaces: ['a', 'b'], tenantMode: true, celTimeoutMs: 250 });
  });
});
