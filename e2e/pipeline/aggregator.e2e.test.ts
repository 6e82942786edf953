/**
 * The aggregator against a real NATS server, as its own processes: rows in, snapshot generations
 * out. Rows are published by the test (no extractor), so every expectation is computed here from
 * the rows the test sent.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publishJson } from '@kollect/bus';
import {
  BUS_SCHEMA_VERSION,
  checksumItems,
  inventoryKey,
  partitionOf,
  rowKeyString,
  subjects,
  type AggregatorStatusReport,
  type InventoryRef,
  type Item,
  type RowMessage,
} from '@kollect/contracts';
import type { CompiledPlan } from '@kollect/plan';
import {
  DEPLOYMENTS,
  deploymentItem,
  ModelSink,
  pipelineBus,
  SnapshotReader,
  startService,
  testInventory,
  testPlan,
  testTarget,
  waitFor,
  waitForLog,
  type PipelineBus,
  type ServiceProcess,
} from './support.js';

const CLUSTER = 'e2e';
const PARTITIONS = 4;
const LEASE_TTL_MS = 3000;

/** Two inventories on different partitions, one target each, plus a second target for team-a. */
function scenario(): { plan: CompiledPlan; invA: InventoryRef; invB: InventoryRef } {
  const invA: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'web' };
  let invB: InventoryRef = { kind: 'KollectInventory', namespace: 'team-b', name: 'web' };
  // make sure the two live on different partitions (FNV over the key decides)
  for (let i = 0; partitionOf(invB, PARTITIONS) === partitionOf(invA, PARTITIONS); i++) {
    invB = { ...invB, name: `web${i}` };
  }
  const pa = partitionOf(invA, PARTITIONS);
  const pb = partitionOf(invB, PARTITIONS);
  const ta = testTarget('team-a', 'deployments', [{ inventory: invA, partition: pa }]);
  const ta2 = testTarget('team-a', 'apis', [{ inventory: invA, partition: pa }]);
  const tb = testTarget('team-b', 'deployments', [{ inventory: invB, partition: pb }]);
  const plan = testPlan(
    1,
    CLUSTER,
    PARTITIONS,
    [ta, ta2, tb],
    [testInventory(invA, pa, [ta, ta2]), testInventory(invB, pb, [tb])],
  );
  return { plan, invA, invB };
}

let seqCounter = 1000;
/** A row message for an item (upsert) or its key (delete). */
function row(
  inv: InventoryRef,
  op: 'upsert' | 'delete',
  item: Item,
  sourceSeq = ++seqCounter,
  planGeneration = 1,
): RowMessage {
  return {
    schemaVersion: BUS_SCHEMA_VERSION,
    op,
    cluster: CLUSTER,
    inventory: inv,
    key: { targetNamespace: item.targetNamespace, targetName: item.targetName, uid: item.uid },
    ...(op === 'upsert' ? { item } : {}),
    sourceSeq,
    planGeneration,
  };
}

let msgCounter = 0;
async function send(pb: PipelineBus, msgs: RowMessage[]): Promise<void> {
  await Promise.all(
    msgs.map((m) =>
      publishJson(
        pb.bus,
        pb.names.subject(subjects.row(partitionOf(m.inventory, PARTITIONS), m.inventory)),
        m,
        {
          // unique ids: duplicates in these tests are deliberate redeliveries, not publish retries
          msgId: `test-${++msgCounter}`,
        },
      ),
    ),
  );
}

/** The rows a table must hold after `msgs`, computed independently (max (seq, planGen) per key). */
function expectedItems(msgs: RowMessage[]): Item[] {
  const best = new Map<string, RowMessage>();
  for (const m of msgs) {
    const k = `${inventoryKey(m.inventory)}|${rowKeyString(m.key)}`;
    const cur = best.get(k);
    if (
      !cur ||
      m.sourceSeq > cur.sourceSeq ||
      (m.sourceSeq === cur.sourceSeq && m.planGeneration > cur.planGeneration)
    )
      best.set(k, m);
  }
  return [...best.values()].filter((m) => m.op === 'upsert').map((m) => m.item as Item);
}

