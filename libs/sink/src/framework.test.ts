import { describe, expect, it } from 'vitest';
import {
  checksumItems,
  rowKeyOf,
  rowKeyString,
  sortItems,
  type InventoryRef,
  type Item,
  type SnapshotMessage,
} from '@kollect/contracts';
import type { CompiledSink } from '@kollect/plan';
import { CircuitBreaker, backoffDelay } from './breaker.js';
import { planApply } from './decide.js';
import { resolveCredentials, secretNeeds, type SecretData } from './credentials.js';
import { SinkNeedsFullSnapshot, SinkAuthFailed, classifySinkError } from './errors.js';
import { MaterializedInventory, MaterializedStore } from './materialized.js';
import { SinkRunner } from './runner.js';
import type { FullSnapshotSource } from './source.js';
import type { AppliedPosition, ApplyResult, FullSnapshot, Sink, SnapshotDiff } from './types.js';
import { KeyedMutex } from './mutex.js';
import { guardEndpoints } from './endpoint.js';

const inv: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'web' };
const silent = { debug() {}, info() {}, warn() {}, error() {} };

function item(uid: string, image = 'nginx:1'): Item {
  return {
    targetNamespace: 'team-a',
    targetName: 't',
    namespace: 'team-a',
    name: `n-${uid}`,
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    uid,
    attributes: { image },
  };
}

/** A reference model of the aggregator: every generation's rows, diffs between them. */
class Model implements FullSnapshotSource {
  gens: Item[][] = [[]];
  fetches = 0;
  /** The final (empty) generation once the inventory was deleted. */
  finalGen: number | undefined;
  push(items: Item[]): number {
    this.gens.push(sortItems(items));
    return this.gens.length - 1;
  }
  /** The inventory is deleted: one last, empty generation marked final. */
  pushFinal(): number {
    this.finalGen = this.push([]);
    return this.finalGen;
  }
  private fin(g: number): { final?: 'inventory-deleted' } {
    return g === this.finalGen ? { final: 'inventory-deleted' } : {};
  }
  full(g: number): FullSnapshot {
    const items = this.gens[g] as Item[];
    return {
      inventory: inv,
      cluster: 'c1',
      generation: 1,
      exportGeneration: g,
      checksum: checksumItems(items),
      exportedAt: `t${g}`,
      items,
      ...this.fin(g),
    };
  }
  msg(g: number, kind: 'diff' | 'full' = 'diff'): SnapshotMessage {
    const cur = this.gens[g] as Item[];
    const prev = new Map((this.gens[g - 1] ?? []).map((i) => [rowKeyString(i), i]));
    const now = new Map(cur.map((i) => [rowKeyString(i), i]));
    const upserts =
      kind === 'full'
        ? cur
        : cur.filter((i) => JSON.stringify(prev.get(rowKeyString(i))) !== JSON.stringify(i));
    const deletes =
      kind === 'full'
        ? []
        : [...prev.keys()].filter((k) => !now.has(k)).map((k) => rowKeyOf(prev.get(k) as Item));
    return {
      schemaVersion: 'kollect.dev/v1alpha1',
      kind,
      cluster: 'c1',
      inventory: inv,
      generation: 1,
      exportGeneration: g,
      previousGeneration: g - 1,
      checksum: checksumItems(cur),
      itemCount: cur.length,
      exportedAt: `t${g}`,
      upserts,
      deletes,
      ...this.fin(g),
    };
  }
  async fetch(_c: string, _i: InventoryRef, atLeast: number): Promise<FullSnapshot> {
    this.fetches++;
    const g = this.gens.length - 1;
    if (g < atLeast) throw new Error('behind');
    return this.full(g);
  }
}

