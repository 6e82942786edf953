import { rowKeyString, type RowMessage } from '@kollect/contracts';
import { describe, expect, it } from 'vitest';
import { del, inventory, item, plan, rng, shuffle, target, TEAM_A, upsert } from './fixtures.test-helper.js';
import {
  applyRow,
  compareVersions,
  createTable,
  exportedSet,
  expireTombstones,
  inventoryView,
  liveEntries,
  persistedRow,
  restoreRow,
  retainAccepted,
  takeDirty,
  type RowTable,
} from './index.js';

const web = target('team-a', 'web', [{ inventory: TEAM_A }]);
const api = target('team-a', 'api', [{ inventory: TEAM_A }]);
const p1 = plan(1, [web, api], [inventory(TEAM_A, [web, api])]);
const view1 = inventoryView(p1, TEAM_A);
const NOW = 1_700_000_000_000;

function snapshotOf(t: RowTable): Record<string, { attrs: unknown; seq: number; pg: number }> {
  const out: Record<string, { attrs: unknown; seq: number; pg: number }> = {};
  for (const e of liveEntries(t)) {
    out[rowKeyString(e.item)] = { attrs: e.item.attributes, seq: e.sourceSeq, pg: e.planGeneration };
  }
  return out;
}

describe('row versions', () => {
  it('orders by source sequence first and plan generation second', () => {
    expect(compareVersions({ sourceSeq: 2, planGeneration: 1 }, { sourceSeq: 1, planGeneration: 9 })).toBe(1);
    expect(compareVersions({ sourceSeq: 1, planGeneration: 2 }, { sourceSeq: 1, planGeneration: 1 })).toBe(1);
    expect(compareVersions({ sourceSeq: 1, planGeneration: 1 }, { sourceSeq: 1, planGeneration: 1 })).toBe(0);
  });
});

describe('applyRow: last writer wins', () => {
  it('aggregator ignores a row older than the one it holds', () => {
    const t = createTable();
    expect(
      applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1', { v: 2 }), 20), { nowMs: NOW, view: view1 }),
    ).toBe('inserted');
    expect(
      applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1', { v: 1 }), 10), { nowMs: NOW, view: view1 }),
    ).toBe('stale');
    expect(liveEntries(t)[0]?.item.attributes).toEqual({ v: 2 });
  });

  it('a newer version replaces the row, an identical redelivery changes nothing', () => {
    const t = createTable();
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1', { v: 1 }), 10), { nowMs: NOW });
    const msg = upsert(TEAM_A, item('team-a', 'web', 'u1', { v: 2 }), 11);
    expect(applyRow(t, msg, { nowMs: NOW })).toBe('updated');
    const cv = t.contentVersion;
    expect(applyRow(t, msg, { nowMs: NOW })).toBe('duplicate');
    expect(t.contentVersion).toBe(cv);
  });

  it('a newer version with identical content is a refresh, not a content change', () => {
    const t = createTable();
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1', { v: 1 }), 10), { nowMs: NOW });
    const cv = t.contentVersion;
    expect(applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1', { v: 1 }), 12), { nowMs: NOW })).toBe(
      'refreshed',
    );
    expect(t.contentVersion).toBe(cv);
    expect(t.rows.get(rowKeyString(item('team-a', 'web', 'u1')))?.sourceSeq).toBe(12);
  });

  it('re-extraction under a newer plan (same source sequence) replaces the row', () => {
    const t = createTable();
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1', { image: 'nginx' }), 10, 1), {
      nowMs: NOW,
      view: view1,
    });
    const out = applyRow(
      t,
      upsert(TEAM_A, item('team-a', 'web', 'u1', { image: 'nginx', replicas: 3 }), 10, 2),
      {
        nowMs: NOW,
        view: view1,
      },
    );
    expect(out).toBe('updated');
    expect(liveEntries(t)[0]?.item.attributes).toEqual({ image: 'nginx', replicas: 3 });
    // The old plan's row arriving late does not bring the old attributes back.
    expect(
      applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1', { image: 'nginx' }), 10, 1), { nowMs: NOW }),
    ).toBe('stale');
  });

  it('a row from an older object version never replaces a newer one, whatever its plan generation', () => {
    const t = createTable();
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1', { v: 'new' }), 20, 1), { nowMs: NOW });
    expect(
      applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1', { v: 'old' }), 10, 5), { nowMs: NOW }),
    ).toBe('stale');
  });

  it('rejects an upsert whose item does not match its key', () => {
    const t = createTable();
    const msg = upsert(TEAM_A, item('team-a', 'web', 'u1'), 1);
    expect(applyRow(t, { ...msg, key: { ...msg.key, uid: 'other' } }, { nowMs: NOW })).toBe('invalid');
    expect(applyRow(t, { ...msg, item: undefined }, { nowMs: NOW })).toBe('invalid');
    expect(t.rows.size).toBe(0);
  });

  it('any order of the same messages, with repeats, gives the same table', () => {
    const msgs: RowMessage[] = [];
    for (let uid = 0; uid < 20; uid++) {
      for (let seq = 1; seq <= 4; seq++) {
        const base = uid * 100 + seq;
        const it = item('team-a', uid % 2 ? 'web' : 'api', `u${uid}`, { seq });
        if (seq === 3 && uid % 3 === 0)
          msgs.push(del(TEAM_A, { targetNamespace: 'team-a', targetName: it.targetName, uid: it.uid }, base));
        else msgs.push(upsert(TEAM_A, it, base));
      }
      // re-extraction of the last version under plan 2
      const last = item('team-a', uid % 2 ? 'web' : 'api', `u${uid}`, { seq: 4, reextracted: true });
      msgs.push(upsert(TEAM_A, last, uid * 100 + 4, 2));
    }
    const reference = createTable();
    for (const m of msgs) applyRow(reference, m, { nowMs: NOW });
    const want = snapshotOf(reference);
    expect(Object.keys(want)).toHaveLength(20);
    const rand = rng(42);
    for (let round = 0; round < 25; round++) {
      const t = createTable();
      const withRepeats = shuffle([...msgs, ...msgs.filter(() => rand() < 0.3)], rand);
      for (const m of withRepeats) applyRow(t, m, { nowMs: NOW });
      expect(snapshotOf(t)).toEqual(want);
      expect(exportedSet(t, view1).checksum).toBe(exportedSet(reference, view1).checksum);
    }
  });
});

