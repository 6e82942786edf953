/**
 * Faults against the whole pipeline, each service a separate process: SIGKILL of the watcher, an
 * extractor, the owning aggregator and the controller in the middle of a stream of changes, and
 * a watch broken by a 410 (the apiserver restarted while objects were deleted behind its back).
 * After each, the inventory must equal what the apiserver holds (the oracle), and every delete
 * a snapshot ever carried must be one the test caused: no spurious deletes.
 *
 *   npm run testbed -- up nats kube-apiserver
 *   eval "$(npm run -s testbed -- env)"
 *   npx vitest run --project e2e e2e/pipeline/faults
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionOf, type InventoryRef } from '@kollect/contracts';
import { deployment } from '@kollect/demo';
import { hasTestbed, testbed, testbedEnv } from '../support/testbed.js';
import { sleep, startWorld, teamInventory, testDeployment, uniqueTag, type World } from './harness.js';

const run = hasTestbed('nats', 'kube-apiserver', 'etcd') ? describe : describe.skip;
const PARTITIONS = 4;

/**
 * A stream of changes to shop deployments of one namespace: creates, image updates and deletes,
 * one every `everyMs`. `at(i)` runs before step i (the fault hooks go there). Returns the UIDs
 * the stream deleted.
 */
async function churn(
  w: World,
  namespace: string,
  tag: string,
  steps: number,
  at: (i: number) => Promise<void> | void,
  everyMs = 150,
): Promise<Set<string>> {
  const live: { name: string; uid: string }[] = [];
  const deleted = new Set<string>();
  let made = 0;
  for (let i = 0; i < steps; i++) {
    await at(i);
    const op = i % 3;
    if (op === 0 || live.length < 2) {
      const name = `${tag}-${made++}`;
      const o = await w.applier.apply<{ metadata: { uid: string } }>(
        testDeployment(namespace, name, { images: [`nginx:${i}`] }),
      );
      live.push({ name, uid: o.metadata.uid });
    } else if (op === 1) {
      const d = live[live.length - 1]!;
      await w.applier.apply(
        testDeployment(namespace, d.name, { images: [`nginx:${i}`, 'envoy:1.30'], replicas: 2 }),
      );
    } else {
      const d = live.shift()!;
      await w.applier.delete(testDeployment(namespace, d.name));
      deleted.add(d.uid);
    }
    await sleep(everyMs);
  }
  return deleted;
}

/** Deletes carried by snapshots after `sinceGeneration` whose UID the test did not delete. */
function spuriousDeletes(
  w: World,
  inv: InventoryRef,
  sinceGeneration: number,
  intended: Set<string>,
): string[] {
  const t = w.table(inv)!;
  return t.deletes
    .filter((d) => d.exportGeneration > sinceGeneration && !intended.has(d.key.uid))
    .map((d) => `${d.key.targetName}/${d.key.uid}@${d.exportGeneration}`);
}

