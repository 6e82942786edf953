import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KINDS, KIND_DEFINITIONS } from '../kinds.js';
import { checkRule } from '../schema/cel-rules.js';
import { crdFileName, crdObject, type StructuralSchema } from './crd.js';
import { GENERATED_DIRS, isGeneratedName, renderGeneratedFiles } from './files.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

describe('generated files', () => {
  it('crds/ and docs/reference/ are what the generator produces (else: run npm run gen)', () => {
    const files = renderGeneratedFiles();
    const stale: string[] = [];
    for (const [rel, content] of files) {
      let onDisk: string | undefined;
      try {
        onDisk = readFileSync(join(repoRoot, rel), 'utf8');
      } catch {
        onDisk = undefined;
      }
      if (onDisk !== content) stale.push(rel);
    }
    for (const dir of Object.values(GENERATED_DIRS)) {
      for (const name of readdirSync(join(repoRoot, dir))) {
        const rel = `${dir}/${name}`;
        if (isGeneratedName(rel) && !files.has(rel)) stale.push(`${rel} (no longer generated)`);
      }
    }
    expect(stale, `stale generated files — run npm run gen: ${stale.join(', ')}`).toEqual([]);
  });

  it('generates one CRD per kind plus a reference page per kind and an index', () => {
    const files = [...renderGeneratedFiles().keys()];
    expect(files.filter((f) => f.startsWith('crds/'))).toHaveLength(11);
    expect(files.filter((f) => f.startsWith('docs/reference/'))).toHaveLength(12);
  });

  it('is deterministic', () => {
    expect([...renderGeneratedFiles()]).toEqual([...renderGeneratedFiles()]);
  });
});

/** Collect violations of the apiextensions structural-schema rules we can check offline. */
function structuralViolations(node: StructuralSchema, path: string, out: string[]): void {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(node, k);
  for (const forbidden of [
    '$ref',
    'definitions',
    'patternProperties',
    'const',
    'oneOf',
    'anyOf',
    'allOf',
    'not',
    'dependencies',
    'additionalItems',
    'id',
    '$schema',
  ]) {
    if (has(forbidden)) out.push(`${path}: ${forbidden} is not allowed`);
  }
  if (node['uniqueItems'] === true) out.push(`${path}: uniqueItems: true is not allowed`);
  if (node['additionalProperties'] === false) out.push(`${path}: additionalProperties: false is not allowed`);
  if (has('additionalProperties') && has('properties'))
    out.push(`${path}: additionalProperties and properties are mutually exclusive`);
  if (
    !has('type') &&
    node['x-kubernetes-preserve-unknown-fields'] !== true &&
    node['x-kubernetes-int-or-string'] !== true
  ) {
    out.push(`${path}: every node needs a type`);
  }
  if (node['x-kubernetes-list-type'] === 'map') {
    const items = node['items'] as StructuralSchema | undefined;
    const req = new Set((items?.['required'] as string[] | undefined) ?? []);
    for (const key of (node['x-kubernetes-list-map-keys'] as string[] | undefined) ?? []) {
      if (!req.has(key)) out.push(`${path}: list-map key ${key} must be required in the items`);
    }
  }
  if (node['x-kubernetes-list-type'] === 'set') {
    const t = (node['items'] as StructuralSchema | undefined)?.['type'];
    if (t === 'object' || t === 'array') out.push(`${path}: set lists need scalar items`);
  }
  for (const r of (node['x-kubernetes-validations'] as { rule: string }[] | undefined) ?? []) {
    // CEL cost is estimated from bounds: every string or list a rule can reach must be bounded.
    if (node['type'] === 'string' && node['maxLength'] === undefined)
      out.push(`${path}: string with CEL rule needs maxLength`);
    if (node['type'] === 'array' && node['maxItems'] === undefined)
      out.push(`${path}: list with CEL rule needs maxItems`);
    const c = checkRule(r.rule);
    if (!c.valid) out.push(`${path}: CEL rule does not compile: ${r.rule}: ${c.error}`);
  }
  const props = node['properties'] as Record<string, StructuralSchema> | undefined;
  for (const [k, v] of Object.entries(props ?? {})) structuralViolations(v, `${path}.${k}`, out);
  if (node['items']) structuralViolations(node['items'] as StructuralSchema, `${path}[]`, out);
  if (typeof node['additionalProperties'] === 'object')
    structuralViolations(node['additionalProperties'] as StructuralSchema, `${path}{}`, out);
}