/** An in-memory backend that records its position the way a real one would. */
class MemorySink implements Sink {
  readonly type = 'memory';
  rows = new Map<string, Item>();
  pos: AppliedPosition | null = null;
  ops: string[] = [];
  failNext = 0;
  refuseDiffs = false;
  /** Every call fails (also `lastApplied`): the backend cannot be reached at all. */
  unreachable = false;
  constructor(readonly capabilities: Sink['capabilities']) {}
  async connect() {}
  async lastApplied() {
    if (this.unreachable) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    return this.pos;
  }
  private check() {
    if (this.unreachable) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    }
  }
  async applyDiff(d: SnapshotDiff): Promise<ApplyResult> {
    this.check();
    if (this.refuseDiffs) throw SinkNeedsFullSnapshot('test');
    this.ops.push(`diff:${d.exportGeneration}${d.base ? '+base' : ''}`);
    for (const k of d.deletes) this.rows.delete(rowKeyString(k));
    for (const i of d.upserts) this.rows.set(rowKeyString(i), i);
    this.pos = { exportGeneration: d.exportGeneration, checksum: d.checksum };
    return { changed: true, bytes: 1 };
  }
  async replace(s: FullSnapshot): Promise<ApplyResult> {
    this.check();
    this.ops.push(`replace:${s.exportGeneration}`);
    const before = JSON.stringify([...this.rows.values()].sort());
    this.rows = new Map(s.items.map((i) => [rowKeyString(i), i]));
    const changed = before !== JSON.stringify([...this.rows.values()].sort()) || this.pos === null;
    if (changed) this.pos = { exportGeneration: s.exportGeneration, checksum: s.checksum };
    return { changed, bytes: 10 };
  }
  async probe() {
    return { ok: true, message: 'ok', latencyMs: 0 };
  }
  async close() {}
  state(): string {
    return checksumItems([...this.rows.values()]);
  }
}

function runner(sink: Sink, model: Model, store = new MaterializedStore()) {
  return new SinkRunner({ sink, sinkName: 'snapshot/team-a/s', full: model, store, log: silent });
}

describe('planApply', () => {
  const caps = { kind: 'relational' as const, formats: ['json'], incremental: true };
  const m = (g: number, kind: 'diff' | 'full' = 'diff') => ({
    kind,
    exportGeneration: g,
    previousGeneration: g - 1,
    checksum: `c${g}`,
  });
  it('skips a generation the backend already holds (redelivery)', () => {
    expect(
      planApply({
        message: m(3),
        position: { exportGeneration: 3, checksum: 'c3' },
        capabilities: caps,
        haveBase: false,
      }).action,
    ).toBe('skip');
    expect(
      planApply({
        message: m(2),
        position: { exportGeneration: 3, checksum: 'c3' },
        capabilities: caps,
        haveBase: false,
      }).action,
    ).toBe('skip');
  });
  it('applies a diff only on top of N-1', () => {
    expect(
      planApply({
        message: m(4),
        position: { exportGeneration: 3, checksum: 'c3' },
        capabilities: caps,
        haveBase: false,
      }).action,
    ).toBe('apply-diff');
    expect(
      planApply({
        message: m(5),
        position: { exportGeneration: 3, checksum: 'c3' },
        capabilities: caps,
        haveBase: false,
      }),
    ).toEqual({ action: 'replace-from-full', why: 'gap' });
    expect(planApply({ message: m(1), position: null, capabilities: caps, haveBase: false })).toEqual({
      action: 'replace-from-full',
      why: 'no-position',
    });
  });
  it('replaces non-incremental backends and backends that need a base the worker lacks', () => {
    expect(
      planApply({
        message: m(4),
        position: { exportGeneration: 3, checksum: 'c3' },
        capabilities: { ...caps, incremental: false },
        haveBase: true,
      }),
    ).toEqual({ action: 'replace-from-full', why: 'not-incremental' });
    expect(
      planApply({
        message: m(4),
        position: { exportGeneration: 3, checksum: 'c3' },
        capabilities: { ...caps, diffNeedsBase: true },
        haveBase: false,
      }),
    ).toEqual({ action: 'replace-from-full', why: 'needs-base' });
  });
  it('a full message replaces, and a same-generation checksum mismatch is repaired', () => {
    expect(
      planApply({ message: m(4, 'full'), position: null, capabilities: caps, haveBase: false }).action,
    ).toBe('replace-from-message');
    expect(
      planApply({
        message: m(3),
        position: { exportGeneration: 3, checksum: 'other' },
        capabilities: caps,
        haveBase: false,
      }),
    ).toEqual({ action: 'replace-from-full', why: 'checksum-mismatch' });
  });
});

