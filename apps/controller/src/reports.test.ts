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
});
