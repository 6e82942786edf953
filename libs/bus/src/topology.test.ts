import { describe, expect, it } from 'vitest';
import type { StreamConfig } from '@nats-io/jetstream';
import { desiredStreams, streamDrift } from './topology.js';

const byName = (cfgs: StreamConfig[]) => Object.fromEntries(cfgs.map((c) => [c.name, c]));

describe('desired topology', () => {
  const s = byName(desiredStreams());

  it('keeps one message per object subject: the object log is a compacted mirror', () => {
    const o = s['KOLLECT_OBJECTS']!;
    expect(o.subjects).toEqual(['kollect.obj.>']);
    expect(o.max_msgs_per_subject).toBe(1);
    expect(o.discard).toBe('old');
    expect(o.allow_direct).toBe(true);
    expect(o.storage).toBe('file');
    expect(o.duplicate_window).toBe(120_000_000_000);
  });

  it('makes rows a work queue that pushes back when full instead of dropping', () => {
    const r = s['KOLLECT_ROWS']!;
    expect(r.retention).toBe('workqueue');
    expect(r.discard).toBe('new');
    expect(r.max_age).toBe(0);
  });

  it('keeps snapshots in a bounded window and status briefly', () => {
    expect(s['KOLLECT_SNAPSHOTS']!.retention).toBe('limits');
    expect(s['KOLLECT_SNAPSHOTS']!.max_age).toBe(7 * 24 * 3600 * 1e9);
    expect(s['KOLLECT_STATUS']!.max_age).toBe(3600 * 1e9);
  });

  it('creates the KV buckets and the object store with their limits', () => {
    expect(s['KV_kollect_plan']!.max_msgs_per_subject).toBe(5);
    expect(s['KV_kollect_plan']!.subjects).toEqual(['$KV.kollect_plan.>']);
    expect(s['KV_kollect_rows']!.max_msgs_per_subject).toBe(1);
    expect(s['KV_kollect_leases']!.max_age).toBe(15e9);
    expect(s['OBJ_kollect_full']!.max_age).toBe(24 * 3600 * 1e9);
  });

  it('applies configured limits and the prefix', () => {
    const t = byName(
      desiredStreams({
        names: 'x',
        storage: 'memory',
        snapshots: { maxAgeMs: 60_000, maxBytes: 1024 },
        leases: { ttlMs: 3000 },
        plan: { history: 10 },
      }),
    );
    expect(t['x_KOLLECT_SNAPSHOTS']!.max_age).toBe(60e9);
    expect(t['x_KOLLECT_SNAPSHOTS']!.max_bytes).toBe(1024);
    expect(t['x_KOLLECT_SNAPSHOTS']!.subjects).toEqual(['x.kollect.snap.>']);
    expect(t['x_KOLLECT_SNAPSHOTS']!.storage).toBe('memory');
    expect(t['KV_x_kollect_leases']!.max_age).toBe(3e9);
    expect(t['KV_x_kollect_plan']!.max_msgs_per_subject).toBe(10);
  });
});

describe('stream drift', () => {
  const want = desiredStreams()[0]!;

  it('sees no drift on an identical stream', () => {
    expect(streamDrift(want, { ...want })).toEqual({ immutable: [], mutable: [] });
  });

  it('reports changed limits as mutable and storage or retention as immutable', () => {
    const live = { ...want, max_bytes: 1, storage: 'memory', retention: 'workqueue' } as StreamConfig;
    const d = streamDrift(want, live);
    expect(d.mutable).toEqual(['max_bytes']);
    expect(d.immutable.sort()).toEqual(['retention', 'storage']);
  });

  it('treats an unset boolean on the server like false', () => {
    const w = { ...want, allow_msg_ttl: false };
    const live = { ...want } as StreamConfig;
    delete (live as Partial<StreamConfig>).allow_msg_ttl;
    expect(streamDrift(w, live).mutable).toEqual([]);
  });
});