describe('applyRow: deletes and tombstones', () => {
  const key = { targetNamespace: 'team-a', targetName: 'web', uid: 'u1' };

  it('a delete older than the held upsert is ignored', () => {
    const t = createTable();
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1'), 20), { nowMs: NOW });
    expect(applyRow(t, del(TEAM_A, key, 10), { nowMs: NOW })).toBe('stale');
    expect(t.liveCount).toBe(1);
  });

  it('a delete of an unknown row changes no content', () => {
    const t = createTable();
    const cv = t.contentVersion;
    expect(applyRow(t, del(TEAM_A, key, 10), { nowMs: NOW })).toBe('tombstoned');
    expect(t.liveCount).toBe(0);
    expect(t.contentVersion).toBe(cv);
    expect(persistedRow(t, rowKeyString(key))).toBeNull();
  });

  it('a delete beats an older upsert that arrives after it (replicas racing)', () => {
    const t = createTable();
    expect(applyRow(t, del(TEAM_A, key, 20), { nowMs: NOW })).toBe('tombstoned');
    expect(applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1'), 10), { nowMs: NOW })).toBe('stale');
    expect(t.liveCount).toBe(0);
  });

  it('a newer delete removes the row and its tombstone holds off the late older upsert', () => {
    const t = createTable();
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1'), 10), { nowMs: NOW });
    expect(applyRow(t, del(TEAM_A, key, 30), { nowMs: NOW })).toBe('deleted');
    expect(applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1'), 20), { nowMs: NOW })).toBe('stale');
    expect(t.liveCount).toBe(0);
    // A newer upsert (the object re-matched) comes back.
    expect(applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1'), 40), { nowMs: NOW })).toBe('inserted');
  });

  it('expires tombstones after the TTL, oldest first beyond the cap, but keeps deletes still to be exported', () => {
    const t = createTable();
    applyRow(t, del(TEAM_A, { ...key, uid: 'a' }, 1), { nowMs: NOW });
    applyRow(t, del(TEAM_A, { ...key, uid: 'b' }, 2), { nowMs: NOW + 10 });
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'c'), 3), { nowMs: NOW });
    t.rows.get(rowKeyString({ ...key, uid: 'c' }))!.exported = 'x'; // as if exported
    applyRow(t, del(TEAM_A, { ...key, uid: 'c' }, 4), { nowMs: NOW });
    expect(expireTombstones(t, NOW + 5, 1000)).toBe(0);
    expect(expireTombstones(t, NOW + 5, 1000, 1)).toBe(1); // cap: 'a' goes first
    expect(t.rows.has(rowKeyString({ ...key, uid: 'a' }))).toBe(false);
    expect(t.rows.has(rowKeyString({ ...key, uid: 'b' }))).toBe(true);
    expect(expireTombstones(t, NOW + 10_000, 1000)).toBe(1);
    // 'c' is a delete not yet exported: it stays (and stays persisted).
    expect(t.rows.has(rowKeyString({ ...key, uid: 'c' }))).toBe(true);
    expect(persistedRow(t, rowKeyString({ ...key, uid: 'c' }))).toEqual({ i: null, s: 4, g: 1, x: 'x' });
  });

  it('tracks changed keys for persistence', () => {
    const t = createTable();
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1'), 1), { nowMs: NOW });
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1'), 1), { nowMs: NOW });
    applyRow(t, upsert(TEAM_A, item('team-a', 'api', 'u2'), 2), { nowMs: NOW });
    expect(takeDirty(t).sort()).toEqual(
      [rowKeyString(key), rowKeyString({ ...key, targetName: 'api', uid: 'u2' })].sort(),
    );
    expect(takeDirty(t)).toEqual([]);
  });
});

