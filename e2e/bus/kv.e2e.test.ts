import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonKv, isWrongLastSequence, kvKey } from '@kollect/bus';
import { busHarness, type BusHarness } from './harness.js';

describe('JSON KV helpers against a real NATS server', () => {
  let h: BusHarness;
  beforeAll(async () => {
    h = await busHarness('kv');
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it('stores values under encoded keys and does compare-and-set', async () => {
    const kv = await JsonKv.open<{ v: number }>(h.bus, h.names.buckets.state);
    const key = kvKey('sync', 'prod.eu', 'apps/v1/deployments', 'team a');
    const r1 = await kv.create(key, { v: 1 });
    expect((await kv.get(key))?.value).toEqual({ v: 1 });
    await expect(kv.create(key, { v: 2 })).rejects.toSatisfy(isWrongLastSequence);
    const r2 = await kv.update(key, { v: 2 }, r1);
    await expect(kv.update(key, { v: 3 }, r1)).rejects.toSatisfy(isWrongLastSequence);
    expect(await kv.get(key)).toEqual({ key, value: { v: 2 }, revision: r2 });
    await kv.delete(key);
    expect(await kv.get(key)).toBeNull();
    expect(await kv.keys('sync.>')).toEqual([]);
  });

  it('loads every live entry under a prefix in one pass, skipping deleted keys', async () => {
    const kv = await JsonKv.open<{ i: number }>(h.bus, h.names.buckets.rows);
    for (let i = 0; i < 300; i++) await kv.put(kvKey('p1', 'inv', `row ${i}`), { i });
    for (let i = 0; i < 10; i++) await kv.put(kvKey('p2', 'inv', `row ${i}`), { i: -1 });
    for (let i = 0; i < 5; i++) await kv.delete(kvKey('p1', 'inv', `row ${i}`));
    await kv.put(kvKey('p1', 'inv', 'row 10'), { i: 1010 });

    const got = new Map<string, { value: { i: number }; revision: number }>();
    const n = await kv.load('p1.>', (e) => {
      got.set(e.key, e);
    });
    expect(n).toBe(295);
    expect(got.size).toBe(295);
    expect(got.has(kvKey('p1', 'inv', 'row 0'))).toBe(false);
    expect(got.get(kvKey('p1', 'inv', 'row 10'))?.value).toEqual({ i: 1010 });
    expect(got.get(kvKey('p1', 'inv', 'row 299'))?.value).toEqual({ i: 299 });
    const e = await kv.get(kvKey('p1', 'inv', 'row 10'));
    expect(got.get(kvKey('p1', 'inv', 'row 10'))?.revision).toBe(e?.revision);
    expect(await kv.load('p9.>', () => undefined)).toBe(0);
  });
});
