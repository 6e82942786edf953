/**
 * Shared setup of the bus suites: a connection to the test bed's NATS and an isolated copy of the
 * Kollect topology under a unique prefix, deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import {
  connectBus,
  ensureTopology,
  busNames,
  type Bus,
  type BusNames,
  type TopologyOptions,
} from '@kollect/bus';
import { requireTestbed, testbedEnv } from '../support/testbed.js';

export interface BusHarness {
  bus: Bus;
  names: BusNames;
  /** Another connection (a second replica). */
  connect(name: string): Promise<Bus>;
  cleanup(): Promise<void>;
}

export function uniquePrefix(tag: string): string {
  return `t${tag}${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
}

export async function busHarness(
  tag: string,
  topo: Omit<TopologyOptions, 'names'> = {},
): Promise<BusHarness> {
  requireTestbed('nats');
  const extra: Bus[] = [];
  const bus = await connectBus({ servers: testbedEnv.natsUrl, name: `e2e-${tag}` });
  const names = busNames(uniquePrefix(tag));
  await ensureTopology(bus.jsm, { ...topo, names });
  return {
    bus,
    names,
    async connect(name: string) {
      const b = await connectBus({ servers: testbedEnv.natsUrl, name });
      extra.push(b);
      return b;
    },
    async cleanup() {
      for (const b of extra) await b.close().catch(() => undefined);
      const all = [
        ...Object.values(names.streams),
        ...Object.values(names.buckets).map((b) => (b === names.buckets.full ? `OBJ_${b}` : `KV_${b}`)),
      ];
      for (const s of all) await bus.jsm.streams.delete(s).catch(() => undefined);
      await bus.close();
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `cond` until true or the deadline; returns whether it became true. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 50,
): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(everyMs);
  }
  return cond();
}
