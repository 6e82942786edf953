import { describe, expect, it } from 'vitest';
import { createMetrics, createRegistry, EXPORT_DURATION_BUCKETS } from './metrics.js';

describe('metrics', () => {
  it('declares the seed metric names with their labels', async () => {
    const registry = createRegistry('test', { defaultMetrics: false });
    const m = createMetrics(registry);
    m.reconcileErrors.inc({ kind: 'KollectInventory', error_class: 'transient' });
    m.exportDuration.observe({ sink_type: 'git' }, 0.3);
    m.sinkConnectionTest.inc({ type: 'postgres', result: 'ok' });
    m.informerObjects.set({ group: 'apps', version: 'v1', resource: 'deployments' }, 12);
    const text = await registry.metrics();
    for (const name of [
      'kollect_reconcile_total',
      'kollect_reconcile_errors_total',
      'kollect_export_duration_seconds',
      'kollect_export_bytes_total',
      'kollect_sink_errors_total',
      'kollect_sink_connection_test_total',
      'kollect_collect_items_total',
      'kollect_informer_objects',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toContain(
      'kollect_reconcile_errors_total{kind="KollectInventory",error_class="transient",service="test"} 1',
    );
    expect(text).toContain(
      'kollect_informer_objects{group="apps",version="v1",resource="deployments",service="test"} 12',
    );
  });

  it('uses the seed buckets for export duration', async () => {
    const registry = createRegistry('test', { defaultMetrics: false });
    createMetrics(registry).exportDuration.observe({ sink_type: 's3' }, 1);
    const text = await registry.metrics();
    for (const b of EXPORT_DURATION_BUCKETS) expect(text).toContain(`le="${b}"`);
  });

  it('never labels operator-health metrics by target or inventory (cardinality rule)', async () => {
    const registry = createRegistry('test', { defaultMetrics: false });
    createMetrics(registry);
    const all = await registry.getMetricsAsJSON();
    expect(all.length).toBeGreaterThan(30);
    for (const metric of all) {
      expect(metric.name).toMatch(/^kollect_[a-z_]+$/);
      const labels = (registry.getSingleMetric(metric.name) as unknown as { labelNames: string[] })
        .labelNames;
      expect(labels).not.toContain('target');
      expect(labels).not.toContain('inventory');
      expect(labels).not.toContain('namespace');
    }
  });

  it('adds default process metrics to a service registry', async () => {
    const text = await createRegistry('svc').metrics();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_heap_size_used_bytes');
  });

  it('lets two services declare the same metrics in separate registries', () => {
    expect(() => {
      createMetrics(createRegistry('a', { defaultMetrics: false }));
      createMetrics(createRegistry('b', { defaultMetrics: false }));
    }).not.toThrow();
  });
});
