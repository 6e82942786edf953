import { describe, expect, it } from 'vitest';
import type { WatchSpec } from '@kollect/plan';
import { desiredScopes, inScope, keepsSecretData } from './scopes.js';

const deployments = (namespaces: string[] | null, extra: Partial<WatchSpec> = {}): WatchSpec => ({
  gvr: { group: 'apps', version: 'v1', resource: 'deployments' },
  gvk: { group: 'apps', version: 'v1', kind: 'Deployment' },
  namespaced: true,
  namespaces,
  ...extra,
});
const nodes: WatchSpec = {
  gvr: { group: '', version: 'v1', resource: 'nodes' },
  gvk: { group: '', version: 'v1', kind: 'Node' },
  namespaced: false,
  namespaces: ['ignored'],
};

describe('desiredScopes', () => {
  it('watches each namespace separately up to the threshold', () => {
    const scopes = desiredScopes([deployments(['b', 'a'])], { namespaceThreshold: 2 });
    expect(scopes.map((s) => [s.namespace, s.namespaceFilter])).toEqual([
      ['a', null],
      ['b', null],
    ]);
    expect(new Set(scopes.map((s) => s.key)).size).toBe(2);
    expect(scopes[0]!.kind).toBe('Deployment');
  });

  it('watches cluster-wide with a namespace filter above the threshold', () => {
    const [s, ...rest] = desiredScopes([deployments(['c', 'a', 'b'])], { namespaceThreshold: 2 });
    expect(rest).toEqual([]);
    expect(s!.namespace).toBeNull();
    expect(s!.namespaceFilter).toEqual(['a', 'b', 'c']);
  });

  it('changes the scope key when the filtered namespace set changes, not when it is reordered', () => {
    const k = (ns: string[]) => desiredScopes([deployments(ns)], { namespaceThreshold: 1 })[0]!.key;
    expect(k(['a', 'b'])).toBe(k(['b', 'a']));
    expect(k(['a', 'b'])).not.toBe(k(['a', 'c']));
  });

  it('watches all namespaces unfiltered when the plan needs every namespace, and cluster-scoped kinds once', () => {
    const scopes = desiredScopes([deployments(null), nodes]);
    expect(scopes.map((s) => [s.gvr.resource, s.namespace, s.namespaceFilter])).toEqual([
      ['nodes', null, null],
      ['deployments', null, null],
    ]);
  });

  it('needs nothing for a GVR wanted in no namespace', () => {
    expect(desiredScopes([deployments([])])).toEqual([]);
  });

  it('merges duplicate specs of one GVR (union of namespaces, all-namespaces wins, secret data if any asks)', () => {
    expect(desiredScopes([deployments(['a']), deployments(['b'])]).map((s) => s.namespace)).toEqual([
      'a',
      'b',
    ]);
    expect(desiredScopes([deployments(['a']), deployments(null)]).map((s) => s.namespace)).toEqual([null]);
    const secrets = (allow: boolean): WatchSpec => ({
      gvr: { group: '', version: 'v1', resource: 'secrets' },
      gvk: { group: '', version: 'v1', kind: 'Secret' },
      namespaced: true,
      namespaces: ['a'],
      allowSecretData: allow,
    });
    const [merged] = desiredScopes([secrets(false), secrets(true)]);
    expect(merged!.allowSecretData).toBe(true);
    expect(merged!.key).not.toBe(desiredScopes([secrets(false)])[0]!.key);
  });
});

describe('desiredScopes — Secret data per namespace', () => {
  const secrets = (namespaces: string[] | null, extra: Partial<WatchSpec> = {}): WatchSpec => ({
    gvr: { group: '', version: 'v1', resource: 'secrets' },
    gvk: { group: '', version: 'v1', kind: 'Secret' },
    namespaced: true,
    namespaces,
    ...extra,
  });

  it('keeps data only in the per-namespace scopes the plan names', () => {
    const scopes = desiredScopes([secrets(['a', 'b'], { secretDataNamespaces: ['a'] })]);
    expect(scopes.map((s) => [s.namespace, s.allowSecretData, keepsSecretData(s, s.namespace!)])).toEqual([
      ['a', true, true],
      ['b', false, false],
    ]);
    expect(scopes[0]!.key).toContain('secret-data');
    expect(scopes[1]!.key).not.toContain('secret-data');
  });

  it('filters a cluster-wide scope to the data namespaces, and keys it by them', () => {
    const [s] = desiredScopes([secrets(null, { secretDataNamespaces: ['b', 'a'] })]);
    expect(s!.allowSecretData).toBe(false);
    expect(s!.secretDataNamespaces).toEqual(['a', 'b']);
    expect([keepsSecretData(s!, 'a'), keepsSecretData(s!, 'z')]).toEqual([true, false]);
    const key = (data: string[]) => desiredScopes([secrets(null, { secretDataNamespaces: data })])[0]!.key;
    expect(key(['a', 'b'])).toBe(key(['b', 'a']));
    expect(key(['a'])).not.toBe(key(['a', 'b']));
    expect(key(['a'])).not.toBe(desiredScopes([secrets(null)])[0]!.key);
  });

  it('keeps data everywhere when the data namespaces cover a filtered scope, or the plan says all', () => {
    const [filtered] = desiredScopes([secrets(['a', 'b'], { secretDataNamespaces: ['a', 'b'] })], {
      namespaceThreshold: 1,
    });
    expect([filtered!.allowSecretData, filtered!.secretDataNamespaces]).toEqual([true, null]);
    const [all] = desiredScopes([secrets(null, { allowSecretData: true })]);
    expect([all!.allowSecretData, all!.secretDataNamespaces]).toEqual([true, null]);
  });

  it('merges specs of one GVR per namespace: one asking for data does not expose the other', () => {
    const scopes = desiredScopes([secrets(['a'], { allowSecretData: true }), secrets(['b'])]);
    expect(scopes.map((s) => [s.namespace, s.allowSecretData])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    const [wide] = desiredScopes([secrets(['a'], { allowSecretData: true }), secrets(null)]);
    expect([wide!.namespace, wide!.allowSecretData, wide!.secretDataNamespaces]).toEqual([
      null,
      false,
      ['a'],
    ]);
  });
});

describe('inScope', () => {
  it('matches the namespace of a per-namespace scope, the filter of a filtered one, anything otherwise', () => {
    const [a] = desiredScopes([deployments(['a'])]);
    const [filtered] = desiredScopes([deployments(['a', 'b'])], { namespaceThreshold: 1 });
    const [all] = desiredScopes([deployments(null)]);
    expect([inScope(a!, 'a'), inScope(a!, 'b')]).toEqual([true, false]);
    expect([inScope(filtered!, 'b'), inScope(filtered!, 'z')]).toEqual([true, false]);
    expect(inScope(all!, 'z')).toBe(true);
  });
});