describe('SinkRunner', () => {
  it('applies consecutive diffs to an incremental backend and ignores redelivery', async () => {
    const model = new Model();
    const sink = new MemorySink({ kind: 'relational', formats: ['json'], incremental: true });
    const r = runner(sink, model);
    model.push([item('a'), item('b')]);
    expect((await r.handle(model.msg(1))).action).toBe('replace-from-full');
    model.push([item('a', 'nginx:2'), item('c')]);
    expect((await r.handle(model.msg(2))).action).toBe('apply-diff');
    const again = await r.handle(model.msg(2));
    expect(again).toMatchObject({ outcome: 'unchanged', action: 'skip' });
    expect(sink.state()).toBe(model.full(2).checksum);
    expect(sink.ops).toEqual(['replace:1', 'diff:2+base']);
  });

  it('refuses an out-of-order diff and converges with the full snapshot of the current generation', async () => {
    const model = new Model();
    const sink = new MemorySink({ kind: 'relational', formats: ['json'], incremental: true });
    const r = runner(sink, model);
    model.push([item('a')]);
    await r.handle(model.msg(1));
    model.push([item('a'), item('b')]);
    model.push([item('b')]);
    const out = await r.handle(model.msg(3));
    expect(out).toMatchObject({ action: 'replace-from-full', why: 'gap', exportGeneration: 3 });
    expect(sink.state()).toBe(model.full(3).checksum);
    expect((await r.handle(model.msg(2))).action).toBe('skip');
  });

  it('builds full snapshots for a non-incremental backend from its own state, fetching only once', async () => {
    const model = new Model();
    const sink = new MemorySink({ kind: 'object-store', formats: ['json'], incremental: false });
    const r = runner(sink, model);
    for (let g = 1; g <= 5; g++) {
      model.push([item('a', `v${g}`), item(`x${g}`)]);
      await r.handle(model.msg(g));
      expect(sink.state()).toBe(model.full(g).checksum);
    }
    expect(model.fetches).toBe(1);
  });

  it('fetches again when the materialised state does not hash to the message checksum', async () => {
    const model = new Model();
    const sink = new MemorySink({ kind: 'object-store', formats: ['json'], incremental: false });
    const r = runner(sink, model);
    model.push([item('a')]);
    await r.handle(model.msg(1));
    model.push([item('a'), item('b')]);
    const bad = { ...model.msg(2), upserts: [] };
    await r.handle(bad);
    expect(model.fetches).toBe(2);
    expect(sink.state()).toBe(model.full(2).checksum);
  });

  it('falls back to a full replace when the backend refuses a diff', async () => {
    const model = new Model();
    const sink = new MemorySink({
      kind: 'snapshot-store',
      formats: ['yaml'],
      incremental: true,
      diffNeedsBase: true,
    });
    const r = runner(sink, model);
    model.push([item('a')]);
    await r.handle(model.msg(1));
    model.push([item('b')]);
    sink.refuseDiffs = true;
    const out = await r.handle(model.msg(2));
    expect(out).toMatchObject({ action: 'replace-from-full', why: 'diff-refused', outcome: 'exported' });
    expect(sink.state()).toBe(model.full(2).checksum);
  });

  it('remembers a no-write replace so the next diff goes on top', async () => {
    const model = new Model();
    const sink = new MemorySink({
      kind: 'snapshot-store',
      formats: ['yaml'],
      incremental: true,
      diffNeedsBase: true,
    });
    const r = runner(sink, model);
    model.push([item('a')]);
    await r.handle(model.msg(1));
    model.push([item('a'), item('b')]); // generation 2 never reaches this sink
    model.push([item('a')]); // generation 3: the same content as generation 1
    const out3 = await r.handle(model.msg(3));
    expect(out3).toMatchObject({ action: 'replace-from-full', outcome: 'unchanged', exportGeneration: 3 });
    expect(sink.pos?.exportGeneration).toBe(1);
    model.push([item('a'), item('c')]);
    const out4 = await r.handle(model.msg(4));
    expect(out4.action).toBe('apply-diff');
    expect(sink.state()).toBe(model.full(4).checksum);
  });

  it('reports failures classified, counts them into the breaker and opens it after five', async () => {
    const model = new Model();
    const sink = new MemorySink({ kind: 'relational', formats: ['json'], incremental: true });
    let now = 0;
    const r = new SinkRunner({
      sink,
      sinkName: 's',
      full: model,
      store: new MaterializedStore(),
      log: silent,
      breaker: new CircuitBreaker({ now: () => now }),
      now: () => now,
    });
    model.push([item('a')]);
    sink.failNext = 100;
    for (let i = 0; i < 5; i++) {
      const out = await r.handle(model.msg(1));
      expect(out.outcome).toBe('failed');
      expect(out.error?.errorClass).toBe('transient');
    }
    const open = await r.handle(model.msg(1));
    expect(open.action).toBe('circuit-open');
    expect(open.error?.message).toContain('sink circuit breaker open');
    now += 30_000;
    sink.failNext = 0;
    expect((await r.handle(model.msg(1))).outcome).toBe('exported');
    expect(r.circuit.state).toBe('closed');
  });

  it('re-asserts the newest state when the backend lost it, and not otherwise', async () => {
    const model = new Model();
    const sink = new MemorySink({ kind: 'object-store', formats: ['json'], incremental: false });
    const r = runner(sink, model);
    model.push([item('a')]);
    await r.handle(model.msg(1));
    expect((await r.reassert('c1', inv))?.action).toBe('skip');
    sink.pos = null;
    sink.rows.clear();
    const out = await r.reassert('c1', inv);
    expect(out?.outcome).toBe('exported');
    expect(sink.state()).toBe(model.full(1).checksum);
  });

  it('gives two sinks of one inventory one shared materialised state without corrupting either', async () => {
    const model = new Model();
    const store = new MaterializedStore();
    const a = new MemorySink({
      kind: 'snapshot-store',
      formats: ['yaml'],
      incremental: true,
      diffNeedsBase: true,
    });
    const b = new MemorySink({ kind: 'object-store', formats: ['json'], incremental: false });
    const ra = runner(a, model, store);
    const rb = runner(b, model, store);
    for (let g = 1; g <= 4; g++) {
      model.push([item('a', `v${g}`), ...(g % 2 ? [item('odd')] : [])]);
      await Promise.all([ra.handle(model.msg(g)), rb.handle(model.msg(g))]);
      expect(a.state()).toBe(model.full(g).checksum);
      expect(b.state()).toBe(model.full(g).checksum);
    }
    expect(a.ops.slice(1).every((o) => o.startsWith('diff:') && o.endsWith('+base'))).toBe(true);
  });
});

