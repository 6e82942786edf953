import { PoisonMessage } from '@kollect/bus';
import { BUS_SCHEMA_VERSION } from '@kollect/contracts';
import { describe, expect, it } from 'vitest';
import { parseRowMessage } from './messages.js';
import { exportKvKey, rowKvKey } from './store.js';

const good = {
  schemaVersion: BUS_SCHEMA_VERSION,
  op: 'upsert',
  cluster: 'c',
  inventory: { kind: 'KollectInventory', namespace: 'team-a', name: 'web' },
  key: { targetNamespace: 'team-a', targetName: 'web', uid: 'u1' },
  item: {
    targetNamespace: 'team-a',
    targetName: 'web',
    namespace: 'team-a',
    name: 'api',
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    uid: 'u1',
    attributes: { image: 'nginx' },
  },
  sourceSeq: 7,
  planGeneration: 2,
};

describe('row messages', () => {
  it('accepts a well-formed upsert and delete', () => {
    expect(parseRowMessage(good, 'm')).toMatchObject({
      op: 'upsert',
      sourceSeq: 7,
      planGeneration: 2,
      item: { uid: 'u1' },
    });
    const { item: _item, ...del } = { ...good, op: 'delete' };
    expect(parseRowMessage(del, 'm').item).toBeUndefined();
  });

  it.each([
    ['another schema version', { ...good, schemaVersion: 'kollect.dev/bus/v0' }],
    ['an unknown op', { ...good, op: 'merge' }],
    ['a missing key', { ...good, key: undefined }],
    ['a fractional sequence', { ...good, sourceSeq: 1.5 }],
    ['an item with an unknown field', { ...good, item: { ...good.item, extra: 1 } }],
    ['an upsert without item', { ...good, item: undefined }],
  ])('treats %s as poison (never retried)', (_what, msg) => {
    expect(() => parseRowMessage(msg, 'rows #1')).toThrow(
      expect.objectContaining({ code: PoisonMessage.code }),
    );
  });
});

describe('KV layout', () => {
  const KV_KEY = /^[-/_=.A-Za-z0-9]+$/;
  it('builds valid keys with exactly one segment per inventory and per row, whatever their characters', () => {
    const k = rowKvKey(3, 'KollectInventory/team.a/web', 'team.a\u0000web.x\u0000uid-1');
    expect(k).toMatch(KV_KEY);
    expect(k.split('.')).toHaveLength(4);
    expect(k.startsWith('r.3.')).toBe(true);
    expect(exportKvKey(3, 'KollectInventory/team.a/web').split('.')).toHaveLength(3);
    expect(rowKvKey(3, 'a', 'b')).not.toBe(rowKvKey(3, 'a.b', ''));
  });
});
