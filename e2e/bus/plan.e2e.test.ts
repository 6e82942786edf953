import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getPlan,
  JsonKv,
  PayloadTooLarge,
  PLAN_KEY,
  PlanSchemaMismatch,
  putPlan,
  watchPlan,
} from '@kollect/bus';
import type { KollectError } from '@kollect/contracts';
import { busHarness, waitFor, type BusHarness } from './harness.js';

interface TestPlan {
  schemaVersion: string;
  generation: number;
}
const V = 'kollect.dev/plan/v1';

describe('plan distribution over KV against a real NATS server', () => {
  let h: BusHarness;
  beforeAll(async () => {
    h = await busHarness('plan');
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it('delivers the current plan, then every new one, and skips plans of another schema', async () => {
    const kv = await JsonKv.open(h.bus, h.names.buckets.plan);
    await putPlan(kv, PLAN_KEY, { schemaVersion: V, generation: 1 }, { schemaVersion: V });
    const seen: number[] = [];
    const invalid: KollectError[] = [];
    let deleted = 0;
    const w = watchPlan<TestPlan>(
      kv,
      PLAN_KEY,
      (p) => {
        seen.push(p.generation);
      },
      { schemaVersion: V, onInvalid: (e) => invalid.push(e), onDeleted: () => deleted++ },
    );
    await w.first();
    expect(seen).toEqual([1]);

    await putPlan(kv, PLAN_KEY, { schemaVersion: V, generation: 2 }, { schemaVersion: V });
    await kv.put(PLAN_KEY, { schemaVersion: 'kollect.dev/plan/v999', generation: 3 });
    await putPlan(kv, PLAN_KEY, { schemaVersion: V, generation: 4 }, { schemaVersion: V });
    expect(await waitFor(() => seen.includes(4), 5000)).toBe(true);
    expect(seen).toEqual([1, 2, 4]);
    expect(invalid).toHaveLength(1);
    expect(PlanSchemaMismatch.is(invalid[0])).toBe(true);
    expect(invalid[0]!.message).toContain('v999');

    await kv.delete(PLAN_KEY);
    expect(await waitFor(() => deleted === 1, 5000)).toBe(true);
    w.stop();
    await w.done();
  });

  it('refuses to publish a plan of another schema version', async () => {
    const kv = await JsonKv.open(h.bus, h.names.buckets.plan);
    await expect(
      putPlan(kv, 'other', { schemaVersion: 'x', generation: 1 }, { schemaVersion: V }),
    ).rejects.toSatisfy((e: unknown) => PlanSchemaMismatch.is(e));
  });

  it('runs validation and keeps the last good plan when it throws', async () => {
    const kv = await JsonKv.open(h.bus, h.names.buckets.plan);
    const key = 'validated';
    await putPlan(kv, key, { schemaVersion: V, generation: 1 }, { schemaVersion: V });
    const seen: number[] = [];
    let rejected = 0;
    const w = watchPlan<TestPlan>(kv, key, (p) => void seen.push(p.generation), {
      schemaVersion: V,
      validate: (v) => {
        const p = v as TestPlan;
        if (p.generation < 0) throw new Error('generation must be >= 0');
        return p;
      },
      onInvalid: () => rejected++,
    });
    await w.first();
    await kv.put(key, { schemaVersion: V, generation: -1 });
    expect(await waitFor(() => rejected === 1, 5000)).toBe(true);
    expect(seen).toEqual([1]);
    w.stop();
  });

  it('stores a large plan compressed, delivers it intact, and refuses one that cannot fit without touching the stored plan', async () => {
    const kv = await JsonKv.open(h.bus, h.names.buckets.plan);
    const key = 'large';
    // ~2 MiB of repetitive JSON (as real plans are): over max_payload as JSON, well under it gzipped.
    const targets = Array.from({ length: 12_000 }, (_, i) => ({
      kind: 'KollectTarget',
      namespace: `team-${i % 40}`,
      name: `target-${i}`,
      profileKey: `team-${i % 40}/deployment-images`,
      watchMode: 'All',
    }));
    const big = { schemaVersion: V, generation: 5, targets };
    expect(JSON.stringify(big).length).toBeGreaterThan(h.bus.maxPayload());
    const seen: (TestPlan & { targets?: unknown[] })[] = [];
    const w = watchPlan<TestPlan & { targets?: unknown[] }>(kv, key, (p) => void seen.push(p), {
      schemaVersion: V,
    });
    await putPlan(kv, key, big, { schemaVersion: V });
    expect(await waitFor(() => seen.length === 1, 5000)).toBe(true);
    expect(seen[0]).toEqual(big);
    const stored = await kv.kv.get(key);
    expect(stored!.value[0]).toBe(0x1f); // gzip
    expect((await getPlan(kv, key))?.value).toEqual(big);

    // Incompressible content larger than max_payload: refused before anything is written.
    const noise = { schemaVersion: V, generation: 6, noise: randomBytes(1_100_000).toString('base64') };
    await expect(putPlan(kv, key, noise, { schemaVersion: V })).rejects.toSatisfy((e: unknown) =>
      PayloadTooLarge.is(e),
    );
    expect(((await getPlan(kv, key))?.value as TestPlan).generation).toBe(5);
    w.stop();
    await w.done();
  });
});