describe('SinkRunner: the final export of a deleted inventory', () => {
  const retaining: [string, Sink['capabilities']][] = [
    ['snapshot-store', { kind: 'snapshot-store', formats: ['yaml'], incremental: true, diffNeedsBase: true }],
    ['object-store', { kind: 'object-store', formats: ['json'], incremental: false }],
    ['stream', { kind: 'stream', formats: ['json'], incremental: true }],
  ];
  const relational: Sink['capabilities'] = { kind: 'relational', formats: ['json'], incremental: true };

  it.each(retaining)(
    'a %s backend acknowledges it without touching the backend, even one it cannot reach',
    async (_kind, caps) => {
      const model = new Model();
      const sink = new MemorySink(caps);
      const r = runner(sink, model);
      model.push([item('a'), item('b')]);
      await r.handle(model.msg(1));
      const ops = [...sink.ops];
      const before = sink.state();
      sink.unreachable = true;
      const g = model.pushFinal();
      const out = await r.handle(model.msg(g));
      expect(out).toMatchObject({
        outcome: 'retained',
        action: 'skip',
        why: 'inventory-deleted',
        exportGeneration: g,
        itemCount: 0,
        bytes: 0,
      });
      expect(out.error).toBeUndefined();
      expect(sink.ops).toEqual(ops);
      expect(sink.state()).toBe(before);
      expect(sink.pos?.exportGeneration).toBe(1);
      // The inventory ended: it is not re-asserted any more (the cadence would otherwise rewrite it).
      expect(r.seen()).toEqual([]);
      expect(await r.reassert('c1', inv)).toBeNull();
    },
  );

  it('a relational backend applies it: every row of the inventory is removed', async () => {
    const model = new Model();
    const sink = new MemorySink(relational);
    const r = runner(sink, model);
    model.push([item('a'), item('b')]);
    await r.handle(model.msg(1));
    const g = model.pushFinal();
    const out = await r.handle(model.msg(g));
    expect(out).toMatchObject({ outcome: 'exported', action: 'apply-diff', exportGeneration: g });
    expect(sink.rows.size).toBe(0);
    expect(sink.pos).toEqual({ exportGeneration: g, checksum: checksumItems([]) });
  });

  it('a worker catching up after the deletion is handed the final generation as a full snapshot: only a relational backend applies it', async () => {
    // Backends that cannot apply diff 2 without a base or at all: they need the full snapshot.
    const needFull = [
      ...retaining.filter(([k]) => k !== 'stream').map(([, c]) => c),
      { ...relational, incremental: false },
    ];
    for (const caps of needFull) {
      const model = new Model();
      const sink = new MemorySink(caps);
      model.push([item('a'), item('b')]);
      await runner(sink, model).handle(model.msg(1));
      const kept = sink.state();
      model.push([item('a', 'nginx:2'), item('c')]); // generation 2: not yet seen by this sink
      const g = model.pushFinal(); // generation 3: the inventory is deleted meanwhile
      // A restarted worker (no materialised state) works through the stream from generation 2: it
      // must fetch a full snapshot, and the aggregator answers with its current, final generation.
      const r = runner(sink, model);
      const fetches = model.fetches;
      const out2 = await r.handle(model.msg(2));
      expect(model.fetches).toBe(fetches + 1);
      const out3 = await r.handle(model.msg(g));
      if (caps.kind === 'relational') {
        expect(out2).toMatchObject({ outcome: 'exported', exportGeneration: g });
        expect(out3).toMatchObject({ outcome: 'unchanged', action: 'skip' });
        expect(sink.rows.size).toBe(0);
      } else {
        expect(out2).toMatchObject({ outcome: 'retained', why: 'inventory-deleted', exportGeneration: g });
        expect(out3).toMatchObject({ outcome: 'retained', exportGeneration: g });
        expect(sink.state()).toBe(kept);
        expect(sink.pos?.exportGeneration).toBe(1);
      }
    }
  });

  it('a final state materialised by a relational sink of the same worker is never written to another backend', async () => {
    const model = new Model();
    const store = new MaterializedStore();
    const rel = new MemorySink(relational);
    const doc = new MemorySink({ kind: 'object-store', formats: ['json'], incremental: false });
    const rr = runner(rel, model, store);
    const rd = runner(doc, model, store);
    model.push([item('a')]);
    await Promise.all([rr.handle(model.msg(1)), rd.handle(model.msg(1))]);
    const kept = doc.state();
    model.push([item('a'), item('b')]);
    const g = model.pushFinal();
    // The relational sink is ahead: it applied 2 and the final 3, which the store now holds.
    await rr.handle(model.msg(2));
    await rr.handle(model.msg(g));
    expect(store.get('c1', inv)?.final).toBe('inventory-deleted');
    // The document sink skipped 2 (a gap from its view) and must replace from "the current state".
    const fetches = model.fetches;
    const out = await rd.handle({ ...model.msg(2), previousGeneration: 0 });
    expect(out).toMatchObject({ outcome: 'retained', exportGeneration: g });
    expect(model.fetches).toBe(fetches); // the store answered, and said final
    expect(doc.state()).toBe(kept);
  });
});

