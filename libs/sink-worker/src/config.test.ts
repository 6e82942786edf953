import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

const base = { KOLLECT_NATS_URL: 'nats://x:4222', KOLLECT_POD_NAME: 'sink-0' };

describe('sink worker configuration', () => {
  it('reads the kubeconfig from KUBECONFIG like every other service', () => {
    expect(loadConfig({ ...base, KUBECONFIG: '/k' }).kube).toEqual({
      kubeconfigPath: '/k',
      inCluster: false,
    });
  });

  it('still accepts the old KOLLECT_KUBECONFIG as an alias, and refuses two different files', () => {
    expect(loadConfig({ ...base, KOLLECT_KUBECONFIG: '/old' }).kube.kubeconfigPath).toBe('/old');
    expect(() => loadConfig({ ...base, KOLLECT_KUBECONFIG: '/old', KUBECONFIG: '/new' })).toThrow(
      /set only KUBECONFIG/,
    );
  });

  it('reads the shared service variables with their names and defaults', () => {
    const c = loadConfig({
      ...base,
      KOLLECT_NATS_TOKEN: 't',
      KOLLECT_BUS_PREFIX: 'p',
      KOLLECT_KUBE_CONTEXT: 'ctx',
    });
    expect(c).toMatchObject({
      natsUrl: 'nats://x:4222',
      natsToken: 't',
      busPrefix: 'p',
      ensureTopology: true,
      httpPort: 8080,
      logLevel: 'info',
      kube: { context: 'ctx' },
    });
    expect(c.holder).toMatch(/^sink-0-[0-9a-f]{6}$/);
  });

  it('names the prober Lease after the family and honours the shared Lease variables', () => {
    const c = loadConfig(
      { ...base, KOLLECT_POD_NAMESPACE: 'ops', KOLLECT_LEASE_DURATION: '4s' },
      { service: 'sink-database' },
    );
    expect(c.lease).toMatchObject({
      namespace: 'ops',
      name: 'kollect-sink-database-prober',
      durationMs: 4000,
    });
    expect(
      loadConfig({ ...base, KOLLECT_POD_NAMESPACE: 'ops', KOLLECT_LEASE_NAMESPACE: 'leases' }).lease
        .namespace,
    ).toBe('leases');
  });

  it('suffixes the default prober Lease with the bus prefix; an explicit KOLLECT_LEASE_NAME wins', () => {
    const env = { ...base, KOLLECT_BUS_PREFIX: 'e2e_Ab1' };
    expect(loadConfig(env, { service: 'sink-snapshot' }).lease.name).toBe(
      'kollect-sink-snapshot-prober-e2e-ab1',
    );
    expect(loadConfig({ ...env, KOLLECT_LEASE_NAME: 'own' }, { service: 'sink-snapshot' }).lease.name).toBe(
      'own',
    );
  });

  it('bounds the prober to KOLLECT_WATCH_NAMESPACES like the controller; unset = every namespace', () => {
    expect(loadConfig(base).watchNamespaces).toEqual([]);
    expect(loadConfig({ ...base, KOLLECT_WATCH_NAMESPACES: 'team-a, team-b' }).watchNamespaces).toEqual([
      'team-a',
      'team-b',
    ]);
  });
});
