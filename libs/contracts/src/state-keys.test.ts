import { describe, expect, it } from 'vitest';
import { stateKeySegment, watchSyncFilter, watchSyncKey } from './index.js';

const KV_KEY = /^[-/_=.A-Za-z0-9]+$/;

describe('watch sync keys', () => {
  it('builds a valid KV key with one segment per part, even for dotted groups and names', () => {
    const key = watchSyncKey(
      'prod.west',
      { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses' },
      'team-a',
    );
    expect(key).toMatch(KV_KEY);
    expect(key.split('.')).toEqual([
      'sync',
      'prod=2Ewest',
      'networking=2Ek8s=2Eio=2Fv1=2Fingresses',
      'team-a',
    ]);
  });

  it('distinguishes a cluster-wide watch from a namespaced one and from the core group', () => {
    const gvr = { group: '', version: 'v1', resource: 'services' };
    expect(watchSyncKey('c', gvr, null)).toBe('sync.c.=2Fv1=2Fservices._all');
    expect(watchSyncKey('c', gvr, 'default')).toBe('sync.c.=2Fv1=2Fservices.default');
  });

  it('encodes the empty string and the escape character losslessly', () => {
    expect(stateKeySegment('')).toBe('=');
    expect(stateKeySegment('a=b')).toBe('a=3Db');
    expect(stateKeySegment('é')).toBe('=C3=A9');
  });

  it('filters every sync key of one cluster', () => {
    expect(watchSyncFilter('prod.west')).toBe('sync.prod=2Ewest.>');
  });
});