describe('MaterializedStore', () => {
  it('drops least recently used inventories beyond the row budget', () => {
    const store = new MaterializedStore(3);
    const mk = (name: string, n: number) =>
      MaterializedInventory.fromFull({
        inventory: { ...inv, name },
        cluster: 'c',
        generation: 1,
        exportGeneration: 1,
        checksum: '',
        exportedAt: '',
        items: Array.from({ length: n }, (_, i) => item(`${name}${i}`)),
      });
    store.put(mk('x', 2));
    store.put(mk('y', 2));
    expect(store.get('c', { ...inv, name: 'x' })).toBeUndefined();
    expect(store.get('c', { ...inv, name: 'y' })?.size).toBe(2);
  });
});

describe('CircuitBreaker', () => {
  it('resets the failure count every 60 s while closed', () => {
    let now = 0;
    const b = new CircuitBreaker({ now: () => now });
    for (let i = 0; i < 4; i++) {
      expect(b.tryAcquire()).toBe(true);
      b.failure();
    }
    now = 60_000;
    expect(b.tryAcquire()).toBe(true);
    b.failure();
    expect(b.state).toBe('closed');
  });
  it('lets exactly one trial through when half-open and re-opens on its failure', () => {
    let now = 0;
    const b = new CircuitBreaker({ now: () => now });
    for (let i = 0; i < 5; i++) {
      b.tryAcquire();
      b.failure();
    }
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    now = 30_000;
    expect(b.state).toBe('half-open');
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false);
    b.failure();
    expect(b.state).toBe('open');
    expect(b.retryInMs()).toBe(30_000);
  });
  it('backoff grows exponentially, stays positive and respects the cap', () => {
    expect(backoffDelay(1, { baseMs: 1000, random: () => 0 })).toBe(500);
    expect(backoffDelay(4, { baseMs: 1000, random: () => 1 })).toBe(8000);
    expect(backoffDelay(40, { baseMs: 1000, maxMs: 60_000, random: () => 1 })).toBe(60_000);
  });
});