describe('generated CRDs', () => {
  it.each(KINDS)('%s CRD is a structural schema with compiling CEL rules', (kind) => {
    const crd = crdObject(KIND_DEFINITIONS[kind]) as {
      spec: { versions: { schema: { openAPIV3Schema: StructuralSchema } }[] };
    };
    const out: string[] = [];
    structuralViolations(crd.spec.versions[0]!.schema.openAPIV3Schema, kind, out);
    expect(out).toEqual([]);
  });

  it.each(KINDS)('%s CRD has the right names, scope, category, subresource and columns', (kind) => {
    const def = KIND_DEFINITIONS[kind];
    const crd = parse(renderGeneratedFiles().get(`crds/${crdFileName(def)}`)!) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(crd['apiVersion']).toBe('apiextensions.k8s.io/v1');
    expect(crd['metadata'].name).toBe(`${def.plural}.kollect.dev`);
    expect(crd['spec'].scope).toBe(def.scope);
    expect(crd['spec'].names.categories).toEqual(['kollect']);
    expect(crd['spec'].names.shortNames).toEqual(def.shortNames);
    const v = crd['spec'].versions[0];
    expect(v).toMatchObject({ name: 'v1alpha1', served: true, storage: true });
    expect(v.subresources?.status !== undefined).toBe(def.status !== undefined);
    expect(v.additionalPrinterColumns.map((c: { name: string }) => c.name)).toContain('Age');
  });

  it('uses the short names of the seed', () => {
    expect(KINDS.map((k) => KIND_DEFINITIONS[k].shortNames[0])).toEqual([
      'kprof',
      'ktgt',
      'kctgt',
      'kinv',
      'kcinv',
      'ksnap',
      'kdb',
      'kevt',
      'kscope',
      'kcscope',
      'kconntest',
    ]);
  });

  it('scopes the cluster kinds to the cluster and everything else to namespaces', () => {
    const cluster = KINDS.filter((k) => KIND_DEFINITIONS[k].scope === 'Cluster');
    expect(cluster).toEqual(['KollectClusterTarget', 'KollectClusterInventory', 'KollectClusterScope']);
  });

  it('prints Ready, Synced, Items and Last export for inventories and Sink, Verified for connection tests', () => {
    const cols = (k: (typeof KINDS)[number]) => KIND_DEFINITIONS[k].printerColumns.map((c) => c.name);
    expect(cols('KollectInventory')).toEqual(
      expect.arrayContaining(['Ready', 'Synced', 'Items', 'Last export', 'Age']),
    );
    expect(cols('KollectConnectionTest')).toEqual(expect.arrayContaining(['Sink', 'Verified']));
  });

  it('keeps string-or-object sink ref entries as preserved unknown fields', () => {
    const crd = crdObject(KIND_DEFINITIONS.KollectInventory) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const refs = crd['spec'].versions[0].schema.openAPIV3Schema.properties.spec.properties.snapshotSinkRefs;
    expect(refs).toMatchObject({
      type: 'array',
      maxItems: 20,
      items: { 'x-kubernetes-preserve-unknown-fields': true },
    });
  });

  it('keys profile attributes by name', () => {
    const crd = crdObject(KIND_DEFINITIONS.KollectProfile) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const attrs = crd['spec'].versions[0].schema.openAPIV3Schema.properties.spec.properties.attributes;
    expect(attrs['x-kubernetes-list-type']).toBe('map');
    expect(attrs['x-kubernetes-list-map-keys']).toEqual(['name']);
  });

  it('never leaks documentation-only keys into the CRDs', () => {
    for (const [rel, text] of renderGeneratedFiles())
      if (rel.startsWith('crds/')) expect(text).not.toMatch(/x-kollect-/);
  });
});
