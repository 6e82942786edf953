import { describe, expect, it } from 'vitest';
import { createMetrics, createRegistry, type Logger } from '@kollect/observability';
import type { CompiledSink } from '@kollect/plan';
import {
  MaterializedStore,
  type FullSnapshotSource,
  type SecretWatcher,
  type Sink,
  type SinkFactory,
} from '@kollect/sink';
import { SinkHost, type HostContext } from './host.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A backend whose connect and close take a turn of the event loop, recording the order of events. */
class RecordingFactory implements SinkFactory {
  readonly type = 'memory';
  readonly family = 'snapshot' as const;
  readonly capabilities = { kind: 'object-store' as const, formats: ['json'], incremental: false };
  readonly events: string[] = [];
  open = 0;
  maxOpen = 0;
  created = 0;
  create(): Sink {
    const n = ++this.created;
    const record = (delta: number, event: string): void => {
      this.open += delta;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      this.events.push(event);
    };
    return {
      type: 'memory',
      capabilities: this.capabilities,
      async connect() {
        await new Promise((r) => setTimeout(r, 5));
        record(1, `connect ${n}`);
      },
      async close() {
        await new Promise((r) => setTimeout(r, 5));
        record(-1, `close ${n}`);
      },
    } as unknown as Sink;
  }
  preview() {
    return {} as ReturnType<SinkFactory['preview']>;
  }
}

const compiled = {
  ref: { family: 'snapshot', namespace: 'team-a', name: 'store' },
  uid: 'u1',
  generation: 1,
  type: 'memory',
  spec: { type: 'memory' },
} as unknown as CompiledSink;

function host(factory: SinkFactory): SinkHost {
  const secrets: SecretWatcher = { get: () => Promise.resolve(undefined), watch: () => () => {} };
  const ctx = {
    log: silent,
    metrics: createMetrics(createRegistry('test')),
    secrets,
    full: {} as FullSnapshotSource,
    store: new MaterializedStore(),
    workDir: '/tmp',
    allowPrivateEndpoints: true,
    maxDeliver: 10,
    ackWaitMs: 1000,
    cluster: 'c1',
  } as unknown as HostContext;
  return new SinkHost(compiled, factory, ctx);
}

describe('SinkHost rebuilds (Secret rotation)', () => {
  it('two rotations in a row rebuild one after the other: never two backends open, each old one closed', async () => {
    const f = new RecordingFactory();
    const h = host(f);
    await h.rebuild('start');
    await Promise.all([h.rebuild('secret changed'), h.rebuild('secret changed')]);
    expect(f.created).toBe(3);
    expect(f.maxOpen).toBe(1);
    expect(f.open).toBe(1);
    expect(f.events).toEqual(['connect 1', 'close 1', 'connect 2', 'close 2', 'connect 3']);
  });

  it('the old backend is closed only after the exports running on it finished', async () => {
    const f = new RecordingFactory();
    const h = host(f);
    await h.rebuild('start');
    const exportDone = deferred();
    // An export in flight on backend 1 (what onMessage / the re-send cadence track).
    const running = (h as unknown as { track<T>(p: Promise<T>): Promise<T> }).track(
      exportDone.promise.then(() => f.events.push('export on 1 done')),
    );
    const rebuilt = h.rebuild('secret changed');
    await new Promise((r) => setTimeout(r, 30));
    expect(f.events).toEqual(['connect 1']);
    exportDone.resolve();
    await Promise.all([running, rebuilt]);
    expect(f.events).toEqual(['connect 1', 'export on 1 done', 'close 1', 'connect 2']);
  });
});