async function etcd(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${testbedEnv.etcdEndpoint}${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

run('pipeline faults: SIGKILL mid-stream and a 410', () => {
  let w: World;

  beforeAll(async () => {
    w = await startWorld({ tag: uniqueTag('ft'), partitions: PARTITIONS });
    await w.allConverged(120_000);
  });

  afterAll(async () => {
    await w?.cleanup();
  });

  /** The aggregator instance that owns an inventory's partition now. */
  async function ownerOf(inv: InventoryRef): Promise<string> {
    const p = String(partitionOf(inv, PARTITIONS));
    for (let i = 0; i < 100; i++) {
      for (const name of w.stackOrThrow.instances('aggregator')) {
        if (!w.stackOrThrow.service(name).running) continue;
        if ((await w.stackOrThrow.metricSum(name, 'kollect_partition_owned', { partition: p })) === 1)
          return name;
      }
      await sleep(200);
    }
    throw new Error(`no aggregator owns partition ${p}`);
  }

  for (const victim of ['watcher', 'extractor', 'aggregator', 'controller'] as const) {
    it(`SIGKILL of the ${victim} mid-stream loses nothing and deletes nothing spuriously`, async () => {
      const team = w.ns.teams[0] as string;
      const inv = teamInventory(team);
      await w.converged(inv);
      const genBefore = w.table(inv)!.exportGeneration;
      const stack = w.stackOrThrow;
      const name =
        victim === 'extractor'
          ? (stack.instances('extractor')[0] as string)
          : victim === 'aggregator'
            ? await ownerOf(inv)
            : victim;
      let restarting: Promise<void> | undefined;
      const deleted = await churn(w, team, `k${victim.slice(0, 3)}`, 24, async (i) => {
        if (i === 8) await stack.kill(name);
        if (i === 14) restarting = stack.start(name);
      });
      await restarting;
      const t = await w.converged(inv, 120_000);
      expect(t.exportGeneration).toBeGreaterThan(genBefore);
      expect(spuriousDeletes(w, inv, genBefore, deleted)).toEqual([]);
      expect(stack.service(name).running).toBe(true);
    });
  }

  it('an extractor restarted with other consumer settings (a rolling upgrade) binds to its durable and keeps extracting', async () => {
    const team = w.ns.teams[2] as string;
    const inv = teamInventory(team);
    await w.converged(inv);
    const stack = w.stackOrThrow;
    const extractors = stack.instances('extractor');
    for (const name of extractors) await stack.stop(name);
    // Fewer in flight per replica: the durable's max_ack_pending changes with it.
    await stack.start(extractors[0] as string, { env: { KOLLECT_EXTRACT_CONCURRENCY: '32' } });
    const created = await w.applier.apply<{ metadata: { uid: string } }>(testDeployment(team, 'upgraded'));
    try {
      const t = await w.converged(inv, 60_000);
      expect([...t.rows.values()].some((i) => i.uid === created.metadata.uid)).toBe(true);
    } finally {
      await stack.stop(extractors[0] as string);
      for (const name of extractors) await stack.start(name);
    }
  });

  it('a watch broken by a 410 relists and tombstones the objects deleted meanwhile', async () => {
    const team = w.ns.teams[1] as string;
    const inv = teamInventory(team);
    await w.converged(inv);
    const stack = w.stackOrThrow;
    const genBefore = w.table(inv)!.exportGeneration;
    const relists = (): Promise<number> =>
      stack.metricSum('watcher', 'kollect_watch_relists_total', { resource: 'deployments' });
    const relistsBefore = await relists();
    const victims = [deployment(team, 0), deployment(team, 3)];
    const uids = new Set<string>();
    for (const v of victims) uids.add((await w.applier.get<{ metadata: { uid: string } }>(v))!.metadata.uid);

    // Behind the apiserver's back: it is down while the objects vanish from etcd, and its watch
    // cache restarts empty, so the watcher's resume point is too old (410 Gone).
    await testbed.stop('kube-apiserver');
    try {
      for (const v of victims)
        await etcd('/v3/kv/deleterange', { key: b64(`/registry/deployments/${team}/${v.metadata.name}`) });
    } finally {
      await testbed.start('kube-apiserver');
    }
    for (const v of victims) expect(await w.applier.get(v)).toBeUndefined();

    const t = await w.converged(inv, 120_000);
    for (const r of t.rows.values()) expect(uids.has(r.uid)).toBe(false);
    const tombstoned = new Set(t.deletes.filter((d) => d.exportGeneration > genBefore).map((d) => d.key.uid));
    expect([...uids].every((u) => tombstoned.has(u))).toBe(true);
    expect(spuriousDeletes(w, inv, genBefore, uids)).toEqual([]);
    expect(await relists()).toBeGreaterThan(relistsBefore);
    // the other teams were relisted too and lost nothing
    await w.converged(teamInventory(w.ns.teams[2] as string));
  });
});