describe('plan filtering', () => {
  const other = target('team-a', 'other', []);

  it('ignores rows of a target that does not feed the inventory under the current plan', () => {
    const t = createTable();
    expect(
      applyRow(t, upsert(TEAM_A, item('team-a', 'other', 'u1'), 1, 1), { nowMs: NOW, view: view1 }),
    ).toBe('foreign');
    expect(t.rows.size).toBe(0);
  });

  it('accepts rows computed under a newer plan the aggregator has not seen yet', () => {
    const t = createTable();
    expect(
      applyRow(t, upsert(TEAM_A, item('team-a', 'other', 'u1'), 1, 2), { nowMs: NOW, view: view1 }),
    ).toBe('inserted');
  });

  it('drops the rows of a removed target as deletes', () => {
    const t = createTable();
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1'), 1), { nowMs: NOW, view: view1 });
    applyRow(t, upsert(TEAM_A, item('team-a', 'api', 'u2'), 2), { nowMs: NOW, view: view1 });
    const p2 = plan(2, [web, api, other], [inventory(TEAM_A, [web])]);
    takeDirty(t);
    expect(retainAccepted(t, inventoryView(p2, TEAM_A), NOW)).toBe(1);
    expect(liveEntries(t).map((e) => e.item.targetName)).toEqual(['web']);
    expect(takeDirty(t)).toEqual([rowKeyString({ targetNamespace: 'team-a', targetName: 'api', uid: 'u2' })]);
    // a late row of the removed target under the old plan stays out
    expect(
      applyRow(t, upsert(TEAM_A, item('team-a', 'api', 'u3'), 3, 1), {
        nowMs: NOW,
        view: inventoryView(p2, TEAM_A),
      }),
    ).toBe('foreign');
  });

  it('restricts cluster-inventory rows to the feed namespaces', () => {
    const fleet = { kind: 'KollectClusterInventory' as const, namespace: '', name: 'fleet' };
    const ct = target(
      '',
      'all-deploys',
      [{ inventory: fleet, namespaces: ['team-a', 'default'] }],
      'KollectClusterTarget',
    );
    const p = plan(1, [ct], [inventory(fleet, [ct])]);
    const v = inventoryView(p, fleet);
    const t = createTable();
    expect(applyRow(t, upsert(fleet, item('team-a', 'all-deploys', 'u1'), 1), { nowMs: NOW, view: v })).toBe(
      'inserted',
    );
    expect(applyRow(t, upsert(fleet, item('team-b', 'all-deploys', 'u2'), 2), { nowMs: NOW, view: v })).toBe(
      'foreign',
    );
    // cluster-scoped objects pass the namespace gate as `default`
    expect(applyRow(t, upsert(fleet, item('', 'all-deploys', 'u3'), 3), { nowMs: NOW, view: v })).toBe(
      'inserted',
    );
  });
});

describe('persistence round trip', () => {
  it('restores exactly the rows and pending deletes it persisted', () => {
    const t = createTable();
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1', { a: 1 }), 1), { nowMs: NOW });
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u2', { a: 2 }), 2), { nowMs: NOW });
    t.rows.get(rowKeyString({ targetNamespace: 'team-a', targetName: 'web', uid: 'u2' }))!.exported = 'd2';
    applyRow(t, del(TEAM_A, { targetNamespace: 'team-a', targetName: 'web', uid: 'u2' }, 3), { nowMs: NOW });
    applyRow(t, del(TEAM_A, { targetNamespace: 'team-a', targetName: 'web', uid: 'u9' }, 4), { nowMs: NOW });
    const copy = createTable();
    for (const k of t.rows.keys()) {
      const p = persistedRow(t, k);
      if (p) restoreRow(copy, k, JSON.parse(JSON.stringify(p)), NOW);
    }
    expect(copy.liveCount).toBe(1);
    expect(copy.rows.size).toBe(2); // u1 live, u2 pending delete; u9's tombstone was never persisted
    expect(snapshotOf(copy)).toEqual(snapshotOf(t));
    expect(
      copy.rows.get(rowKeyString({ targetNamespace: 'team-a', targetName: 'web', uid: 'u2' }))?.exported,
    ).toBe('d2');
  });
});
