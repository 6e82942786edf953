import { describe, expect, it } from 'vitest';
import { observeConsumer, observePartitions, publisherMetricsHooks } from './bus-metrics.js';
import { createMetrics, createRegistry } from './metrics.js';

function fakeEmitter<E>() {
  const cbs = new Set<(e: E) => void>();
  return {
    on(cb: (e: E) => void) {
      cbs.add(cb);
      return () => cbs.delete(cb);
    },
    emit(e: E) {
      for (const cb of cbs) cb(e);
    },
  };
}

describe('bus metrics wiring', () => {
  it('counts consumer redeliveries, terminations and control events, and polls pending', async () => {
    const registry = createRegistry('t', { defaultMetrics: false });
    const m = createMetrics(registry);
    const em = fakeEmitter<{ type: string; reason?: string }>();
    const stop = observeConsumer(
      m,
      { on: em.on, info: async () => ({ num_pending: 5, num_ack_pending: 3 }) },
      { stream: 'KOLLECT_ROWS', consumer: 'aggregator-p1' },
    );
    em.emit({ type: 'redelivery' });
    em.emit({ type: 'term', reason: 'poison' });
    em.emit({ type: 'dead_letter', reason: 'poison' });
    em.emit({ type: 'dead_letter', reason: 'max_deliveries_advisory' });
    em.emit({ type: 'consumer_deleted' });
    await new Promise((r) => setTimeout(r, 10));
    stop();
    em.emit({ type: 'redelivery' });
    const text = await registry.metrics();
    const l = 'stream="KOLLECT_ROWS",consumer="aggregator-p1"';
    expect(text).toContain(`kollect_bus_consumer_redeliveries_total{${l},service="t"} 1`);
    expect(text).toContain(`kollect_bus_consumer_terminated_total{${l},reason="poison",service="t"} 1`);
    expect(text).toContain(
      `kollect_bus_consumer_terminated_total{${l},reason="max_deliveries_advisory",service="t"} 1`,
    );
    expect(text).toContain(`kollect_bus_consumer_events_total{${l},type="consumer_deleted",service="t"} 1`);
    expect(text).toContain(`kollect_bus_consumer_pending{${l},service="t"} 5`);
    expect(text).toContain(`kollect_bus_consumer_ack_pending{${l},service="t"} 3`);
  });

  it('tracks whether the consumer is bound: 1 while consuming, 0 after a failed bind and after stop', async () => {
    const registry = createRegistry('t', { defaultMetrics: false });
    const m = createMetrics(registry);
    const em = fakeEmitter<{ type: string; reason?: string }>();
    const stop = observeConsumer(
      m,
      { on: em.on, info: async () => ({ num_pending: 0, num_ack_pending: 0 }) },
      { stream: 'KOLLECT_OBJECTS', consumer: 'extractor' },
    );
    const l = 'stream="KOLLECT_OBJECTS",consumer="extractor"';
    const bound = async (): Promise<string | undefined> =>
      (await registry.metrics()).split('\n').find((x) => x.startsWith(`kollect_bus_consumer_bound{${l}`));
    em.emit({ type: 'bind_failed', reason: 'incompatible' });
    em.emit({ type: 'bind_failed', reason: 'incompatible' });
    expect(await bound()).toBe(`kollect_bus_consumer_bound{${l},service="t"} 0`);
    expect(await registry.metrics()).toContain(
      `kollect_bus_consumer_events_total{${l},type="bind_failed",service="t"} 2`,
    );
    em.emit({ type: 'consuming' });
    expect(await bound()).toBe(`kollect_bus_consumer_bound{${l},service="t"} 1`);
    em.emit({ type: 'stopped' });
    expect(await bound()).toBe(`kollect_bus_consumer_bound{${l},service="t"} 0`);
    stop();
  });

  it('tracks partition ownership', async () => {
    const registry = createRegistry('t', { defaultMetrics: false });
    const m = createMetrics(registry);
    const em = fakeEmitter<{ type: string; partition?: number; reason?: string }>();
    observePartitions(m, em, 'aggregator');
    em.emit({ type: 'acquired', partition: 3 });
    em.emit({ type: 'acquired', partition: 4 });
    em.emit({ type: 'lost', partition: 4, reason: 'lease-lost' });
    const text = await registry.metrics();
    expect(text).toContain('kollect_partition_owned{group="aggregator",partition="3",service="t"} 1');
    expect(text).toContain('kollect_partition_owned{group="aggregator",partition="4",service="t"} 0');
    expect(text).toContain(
      'kollect_partition_ownership_changes_total{group="aggregator",event="lost_lease-lost",service="t"} 1',
    );
  });

  it('counts publishes by result', async () => {
    const registry = createRegistry('t', { defaultMetrics: false });
    const hooks = publisherMetricsHooks(createMetrics(registry), 'KOLLECT_OBJECTS');
    hooks.onPublished({ stream: 'KOLLECT_OBJECTS', duplicate: false });
    hooks.onPublished({ stream: 'KOLLECT_OBJECTS', duplicate: true });
    hooks.onFailure({ subject: 'kollect.obj.c.g.u', error: { errorClass: 'payload_too_large' } });
    const text = await registry.metrics();
    expect(text).toContain(
      'kollect_bus_published_total{stream="KOLLECT_OBJECTS",result="stored",service="t"} 1',
    );
    expect(text).toContain(
      'kollect_bus_published_total{stream="KOLLECT_OBJECTS",result="duplicate",service="t"} 1',
    );
    expect(text).toContain(
      'kollect_bus_published_total{stream="KOLLECT_OBJECTS",result="payload_too_large",service="t"} 1',
    );
  });
});