function aggregatorEnv(pb: PipelineBus, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KOLLECT_NATS_URL: process.env['KOLLECT_TEST_NATS_URL'] ?? '',
    KOLLECT_BUS_PREFIX: pb.prefix,
    KOLLECT_ENSURE_TOPOLOGY: 'false',
    KOLLECT_AGG_GATE_EXTRACTION: 'false',
    KOLLECT_AGG_COALESCE: '100ms',
    KOLLECT_AGG_STATUS_INTERVAL: '1s',
    KOLLECT_LOG_LEVEL: 'info',
    ...extra,
  };
}

/** Follow the aggregator status reports of the suite. */
async function statusReader(pb: PipelineBus): Promise<AggregatorStatusReport[]> {
  const out: AggregatorStatusReport[] = [];
  const sub = pb.bus.nc.subscribe(pb.names.subject(subjects.status('aggregator', CLUSTER)));
  void (async () => {
    for await (const m of sub)
      out.push(JSON.parse(new TextDecoder().decode(m.data)) as AggregatorStatusReport);
  })();
  return out;
}

describe('aggregator service', () => {
  const procs: ServiceProcess[] = [];
  const buses: PipelineBus[] = [];
  const readers: SnapshotReader[] = [];
  async function setup(
    tag: string,
  ): Promise<{ pb: PipelineBus; reader: SnapshotReader } & ReturnType<typeof scenario>> {
    const pb = await pipelineBus(tag, { leases: { ttlMs: LEASE_TTL_MS } });
    buses.push(pb);
    const s = scenario();
    await pb.putPlan(s.plan);
    await pb.setSync(CLUSTER, DEPLOYMENTS, null, 'synced');
    const reader = await SnapshotReader.start(pb);
    readers.push(reader);
    return { pb, reader, ...s };
  }
  async function aggregator(
    pb: PipelineBus,
    name: string,
    extra: Record<string, string> = {},
  ): Promise<ServiceProcess> {
    const p = await startService('aggregator', aggregatorEnv(pb, { KOLLECT_POD_NAME: name, ...extra }), name);
    procs.push(p);
    return p;
  }

  beforeAll(async () => {
    // build once up front so the first test's timing is not the compiler's
    const { buildApp } = await import('./support.js');
    await buildApp('aggregator');
  }, 300_000);
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' || process.env['KOLLECT_E2E_DUMP_LOGS']) {
      for (const p of procs) console.log(`---- ${p.name}\n${p.logs.slice(-40).join('\n')}`);
    }
    for (const p of procs.splice(0)) await p.kill();
    for (const r of readers.splice(0)) r.stop();
  });
  afterAll(async () => {
    for (const b of buses.splice(0)) await b.cleanup();
  });

  it('turns rows into snapshot generations whose diffs rebuild the table exactly', async () => {
    const { pb, reader, invA, invB } = await setup('agg1');
    const status = await statusReader(pb);
    const agg = await aggregator(pb, 'agg-one');
    const a1 = deploymentItem('team-a', 'deployments', 'a1', { image: 'nginx:1.27', replicas: 2 });
    const a2 = deploymentItem('team-a', 'apis', 'a2', { image: 'envoy:1.30' });
    const b1 = deploymentItem('team-b', 'deployments', 'b1', { image: 'redis:7' });
    const batch1 = [row(invA, 'upsert', a1), row(invA, 'upsert', a2), row(invB, 'upsert', b1)];
    await send(pb, batch1);
    expect(
      await waitFor(() => reader.last(invA)?.itemCount === 2 && reader.last(invB)?.itemCount === 1, 30_000),
    ).toBe(true);
    const firstA = reader.of(invA);
    expect(firstA[0]).toMatchObject({
      kind: 'diff',
      exportGeneration: 1,
      previousGeneration: 0,
      cluster: CLUSTER,
    });

    // update one, delete one, add one
    const a1v2 = { ...a1, attributes: { image: 'nginx:1.28', replicas: 2 } };
    const a3 = deploymentItem('team-a', 'deployments', 'a3', { image: 'busybox' });
    const batch2 = [row(invA, 'upsert', a1v2), row(invA, 'delete', a2), row(invA, 'upsert', a3)];
    await send(pb, batch2);
    const all = [...batch1, ...batch2];
    const wantA = expectedItems(all).filter((i) => i.targetNamespace === 'team-a');
    expect(await waitFor(() => reader.last(invA)?.checksum === checksumItems(wantA), 30_000)).toBe(true);
    const last = reader.last(invA)!;
    expect(last.exportGeneration).toBe(reader.of(invA).length);
    expect(last.deletes).toContainEqual({ targetNamespace: 'team-a', targetName: 'apis', uid: 'a2' });
    const sink = ModelSink.of(reader.of(invA));
    expect(sink.problems).toEqual([]);
    expect([...sink.rows.values()].map((i) => i.uid).sort()).toEqual(['a1', 'a3']);
    // Nothing more is exported while nothing changes: two status reports published after this
    // point (the aggregator is alive and past any coalescing window) still name the same
    // generation, and no snapshot message arrived meanwhile.
    const count = reader.messages.length;
    const reportsBefore = status.length;
    const ofA = () =>
      status.slice(reportsBefore).filter((r) => inventoryKey(r.inventory) === inventoryKey(invA));
    expect(await waitFor(() => ofA().length >= 2, 20_000)).toBe(true);
    expect(ofA().map((r) => r.exportGeneration)).toEqual(ofA().map(() => last.exportGeneration));
    expect(reader.messages.length).toBe(count);
    expect(agg.proc.exitCode).toBeNull();
  });

  it('gives the same result whatever the order and with redelivered rows', async () => {
    const { pb, reader, invA } = await setup('agg2');
    await aggregator(pb, 'agg-order');
    const msgs: RowMessage[] = [];
    let seq = 5000;
    for (let u = 0; u < 30; u++) {
      for (let v = 1; v <= 3; v++) {
        const it = deploymentItem('team-a', u % 2 ? 'deployments' : 'apis', `u${u}`, { v });
        msgs.push(row(invA, u % 5 === 0 && v === 3 ? 'delete' : 'upsert', it, ++seq));
      }
    }
    // newest first, every message twice
    const shuffled = [...msgs].reverse().flatMap((m) => [m, m]);
    for (let i = 0; i < shuffled.length; i += 20) await send(pb, shuffled.slice(i, i + 20));
    const want = checksumItems(expectedItems(msgs));
    expect(await waitFor(() => reader.last(invA)?.checksum === want, 30_000)).toBe(true);
    expect(reader.last(invA)?.itemCount).toBe(24);
    expect(ModelSink.of(reader.of(invA)).problems).toEqual([]);
  });

  it('two replicas split the partitions and export the same as one', async () => {
    const one = await setup('agg3a');
    const two = await setup('agg3b');
    await aggregator(one.pb, 'solo');
    const r1 = await aggregator(two.pb, 'pair-1');
    const r2 = await aggregator(two.pb, 'pair-2');
    // both replicas own partitions
    expect(await waitForLog(r1, /partition loaded/, 20_000)).toBe(true);
    expect(await waitForLog(r2, /partition loaded/, 20_000)).toBe(true);
    const msgs: RowMessage[] = [];
    for (let u = 0; u < 40; u++) {
      const inv = u % 2 ? one.invA : one.invB;
      const ns = inv.namespace;
      msgs.push(row(inv, 'upsert', deploymentItem(ns, 'deployments', `x${u}`, { n: u })));
    }
    msgs.push(row(one.invA, 'delete', deploymentItem('team-a', 'deployments', 'x1', {})));
    await send(one.pb, msgs);
    await send(two.pb, msgs);
    for (const inv of [one.invA, one.invB]) {
      const want = checksumItems(expectedItems(msgs).filter((i) => i.targetNamespace === inv.namespace));
      expect(
        await waitFor(
          () => one.reader.last(inv)?.checksum === want && two.reader.last(inv)?.checksum === want,
          30_000,
        ),
      ).toBe(true);
      expect(ModelSink.of(two.reader.of(inv)).problems).toEqual([]);
    }
  });

  it('hands the partitions of a killed owner over; the generation sequence continues', async () => {
    const { pb, reader, invA, invB } = await setup('agg4');
    const first = await aggregator(pb, 'first');
    expect(await waitForLog(first, /partition loaded/, 20_000)).toBe(true);
    const sent: RowMessage[] = [];
    const push = async (msgs: RowMessage[]): Promise<void> => {
      sent.push(...msgs);
      await send(pb, msgs);
    };
    await push([row(invA, 'upsert', deploymentItem('team-a', 'deployments', 'k1', { v: 1 }))]);
    await push([row(invB, 'upsert', deploymentItem(invB.namespace, 'deployments', 'k2', { v: 1 }))]);
    expect(
      await waitFor(() => reader.last(invA)?.itemCount === 1 && reader.last(invB)?.itemCount === 1, 30_000),
    ).toBe(true);
    const second = await aggregator(pb, 'second');
    // the newcomer takes a share; the first keeps the rest
    expect(await waitForLog(second, /partition loaded/, 30_000)).toBe(true);
    const genBefore = reader.last(invA)!.exportGeneration;
    await first.kill('SIGKILL');
    // rows published while nobody may own some partitions are kept by the stream
    await push([row(invA, 'upsert', deploymentItem('team-a', 'deployments', 'k3', { v: 1 }))]);
    await push([row(invB, 'upsert', deploymentItem(invB.namespace, 'deployments', 'k4', { v: 1 }))]);
    for (const inv of [invA, invB]) {
      const want = checksumItems(expectedItems(sent).filter((i) => i.targetNamespace === inv.namespace));
      expect(await waitFor(() => reader.last(inv)?.checksum === want, 60_000)).toBe(true);
      const sink = ModelSink.of(reader.of(inv));
      expect(sink.problems).toEqual([]);
    }
    expect(reader.last(invA)!.exportGeneration).toBe(genBefore + 1);
    // the survivor now owns every partition
    expect(
      await waitFor(
        () => second.logs.filter((l) => /partition loaded/.test(l)).length === PARTITIONS,
        30_000,
      ),
    ).toBe(true);
  });

  it('after a restart: no export before the gate opens, and no spurious delete', async () => {
    const { pb, reader, invA } = await setup('agg5');
    const status = await statusReader(pb);
    const a = await aggregator(pb, 'before');
    const items = Array.from({ length: 25 }, (_, i) =>
      deploymentItem('team-a', 'deployments', `r${i}`, { i }),
    );
    await send(
      pb,
      items.map((it) => row(invA, 'upsert', it)),
    );
    expect(await waitFor(() => reader.last(invA)?.itemCount === 25, 30_000)).toBe(true);
    const gen = reader.last(invA)!.exportGeneration;
    await a.kill('SIGKILL');
    // the watcher restarts its list meanwhile: the gate must hold the new owner
    await pb.setSync(CLUSTER, DEPLOYMENTS, null, 'listing');
    const b = await aggregator(pb, 'after');
    expect(await waitForLog(b, /partition loaded/, 30_000)).toBe(true);
    const extra = deploymentItem('team-a', 'deployments', 'r-new', { i: 99 });
    await send(pb, [row(invA, 'upsert', extra)]);
    expect(
      await waitFor(
        () =>
          status.some(
            (s) => inventoryKey(s.inventory) === inventoryKey(invA) && !s.gateOpen && s.itemCount === 26,
          ),
        20_000,
      ),
    ).toBe(true);
    // The new owner holds the row behind the closed gate: its reports (two of them, the second a
    // status interval after it had the row) keep the generation the dead owner exported.
    const held = () =>
      status.filter(
        (s) => inventoryKey(s.inventory) === inventoryKey(invA) && !s.gateOpen && s.itemCount === 26,
      );
    expect(await waitFor(() => held().length >= 2, 20_000)).toBe(true);
    expect(held().map((s) => s.exportGeneration)).toEqual(held().map(() => gen));
    expect(reader.last(invA)!.exportGeneration).toBe(gen);
    await pb.setSync(CLUSTER, DEPLOYMENTS, null, 'synced');
    expect(await waitFor(() => reader.last(invA)!.exportGeneration === gen + 1, 20_000)).toBe(true);
    const next = reader.last(invA)!;
    expect(next.deletes).toEqual([]);
    expect(next.upserts.map((i) => i.uid)).toEqual(['r-new']);
    expect(next.itemCount).toBe(26);
    expect(ModelSink.of(reader.of(invA)).problems).toEqual([]);
  });

  it('a paused owner that wakes up after the takeover steps back, its writes fenced, and nothing is lost', async () => {
    const { pb, reader, invA, invB } = await setup('agg7');
    const sent: RowMessage[] = [];
    const push = async (msgs: RowMessage[]): Promise<void> => {
      sent.push(...msgs);
      await send(pb, msgs);
    };
    const zombie = await aggregator(pb, 'zombie');
    expect(
      await waitFor(
        () => zombie.logs.filter((l) => /partition loaded/.test(l)).length === PARTITIONS,
        30_000,
      ),
    ).toBe(true);
    await push([row(invA, 'upsert', deploymentItem('team-a', 'deployments', 'z1', { v: 1 }))]);
    expect(await waitFor(() => reader.last(invA)?.itemCount === 1, 30_000)).toBe(true);
    const heir = await aggregator(pb, 'heir');
    // the zombie keeps its partitions while alive; freeze it so its leases run out
    zombie.proc.kill('SIGSTOP');
    expect(
      await waitFor(() => heir.logs.filter((l) => /partition loaded/.test(l)).length === PARTITIONS, 30_000),
    ).toBe(true);
    await push([
      row(invA, 'upsert', deploymentItem('team-a', 'deployments', 'z2', { v: 1 })),
      row(invB, 'upsert', deploymentItem(invB.namespace, 'deployments', 'z3', { v: 1 })),
    ]);
    zombie.proc.kill('SIGCONT');
    await push([row(invA, 'upsert', deploymentItem('team-a', 'deployments', 'z1', { v: 2 }))]);
    for (const inv of [invA, invB]) {
      const want = checksumItems(expectedItems(sent).filter((i) => i.targetNamespace === inv.namespace));
      expect(await waitFor(() => reader.last(inv)?.checksum === want, 60_000)).toBe(true);
      expect(ModelSink.of(reader.of(inv)).problems).toEqual([]);
    }
    // the zombie is alive and well after being fenced off (no deadlock on the fence)
    expect(zombie.proc.exitCode).toBeNull();
    expect(await waitFor(() => zombie.logs.some((l) => /partition lost/.test(l)), 30_000)).toBe(true);
  });

  it('serves a full snapshot of the current generation through the object store', async () => {
    const { pb, reader, invA } = await setup('agg6');
    await aggregator(pb, 'full');
    const items = Array.from({ length: 5 }, (_, i) =>
      deploymentItem('team-a', 'deployments', `f${i}`, { i }),
    );
    await send(
      pb,
      items.map((it) => row(invA, 'upsert', it)),
    );
    expect(await waitFor(() => reader.last(invA)?.itemCount === 5, 30_000)).toBe(true);
    const reply = await pb.bus.nc.request(
      pb.names.subject(subjects.fullSnapshotRequest(CLUSTER, invA)),
      undefined,
      { timeout: 10_000 },
    );
    const body = JSON.parse(new TextDecoder().decode(reply.data)) as {
      ok: boolean;
      snapshot: { objectRef: { name: string }; exportGeneration: number; checksum: string };
    };
    expect(body.ok).toBe(true);
    expect(body.snapshot.exportGeneration).toBe(reader.last(invA)!.exportGeneration);
    const store = await pb.bus.objm.open(pb.names.buckets.full);
    const data = await store.getBlob(body.snapshot.objectRef.name);
    const full = JSON.parse(new TextDecoder().decode(data!)) as {
      kind: string;
      upserts: Item[];
      checksum: string;
    };
    expect(full.kind).toBe('full');
    expect(checksumItems(full.upserts)).toBe(body.snapshot.checksum);
    expect(full.upserts).toHaveLength(5);
  });

  it('a deleted inventory: its last export is marked final, so is the full snapshot served for it, and once it left the plan a full request gets NotFound', async () => {
    const { pb, reader, invA, invB, plan } = await setup('agg7');
    const statuses = await statusReader(pb);
    await aggregator(pb, 'final');
    const items = Array.from({ length: 4 }, (_, i) =>
      deploymentItem('team-a', 'deployments', `d${i}`, { i }),
    );
    await send(
      pb,
      items.map((it) => row(invA, 'upsert', it)),
    );
    expect(await waitFor(() => reader.last(invA)?.itemCount === 4, 30_000)).toBe(true);
    expect(reader.of(invA).every((m) => m.final === undefined)).toBe(true);
    const request = async (): Promise<{
      ok: boolean;
      reason?: string;
      snapshot?: { final?: string; exportGeneration: number; objectRef: { name: string } };
    }> => {
      const reply = await pb.bus.nc.request(
        pb.names.subject(subjects.fullSnapshotRequest(CLUSTER, invA)),
        undefined,
        { timeout: 5_000 },
      );
      return JSON.parse(new TextDecoder().decode(reply.data)) as Awaited<ReturnType<typeof request>>;
    };
    expect((await request()).snapshot?.final).toBeUndefined();

    // The controller's plan for a deleted inventory: `deleting`, no targets left.
    const deleting = (generation: number, keepA: boolean): CompiledPlan => ({
      ...plan,
      generation,
      inventories: plan.inventories.flatMap((i) =>
        inventoryKey(i.ref) !== inventoryKey(invA)
          ? [i]
          : keepA
            ? [{ ...i, targets: [], deleting: true as const }]
            : [],
      ),
    });
    await pb.putPlan(deleting(2, true));
    expect(await waitFor(() => reader.last(invA)?.final !== undefined, 30_000)).toBe(true);
    const last = reader.last(invA)!;
    expect(last).toMatchObject({ final: 'inventory-deleted', itemCount: 0, upserts: [] });
    expect(last.deletes.map((k) => k.uid).sort()).toEqual(items.map((i) => i.uid).sort());
    expect(
      await waitFor(
        () =>
          statuses.some(
            (r) =>
              inventoryKey(r.inventory) === inventoryKey(invA) &&
              r.finalExportGeneration === last.exportGeneration,
          ),
        30_000,
      ),
    ).toBe(true);
    // A sink catching up asks for "the current state": it is told that the inventory ended.
    const served = await request();
    expect(served).toMatchObject({
      ok: true,
      snapshot: { final: 'inventory-deleted', exportGeneration: last.exportGeneration },
    });
    const store = await pb.bus.objm.open(pb.names.buckets.full);
    const stored = JSON.parse(
      new TextDecoder().decode((await store.getBlob(served.snapshot!.objectRef.name))!),
    ) as { final?: string; upserts: Item[] };
    expect(stored).toMatchObject({ final: 'inventory-deleted', upserts: [] });

    // The finalizer is gone, the inventory leaves the plan: the partition's owner says NotFound
    // at once (no sink waits out its request deadline), and nothing more is published for it.
    await pb.putPlan(deleting(3, false));
    let gone: Awaited<ReturnType<typeof request>> | undefined;
    expect(
      await waitFor(async () => {
        gone = await request().catch(() => undefined);
        return gone?.ok === false;
      }, 30_000),
    ).toBe(true);
    expect(gone).toMatchObject({ ok: false, reason: 'NotFound' });
    expect(reader.last(invA)?.exportGeneration).toBe(last.exportGeneration);
    // The other inventory is unaffected.
    await send(pb, [row(invB, 'upsert', deploymentItem('team-b', 'deployments', 'b1', { i: 1 }))]);
    expect(await waitFor(() => reader.last(invB)?.itemCount === 1, 30_000)).toBe(true);
    expect(reader.last(invB)?.final).toBeUndefined();
  });
});
