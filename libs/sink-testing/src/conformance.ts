import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumItems, type InventoryRef, type Item } from '@kollect/contracts';
import type { CompiledSink } from '@kollect/plan';
import {
  guardEndpoints,
  MaterializedStore,
  SinkRunner,
  type Sink,
  type SinkCredentials,
  type SinkFactory,
  type SinkLogger,
} from '@kollect/sink';
import { InventoryModel, makeItems } from './model.js';

/** What a backend holds for one (cluster, inventory), read back without the sink. */
export interface StoredInventory {
  items: Item[];
  /** The generation recorded in the backend, when the reader can see it. */
  exportGeneration?: number;
}

/** A fresh, isolated destination on the real backend (a new repository, bucket prefix, table…). */
export interface ConformanceDestination {
  /** A compiled sink whose spec points at the destination. */
  sink: CompiledSink;
  credentials: SinkCredentials;
  /** Credentials the backend rejects (wrong password/key). */
  wrongCredentials: SinkCredentials;
  /** Independent reader: git clone + parse, S3 GetObject, SQL… never the sink under test. */
  read(cluster: string, inventory: InventoryRef): Promise<StoredInventory | null>;
  /** Changes whenever anything was written to the destination (a head SHA, ETags, a row count…). */
  revision(): Promise<string>;
  cleanup?(): Promise<void>;
}

export interface ConformanceTarget {
  /** Suite title, e.g. `git (yaml document)`. */
  name: string;
  factory: SinkFactory;
  /**
   * A fresh destination. `clusterPartitioned` asks for settings under which two clusters share the
   * destination without overwriting each other (e.g. `{cluster}` in the path template).
   */
  destination(opts: { clusterPartitioned?: boolean }): Promise<ConformanceDestination>;
  /** Take the backend down and bring it back (test bed fault hooks); omit to skip that case. */
  fault?: { down(): Promise<void>; up(): Promise<void> };
  /**
   * Rows of the large-inventory case (default: `KOLLECT_CONFORMANCE_BIG_ROWS`, else 100 000).
   */
  bigRows?: number;
  /** Per-test timeout in ms (default 300 000). */
  timeoutMs?: number;
  log?: SinkLogger;
}

const quiet: SinkLogger = { debug() {}, info() {}, warn() {}, error() {} };

interface Harness {
  sink: Sink;
  runner: SinkRunner;
  model: InventoryModel;
}

/**
 * Register the conformance suite for one backend (STYLE.md "One interface per extension point").
 * Every case drives the real backend through the framework (`SinkRunner`), exactly as the worker
 * does, and reads the result back independently. Cases are self-contained: each uses its own
 * destination.
 */
