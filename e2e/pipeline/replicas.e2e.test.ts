/**
 * Scale-out: the same objects through one extractor and one aggregator, then through two of
 * each (a fresh bus topology each time), give identical inventories; killing the aggregator that
 * owns an inventory's partition hands the partition to the other replica, which keeps exporting
 * the generation chain where the dead one left it.
 *
 *   npm run testbed -- up nats kube-apiserver
 *   eval "$(npm run -s testbed -- env)"
 *   npx vitest run --project e2e e2e/pipeline/replicas
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionOf, type InventoryRef } from '@kollect/contracts';
import { hasTestbed } from '../support/testbed.js';
import { sleep, startWorld, teamInventory, testDeployment, uniqueTag, type World } from './harness.js';
import { stable } from './oracle.js';
import { waitFor } from './support.js';

const run = hasTestbed('nats', 'kube-apiserver') ? describe : describe.skip;
const PARTITIONS = 4;

interface Result {
  checksum: string;
  itemCount: number;
  rows: string;
}

run('pipeline replicas', () => {
  let w: World;

  beforeAll(async () => {
    w = await startWorld({ tag: uniqueTag('rp'), noStack: true });
  });

  afterAll(async () => {
    await w?.cleanup();
  });

  async function results(): Promise<Map<string, Result>> {
    await w.allConverged(120_000);
    const out = new Map<string, Result>();
    for (const team of w.ns.teams) {
      const t = w.table(teamInventory(team))!;
      const rows = [...t.rows.values()].map((i) => stable(i)).sort();
      out.set(team, { checksum: t.checksum, itemCount: t.itemCount, rows: rows.join('\n') });
    }
    return out;
  }

  /** Partitions a running aggregator instance owns (from its metrics). */
  async function owned(name: string): Promise<string[]> {
    const samples = await w.stackOrThrow.metrics(name);
    return samples
      .filter((s) => s.name === 'kollect_partition_owned' && s.value === 1)
      .map((s) => s.labels['partition'] as string);
  }

  async function waitOwner(p: string, among: string[], timeoutMs: number): Promise<string | undefined> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      for (const name of among)
        if (w.stackOrThrow.service(name).running && (await owned(name)).includes(p)) return name;
      await sleep(200);
    }
    return undefined;
  }

  it('two extractor and two aggregator replicas give the same rows and checksums as one of each', async () => {
    await w.startStack({
      replicas: { extractor: 1, aggregator: 1 },
      partitions: PARTITIONS,
      prefix: `${w.prefix}one`,
    });
    const one = await results();
    await w.stopStack();

    await w.startStack({
      replicas: { extractor: 2, aggregator: 2 },
      partitions: PARTITIONS,
      prefix: `${w.prefix}two`,
    });
    const two = await results();
    expect(two).toEqual(one);
    // Both aggregators take a share of the partitions. Converged rows do not mean the shares have
    // settled (the first replica up may own every partition until the second one claims its
    // share), so poll, then assert on the last observation.
    const [a1, a2] = w.stackOrThrow.instances('aggregator') as [string, string];
    let o1: string[] = [];
    let o2: string[] = [];
    await waitFor(
      async () => {
        o1 = await owned(a1);
        o2 = await owned(a2);
        return o1.length > 0 && o2.length > 0 && [...o1, ...o2].sort().join() === '0,1,2,3';
      },
      30_000,
      250,
    );
    expect(o1.length).toBeGreaterThan(0);
    expect(o2.length).toBeGreaterThan(0);
    expect([...o1, ...o2].sort()).toEqual(['0', '1', '2', '3']);
  });

  it('killing the aggregator that owns an inventory hands its partition to the other replica', async () => {
    const team = w.ns.teams[0] as string;
    const inv: InventoryRef = teamInventory(team);
    const p = String(partitionOf(inv, PARTITIONS));
    const aggs = w.stackOrThrow.instances('aggregator');
    const owner = await waitOwner(p, aggs, 10_000);
    expect(owner).toBeDefined();
    const other = aggs.find((a) => a !== owner) as string;
    const genBefore = (await w.converged(inv)).exportGeneration;

    await w.stackOrThrow.kill(owner as string);
    // a change while the owner is dead: only the other replica can export it
    const created = await w.applier.apply<{ metadata: { uid: string } }>(
      testDeployment(team, 'rp-after-kill'),
    );
    expect(await waitOwner(p, [other], 30_000)).toBe(other);
    const t = await w.converged(inv, 60_000);
    expect([...t.rows.values()].some((i) => i.uid === created.metadata.uid)).toBe(true);
    expect(t.exportGeneration).toBeGreaterThan(genBefore);
    expect(t.problems).toEqual([]);
    expect(w.stackOrThrow.service(owner as string).running).toBe(false);
    // the restarted replica rejoins; nothing is lost or exported twice in the handover back
    await w.stackOrThrow.start(owner as string);
    await w.applier.delete(testDeployment(team, 'rp-after-kill'));
    const back = await w.converged(inv, 60_000);
    expect(back.problems).toEqual([]);
  });
});
