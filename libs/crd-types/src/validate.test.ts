import { describe, expect, it } from 'vitest';
import { KINDS, type KollectKind } from './kinds.js';
import { SAMPLES } from './samples/index.js';
import { SCHEMA_INVALID_CASES } from './samples/invalid.js';
import { applyDefaults, validate, validateObject } from './validate.js';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A copy of the sample of `kind` changed by `edit`. */
function variant(kind: KollectKind, edit: (d: Doc) => void): Doc {
  const d = structuredClone(SAMPLES[kind]) as Doc;
  edit(d);
  return d;
}

const invalid = SCHEMA_INVALID_CASES;

describe('validate', () => {
  it.each(KINDS)('accepts the %s sample', (kind) => {
    const r = validate(kind, SAMPLES[kind]);
    expect(r.errors).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('has at least three invalid cases for every kind', () => {
    for (const kind of KINDS)
      expect(invalid.filter((c) => c.kind === kind).length, kind).toBeGreaterThanOrEqual(3);
  });

  it.each(invalid.map((c) => [c.name, c] as const))('rejects a %s at the exact field path', (_, c) => {
    const r = validate(c.kind, variant(c.kind, c.edit));
    expect(r.ok).toBe(false);
    const hit = r.errors.find((e) => e.path === c.path);
    expect(hit, `errors were ${JSON.stringify(r.errors)}`).toBeDefined();
    if (c.reason) expect(hit?.reason).toBe(c.reason);
    if (c.message) expect(hit?.message).toMatch(c.message);
  });

  it('reports the wrong kind and apiVersion', () => {
    const r = validate('KollectProfile', { ...SAMPLES.KollectTarget, apiVersion: 'kollect.dev/v1' });
    expect(r.errors.map((e) => e.path)).toEqual(expect.arrayContaining(['apiVersion', 'kind']));
  });

  it('requires metadata.name or generateName', () => {
    const r = validate(
      'KollectScope',
      variant('KollectScope', (d) => (d.metadata = { namespace: 'team-a' })),
    );
    expect(r.errors).toContainEqual(
      expect.objectContaining({ path: 'metadata.name', reason: 'FieldValueRequired' }),
    );
  });

  it('ignores unknown fields when told to, as the apiserver prunes them', () => {
    const doc = variant('KollectScope', (d) => (d.spec.sinkRefs = ['a']));
    expect(validate('KollectScope', doc, { unknownFields: 'ignore' }).ok).toBe(true);
  });

  it('quotes map keys that are not identifiers in paths', () => {
    const doc = variant('KollectSnapshotSink', (d) => (d.spec.options = { 'x.y': 5 }));
    expect(validate('KollectSnapshotSink', doc).errors).toContainEqual(
      expect.objectContaining({ path: 'spec.options["x.y"]', reason: 'FieldValueTypeInvalid' }),
    );
  });

  it('validateObject reads the kind from the object', () => {
    expect(validateObject(SAMPLES.KollectEventSink).ok).toBe(true);
    expect(validateObject({ kind: 'Pod' }).errors[0]?.path).toBe('kind');
  });
});

describe('applyDefaults', () => {
  it('fills CRD defaults without touching the input', () => {
    const input = variant('KollectInventory', (d) => delete d.spec.exportMinInterval);
    const out = applyDefaults('KollectInventory', input) as Doc;
    expect(out['spec'].exportMinInterval).toBe('30s');
    expect((input as Doc)['spec'].exportMinInterval).toBeUndefined();
  });

  it('defaults nested fields only inside objects that exist', () => {
    const out = applyDefaults('KollectProfile', SAMPLES.KollectProfile) as Doc;
    expect(out['spec'].export).toBeUndefined();
    const withExport = applyDefaults(
      'KollectProfile',
      variant('KollectProfile', (d) => (d.spec.export = { mode: 'Resource', prune: {} })),
    ) as Doc;
    expect(withExport['spec'].export).toEqual({
      mode: 'Resource',
      as: 'resource',
      include: 'SpecAndStatus',
      dedupeIdentity: true,
      prune: { defaults: true },
    });
  });

  it('defaults sink, cluster inventory and connection test fields', () => {
    const sink = applyDefaults(
      'KollectSnapshotSink',
      variant('KollectSnapshotSink', (d) => ((d.spec.git = { author: {} }), delete d.spec.connectionTest)),
    ) as Doc;
    expect(sink['spec'].connectionTest).toBe(true);
    expect(sink['spec'].git).toMatchObject({
      pushPolicy: 'Commit',
      cloneDepth: 1,
      engine: 'go-git',
      author: { name: 'kollect', email: 'kollect@kollect.dev' },
    });
    const ci = applyDefaults(
      'KollectClusterInventory',
      variant(
        'KollectClusterInventory',
        (d) => (delete d.spec.sinkNamespace, delete d.spec.dedupe, delete d.spec.exportMinInterval),
      ),
    ) as Doc;
    expect(ci['spec']).toMatchObject({
      sinkNamespace: 'kollect-system',
      dedupe: 'keepAll',
      exportMinInterval: '30s',
    });
    const ct = applyDefaults(
      'KollectConnectionTest',
      variant('KollectConnectionTest', (d) => delete d.spec.ttlSecondsAfterFinished),
    ) as Doc;
    expect(ct['spec']).toMatchObject({ ownerSink: true, ttlSecondsAfterFinished: 300 });
  });

  it('leaves plain-string sink refs as they are', () => {
    const out = applyDefaults('KollectInventory', SAMPLES.KollectInventory) as Doc;
    expect(out['spec'].databaseSinkRefs).toEqual(['portal-postgres']);
  });
});
