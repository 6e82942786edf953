import { BUS_SCHEMA_VERSION } from '@kollect/contracts';
import { describe, expect, it } from 'vitest';
import { RuntimeState, sourceOfSubject } from './reports.js';

describe('RuntimeState', () => {
  it('routes reports by source and names what to resync', () => {
    const rt = new RuntimeState(() => 'fp');
    const inventory = { kind: 'KollectInventory' as const, namespace: 'ns', name: 'inv' };
    expect(
      rt.apply('sink', {
        schemaVersion: BUS_SCHEMA_VERSION,
        cluster: 'c',
        inventory,
        sink: { family: 'database', namespace: 'ns', name: 'pg' },
        sinkType: 'postgres',
        exportGeneration: 1,
        checksum: 'x',
        itemCount: 1,
        outcome: 'exported',
        at: 't',
      }),
    ).toEqual({ kind: 'inventory', key: 'KollectInventory/ns/inv' });
    expect(rt.sinks.get('KollectInventory/ns/inv')?.get('database/ns/pg')?.outcome).toBe('exported');
    expect(rt.apply('sink', { schemaVersion: 'other' })).toMatchObject({ kind: 'ignored' });
  });

  it('adopts the target fingerprint for failures reported before the first compile', () => {
    const known: { fp?: string } = {};
    const rt = new RuntimeState(() => known.fp);
    rt.apply('extractor', {
      schemaVersion: BUS_SCHEMA_VERSION,
      cluster: 'c',
      target: { kind: 'KollectTarget', namespace: 'ns', name: 't' },
      planGeneration: 1,
      failed: [{ uid: 'u', namespace: 'ns', name: 'x', reason: 'ExtractionFailed', message: 'm' }],
      cleared: [],
      at: 't',
    });
    known.fp = '1:h';
    expect(rt.failuresOf('KollectTarget/ns/t', '1:h')?.failures.size).toBe(1);
  });

  it('reads the source from the status subject', () => {
    expect(sourceOfSubject('kollect.status.sink.prod')).toBe('sink');
    expect(sourceOfSubject('kollect.status.bogus.prod')).toBeUndefined();
  });
});

describe('RuntimeState.prune', () => {
  it('forgets inventories and targets that no longer exist', () => {
    const rt = new RuntimeState(() => 'fp');
    rt.apply('aggregator', {
      schemaVersion: BUS_SCHEMA_VERSION,
      cluster: 'c',
      inventory: { kind: 'KollectInventory', namespace: 'ns', name: 'gone' },
      planGeneration: 1,
      itemCount: 0,
      exportGeneration: 0,
      checksum: '',
      gateOpen: true,
      at: 't',
    });
    rt.prune(new Set(), new Set());
    expect(rt.aggregator.size).toBe(0);
  });

  it('forgets the watch reports of scopes the published plan no longer needs', () => {
    const rt = new RuntimeState(() => 'fp');
    const report = (resource: string, namespace: string | null) =>
      rt.apply('watcher', {
        schemaVersion: BUS_SCHEMA_VERSION,
        cluster: 'c',
        gvr: { group: '', version: 'v1', resource },
        namespace,
        state: 'synced',
        oversized: { count: 1, current: 1, objects: [] },
        at: 't',
      });
    report('configmaps', 'a');
    report('configmaps', 'b');
    report('configmaps', null);
    report('secrets', null);
    const spec = (resource: string, namespaces: string[] | null) => ({
      gvr: { group: '', version: 'v1', resource },
      gvk: { group: '', version: 'v1', kind: resource },
      namespaced: true,
      namespaces,
    });
    rt.prune(new Set(), new Set(), [spec('configmaps', ['a'])]);
    expect([...rt.watches.keys()].sort()).toEqual(['/v1/configmaps@*', '/v1/configmaps@a']);
    rt.prune(new Set(), new Set(), [spec('configmaps', null)]);
    expect(rt.watches.size).toBe(2);
    rt.prune(new Set(), new Set(), []);
    expect(rt.watches.size).toBe(0);
  });
});
