/** Kubernetes helpers for e2e suites (raw requests through @kollect/kube's client). */
import { KubeClient, type KubeObject } from '@kollect/kube';
import { testbedEnv, uniqueName } from './testbed.js';

/** A client on the test bed's admin kubeconfig, optionally through a proxy port. */
export function adminClient(proxyPort?: number): KubeClient {
  return new KubeClient({
    kubeconfigPath: testbedEnv.kubeconfig,
    ...(proxyPort !== undefined ? { serverOverride: `https://127.0.0.1:${proxyPort}` } : {}),
  });
}

/** Host and port of the test bed's apiserver. */
export function apiserverAddress(): { host: string; port: number } {
  const u = new URL(testbedEnv.kubeServer);
  return { host: u.hostname, port: Number(u.port) };
}

export async function createNamespace(c: KubeClient, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await c.request('POST', '/api/v1/namespaces', { body: { metadata: { name } } });
  return name;
}

/** Best effort: without a namespace controller the namespace stays Terminating, which is fine. */
export async function deleteNamespace(c: KubeClient, name: string): Promise<void> {
  await c.request('DELETE', `/api/v1/namespaces/${name}`).catch(() => undefined);
}

export async function createConfigMap(
  c: KubeClient,
  namespace: string,
  name: string,
  data: Record<string, string> = { v: '1' },
  extra: { annotations?: Record<string, string>; labels?: Record<string, string> } = {},
): Promise<KubeObject> {
  return c.request<KubeObject>('POST', `/api/v1/namespaces/${namespace}/configmaps`, {
    body: { metadata: { name, ...extra }, data },
  });
}

/** Create `count` ConfigMaps `<prefix>-<i>`, `parallel` at a time. */
export async function createConfigMaps(
  c: KubeClient,
  namespace: string,
  count: number,
  opts: { prefix?: string; parallel?: number; bytes?: number } = {},
): Promise<void> {
  const prefix = opts.prefix ?? 'cm';
  const parallel = opts.parallel ?? 16;
  const filler = 'x'.repeat(opts.bytes ?? 0);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      await createConfigMap(c, namespace, `${prefix}-${i}`, { i: String(i), ...(filler ? { filler } : {}) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
}

export async function patchConfigMap(
  c: KubeClient,
  namespace: string,
  name: string,
  data: Record<string, string>,
): Promise<KubeObject> {
  return c.request<KubeObject>('PATCH', `/api/v1/namespaces/${namespace}/configmaps/${name}`, {
    body: { data },
    contentType: 'application/merge-patch+json',
  });
}

export async function deleteConfigMap(c: KubeClient, namespace: string, name: string): Promise<void> {
  await c.request('DELETE', `/api/v1/namespaces/${namespace}/configmaps/${name}`);
}

/** Poll until `cond` holds. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  ms = 15_000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