export function sinkConformance(target: ConformanceTarget): void {
  const timeout = target.timeoutMs ?? 300_000;
  const bigRows = target.bigRows ?? (Number(process.env['KOLLECT_CONFORMANCE_BIG_ROWS']) || 100_000);
  const log = target.log ?? quiet;
  const inv: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'web' };
  let workDir = '';

  async function harness(
    dest: ConformanceDestination,
    cluster = 'east',
    opts: { credentials?: SinkCredentials; model?: InventoryModel; store?: MaterializedStore } = {},
  ): Promise<Harness> {
    guardEndpoints(dest.sink, { allowPrivateEndpoints: true });
    const sink = target.factory.create({
      sink: dest.sink,
      cluster,
      credentials: opts.credentials ?? dest.credentials,
      workDir,
      signal: new AbortController().signal,
      log,
      allowPrivateEndpoints: true,
    });
    await sink.connect();
    const model = opts.model ?? new InventoryModel(inv, cluster);
    const runner = new SinkRunner({
      sink,
      sinkName: `snapshot/${dest.sink.ref.namespace}/${dest.sink.ref.name}`,
      full: model,
      store: opts.store ?? new MaterializedStore(),
      clusterLabel: cluster,
      log,
    });
    return { sink, runner, model };
  }

  async function expectHolds(
    dest: ConformanceDestination,
    cluster: string,
    model: InventoryModel,
    g = model.current,
  ): Promise<void> {
    const stored = await dest.read(cluster, inv);
    const items = stored?.items ?? [];
    expect(items.length).toBe(model.items(g).length);
    expect(checksumItems(items)).toBe(model.checksum(g));
    if (stored?.exportGeneration !== undefined) expect(stored.exportGeneration).toBe(g);
  }

  async function export_(h: Harness, g: number, kind: 'diff' | 'full' = 'diff') {
    const out = await h.runner.handle(h.model.message(g, kind));
    if (out.outcome === 'failed') throw out.error;
    return out;
  }

  describe(`sink conformance: ${target.name}`, () => {
    it(
      'first export: the backend holds generation 1 and reports it as its position',
      async () => {
        const dest = await target.destination({});
        const h = await harness(dest);
        h.model.push(makeItems(25));
        const out = await export_(h, 1);
        expect(out.outcome).toBe('exported');
        await expectHolds(dest, 'east', h.model);
        expect(await h.sink.lastApplied(inv)).toEqual({ exportGeneration: 1, checksum: h.model.checksum(1) });
        await h.sink.close();
        await dest.cleanup?.();
      },
      timeout,
    );

    it(
      'diff on top: generation 2 is applied on top of 1',
      async () => {
        const dest = await target.destination({});
        const h = await harness(dest);
        h.model.push(makeItems(25));
        await export_(h, 1);
        h.model.push([
          ...makeItems(25, {
            image: (i) => (i % 5 === 0 ? 'registry.example/app:new' : `registry.example/app:${i % 7}`),
          }),
          ...makeItems(3, { prefix: 'extra' }),
        ]);
        const out = await export_(h, 2);
        expect(out.outcome).toBe('exported');
        expect(out.action).toBe(h.sink.capabilities.incremental ? 'apply-diff' : 'replace-from-full');
        await expectHolds(dest, 'east', h.model);
        expect(h.model.fetches).toBeLessThanOrEqual(1);
        await h.sink.close();
        await dest.cleanup?.();
      },
      timeout,
    );

    it(
      'redelivered diff: no change and nothing written',
      async () => {
        const dest = await target.destination({});
        const h = await harness(dest);
        h.model.push(makeItems(10));
        await export_(h, 1);
        h.model.push(makeItems(12));
        await export_(h, 2);
        const rev = await dest.revision();
        const again = await export_(h, 2);
        expect(again).toMatchObject({ outcome: 'unchanged', action: 'skip' });
        const older = await export_(h, 1);
        expect(older).toMatchObject({ outcome: 'unchanged', action: 'skip' });
        expect(await dest.revision()).toBe(rev);
        await expectHolds(dest, 'east', h.model);
        await h.sink.close();
        await dest.cleanup?.();
      },
      timeout,
    );

    it(
      'out-of-order diff: refused as a diff, the full snapshot of the current generation replaces, the late one is a no-op',
      async () => {
        const dest = await target.destination({});
        const h = await harness(dest);
        h.model.push(makeItems(10));
        await export_(h, 1);
        h.model.push(makeItems(11));
        h.model.push(makeItems(8));
        const out = await export_(h, 3);
        expect(out.action).toBe('replace-from-full');
        expect(out.why).toBe('gap');
        await expectHolds(dest, 'east', h.model, 3);
        const rev = await dest.revision();
        expect((await export_(h, 2)).action).toBe('skip');
        expect(await dest.revision()).toBe(rev);
        await h.sink.close();
        await dest.cleanup?.();
      },
      timeout,
    );

    it(
      'full replace after a gap: a fresh worker converges from the backend position alone',
      async () => {
        const dest = await target.destination({});
        const h = await harness(dest);
        h.model.push(makeItems(20));
        await export_(h, 1);
        await h.sink.close();
        h.model.push(makeItems(15));
        h.model.push([...makeItems(10), ...makeItems(5, { prefix: 'late' })]);
        h.model.push(makeItems(12, { image: () => 'registry.example/app:gap' }));
        // A new worker process: no materialised state, only what the backend says.
        const fresh = await harness(dest, 'east', { model: h.model });
        expect(await fresh.sink.lastApplied(inv)).toMatchObject({ exportGeneration: 1 });
        const out = await export_(fresh, 4);
        expect(out.action).toBe('replace-from-full');
        await expectHolds(dest, 'east', h.model, 4);
        expect(await fresh.sink.lastApplied(inv)).toMatchObject({ exportGeneration: 4 });
        await fresh.sink.close();
        await dest.cleanup?.();
      },
      timeout,
    );

    it(
      'deletes: rows that disappear are removed from the backend',
      async () => {
        const dest = await target.destination({});
        const h = await harness(dest);
        h.model.push(makeItems(30));
        await export_(h, 1);
        h.model.push(makeItems(30).filter((_, i) => i % 3 !== 0));
        await export_(h, 2);
        await expectHolds(dest, 'east', h.model);
        const stored = await dest.read('east', inv);
        expect(stored?.items.some((i) => i.name === 'app-0')).toBe(false);
        await h.sink.close();
        await dest.cleanup?.();
      },
      timeout,
    );

    it(
      'empty inventory: exporting zero rows empties the backend state (deletes are real)',
      async () => {
        const dest = await target.destination({});
        const h = await harness(dest);
        h.model.push(makeItems(7));
        await export_(h, 1);
        h.model.push([]);
        const out = await export_(h, 2);
        expect(out.outcome).toBe('exported');
        await expectHolds(dest, 'east', h.model);
        h.model.push(makeItems(2));
        await export_(h, 3);
        await expectHolds(dest, 'east', h.model);
        await h.sink.close();
        await dest.cleanup?.();
      },
      timeout,
    );

    it(
      `large inventory: ${bigRows} rows, then a 1% change`,
      async () => {
        const n = bigRows;
        const dest = await target.destination({});
        const h = await harness(dest);
        h.model.push(makeItems(n));
        await export_(h, 1);
        await expectHolds(dest, 'east', h.model);
        h.model.push(
          makeItems(n, {
            image: (i) => (i % 100 === 0 ? 'registry.example/app:patched' : `registry.example/app:${i % 7}`),
          }),
        );
        const out = await export_(h, 2);
        expect(out.outcome).toBe('exported');
        await expectHolds(dest, 'east', h.model);
        await h.sink.close();
        await dest.cleanup?.();
      },
      Math.max(timeout, 900_000),
    );

    it(
      'two clusters into one backend: each keeps its rows, no cross-deletes',
      async () => {
        const dest = await target.destination({ clusterPartitioned: true });
        const east = await harness(dest, 'east');
        const west = await harness(dest, 'west');
        east.model.push(makeItems(10, { prefix: 'east' }));
        west.model.push(makeItems(12, { prefix: 'west' }));
        await export_(east, 1);
        await export_(west, 1);
        await expectHolds(dest, 'east', east.model);
        await expectHolds(dest, 'west', west.model);
        east.model.push([]);
        await export_(east, 2);
        west.model.push(makeItems(13, { prefix: 'west' }));
        await export_(west, 2);
        await expectHolds(dest, 'east', east.model);
        await expectHolds(dest, 'west', west.model);
        expect(await west.sink.lastApplied(inv)).toMatchObject({ exportGeneration: 2 });
        await east.sink.close();
        await west.sink.close();
        await dest.cleanup?.();
      },
      timeout,
    );

    it.runIf(target.fault !== undefined)(
      'backend down then up: exports fail transiently, then converge with nothing lost',
      async () => {
        const fault = target.fault as NonNullable<ConformanceTarget['fault']>;
        const dest = await target.destination({});
        const h = await harness(dest);
        h.model.push(makeItems(10));
        await export_(h, 1);
        await fault.down();
        try {
          h.model.push(makeItems(12));
          const failed = await h.runner.handle(h.model.message(2));
          expect(failed.outcome).toBe('failed');
          expect(failed.error?.errorClass).toBe('transient');
          h.model.push(makeItems(9));
        } finally {
          await fault.up();
        }
        // JetStream redelivers the unacknowledged messages in order.
        const r2 = await export_(h, 2);
        expect(['exported', 'unchanged']).toContain(r2.outcome);
        await export_(h, 3);
        await expectHolds(dest, 'east', h.model, 3);
        await h.sink.close();
        await dest.cleanup?.();
      },
      timeout,
    );

    it(
      'credentials wrong: a terminal, clear failure and nothing written',
      async () => {
        const dest = await target.destination({});
        const good = await harness(dest);
        good.model.push(makeItems(5));
        await export_(good, 1);
        const rev = await dest.revision();
        let bad: Harness | undefined;
        let connectError: unknown;
        try {
          bad = await harness(dest, 'east', { credentials: dest.wrongCredentials, model: good.model });
        } catch (err) {
          connectError = err;
        }
        if (bad) {
          good.model.push(makeItems(6));
          const out = await bad.runner.handle(good.model.message(2));
          expect(out.outcome).toBe('failed');
          expect(out.error?.errorClass).toBe('terminal');
          expect(out.error?.message).toMatch(
            /credential|rejected|denied|auth|permission|signature|access key/i,
          );
          const probe = await bad.sink.probe();
          expect(probe.ok).toBe(false);
          for (const secret of Object.values(dest.wrongCredentials.data)) {
            if (secret.length >= 6) {
              expect(out.error?.message).not.toContain(secret);
              expect(probe.message).not.toContain(secret);
            }
          }
          await bad.sink.close();
        } else {
          expect((connectError as { errorClass?: string }).errorClass).toBe('terminal');
        }
        expect(await dest.revision()).toBe(rev);
        await expectHolds(dest, 'east', good.model, 1);
        await good.sink.close();
        await dest.cleanup?.();
      },
      timeout,
    );

    beforeAll(() => {
      workDir = mkdtempSync(join(tmpdir(), 'kollect-conformance-'));
    });
    afterAll(() => {
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });
  });
}