describe('credentials', () => {
  const sink = (type: string, spec: Record<string, unknown>): CompiledSink => ({
    ref: { family: 'snapshot', namespace: 'team-a', name: 's' },
    uid: 'u',
    generation: 1,
    type,
    spec: { type, ...spec },
  });
  it('git.auth.secretRef beats spec.secretRef and keys map onto roles', () => {
    const s = sink('git', {
      secretRef: { name: 'plain' },
      git: { auth: { secretRef: { name: 'gitauth', namespace: 'infra' } } },
    });
    expect(secretNeeds(s)).toEqual([
      { purpose: 'credentials', namespace: 'infra', name: 'gitauth', field: 'spec.git.auth.secretRef' },
    ]);
    const c = resolveCredentials(
      s,
      new Map([
        [
          'infra/gitauth',
          { data: { 'ssh-privatekey': 'KEY', known_hosts: 'KH', token: 'T' }, resourceVersion: '7' },
        ],
      ]),
    );
    expect(c.roles).toEqual({ sshPrivateKey: 'KEY', knownHosts: 'KH', token: 'T' });
    expect(c.version).toBe('infra/gitauth@7');
  });
  it('resolves the per-type aliases of S3, Postgres and MongoDB, including databaseRef', () => {
    const s3 = resolveCredentials(
      sink('s3', { secretRef: { name: 'a' } }),
      new Map([
        ['team-a/a', { data: { AWS_ACCESS_KEY_ID: 'id', secretAccessKey: 'sk' }, resourceVersion: '1' }],
      ]),
    );
    expect(s3.roles).toEqual({ accessKeyId: 'id', secretAccessKey: 'sk' });
    const pg = resolveCredentials(
      sink('postgres', { postgres: { databaseRef: { name: 'db' } } }),
      new Map([['team-a/db', { data: { DATABASE_URL: 'postgres://x' }, resourceVersion: '1' }]]),
    );
    expect(pg.roles).toEqual({ dsn: 'postgres://x' });
    const mg = resolveCredentials(
      sink('mongodb', { mongodb: { databaseRef: { name: 'm' } } }),
      new Map([['team-a/m', { data: { MONGODB_URI: 'mongodb://x' }, resourceVersion: '1' }]]),
    );
    expect(mg.roles).toEqual({ uri: 'mongodb://x' });
  });
  it('reads the CA from tls.crt, ca.crt or ca.pem and fails clearly when a Secret is missing', () => {
    const s = sink('git', { git: {}, tls: { caSecretRef: { name: 'ca' } }, secretRef: { name: 'creds' } });
    const secrets = new Map<string, SecretData>([
      ['team-a/ca', { data: { 'ca.pem': 'PEM' }, resourceVersion: '3' }],
      ['team-a/creds', { data: { token: 't' }, resourceVersion: '4' }],
    ]);
    expect(resolveCredentials(s, secrets).caPem).toBe('PEM');
    secrets.delete('team-a/creds');
    expect(() => resolveCredentials(s, secrets)).toThrow(
      /Secret team-a\/creds referenced by spec.secretRef was not found/,
    );
  });
});

