import { describe, expect, it } from 'vitest';
import { HEADERS, subjects } from '@kollect/contracts';
import {
  loggedObjectOf,
  objectEnvelope,
  tombstoneMessage,
  upsertMessage,
  vanishedObjects,
  type LoggedObject,
} from './object-message.js';

const gvr = { group: '', version: 'v1', resource: 'configmaps' };
const obj = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'app.config', namespace: 'team-a', uid: 'u-1', resourceVersion: '42' },
  data: { a: '1' },
};

const headerMap = (h: Record<string, string>) => ({ get: (k: string) => h[k] ?? '' });

describe('object messages', () => {
  it('builds an upsert with the object and a tombstone without it', () => {
    const up = upsertMessage('prod', gvr, 'ConfigMap', obj, 'list');
    expect(up).toMatchObject({
      op: 'upsert',
      cluster: 'prod',
      kind: 'ConfigMap',
      namespace: 'team-a',
      name: 'app.config',
      uid: 'u-1',
      resourceVersion: '42',
      origin: 'list',
    });
    expect(up.object).toBe(obj);
    const del = tombstoneMessage(
      'prod',
      gvr,
      'ConfigMap',
      { namespace: 'team-a', name: 'app.config', uid: 'u-1', resourceVersion: '43' },
      'watch',
    );
    expect(del.op).toBe('delete');
    expect('object' in del).toBe(false);
  });

  it('builds a tombstone from a logged object (which carries op upsert) as a delete', () => {
    const logged = {
      op: 'upsert' as const,
      uid: 'u-1',
      namespace: 'team-a',
      name: 'x',
      resourceVersion: '9',
    };
    const del = tombstoneMessage('prod', gvr, 'ConfigMap', logged, 'relist-vanished');
    expect(del.op).toBe('delete');
    expect(objectEnvelope(del).msgId).toBe('u-1:9:delete');
    expect(objectEnvelope(del).headers[HEADERS.objectOp]).toBe('delete');
  });

  it('uses the object subject, uid:rv msgIds that differ for a delete, and identity headers', () => {
    const up = objectEnvelope(upsertMessage('prod', gvr, 'ConfigMap', obj, 'watch'));
    expect(up.subject).toBe(subjects.object('prod', gvr, 'u-1'));
    expect(up.msgId).toBe('u-1:42');
    expect(up.headers[HEADERS.objectOp]).toBe('upsert');
    expect(up.headers[HEADERS.objectName]).toBe('app.config');
    const del = objectEnvelope(
      tombstoneMessage(
        'prod',
        gvr,
        'ConfigMap',
        { namespace: 'team-a', name: 'app.config', uid: 'u-1', resourceVersion: '42' },
        'relist-vanished',
      ),
    );
    expect(del.msgId).not.toBe(up.msgId);
  });

  it('reads a logged object back from subject and headers alone', () => {
    const env = objectEnvelope(upsertMessage('prod.eu', gvr, 'ConfigMap', obj, 'watch'));
    expect(loggedObjectOf(env.subject, headerMap(env.headers))).toEqual({
      op: 'upsert',
      uid: 'u-1',
      namespace: 'team-a',
      name: 'app.config',
      resourceVersion: '42',
    });
    expect(loggedObjectOf(env.subject, headerMap({}))).toBeUndefined();
    expect(loggedObjectOf(env.subject, undefined)).toBeUndefined();
  });
});

describe('vanishedObjects', () => {
  const logged = (uid: string, namespace: string, op: 'upsert' | 'delete' = 'upsert'): LoggedObject => ({
    op,
    uid,
    namespace,
    name: uid,
    resourceVersion: '1',
  });

  it('returns logged live objects of the scope that the fresh list lacks', () => {
    const got = vanishedObjects(
      [
        logged('kept', 'a'),
        logged('gone', 'a'),
        logged('already-tombstoned', 'a', 'delete'),
        logged('other-ns', 'b'),
      ],
      new Set(['kept']),
      (ns) => ns === 'a',
    );
    expect(got.map((o) => o.uid)).toEqual(['gone']);
  });
});
