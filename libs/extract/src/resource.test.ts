import { describe, expect, it } from 'vitest';
import type { CompiledExport } from '@kollect/plan';
import { deployment, dig } from './__fixtures__/objects.js';
import { Scrubber } from './redact.js';
import { compileResourceExport, exportResource, parseJsonPointer, parsePruneJsonPath } from './resource.js';

function spec(
  over: Omit<Partial<CompiledExport>, 'prune'> & { prune?: Partial<CompiledExport['prune']> } = {},
): CompiledExport {
  return {
    mode: 'Resource',
    as: 'resource',
    include: 'SpecAndStatus',
    dedupeIdentity: true,
    ...over,
    prune: { defaults: true, jsonPointers: [], jsonPaths: [], scrubKeys: [], ...over.prune },
  };
}

const run = (s: CompiledExport, obj = deployment()): Record<string, unknown> =>
  exportResource(obj, compileResourceExport(s, Scrubber.withBuiltins(s.prune.scrubKeys))) as Record<
    string,
    unknown
  >;

describe('Resource export (SEED-SPEC §4.4)', () => {
  it.each([
    ['MetadataOnly', ['apiVersion', 'kind', 'metadata']],
    ['SpecOnly', ['apiVersion', 'kind', 'spec']],
    ['StatusOnly', ['apiVersion', 'kind', 'status']],
    ['SpecAndStatus', ['apiVersion', 'kind', 'spec', 'status']],
    ['All', ['apiVersion', 'kind', 'metadata', 'spec', 'status']],
  ] as const)('include %s keeps %j', (include, keys) => {
    expect(Object.keys(run(spec({ include })))).toEqual(keys);
  });

  it('strips identity and the default pointers', () => {
    const md = run(spec({ include: 'MetadataOnly' }))['metadata'] as Record<string, unknown>;
    expect(md['name']).toBeUndefined();
    expect(md['namespace']).toBeUndefined();
    expect(md['uid']).toBeUndefined();
    expect(md['resourceVersion']).toBeUndefined();
    expect(md['generation']).toBeUndefined();
    expect(md['annotations']).toEqual({ 'deployment.kubernetes.io/revision': '4' });
    expect(md['labels']).toBeDefined();
  });

  it('keeps identity and defaults when told to', () => {
    const md = run(spec({ include: 'MetadataOnly', dedupeIdentity: false, prune: { defaults: false } }))[
      'metadata'
    ] as Record<string, unknown>;
    expect(md['name']).toBe('web-api');
    expect(md['resourceVersion']).toBe('48213');
    expect(Object.keys(md['annotations'] as object)).toHaveLength(2);
  });

  it('removes author pointers; an array index is set to null, not spliced', () => {
    const out = run(
      spec({
        prune: { jsonPointers: ['/spec/template/spec/containers/0', '/status/conditions', '/spec/nope/x'] },
      }),
    );
    expect(dig(out, 'spec.template.spec.containers.0')).toBeNull();
    expect(dig(out, 'spec.template.spec.containers.1.name')).toBe('envoy');
    expect(dig(out, 'status.conditions')).toBeUndefined();
  });

  it('removes the jsonPaths subset and ignores wildcard paths with a warning', () => {
    const s = spec({
      prune: {
        jsonPaths: ['$.spec.strategy', '.status["readyReplicas"]', '$.spec.template.spec.containers[*].env'],
      },
    });
    const x = compileResourceExport(s, Scrubber.withBuiltins());
    expect(x.warnings).toHaveLength(1);
    const out = exportResource(deployment(), x);
    expect(dig(out, 'spec.strategy')).toBeUndefined();
    expect(dig(out, 'status.readyReplicas')).toBeUndefined();
    expect(dig(out, 'spec.template.spec.containers.0.env')).toHaveLength(3);
  });

  it('scrubs with built-in, operator and profile keys', () => {
    const obj = deployment();
    (dig(obj, 'spec.template.spec.containers.0.env') as unknown[]).push({ name: 'X', sessionId: 'abc' });
    const env = dig(
      run(spec({ prune: { scrubKeys: ['sessionId'] } }), obj),
      'spec.template.spec.containers.0.env',
    );
    expect(dig(env, '1.valueFrom')).toEqual({ redacted: true, reason: 'sensitive-key' });
    expect(dig(env, '3.sessionId')).toEqual({ redacted: true, reason: 'sensitive-key' });
    expect(dig(env, '2.valueFrom.configMapKeyRef.name')).toBe('features');
  });

  it('never modifies the source object', () => {
    const obj = deployment();
    const before = JSON.stringify(obj);
    run(spec({ include: 'All', prune: { jsonPointers: ['/spec/replicas'] } }), obj);
    expect(JSON.stringify(obj)).toBe(before);
  });

  it.each([
    ['/a/b', ['a', 'b']],
    ['/a~1b/c~0d', ['a/b', 'c~d']],
    ['/', ['']],
    ['a/b', undefined],
    ['/a~2', undefined],
  ])('parses the pointer %s', (p, want) => {
    expect(parseJsonPointer(p)).toEqual(want);
  });

  it.each([
    ['$.a.b', ['a', 'b']],
    ['a.b[0]', ['a', 'b', 0]],
    ["{.metadata.annotations['x.y/z']}", ['metadata', 'annotations', 'x.y/z']],
    ['$.a[*].b', undefined],
    ['$..a', undefined],
    ['$.a[?(@.x)]', undefined],
  ])('parses the prune path %s', (p, want) => {
    expect(parsePruneJsonPath(p)).toEqual(want);
  });
});