describe('errors and helpers', () => {
  it('classifies HTTP 401/403 as terminal auth failures and network errors as transient, scrubbing secrets', () => {
    const auth = classifySinkError(
      's',
      Object.assign(new Error('denied for https://user:hunter2@host/x'), { status: 403 }),
    );
    expect(SinkAuthFailed.is(auth)).toBe(true);
    expect(auth.errorClass).toBe('terminal');
    expect(auth.message).not.toContain('hunter2');
    expect(classifySinkError('s', Object.assign(new Error('x'), { code: 'ECONNRESET' })).errorClass).toBe(
      'transient',
    );
    expect(
      classifySinkError('s', Object.assign(new Error('slow'), { $metadata: { httpStatusCode: 503 } }))
        .errorClass,
    ).toBe('transient');
  });
  it('KeyedMutex serialises work per key', async () => {
    const m = new KeyedMutex();
    const order: string[] = [];
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await Promise.all([
      m.run('k', async () => {
        await wait(20);
        order.push('a');
      }),
      m.run('k', async () => {
        order.push('b');
      }),
      m.run('other', async () => {
        order.push('c');
      }),
    ]);
    expect(order).toEqual(['c', 'a', 'b']);
    expect(m.size).toBe(0);
  });
  it('the endpoint guard refuses loopback and file endpoints unless relaxed for the test bed', () => {
    const sink = (type: string, endpoint: string): CompiledSink => ({
      ref: { family: 'snapshot', namespace: 'a', name: 's' },
      uid: 'u',
      generation: 1,
      type,
      spec: { type, endpoint },
    });
    expect(() => guardEndpoints(sink('git', 'http://127.0.0.1:8080/r.git'))).toThrow(
      /spec.endpoint is not allowed/,
    );
    expect(() => guardEndpoints(sink('s3', 'http://169.254.169.254/b'))).toThrow(/metadata/);
    expect(() =>
      guardEndpoints(sink('git', 'http://127.0.0.1:8080/r.git'), { allowPrivateEndpoints: true }),
    ).not.toThrow();
    expect(() => guardEndpoints(sink('git', 'https://git.example.com/r.git'))).not.toThrow();
    expect(() => guardEndpoints(sink('s3', 's3://bucket/prefix'))).not.toThrow();
  });
});
