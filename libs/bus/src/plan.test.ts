import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeJson } from './codec.js';
import { InvalidPlan } from './errors.js';
import { decodePlan, encodePlan, PLAN_COMPRESS_ABOVE_BYTES } from './plan.js';

/** A plan-like value of roughly `targets` repetitive entries (the plan's real shape compresses alike). */
function bigPlan(targets: number) {
  return {
    schemaVersion: 'kollect.dev/plan/v1',
    generation: 3,
    targets: Array.from({ length: targets }, (_, i) => ({
      kind: 'KollectTarget',
      namespace: `team-${i % 50}`,
      name: `target-${i}`,
      uid: `0b1c2d3e-${String(i).padStart(4, '0')}-4f50-9a1b-${String(i * 7).padStart(12, '0')}`,
      profileKey: `team-${i % 50}/deployment-images`,
      namespaces: [`team-${i % 50}`],
      rules: [],
      watchMode: 'All',
      feeds: [
        {
          inventory: { kind: 'KollectInventory', namespace: `team-${i % 50}`, name: 'inv' },
          partition: i % 8,
          namespaces: null,
        },
      ],
    })),
  };
}

describe('plan encoding', () => {
  it('keeps a small plan as plain JSON', () => {
    const e = encodePlan({ schemaVersion: 'v', generation: 1 });
    expect(e.compressed).toBe(false);
    expect(new TextDecoder().decode(e.data)).toBe('{"schemaVersion":"v","generation":1}');
    expect(decodePlan(e.data, 'k')).toEqual({ schemaVersion: 'v', generation: 1 });
  });

  it('compresses a plan above the threshold and reads it back identically', () => {
    const plan = bigPlan(4000);
    const e = encodePlan(plan);
    expect(e.jsonBytes).toBeGreaterThan(PLAN_COMPRESS_ABOVE_BYTES);
    expect(e.compressed).toBe(true);
    expect(e.data[0]).toBe(0x1f);
    // the point of it: a plan far over 1 MiB of JSON fits one default NATS message
    expect(e.jsonBytes).toBeGreaterThan(1024 * 1024);
    expect(e.data.length).toBeLessThan(e.jsonBytes / 5);
    expect(decodePlan(e.data, 'k')).toEqual(plan);
  });

  it('honours the threshold option (0 = always compress)', () => {
    expect(encodePlan({ a: 1 }, { compressAboveBytes: 0 }).compressed).toBe(true);
    expect(encodePlan(bigPlan(100), { compressAboveBytes: 10_000_000 }).compressed).toBe(false);
  });

  it('reads values written before compression existed (plain JSON) and any gzip of JSON', () => {
    const json = encodeJson({ schemaVersion: 'v', generation: 9 });
    expect(decodePlan(json, 'k')).toEqual({ schemaVersion: 'v', generation: 9 });
    expect(decodePlan(gzipSync(json), 'k')).toEqual({ schemaVersion: 'v', generation: 9 });
  });

  it('rejects a corrupt compressed value as an invalid plan', () => {
    const bad = Uint8Array.from([0x1f, 0x8b, 0x08, 0, 1, 2, 3]);
    let caught: unknown;
    try {
      decodePlan(bad, 'KV kollect_plan/plan@4');
    } catch (err) {
      caught = err;
    }
    expect(InvalidPlan.is(caught)).toBe(true);
    expect(String(caught)).toContain('kollect_plan/plan@4');
  });
});
