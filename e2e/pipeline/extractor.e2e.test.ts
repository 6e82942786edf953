/**
 * Extractor (+ aggregator) against a real NATS server, as their own processes. Object messages are
 * published by the test the way the watcher does; expected rows are computed here from the objects.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AckPolicy, type ConsumerConfig } from '@nats-io/jetstream';
import {
  checksumItems,
  partitionOf,
  subjects,
  type ExtractionStatusReport,
  type InventoryRef,
  type Item,
} from '@kollect/contracts';
import {
  PLAN_SCHEMA_VERSION,
  type CompiledPlan,
  type CompiledProfile,
  type CompiledTarget,
} from '@kollect/plan';
import {
  buildApp,
  DEPLOYMENTS,
  deploymentObject,
  ModelSink,
  pipelineBus,
  publishObject,
  SnapshotReader,
  startService,
  waitFor,
  waitForLog,
  type PipelineBus,
  type ServiceProcess,
} from './support.js';

const CLUSTER = 'e2e-x';
const PARTITIONS = 2;
const INV: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'deployments' };
const PARTITION = partitionOf(INV, PARTITIONS);
const PROFILE_KEY = 'team-a/deploy';

interface Attr {
  name: string;
  path: string;
  optional?: boolean;
}

function profile(hash: string, attributes: Attr[]): CompiledProfile {
  return {
    key: PROFILE_KEY,
    namespace: 'team-a',
    name: 'deploy',
    uid: 'profile-1',
    generation: 1,
    gvk: { group: 'apps', version: 'v1', kind: 'Deployment' },
    gvr: DEPLOYMENTS,
    namespaced: true,
    attributes: attributes.map((a) => ({ name: a.name, path: a.path, optional: a.optional ?? false })),
    export: {
      mode: 'Attributes',
      as: 'resource',
      include: 'All',
      dedupeIdentity: false,
      prune: { defaults: true, jsonPointers: [], jsonPaths: [], scrubKeys: [] },
    },
    metrics: [],
    hash,
  };
}

const TARGET: CompiledTarget = {
  kind: 'KollectTarget',
  namespace: 'team-a',
  name: 'web',
  uid: 'target-1',
  generation: 1,
  profileKey: PROFILE_KEY,
  namespaces: ['team-a'],
  rules: [],
  labelSelector: { matchLabels: { tier: 'web' } },
  watchMode: 'All',
  feeds: [{ inventory: INV, partition: PARTITION, namespaces: null }],
};

const BASE_ATTRS: Attr[] = [
  { name: 'image', path: '$.spec.template.spec.containers[0].image' },
  { name: 'replicas', path: 'cel:object.spec.replicas' },
];

function plan(generation: number, p: CompiledProfile): CompiledPlan {
  return {
    schemaVersion: PLAN_SCHEMA_VERSION,
    generation,
    compiledAt: new Date().toISOString(),
    settings: {
      cluster: CLUSTER,
      partitions: PARTITIONS,
      maxExportBytes: 1_572_864,
      scrubKeys: [],
      celCostLimit: 1_000_000,
      celTimeoutMs: 1000,
    },
    watches: [{ gvr: DEPLOYMENTS, gvk: p.gvk, namespaced: true, namespaces: ['team-a'] }],
    profiles: { [PROFILE_KEY]: p },
    targets: [TARGET],
    inventories: [
      {
        ref: INV,
        uid: 'inv-1',
        generation: 1,
        partition: PARTITION,
        targets: ['KollectTarget/team-a/web'],
        dedupe: 'keepAll',
        gvrs: [DEPLOYMENTS],
        exportMinIntervalMs: 30_000,
        bindings: [],
      },
    ],
    sinks: [],
    namespaceWatch: {},
  };
}

/** The test's own model of the cluster: live objects by uid. */
class Cluster {
  objects = new Map<
    string,
    {
      name: string;
      rv: number;
      image: string;
      replicas: number;
      labels: Record<string, string>;
      extra?: Record<string, unknown>;
    }
  >();
  rv = 100;
  lastSeq = 0;
  constructor(private readonly pb: PipelineBus) {}

  async put(
    uid: string,
    o: { image: string; replicas?: number; labels?: Record<string, string>; extra?: Record<string, unknown> },
  ): Promise<void> {
    const cur = {
      name: `d-${uid}`,
      rv: ++this.rv,
      image: o.image,
      replicas: o.replicas ?? 1,
      labels: o.labels ?? { tier: 'web' },
      ...(o.extra ? { extra: o.extra } : {}),
    };
    this.objects.set(uid, cur);
    this.lastSeq = await publishObject(
      this.pb,
      CLUSTER,
      DEPLOYMENTS,
      { namespace: 'team-a', name: cur.name, uid, resourceVersion: cur.rv },
      deploymentObject({
        namespace: 'team-a',
        name: cur.name,
        uid,
        resourceVersion: cur.rv,
        image: cur.image,
        replicas: cur.replicas,
        labels: cur.labels,
        ...(cur.extra ? { extra: cur.extra } : {}),
      }),
    );
  }

