import { checksumItems, type SnapshotMessage } from '@kollect/contracts';
import { describe, expect, it } from 'vitest';
import { item, TEAM_A } from './fixtures.test-helper.js';
import { decodeSnapshotMessage, encodeSnapshotMessage, planSnapshotPublication } from './index.js';

function message(n: number): SnapshotMessage {
  const upserts = Array.from({ length: n }, (_, i) =>
    item('team-a', 'web', `u${i}`, { image: 'x'.repeat(100), i }),
  );
  return {
    schemaVersion: 'kollect.dev/v1alpha1',
    kind: 'diff',
    cluster: 'prod',
    inventory: TEAM_A,
    generation: 2,
    exportGeneration: 7,
    previousGeneration: 6,
    checksum: checksumItems(upserts),
    itemCount: n,
    exportedAt: '2026-01-15T12:00:00.123456789Z',
    upserts,
    deletes: [{ targetNamespace: 'team-a', targetName: 'web', uid: 'gone' }],
  };
}

describe('snapshot wire format', () => {
  it('round-trips through encode and decode', () => {
    const m = message(3);
    expect(decodeSnapshotMessage(encodeSnapshotMessage(m))).toEqual(m);
  });

  it('keeps the final marker of a deleted inventory’s last export, and rejects a malformed one', () => {
    const m: SnapshotMessage = { ...message(0), final: 'inventory-deleted' };
    expect(decodeSnapshotMessage(encodeSnapshotMessage(m)).final).toBe('inventory-deleted');
    expect(decodeSnapshotMessage(encodeSnapshotMessage(message(0))).final).toBeUndefined();
    expect(() => decodeSnapshotMessage(JSON.stringify({ ...m, final: true }))).toThrow(/final/);
  });

  it('rejects a message of another schema version or with a malformed delete', () => {
    const m = message(1);
    expect(() => decodeSnapshotMessage(JSON.stringify({ ...m, schemaVersion: 'v0' }))).toThrow(
      /schemaVersion/,
    );
    expect(() => decodeSnapshotMessage(JSON.stringify({ ...m, deletes: [{ uid: 'x' }] }))).toThrow(
      /deletes\[0\]/,
    );
  });

  it('publishes small snapshots inline', () => {
    const pub = planSnapshotPublication(message(3), { maxInlineBytes: 64 * 1024, bucket: 'kollect_full' });
    expect(pub.object).toBeUndefined();
    expect(pub.message.upserts).toHaveLength(3);
  });

  it('moves a snapshot larger than the threshold to the object store and publishes a resolvable stub', () => {
    const m = message(500);
    const pub = planSnapshotPublication(m, { maxInlineBytes: 16 * 1024, bucket: 'kollect_full' });
    expect(pub.object?.name).toBe('diff/prod/KollectInventory/team-a/web/7.json');
    expect(pub.body.length).toBeLessThan(16 * 1024);
    expect(pub.message).toMatchObject({
      exportGeneration: 7,
      checksum: m.checksum,
      itemCount: 500,
      upserts: [],
      deletes: [],
      objectRef: { bucket: 'kollect_full', name: pub.object?.name, bytes: pub.object?.data.length },
    });
    expect(decodeSnapshotMessage(pub.object!.data)).toEqual(m);
  });
});
