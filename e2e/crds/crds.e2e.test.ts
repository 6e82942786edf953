/**
 * The generated CRDs on a real kube-apiserver (tools/testbed): they are accepted as structural
 * schemas, the apiserver defaults the samples exactly as `applyDefaults()` does, and it rejects
 * the schema-invalid documents of `SCHEMA_INVALID_CASES` at the field paths `validate()` names.
 * Every create is a dry run, so the suite leaves nothing behind but its namespace.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyDefaults,
  invalidDocument,
  KIND_DEFINITIONS,
  KINDS,
  SAMPLES,
  SCHEMA_INVALID_CASES,
  type KollectKind,
} from '@kollect/crd-types';
import { REPO_ROOT, requireTestbed, testbedEnv, uniqueName } from '../support/testbed.js';

const kc = new k8s.KubeConfig();
let custom: k8s.CustomObjectsApi;
let ext: k8s.ApiextensionsV1Api;
let core: k8s.CoreV1Api;
const ns = uniqueName('crds');

interface Cause {
  field?: string;
  message?: string;
}

/** Dry-run create of a Kollect object with strict field validation; resolves to the stored object. */
async function dryRunCreate(kind: KollectKind, body: unknown): Promise<Record<string, unknown>> {
  const def = KIND_DEFINITIONS[kind];
  const common = { group: 'kollect.dev', version: 'v1alpha1', plural: def.plural, body, dryRun: 'All', fieldValidation: 'Strict' };
  const obj = structuredClone(body) as { metadata: Record<string, unknown> };
  if (def.scope === 'Namespaced') {
    obj.metadata = { ...obj.metadata, namespace: ns };
    return (await custom.createNamespacedCustomObject({ ...common, body: obj, namespace: ns })) as Record<string, unknown>;
  }
  // Cluster-scoped names are shared by every run against the same apiserver: make them unique.
  delete obj.metadata['namespace'];
  obj.metadata['name'] = uniqueName(String(obj.metadata['name']));
  return (await custom.createClusterCustomObject({ ...common, body: obj })) as Record<string, unknown>;
}

/** The `details.causes` of a rejected request, or the message as a single cause. */
function causesOf(err: unknown): { code: number; causes: Cause[] } {
  const e = err as { code?: number; body?: unknown };
  const body = typeof e.body === 'string' ? (JSON.parse(e.body) as Record<string, unknown>) : (e.body as Record<string, unknown>);
  const details = body?.['details'] as { causes?: Cause[] } | undefined;
  return { code: e.code ?? 0, causes: details?.causes ?? [{ message: String(body?.['message'] ?? err) }] };
}

beforeAll(async () => {
  requireTestbed('kube-apiserver');
  kc.loadFromFile(testbedEnv.kubeconfig);
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  core = kc.makeApiClient(k8s.CoreV1Api);
  const dir = join(REPO_ROOT, 'crds');
  for (const file of readdirSync(dir).filter((f) => f.startsWith('kollect.dev_') && f.endsWith('.yaml'))) {
    const crd = k8s.loadYaml<k8s.V1CustomResourceDefinition>(readFileSync(join(dir, file), 'utf8'));
    const name = crd.metadata!.name!;
    try {
      await ext.createCustomResourceDefinition({ body: crd });
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
      const current = await ext.readCustomResourceDefinition({ name });
      crd.metadata!.resourceVersion = current.metadata!.resourceVersion;
      await ext.replaceCustomResourceDefinition({ name, body: crd });
    }
  }
  const deadline = Date.now() + 30_000;
  for (const kind of KINDS) {
    const name = `${KIND_DEFINITIONS[kind].plural}.kollect.dev`;
    for (;;) {
      const c = await ext.readCustomResourceDefinition({ name });
      if (c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await core.createNamespace({ body: { metadata: { name: ns } } });
}, 60_000);

afterAll(async () => {
  await core?.deleteNamespace({ name: ns }).catch(() => undefined);
});

describe('generated CRDs on kube-apiserver', () => {
  it('establishes all eleven CRDs with no NonStructuralSchema or naming conflict', async () => {
    const crds = (await ext.listCustomResourceDefinition()).items.filter((c) => c.spec.group === 'kollect.dev');
    expect(crds.map((c) => c.spec.names.kind).sort()).toEqual([...KINDS].sort());
    for (const c of crds) {
      const bad = (c.status?.conditions ?? []).filter(
        (x) => (x.type === 'NonStructuralSchema' && x.status === 'True') || (x.type === 'NamesAccepted' && x.status !== 'True'),
      );
      expect(bad, c.metadata?.name).toEqual([]);
    }
  });

  it.each(KINDS)('stores the %s sample defaulted exactly as applyDefaults() does', async (kind) => {
    const stored = await dryRunCreate(kind, SAMPLES[kind]);
    const expected = applyDefaults(kind, SAMPLES[kind]) as unknown as Record<string, unknown>;
    expect(stored['spec']).toEqual(expected['spec']);
  });

  const apiserverCases = SCHEMA_INVALID_CASES.filter((c) => !c.kollectOnly);
  it.each(apiserverCases.map((c) => [c.name, c] as const))('rejects a %s at the field path validate() reports', async (_, c) => {
    const err = await dryRunCreate(c.kind, invalidDocument(c)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, 'the apiserver accepted the document').toBeDefined();
    const { code, causes } = causesOf(err);
    expect([400, 422]).toContain(code);
    // The apiserver names a list-map duplicate by its item (spec.attributes[2]) where validate()
    // names the key field (spec.attributes[2].name), so a prefix match is accepted.
    const matched = causes.some(
      (cause) =>
        cause.field === c.path ||
        (cause.field !== undefined && c.path.startsWith(`${cause.field}.`)) ||
        (cause.message ?? '').includes(c.path),
    );
    expect(matched, `apiserver causes: ${JSON.stringify(causes)}`).toBe(true);
  });

  const kollectOnly = SCHEMA_INVALID_CASES.filter((c) => c.kollectOnly);
  it.each(kollectOnly.map((c) => [c.name, c] as const))(
    'accepts a %s, which only Kollect rejects (sink ref entries are preserved as written)',
    async (_, c) => {
      await expect(dryRunCreate(c.kind, invalidDocument(c))).resolves.toBeDefined();
    },
  );
});