  async remove(uid: string): Promise<void> {
    const cur = this.objects.get(uid);
    if (!cur) return;
    this.objects.delete(uid);
    this.lastSeq = await publishObject(
      this.pb,
      CLUSTER,
      DEPLOYMENTS,
      { namespace: 'team-a', name: cur.name, uid, resourceVersion: cur.rv + 1 },
      undefined,
    );
  }

  /** The rows the inventory must hold, computed from the objects (independent of the extractor). */
  expected(attrs: (o: { name: string; image: string; replicas: number }) => Record<string, unknown>): Item[] {
    return [...this.objects]
      .filter(([, o]) => o.labels['tier'] === 'web')
      .map(([uid, o]) => ({
        targetNamespace: 'team-a',
        targetName: 'web',
        namespace: 'team-a',
        name: o.name,
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        uid,
        attributes: attrs(o),
      }));
  }
}

const baseAttrs = (o: { image: string; replicas: number }): Record<string, unknown> => ({
  image: o.image,
  replicas: o.replicas,
});

describe('extractor service', () => {
  const procs: ServiceProcess[] = [];
  const buses: PipelineBus[] = [];
  const readers: SnapshotReader[] = [];

  beforeAll(async () => {
    await buildApp('aggregator');
    await buildApp('extractor');
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

  async function setup(tag: string): Promise<{ pb: PipelineBus; reader: SnapshotReader; cluster: Cluster }> {
    const pb = await pipelineBus(tag, { leases: { ttlMs: 3000 } });
    buses.push(pb);
    const reader = await SnapshotReader.start(pb);
    readers.push(reader);
    return { pb, reader, cluster: new Cluster(pb) };
  }
  function env(pb: PipelineBus, name: string, extra: Record<string, string> = {}): Record<string, string> {
    return {
      KOLLECT_NATS_URL: process.env['KOLLECT_TEST_NATS_URL'] ?? '',
      KOLLECT_BUS_PREFIX: pb.prefix,
      KOLLECT_ENSURE_TOPOLOGY: 'false',
      KOLLECT_POD_NAME: name,
      KOLLECT_AGG_COALESCE: '100ms',
      KOLLECT_EXTRACT_HEARTBEAT: '500ms',
      ...extra,
    };
  }
  async function start(
    app: 'aggregator' | 'extractor',
    pb: PipelineBus,
    name: string,
    extra: Record<string, string> = {},
  ): Promise<ServiceProcess> {
    const p = await startService(app, env(pb, name, extra), name);
    procs.push(p);
    return p;
  }

  it('extracts objects into rows; the first export waits for the extraction of the initial list and is complete', async () => {
    const { pb, reader, cluster } = await setup('ext1');
    for (let i = 0; i < 40; i++)
      await cluster.put(`o${i}`, {
        image: `img:${i}`,
        replicas: i % 4,
        labels: { tier: i % 4 === 0 ? 'db' : 'web' },
      });
    await pb.putPlan(plan(1, profile('h1', BASE_ATTRS)));
    await pb.setSync(CLUSTER, DEPLOYMENTS, 'team-a', 'synced', cluster.lastSeq);
    // aggregator first: it must not export before the extractor has caught up with the list
    await start('aggregator', pb, 'agg');
    await start('extractor', pb, 'ext');
    const want = cluster.expected(baseAttrs);
    expect(want).toHaveLength(30);
    expect(await waitFor(() => reader.of(INV).length > 0, 30_000)).toBe(true);
    expect(reader.of(INV)[0]).toMatchObject({
      exportGeneration: 1,
      itemCount: 30,
      checksum: checksumItems(want),
    });

    // an update, an object that stops matching, a delete, a new object
    await cluster.put('o1', { image: 'img:1-new', replicas: 9 });
    await cluster.put('o2', { image: 'img:2', replicas: 2, labels: { tier: 'db' } });
    await cluster.remove('o3');
    await cluster.put('o99', { image: 'img:99' });
    const want2 = cluster.expected(baseAttrs);
    expect(await waitFor(() => reader.last(INV)?.checksum === checksumItems(want2), 30_000)).toBe(true);
    const sink = ModelSink.of(reader.of(INV));
    expect(sink.problems).toEqual([]);
    expect(sink.rows.size).toBe(29);
  });

  it('re-extracts a changed profile by replaying the object log, once across two replicas', async () => {
    const { pb, reader, cluster } = await setup('ext2');
    for (let i = 0; i < 30; i++) await cluster.put(`r${i}`, { image: `img:${i}`, replicas: i });
    await pb.putPlan(plan(1, profile('h1', BASE_ATTRS)));
    await pb.setSync(CLUSTER, DEPLOYMENTS, 'team-a', 'synced', cluster.lastSeq);
    await start('aggregator', pb, 'agg');
    const e1 = await start('extractor', pb, 'ext-a');
    const e2 = await start('extractor', pb, 'ext-b');
    expect(
      await waitFor(() => reader.last(INV)?.checksum === checksumItems(cluster.expected(baseAttrs)), 30_000),
    ).toBe(true);
    const objectsBefore = (await pb.bus.jsm.streams.info(pb.names.streams.objects)).state.last_seq;

    // new attribute: no object changes, the rows must change
    await pb.putPlan(
      plan(2, profile('h2', [...BASE_ATTRS, { name: 'name', path: 'cel:object.metadata.name' }])),
    );
    const want = cluster.expected((o) => ({ ...baseAttrs(o), name: o.name }));
    expect(await waitFor(() => reader.last(INV)?.checksum === checksumItems(want), 30_000)).toBe(true);
    expect(ModelSink.of(reader.of(INV)).problems).toEqual([]);
    // nothing was re-published to the object log: the rows came from the replay
    expect((await pb.bus.jsm.streams.info(pb.names.streams.objects)).state.last_seq).toBe(objectsBefore);
    const replays = (): string[] =>
      [...e1.logs, ...e2.logs].filter((l) => /replay done/.test(l) && /"plan":2/.test(l));
    // Both replicas settle plan 2 (one replayed, the other found it done or claimed): only then
    // is "exactly one replay" a fact rather than a snapshot of a race.
    const settled = (e: { logs: string[] }): string | undefined =>
      e.logs.find((l) => /replays settled/.test(l) && /"plan":2/.test(l));
    expect(await waitFor(() => settled(e1) !== undefined && settled(e2) !== undefined, 30_000)).toBe(true);
    expect(replays()).toHaveLength(1);
    const counts = [settled(e1), settled(e2)].map((l) => JSON.parse(l as string) as Record<string, number>);
    expect(counts.map((c) => c['replayed']).sort()).toEqual([0, 1]);
    expect(counts.map((c) => c['skipped'])).toEqual(counts.map((c) => 1 - (c['replayed'] as number)));
  });

  it('reports extraction failures per target, keeps the old row, and clears them when the object recovers', async () => {
    const { pb, reader, cluster } = await setup('ext3');
    const reports: ExtractionStatusReport[] = [];
    const sub = pb.bus.nc.subscribe(pb.names.subject(subjects.status('extractor', CLUSTER)));
    void (async () => {
      for await (const m of sub)
        reports.push(JSON.parse(new TextDecoder().decode(m.data)) as ExtractionStatusReport);
    })();
    const attrs: Attr[] = [...BASE_ATTRS, { name: 'surge', path: 'cel:object.spec.strategy.maxSurge' }];
    const withSurge = (surge: string): Record<string, unknown> => ({ strategy: { maxSurge: surge } });
    for (let i = 0; i < 10; i++) await cluster.put(`f${i}`, { image: `img:${i}`, extra: withSurge('25%') });
    await pb.putPlan(plan(1, profile('h1', attrs)));
    await pb.setSync(CLUSTER, DEPLOYMENTS, 'team-a', 'synced', cluster.lastSeq);
    await start('aggregator', pb, 'agg');
    await start('extractor', pb, 'ext');
    const full = (o: { image: string; replicas: number }): Record<string, unknown> => ({
      ...baseAttrs(o),
      surge: '25%',
    });
    expect(
      await waitFor(() => reader.last(INV)?.checksum === checksumItems(cluster.expected(full)), 30_000),
    ).toBe(true);

    // f1 loses the field: required attribute fails -> the old row stays, the failure is reported
    const before = cluster.objects.get('f1')!;
    await cluster.put('f1', { image: 'img:1-broken' });
    await cluster.put('f2', { image: 'img:2-ok', extra: withSurge('50%') });
    expect(await waitFor(() => reports.some((r) => r.failed.some((f) => f.uid === 'f1')), 20_000)).toBe(true);
    const failed = reports.find((r) => r.failed.some((f) => f.uid === 'f1'))!;
    expect(failed.target).toEqual({ kind: 'KollectTarget', namespace: 'team-a', name: 'web' });
    expect(failed.failed[0]?.reason).toBe('ExtractionFailed');
    // the pipeline moved on: f2's change is exported, f1 still holds its previous row
    expect(await waitFor(() => reader.last(INV)?.upserts.some((i) => i.uid === 'f2') === true, 20_000)).toBe(
      true,
    );
    const sink = ModelSink.of(reader.of(INV));
    const f1 = [...sink.rows.values()].find((i) => i.uid === 'f1');
    expect(f1?.attributes).toEqual({ image: before.image, replicas: 1, surge: '25%' });

    // recovery clears the failure
    await cluster.put('f1', { image: 'img:1-fixed', extra: withSurge('10%') });
    expect(await waitFor(() => reports.some((r) => r.cleared.includes('f1')), 20_000)).toBe(true);
    sub.unsubscribe();
  });

  it('a killed extractor replica loses nothing: the survivor finishes the burst', async () => {
    const { pb, reader, cluster } = await setup('ext4');
    await pb.putPlan(plan(1, profile('h1', BASE_ATTRS)));
    await pb.setSync(CLUSTER, DEPLOYMENTS, 'team-a', 'synced', 0);
    await start('aggregator', pb, 'agg');
    const victim = await start('extractor', pb, 'ext-victim', { KOLLECT_EXTRACT_CONCURRENCY: '8' });
    await start('extractor', pb, 'ext-survivor', { KOLLECT_EXTRACT_CONCURRENCY: '8' });
    expect(await waitForLog(victim, /extractor started/, 20_000)).toBe(true);
    const burst = (async () => {
      for (let i = 0; i < 300; i++) await cluster.put(`b${i % 150}`, { image: `img:${i}`, replicas: i });
    })();
    await waitFor(() => cluster.rv > 200, 30_000, 20);
    await victim.kill('SIGKILL');
    await burst;
    expect(
      await waitFor(() => reader.last(INV)?.checksum === checksumItems(cluster.expected(baseAttrs)), 60_000),
    ).toBe(true);
    expect(ModelSink.of(reader.of(INV)).problems).toEqual([]);
  });

  it('is not ready while its durable cannot be bound, says why on /readyz and in metrics, and recovers once it is deleted', async () => {
    const { pb, reader, cluster } = await setup('ext5');
    await cluster.put('o1', { image: 'img:1' });
    await pb.putPlan(plan(1, profile('h1', BASE_ATTRS)));
    await pb.setSync(CLUSTER, DEPLOYMENTS, 'team-a', 'synced', cluster.lastSeq);
    // A durable left behind with a setting the server cannot change in place (ack policy).
    await pb.bus.jsm.consumers.add(pb.names.streams.objects, {
      durable_name: 'extractor',
      name: 'extractor',
      ack_policy: AckPolicy.All,
    } as Partial<ConsumerConfig>);
    await start('aggregator', pb, 'agg');
    const ext = await start('extractor', pb, 'ext');
    expect(await waitForLog(ext, /consumer bind failed/, 30_000)).toBe(true);
    const port = ext.logs
      .map((l) => JSON.parse(l) as { msg?: string; port?: number })
      .find((l) => l.msg === 'service started')?.port;
    expect(port).toBeGreaterThan(0);
    const get = async (path: string): Promise<{ status: number; body: string }> => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, body: await res.text() };
    };
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    const checks = (JSON.parse(ready.body) as { checks: Record<string, { ok: boolean; error?: string }> })
      .checks;
    expect(checks['consumer']?.ok).toBe(false);
    expect(checks['consumer']?.error).toMatch(
      /cannot be changed in place \(ack_policy: "all" -> "explicit"\)/,
    );
    expect(checks['consumer']?.error).toContain(`nats consumer rm ${pb.names.streams.objects} extractor`);
    const metrics = (await get('/metrics')).body;
    const labels = `stream="${pb.names.streams.objects}",consumer="extractor"`;
    expect(metrics).toContain(`kollect_bus_consumer_bound{${labels},service="extractor"} 0`);
    expect(metrics).toMatch(
      new RegExp(
        `kollect_bus_consumer_events_total\\{${labels},type="bind_failed",service="extractor"\\} [1-9]`,
      ),
    );
    expect(reader.of(INV)).toEqual([]);

    // The documented remedy: delete the durable; the extractor creates it and extracts.
    await pb.bus.jsm.consumers.delete(pb.names.streams.objects, 'extractor');
    expect(await waitFor(async () => (await get('/readyz')).status === 200, 30_000)).toBe(true);
    expect(await waitFor(() => reader.last(INV)?.itemCount === 1, 30_000)).toBe(true);
    expect((await get('/metrics')).body).toContain(
      `kollect_bus_consumer_bound{${labels},service="extractor"} 1`,
    );
  });
});
