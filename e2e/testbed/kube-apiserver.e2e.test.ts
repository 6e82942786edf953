import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { AuditLog } from '../support/audit.js';
import { REPO_ROOT, requireTestbed, testbedEnv, uniqueName } from '../support/testbed.js';

const CRD_DIR = join(REPO_ROOT, 'crds');
const crdFiles = existsSync(CRD_DIR)
  ? readdirSync(CRD_DIR)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
  : [];

type Sample = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

/** One sample object per kind, from libs/crd-types (`SAMPLES`), when it provides them. */
async function loadSamples(): Promise<Record<string, Sample> | undefined> {
  try {
    const mod = (await import('@kollect/crd-types')) as unknown as { SAMPLES?: Record<string, Sample> };
    return mod.SAMPLES;
  } catch {
    return undefined;
  }
}
const SAMPLES = await loadSamples();

function isApiError(e: unknown, code: number): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: number }).code === code;
}

/** Starts a watch and collects "<TYPE> <name>" events until stopped. */
async function collectWatch(kc: k8s.KubeConfig, path: string, query: Record<string, string> = {}) {
  const events: string[] = [];
  const watch = new k8s.Watch(kc);
  const ctrl = await watch.watch(
    path,
    query,
    (type: string, obj: { metadata?: { name?: string } }) => events.push(`${type} ${obj.metadata?.name}`),
    () => {},
  );
  return { events, stop: () => ctrl.abort() };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('testbed: kube-apiserver (real, with etcd)', () => {
  const kc = new k8s.KubeConfig();
  const ro = new k8s.KubeConfig();
  const ns = uniqueName('smoke');

  beforeAll(() => {
    requireTestbed('kube-apiserver');
    kc.loadFromFile(testbedEnv.kubeconfig);
    ro.loadFromFile(testbedEnv.kubeconfigReadonly);
  });

  /** Every object this suite created, deleted again in afterAll (cluster-scoped ones would leak into later runs). */
  const created: Sample[] = [];

  afterAll(async () => {
    const client = k8s.KubernetesObjectApi.makeApiClient(kc);
    const leftovers: string[] = [];
    for (const obj of created.reverse()) {
      const ref: Sample = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: obj.metadata };
      try {
        await client.delete(ref as k8s.KubernetesObject);
      } catch (e) {
        if (!isApiError(e, 404)) leftovers.push(`${obj.kind} ${obj.metadata.name}: ${String(e)}`);
        continue;
      }
      // no Kollect controller runs here to release a finalizer it may have added: release it ourselves
      try {
        const cur = await client.read(ref);
        if (cur.metadata?.finalizers?.length) {
          await client.patch(
            { ...ref, metadata: { ...obj.metadata, finalizers: null } } as unknown as k8s.KubernetesObject,
            undefined,
            undefined,
            undefined,
            undefined,
            k8s.PatchStrategy.MergePatch,
          );
        }
      } catch (e) {
        if (!isApiError(e, 404)) leftovers.push(`${obj.kind} ${obj.metadata.name}: ${String(e)}`);
      }
    }
    // no controller-manager runs: a deleted namespace stays Terminating until it is finalized
    const core = kc.makeApiClient(k8s.CoreV1Api);
    try {
      await core.deleteNamespace({ name: ns });
      const cur = await core.readNamespace({ name: ns });
      await core.replaceNamespaceFinalize({ name: ns, body: { ...cur, spec: { finalizers: [] } } });
    } catch (e) {
      if (!isApiError(e, 404)) leftovers.push(`Namespace ${ns}: ${String(e)}`);
    }
    if (leftovers.length)
      throw new Error(`could not delete what this suite created:\n${leftovers.join('\n')}`);
  });

  it('creates and watches a Namespace and a Deployment', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const nsWatch = await collectWatch(kc, '/api/v1/namespaces');
    await core.createNamespace({ body: { metadata: { name: ns, labels: { 'kollect.dev/test': 'smoke' } } } });
    await until(() => nsWatch.events.includes(`ADDED ${ns}`));
    nsWatch.stop();

    const depWatch = await collectWatch(kc, `/apis/apps/v1/namespaces/${ns}/deployments`);
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web', labels: { app: 'web' } },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
          },
        },
      },
    });
    created.push({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: ns } });
    await apps.patchNamespacedDeployment(
      { namespace: ns, name: 'web', body: { spec: { replicas: 3 } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await until(() => depWatch.events.includes('ADDED web') && depWatch.events.includes('MODIFIED web'));
    depWatch.stop();
    const d = await apps.readNamespacedDeployment({ namespace: ns, name: 'web' });
    expect(d.spec?.replicas).toBe(3);
    expect(d.metadata?.uid).toBeTruthy();
  });

  it('read-only token can list and watch but not write; the audit log records LIST calls', async () => {
    const audit = new AuditLog(testbedEnv.kubeAuditLog);
    const mark = audit.mark();
    const core = ro.makeApiClient(k8s.CoreV1Api);
    const list = await core.listNamespace();
    expect(list.items.map((n) => n.metadata?.name)).toContain('default');
    await expect(
      core.createNamespace({ body: { metadata: { name: uniqueName('denied') } } }),
    ).rejects.toSatisfy((e) => isApiError(e, 403));
    // only entries after this test's own mark count: the log holds every earlier run's requests too
    await until(() => audit.lists(mark, { username: 'kollect-readonly', resource: 'namespaces' }).length > 0);
    const denied = audit
      .eventsSince(mark)
      .filter(
        (e) =>
          e.verb === 'create' &&
          e.user?.username === 'kollect-readonly' &&
          e.objectRef?.resource === 'namespaces',
      );
    expect(denied.map((e) => e.responseStatus?.code)).toEqual([403]);
  });

  it('kubectl (built with the apiserver) talks to it', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(
      testbedEnv.kubectl,
      ['--kubeconfig', testbedEnv.kubeconfig, 'get', 'namespace', 'default', '-o', 'name'],
      { encoding: 'utf8' },
    );
    expect(out.trim()).toBe('namespace/default');
  });

  const crdSkip = crdFiles.length === 0 ? ' — SKIPPED: no crds/*.yaml generated yet' : '';
  const sampleSkip = crdSkip || (!SAMPLES ? ' — SKIPPED: @kollect/crd-types exports no SAMPLES' : '');

  it.skipIf(!!crdSkip)(`applies the CRDs from crds/${crdSkip}`, async () => {
    const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    for (const f of crdFiles) {
      for (const doc of k8s.loadAllYaml(
        readFileSync(join(CRD_DIR, f), 'utf8'),
      ) as k8s.V1CustomResourceDefinition[]) {
        if (doc?.kind !== 'CustomResourceDefinition') continue;
        const name = doc.metadata!.name!;
        try {
          await ext.createCustomResourceDefinition({ body: doc });
        } catch (e) {
          if (!isApiError(e, 409)) throw e;
          const cur = await ext.readCustomResourceDefinition({ name });
          doc.metadata!.resourceVersion = cur.metadata!.resourceVersion;
          await ext.replaceCustomResourceDefinition({ name, body: doc });
        }
        const end = Date.now() + 20_000;
        for (;;) {
          const c = await ext.readCustomResourceDefinition({ name });
          if (c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) break;
          if (Date.now() > end) throw new Error(`CRD ${name} not Established`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
  });

  it.skipIf(!!sampleSkip)(
    `creates one object of every CRD kind from the crd-types samples${sampleSkip}`,
    async () => {
      const client = k8s.KubernetesObjectApi.makeApiClient(kc);
      const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
      const crds = (await ext.listCustomResourceDefinition()).items.filter(
        (c) => c.spec.group === 'kollect.dev',
      );
      const kinds: string[] = [];
      for (const crd of crds) {
        const kind = crd.spec.names.kind;
        const sample = SAMPLES![kind];
        expect(sample, `sample for ${kind}`).toBeDefined();
        const obj = structuredClone(sample!) as Sample;
        obj.metadata = { ...obj.metadata, name: `${obj.metadata.name}-${Date.now().toString(36)}` };
        if (crd.spec.scope === 'Namespaced') obj.metadata.namespace = ns;
        else delete obj.metadata.namespace;
        delete (obj as { status?: unknown }).status;
        const res = await client.create(obj as k8s.KubernetesObject);
        created.push(obj);
        expect(res.metadata?.uid).toBeTruthy();
        kinds.push(kind);
      }
      expect(kinds.length).toBe(crds.length);
      expect(kinds.length).toBeGreaterThan(0);
    },
  );
});
