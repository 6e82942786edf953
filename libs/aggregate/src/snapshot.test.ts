import { createHash } from 'node:crypto';
import { rowKeyOf, rowKeyString, type Item, type RowKey, type SnapshotMessage } from '@kollect/contracts';
import { describe, expect, it } from 'vitest';
import { del, FLEET, inventory, item, plan, rng, target, TEAM_A, upsert } from './fixtures.test-helper.js';
import {
  applyRow,
  commitExport,
  createTable,
  exportedSet,
  fullSnapshot,
  INITIAL_EXPORT_STATE,
  inventoryView,
  namespaceShards,
  nextSnapshot,
  persistedRow,
  redoExport,
  restoreRow,
  retainAccepted,
  rollupChecksum,
  type ExportState,
  type InventoryView,
  type RowTable,
} from './index.js';

const NOW = 1_700_000_000_000;
const web = target('team-a', 'web', [{ inventory: TEAM_A }]);
const api = target('team-a', 'api', [{ inventory: TEAM_A }]);
const p1 = plan(1, [web, api], [inventory(TEAM_A, [web, api])]);
const view1 = inventoryView(p1, TEAM_A);

// ---- An independent implementation of the seed's checksum (SEED-SPEC §5.2), for comparison ----
function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}
function goJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `[${v.map(goJson).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return `{${keys.map((k) => `${goJsonString(k)}:${goJson(o[k])}`).join(',')}}`;
  }
  if (typeof v === 'string') return goJsonString(v);
  return String(v);
}
function expectedChecksum(items: Item[]): string {
  const sortKey = (i: Item): Buffer =>
    Buffer.from(
      [i.targetNamespace, i.targetName, i.namespace, i.name, i.uid, i.group, i.version, i.kind].join('\0'),
    );
  const sorted = [...items].sort((a, b) => Buffer.compare(sortKey(a), sortKey(b)));
  const body = sorted
    .map((i) => {
      const fields: [string, unknown][] = [
        ['targetNamespace', i.targetNamespace],
        ['targetName', i.targetName],
        ['namespace', i.namespace],
        ['name', i.name],
        ...(i.group === '' ? [] : ([['group', i.group]] as [string, unknown][])),
        ['version', i.version],
        ['kind', i.kind],
        ['uid', i.uid],
        ['attributes', i.attributes],
      ];
      return `{${fields.map(([k, v]) => `${goJsonString(k)}:${goJson(v)}`).join(',')}}`;
    })
    .join(',');
  return createHash('sha256').update(`[${body}]`).digest('hex');
}

/** A sink that applies snapshot messages the way invariant 5 says, keyed by row key. */
class ModelSink {
  rows = new Map<string, Item>();
  generation = 0;
  apply(m: SnapshotMessage): void {
    if (m.kind === 'full') {
      this.rows = new Map(m.upserts.map((i) => [rowKeyString(rowKeyOf(i)), i]));
    } else {
      if (m.previousGeneration !== this.generation)
        throw new Error(`gap: sink at ${this.generation}, diff from ${m.previousGeneration}`);
      for (const k of m.deletes) this.rows.delete(rowKeyString(k));
      for (const i of m.upserts) this.rows.set(rowKeyString(rowKeyOf(i)), i);
    }
    this.generation = m.exportGeneration;
  }
  checksum(): string {
    return expectedChecksum([...this.rows.values()]);
  }
}

function exportNow(
  state: ExportState,
  t: RowTable,
  v: InventoryView,
  at = NOW,
): { state: ExportState; msg: SnapshotMessage | null } {
  const p = nextSnapshot(state, t, v, new Date(at));
  if (!p) return { state, msg: null };
  commitExport(t, p, at);
  return { state: p.state, msg: p.message };
}

describe('checksums', () => {
  it('equal an independently computed SHA-256 over the canonically sorted items', () => {
    const t = createTable();
    const items = [
      item('team-a', 'web', 'u3', { image: 'nginx:1.27', 'z-key': [1, 2], a: { '<b>': '&' } }),
      item('team-a', 'api', 'u1', { replicas: 3, ratio: 0.5, ok: true, none: null }),
      { ...item('team-a', 'web', 'u2', {}), group: '' },
    ];
    items.forEach((it, i) => applyRow(t, upsert(TEAM_A, it, i + 1), { nowMs: NOW }));
    expect(exportedSet(t, view1).checksum).toBe(expectedChecksum(items));
  });

  it('of an empty inventory is the hash of an empty array', () => {
    expect(exportedSet(createTable(), view1).checksum).toBe(createHash('sha256').update('[]').digest('hex'));
  });
});

describe('snapshot generations', () => {
  it('exports the first generation at once, then nothing while the checksum is unchanged', () => {
    const t = createTable();
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1', { v: 1 }), 1), { nowMs: NOW });
    const first = nextSnapshot(INITIAL_EXPORT_STATE, t, view1, new Date(NOW));
    expect(first?.reason).toBe('first');
    expect(first?.message).toMatchObject({
      kind: 'diff',
      cluster: 'prod',
      inventory: TEAM_A,
      generation: 1,
      exportGeneration: 1,
      previousGeneration: 0,
      itemCount: 1,
      exportedAt: '2023-11-14T22:13:20Z',
      deletes: [],
    });
    commitExport(t, first!, NOW);
    expect(nextSnapshot(first!.state, t, view1, new Date(NOW + 1))).toBeNull();
    // a newer version with the same content changes nothing either
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1', { v: 1 }), 2), { nowMs: NOW });
    expect(nextSnapshot(first!.state, t, view1, new Date(NOW + 2))).toBeNull();
  });

  it('exports an empty inventory once', () => {
    const t = createTable();
    const p = nextSnapshot(INITIAL_EXPORT_STATE, t, view1, new Date(NOW));
    expect(p?.message).toMatchObject({ exportGeneration: 1, itemCount: 0, upserts: [], deletes: [] });
    commitExport(t, p!, NOW);
    expect(nextSnapshot(p!.state, t, view1, new Date(NOW))).toBeNull();
  });

  it('diffs carry only changed rows and deletes, and the generation counts up by one', () => {
    const t = createTable();
    for (const u of ['u1', 'u2', 'u3'])
      applyRow(t, upsert(TEAM_A, item('team-a', 'web', u, { v: 1 }), 1), { nowMs: NOW });
    let { state } = exportNow(INITIAL_EXPORT_STATE, t, view1);
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u2', { v: 2 }), 2), { nowMs: NOW });
    applyRow(t, del(TEAM_A, { targetNamespace: 'team-a', targetName: 'web', uid: 'u3' }, 3), { nowMs: NOW });
    applyRow(t, upsert(TEAM_A, item('team-a', 'api', 'u4', { v: 1 }), 4), { nowMs: NOW });
    const r = exportNow(state, t, view1);
    state = r.state;
    expect(r.msg?.exportGeneration).toBe(2);
    expect(r.msg?.previousGeneration).toBe(1);
    expect(r.msg?.upserts.map((i) => i.uid)).toEqual(['u4', 'u2']); // canonical order: api < web
    expect(r.msg?.deletes).toEqual([{ targetNamespace: 'team-a', targetName: 'web', uid: 'u3' }]);
    expect(r.msg?.itemCount).toBe(3);
    // A row that changes and changes back between exports is not exported.
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1', { v: 9 }), 5), { nowMs: NOW });
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1', { v: 1 }), 6), { nowMs: NOW });
    expect(nextSnapshot(state, t, view1, new Date(NOW))).toBeNull();
  });

  it('a spec change exports at once as its own generation with an empty diff', () => {
    const t = createTable();
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1'), 1), { nowMs: NOW });
    const { state } = exportNow(INITIAL_EXPORT_STATE, t, view1);
    const p2 = plan(2, [web, api], [inventory(TEAM_A, [web, api], { generation: 2 })]);
    const next = nextSnapshot(state, t, inventoryView(p2, TEAM_A), new Date(NOW));
    expect(next?.reason).toBe('spec-changed');
    expect(next?.message).toMatchObject({
      generation: 2,
      exportGeneration: 2,
      upserts: [],
      deletes: [],
      checksum: state.checksum,
    });
  });

  it('exports nothing while the plan holds the inventory', () => {
    const t = createTable();
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1'), 1), { nowMs: NOW });
    const held = plan(
      2,
      [web],
      [inventory(TEAM_A, [web], { hold: { reason: 'Suspended', message: 'suspended' } })],
    );
    expect(nextSnapshot(INITIAL_EXPORT_STATE, t, inventoryView(held, TEAM_A), new Date(NOW))).toBeNull();
  });

  it('the export under a deleting plan deletes every row and is marked final; no other export is', () => {
    const t = createTable();
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1'), 1), { nowMs: NOW });
    applyRow(t, upsert(TEAM_A, item('team-a', 'api', 'u2'), 2), { nowMs: NOW });
    const { state, msg } = exportNow(INITIAL_EXPORT_STATE, t, view1);
    expect(msg?.final).toBeUndefined();
    // What the controller publishes for a deleted inventory: no targets, `deleting`.
    const p2 = plan(2, [], [inventory(TEAM_A, [], { deleting: true })]);
    const v2 = inventoryView(p2, TEAM_A);
    retainAccepted(t, v2, NOW);
    const last = exportNow(state, t, v2);
    expect(last.msg).toMatchObject({ final: 'inventory-deleted', itemCount: 0, upserts: [] });
    expect(last.msg?.deletes.map((k) => k.uid).sort()).toEqual(['u1', 'u2']);
    // Forced full re-export (takeover without trusted marks) of a deleting inventory: final too.
    const full = nextSnapshot(state, t, v2, new Date(NOW), { full: true });
    expect(full?.message).toMatchObject({ kind: 'full', final: 'inventory-deleted', upserts: [] });
  });

  it('a removed target’s rows leave with the next diff', () => {
    const t = createTable();
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1'), 1), { nowMs: NOW });
    applyRow(t, upsert(TEAM_A, item('team-a', 'api', 'u2'), 2), { nowMs: NOW });
    const { state } = exportNow(INITIAL_EXPORT_STATE, t, view1);
    const p2 = plan(2, [web], [inventory(TEAM_A, [web])]);
    const v2 = inventoryView(p2, TEAM_A);
    retainAccepted(t, v2, NOW);
    const r = exportNow(state, t, v2);
    expect(r.msg?.deletes).toEqual([{ targetNamespace: 'team-a', targetName: 'api', uid: 'u2' }]);
    expect(r.msg?.upserts).toEqual([]);
  });

  it('a sink applying every diff in turn always holds the exported set (random workload)', () => {
    const rand = rng(7);
    const t = createTable();
    const sink = new ModelSink();
    let state = INITIAL_EXPORT_STATE as ExportState;
    let seq = 0;
    for (let round = 0; round < 60; round++) {
      for (let n = 0; n < 15; n++) {
        const uid = `u${Math.floor(rand() * 25)}`;
        const tgt = rand() < 0.5 ? 'web' : 'api';
        seq++;
        if (rand() < 0.3)
          applyRow(t, del(TEAM_A, { targetNamespace: 'team-a', targetName: tgt, uid }, seq), { nowMs: NOW });
        else
          applyRow(t, upsert(TEAM_A, item('team-a', tgt, uid, { v: Math.floor(rand() * 3) }), seq), {
            nowMs: NOW,
          });
      }
      const r = exportNow(state, t, view1);
      state = r.state;
      if (!r.msg) continue;
      sink.apply(r.msg);
      expect(sink.checksum()).toBe(r.msg.checksum);
      expect(sink.rows.size).toBe(r.msg.itemCount);
    }
    expect(state.exportGeneration).toBeGreaterThan(30);
  });
});

describe('takeover', () => {
  function persistAll(t: RowTable): RowTable {
    const copy = createTable();
    for (const k of t.rows.keys()) {
      const p = persistedRow(t, k);
      if (p) restoreRow(copy, k, JSON.parse(JSON.stringify(p)), NOW);
    }
    return copy;
  }

  it('redoing the last published diff on a table persisted before its marks gives the same next diff', () => {
    const t = createTable();
    for (const u of ['u1', 'u2', 'u3'])
      applyRow(t, upsert(TEAM_A, item('team-a', 'web', u), 1), { nowMs: NOW });
    const g1 = exportNow(INITIAL_EXPORT_STATE, t, view1);
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u4'), 2), { nowMs: NOW });
    applyRow(t, del(TEAM_A, { targetNamespace: 'team-a', targetName: 'web', uid: 'u1' }, 3), { nowMs: NOW });
    // Generation 2 is published, then the owner dies before persisting its marks.
    const g2 = nextSnapshot(g1.state, t, view1, new Date(NOW))!;
    const persisted = persistAll(t);
    commitExport(t, g2, NOW);
    // More rows arrive; the new owner loads, redoes generation 2, applies the same rows.
    const more = [
      upsert(TEAM_A, item('team-a', 'web', 'u4', { v: 2 }), 4),
      del(TEAM_A, { targetNamespace: 'team-a', targetName: 'web', uid: 'u4' }, 5),
    ];
    redoExport(persisted, g2.message, NOW);
    for (const m of more) {
      applyRow(t, m, { nowMs: NOW });
      applyRow(persisted, m, { nowMs: NOW });
    }
    const a = nextSnapshot(g2.state, t, view1, new Date(NOW))!;
    const b = nextSnapshot(g2.state, persisted, view1, new Date(NOW))!;
    expect(b.message).toEqual(a.message);
    expect(a.message.deletes).toEqual([{ targetNamespace: 'team-a', targetName: 'web', uid: 'u4' }]);
  });

  it('a full re-export replaces the sink state when marks cannot be trusted', () => {
    const t = createTable();
    for (const u of ['u1', 'u2']) applyRow(t, upsert(TEAM_A, item('team-a', 'web', u), 1), { nowMs: NOW });
    const g1 = exportNow(INITIAL_EXPORT_STATE, t, view1);
    const p = nextSnapshot(g1.state, t, view1, new Date(NOW), { full: true })!;
    expect(p.message).toMatchObject({ kind: 'full', exportGeneration: 2, itemCount: 2, deletes: [] });
    expect(p.message.upserts).toHaveLength(2);
  });
});

describe('full snapshot on request', () => {
  it('returns every item of the last exported generation', () => {
    const t = createTable();
    for (const u of ['u1', 'u2']) applyRow(t, upsert(TEAM_A, item('team-a', 'web', u), 1), { nowMs: NOW });
    const g1 = exportNow(INITIAL_EXPORT_STATE, t, view1);
    const full = fullSnapshot(g1.state, t, view1);
    expect(full).toMatchObject({
      kind: 'full',
      exportGeneration: 1,
      checksum: g1.state.checksum,
      itemCount: 2,
      exportedAt: g1.state.exportedAt,
    });
    expect(full?.upserts.map((i) => i.uid)).toEqual(['u1', 'u2']);
  });

  it('refuses when the table has moved past the last export or nothing was exported', () => {
    const t = createTable();
    expect(fullSnapshot(INITIAL_EXPORT_STATE, t, view1)).toBeNull();
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1'), 1), { nowMs: NOW });
    const g1 = exportNow(INITIAL_EXPORT_STATE, t, view1);
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u2'), 2), { nowMs: NOW });
    expect(fullSnapshot(g1.state, t, view1)).toBeNull();
  });
});

describe('cluster roll-ups', () => {
  const a = target('', 'deploys-a', [{ inventory: FLEET }], 'KollectClusterTarget');
  const b = target('', 'deploys-b', [{ inventory: FLEET }], 'KollectClusterTarget');
  const rows = (t: RowTable, order: number[]): void => {
    const msgs = [
      upsert(FLEET, item('team-a', 'deploys-a', 'u1', { from: 'a' }), 10),
      upsert(FLEET, item('team-a', 'deploys-b', 'u1', { from: 'b', extra: true }), 10),
      upsert(FLEET, item('team-b', 'deploys-a', 'u2', { from: 'a' }), 11),
      upsert(FLEET, item('team-b', 'deploys-b', 'u2', { from: 'b' }), 12),
      upsert(FLEET, item('team-b', 'deploys-a', 'u3', { from: 'a' }), 13),
    ];
    for (const i of order) applyRow(t, msgs[i]!, { nowMs: NOW });
  };

  it('keepAll keeps one row per (target, object)', () => {
    const p = plan(1, [a, b], [inventory(FLEET, [a, b], { dedupe: 'keepAll' })]);
    const t = createTable();
    rows(t, [0, 1, 2, 3, 4]);
    expect(exportedSet(t, inventoryView(p, FLEET)).items).toHaveLength(5);
  });

  it('byResourceUID keeps one row per object: newest version wins, then the later target, whatever the arrival order', () => {
    const p = plan(1, [a, b], [inventory(FLEET, [a, b], { dedupe: 'byResourceUID' })]);
    const v = inventoryView(p, FLEET);
    const results = new Set<string>();
    for (const order of [
      [0, 1, 2, 3, 4],
      [4, 3, 2, 1, 0],
      [1, 0, 3, 2, 4],
    ]) {
      const t = createTable();
      rows(t, order);
      const set = exportedSet(t, v);
      results.add(set.checksum);
      expect(set.items.map((i) => [i.namespace, i.uid, i.targetName, i.attributes])).toEqual([
        // u1: same version, deploys-b comes later in the target list; its attributes as they are (no union)
        ['team-a', 'u1', 'deploys-b', { from: 'b', extra: true }],
        ['team-b', 'u3', 'deploys-a', { from: 'a' }],
        // u2: deploys-b's row is from a newer object message
        ['team-b', 'u2', 'deploys-b', { from: 'b' }],
      ]);
    }
    expect(results.size).toBe(1);
    // Reversing the target order flips the tie.
    const pr = plan(1, [a, b], [inventory(FLEET, [b, a], { dedupe: 'byResourceUID' })]);
    const t = createTable();
    rows(t, [0, 1, 2, 3, 4]);
    expect(exportedSet(t, inventoryView(pr, FLEET)).items[0]?.targetName).toBe('deploys-a');
  });

  it('a dedupe winner change exports as delete of the old key plus upsert of the new one', () => {
    const p = plan(1, [a, b], [inventory(FLEET, [a, b], { dedupe: 'byResourceUID' })]);
    const v = inventoryView(p, FLEET);
    const t = createTable();
    applyRow(t, upsert(FLEET, item('team-a', 'deploys-a', 'u1'), 10), { nowMs: NOW });
    const g1 = exportNow(INITIAL_EXPORT_STATE, t, v);
    applyRow(t, upsert(FLEET, item('team-a', 'deploys-b', 'u1'), 10), { nowMs: NOW });
    const g2 = exportNow(g1.state, t, v);
    expect(g2.msg?.deletes).toEqual([
      { targetNamespace: 'team-a', targetName: 'deploys-a', uid: 'u1' } satisfies RowKey,
    ]);
    expect(g2.msg?.upserts.map((i) => i.targetName)).toEqual(['deploys-b']);
  });

  it('namespace shards and the roll-up checksum match an independent computation', () => {
    const p = plan(1, [a, b], [inventory(FLEET, [a, b], { dedupe: 'byResourceUID' })]);
    const t = createTable();
    rows(t, [0, 1, 2, 3, 4]);
    const set = exportedSet(t, inventoryView(p, FLEET));
    const shards = namespaceShards(t, set);
    const byNs = (ns: string): Item[] => set.items.filter((i) => i.namespace === ns);
    expect(shards).toEqual([
      { namespace: 'team-a', itemCount: 1, targetCount: 2, checksum: expectedChecksum(byNs('team-a')) },
      { namespace: 'team-b', itemCount: 2, targetCount: 2, checksum: expectedChecksum(byNs('team-b')) },
    ]);
    const lines = `team-a:${expectedChecksum(byNs('team-a'))}\nteam-b:${expectedChecksum(byNs('team-b'))}\n`;
    expect(rollupChecksum(shards)).toBe(createHash('sha256').update(lines).digest('hex'));
    // the export checksum is over the items, not the shard lines
    expect(set.checksum).toBe(expectedChecksum(set.items));
  });
});

describe('diffs stay exact across concurrency and mode changes', () => {
  it('a row that changes while its export is being published goes out with the next diff', () => {
    const t = createTable();
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1', { v: 1 }), 1), { nowMs: NOW });
    const g1 = exportNow(INITIAL_EXPORT_STATE, t, view1);
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1', { v: 2 }), 2), { nowMs: NOW });
    const g2 = nextSnapshot(g1.state, t, view1, new Date(NOW))!;
    // applied while g2 is in flight
    applyRow(t, upsert(TEAM_A, item('team-a', 'web', 'u1', { v: 3 }), 3), { nowMs: NOW });
    commitExport(t, g2, NOW);
    const g3 = nextSnapshot(g2.state, t, view1, new Date(NOW));
    expect(g3?.message.upserts.map((i) => i.attributes)).toEqual([{ v: 3 }]);
  });

  it('a sink stays exact while the dedupe mode flips between keepAll and byResourceUID', () => {
    const a = target('', 'a', [{ inventory: FLEET }], 'KollectClusterTarget');
    const b = target('', 'b', [{ inventory: FLEET }], 'KollectClusterTarget');
    const views = [
      inventoryView(plan(1, [a, b], [inventory(FLEET, [a, b], { dedupe: 'keepAll' })]), FLEET),
      inventoryView(plan(2, [a, b], [inventory(FLEET, [a, b], { dedupe: 'byResourceUID' })]), FLEET),
    ];
    const rand = rng(11);
    const t = createTable();
    const sink = new ModelSink();
    let state = INITIAL_EXPORT_STATE as ExportState;
    let seq = 0;
    for (let round = 0; round < 80; round++) {
      for (let n = 0; n < 6; n++) {
        const uid = `u${Math.floor(rand() * 12)}`;
        const tgt = rand() < 0.5 ? 'a' : 'b';
        seq++;
        if (rand() < 0.25)
          applyRow(t, del(FLEET, { targetNamespace: 'ns', targetName: tgt, uid }, seq), { nowMs: NOW });
        else
          applyRow(t, upsert(FLEET, item('ns', tgt, uid, { v: Math.floor(rand() * 3) }), seq), {
            nowMs: NOW,
          });
      }
      const v = views[Math.floor(round / 7) % 2]!;
      const r = exportNow(state, t, v);
      state = r.state;
      if (!r.msg) continue;
      sink.apply(r.msg);
      expect(sink.checksum()).toBe(r.msg.checksum);
      expect(sink.rows.size).toBe(r.msg.itemCount);
    }
  });
});
