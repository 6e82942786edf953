import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envConfig } from './env.js';
import {
  kubeEnv,
  kubeSource,
  leaseEnv,
  leaseNameFor,
  natsConnection,
  podNamespace,
  serviceEnv,
  watchNamespacesEnv,
} from './service-env.js';

describe('serviceEnv', () => {
  it('reads the shared variables with their defaults', () => {
    const e = serviceEnv(envConfig({ KOLLECT_NATS_URL: 'nats://a:4222', KOLLECT_POD_NAME: 'pod-1' }));
    expect(e).toMatchObject({
      natsUrl: 'nats://a:4222',
      busPrefix: '',
      ensureTopology: true,
      httpPort: 8080,
      httpHost: '0.0.0.0',
      logLevel: 'info',
    });
    expect(e.identity).toMatch(/^pod-1-[0-9a-f]{6}$/);
    expect('natsToken' in e).toBe(false);
  });

  it('names the variable that is missing or malformed', () => {
    expect(() => serviceEnv(envConfig({}))).toThrow(/KOLLECT_NATS_URL is required/);
    expect(() => serviceEnv(envConfig({ KOLLECT_NATS_URL: 'n', KOLLECT_HTTP_PORT: '70000' }))).toThrow(
      /KOLLECT_HTTP_PORT must be <= 65535/,
    );
    expect(() => serviceEnv(envConfig({ KOLLECT_NATS_URL: 'n', KOLLECT_LOG_LEVEL: 'loud' }))).toThrow(
      /KOLLECT_LOG_LEVEL must be one of/,
    );
  });

  it('gives each start a new identity', () => {
    const env = envConfig({ KOLLECT_NATS_URL: 'n', KOLLECT_POD_NAME: 'p' });
    expect(serviceEnv(env).identity).not.toBe(serviceEnv(env).identity);
  });

  it('turns credentials into connection options, omitting the unset ones', () => {
    const e = serviceEnv(
      envConfig({ KOLLECT_NATS_URL: 'n1,n2', KOLLECT_NATS_USER: 'u', KOLLECT_NATS_PASSWORD: 'p' }),
    );
    expect(natsConnection(e)).toEqual({ servers: 'n1,n2', user: 'u', pass: 'p' });
  });
});

describe('kubeEnv', () => {
  it('uses KUBECONFIG, or the service account inside a pod, or the default rules', () => {
    expect(kubeEnv(envConfig({ KUBECONFIG: '/k', KUBERNETES_SERVICE_HOST: '10.0.0.1' }))).toEqual({
      kubeconfigPath: '/k',
      inCluster: false,
    });
    expect(kubeEnv(envConfig({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }))).toEqual({ inCluster: true });
    expect(kubeEnv(envConfig({}))).toEqual({ inCluster: false });
  });

  it('accepts KOLLECT_KUBECONFIG as an alias of KUBECONFIG, and refuses the two naming different files', () => {
    expect(kubeEnv(envConfig({ KOLLECT_KUBECONFIG: '/s' }))).toEqual({
      kubeconfigPath: '/s',
      inCluster: false,
    });
    expect(kubeEnv(envConfig({ KOLLECT_KUBECONFIG: '/k', KUBECONFIG: '/k' }))).toEqual({
      kubeconfigPath: '/k',
      inCluster: false,
    });
    expect(() => kubeEnv(envConfig({ KOLLECT_KUBECONFIG: '/s', KUBECONFIG: '/k' }))).toThrow(
      /KUBECONFIG \(\/k\) and its alias KOLLECT_KUBECONFIG \(\/s\) name different files; set only KUBECONFIG/,
    );
  });

  it('reads an explicit in-cluster switch and context', () => {
    const k = kubeEnv(
      envConfig({ KUBECONFIG: '/k', KOLLECT_KUBE_IN_CLUSTER: 'true', KOLLECT_KUBE_CONTEXT: 'c' }),
    );
    expect(kubeSource(k)).toEqual({ inCluster: true, context: 'c' });
    expect(kubeSource(kubeEnv(envConfig({ KUBECONFIG: '/k' })))).toEqual({ kubeconfigPath: '/k' });
  });
});

describe('leaseEnv', () => {
  const noPod = join(tmpdir(), 'kollect-no-such-sa-file');
  it('applies client-go timings and the service defaults', () => {
    expect(
      leaseEnv(envConfig({ KOLLECT_LEASE_DURATION: '4s' }), { namespace: 'ns', name: 'l' }, noPod),
    ).toEqual({
      namespace: 'ns',
      name: 'l',
      durationMs: 4000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2000,
    });
  });

  it('puts the Lease in KOLLECT_LEASE_NAMESPACE, else the pod namespace, else the fallback', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kollect-sa-'));
    const sa = join(dir, 'namespace');
    writeFileSync(sa, 'team-ops\n');
    const d = { namespace: 'fallback', name: 'l' };
    expect(
      leaseEnv(envConfig({ KOLLECT_LEASE_NAMESPACE: 'a', KOLLECT_POD_NAMESPACE: 'b' }), d, sa).namespace,
    ).toBe('a');
    expect(leaseEnv(envConfig({ KOLLECT_POD_NAMESPACE: 'b' }), d, sa).namespace).toBe('b');
    expect(leaseEnv(envConfig({}), d, sa).namespace).toBe('team-ops');
    expect(leaseEnv(envConfig({}), d, noPod).namespace).toBe('fallback');
    expect(leaseEnv(envConfig({ KOLLECT_LEASE_NAME: 'x' }), d, noPod).name).toBe('x');
    expect(podNamespace(envConfig({}), sa)).toBe('team-ops');
    expect(podNamespace(envConfig({}), noPod)).toBeUndefined();
  });

  it('suffixes the default Lease name with the bus prefix, so two stacks never share a Lease', () => {
    expect(leaseNameFor('kollect-x', '')).toBe('kollect-x');
    expect(leaseNameFor('kollect-x', 'tPipe_A1')).toBe('kollect-x-tpipe-a1');
    const d = { namespace: 'ns', name: 'kollect-x', busPrefix: 'e2e_Q' };
    expect(leaseEnv(envConfig({}), d, noPod).name).toBe('kollect-x-e2e-q');
    // An explicit name wins as given.
    expect(leaseEnv(envConfig({ KOLLECT_LEASE_NAME: 'mine' }), d, noPod).name).toBe('mine');
  });
});

describe('watchNamespacesEnv', () => {
  it('reads KOLLECT_WATCH_NAMESPACES as a list without duplicates; unset means every namespace', () => {
    expect(watchNamespacesEnv(envConfig({}))).toEqual([]);
    expect(watchNamespacesEnv(envConfig({ KOLLECT_WATCH_NAMESPACES: ' a, b ,a,' }))).toEqual(['a', 'b']);
  });
});
