import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, ensureTopology, busNames, TopologyConflict, ServerVersionTooOld } from '@kollect/bus';
import { KollectError } from '@kollect/contracts';
import { testbedEnv, requireTestbed } from '../support/testbed.js';
import { busHarness, uniquePrefix, type BusHarness } from './harness.js';

describe('bus topology against a real NATS server', () => {
  let h: BusHarness;
  beforeAll(async () => {
    h = await busHarness('topo');
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  it('is idempotent: a second run changes nothing', async () => {
    const again = await ensureTopology(h.bus.jsm, { names: h.names });
    expect(again.created).toEqual([]);
    expect(again.updated).toEqual([]);
    expect(again.unchanged).toHaveLength(9);
  });

  it('updates a drifted limit in place and keeps the data', async () => {
    await h.bus.js.publish(h.names.subject('kollect.snap.c.ns.inv'), 'x');
    const r = await ensureTopology(h.bus.jsm, { names: h.names, snapshots: { maxAgeMs: 3_600_000 } });
    expect(r.updated).toEqual([h.names.streams.snapshots]);
    const si = await h.bus.jsm.streams.info(h.names.streams.snapshots);
    expect(si.config.max_age).toBe(3600e9);
    expect(si.state.messages).toBe(1);
  });

  it('refuses to change an immutable setting instead of deleting data', async () => {
    const err = await ensureTopology(h.bus.jsm, { names: h.names, storage: 'memory' }).catch(
      (e: unknown) => e,
    );
    expect(TopologyConflict.is(err)).toBe(true);
    expect((err as KollectError).message).toMatch(/storage/);
  });

  it('creates the same topology concurrently from several services without error', async () => {
    const names = busNames(uniquePrefix('race'));
    try {
      const results = await Promise.all([1, 2, 3].map(() => ensureTopology(h.bus.jsm, { names })));
      const created = results.flatMap((r) => r.created);
      expect(new Set(created).size).toBe(9);
    } finally {
      for (const s of Object.values(names.streams)) await h.bus.jsm.streams.delete(s).catch(() => undefined);
      for (const b of Object.values(names.buckets)) {
        await h.bus.jsm.streams
          .delete(b === names.buckets.full ? `OBJ_${b}` : `KV_${b}`)
          .catch(() => undefined);
      }
    }
  });

  it('fails fast with a clear message when the server is older than required', async () => {
    requireTestbed('nats');
    const err = await connectBus({
      servers: testbedEnv.natsUrl,
      name: 'too-old',
      requireServerVersion: '99.0.0',
    }).catch((e: unknown) => e);
    expect(ServerVersionTooOld.is(err)).toBe(true);
    expect((err as Error).message).toMatch(/nats-server .* is too old.*>= 99\.0\.0/);
  });

  it('reports an unreachable server as a transient connect error without credentials', async () => {
    const err = await connectBus({
      servers: 'nats://user:hunter2@127.0.0.1:1',
      name: 'nowhere',
      connectTimeoutMs: 1000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KollectError);
    expect((err as KollectError).errorClass).toBe('transient');
    expect((err as Error).message).not.toContain('hunter2');
  });
});
