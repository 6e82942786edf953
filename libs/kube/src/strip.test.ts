import { describe, expect, it } from 'vitest';
import { LAST_APPLIED_ANNOTATION, itemKindOfList, stripObject } from './strip.js';
import type { KubeObject } from './types.js';

const withNoise = (): KubeObject => ({
  metadata: {
    name: 'web',
    namespace: 'team-a',
    uid: 'u',
    resourceVersion: '5',
    managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:data': {} } }],
    annotations: { [LAST_APPLIED_ANNOTATION]: '{"big":"copy"}', keep: 'me' },
    labels: { app: 'web' },
  },
  data: { k: 'v' },
});

describe('stripObject', () => {
  it('removes managedFields and the last-applied annotation but keeps other metadata', () => {
    const o = stripObject(withNoise(), { apiVersion: 'v1', kind: 'ConfigMap' });
    expect(o.metadata?.managedFields).toBeUndefined();
    expect(o.metadata?.annotations).toEqual({ keep: 'me' });
    expect(o.metadata?.labels).toEqual({ app: 'web' });
    expect(o['data']).toEqual({ k: 'v' });
  });

  it('drops an annotations map that only held last-applied', () => {
    const o: KubeObject = { metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: '{}' } } };
    stripObject(o);
    expect(o.metadata && 'annotations' in o.metadata).toBe(false);
  });

  it('fills in apiVersion and kind that list items lack, without overriding present ones', () => {
    const item = stripObject(withNoise(), { apiVersion: 'apps/v1', kind: 'Deployment' });
    expect(item.apiVersion).toBe('apps/v1');
    expect(item.kind).toBe('Deployment');
    const watched = stripObject(
      { apiVersion: 'v1', kind: 'Pod', metadata: {} },
      { apiVersion: 'x/v9', kind: 'Other' },
    );
    expect([watched.apiVersion, watched.kind]).toEqual(['v1', 'Pod']);
  });

  it('removes data and stringData of core Secrets unless secret data is allowed', () => {
    const secret = (): KubeObject => ({
      metadata: { name: 's' },
      type: 'Opaque',
      data: { p: 'aGk=' },
      stringData: { q: 'x' },
    });
    const stripped = stripObject(secret(), { apiVersion: 'v1', kind: 'Secret' });
    expect(stripped['data']).toBeUndefined();
    expect(stripped['stringData']).toBeUndefined();
    expect(stripped['type']).toBe('Opaque');
    const allowed = stripObject(secret(), { apiVersion: 'v1', kind: 'Secret', allowSecretData: true });
    expect(allowed['data']).toEqual({ p: 'aGk=' });
  });

  it('leaves data of a non-core kind called Secret alone', () => {
    const crd = stripObject(
      { metadata: {}, data: { a: 1 } },
      { apiVersion: 'example.com/v1', kind: 'Secret' },
    );
    expect(crd['data']).toEqual({ a: 1 });
  });
});

describe('itemKindOfList', () => {
  it('derives the item kind from the list kind', () => {
    expect(itemKindOfList('ConfigMapList')).toBe('ConfigMap');
    expect(itemKindOfList('List')).toBeUndefined();
    expect(itemKindOfList(undefined)).toBeUndefined();
    expect(itemKindOfList('Status')).toBeUndefined();
  });
});
