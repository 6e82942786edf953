import { describe, expect, it } from 'vitest';
import { checksumItems, type InventoryRef, type Item } from '@kollect/contracts';
import { parseObjectEndpoint } from './location.js';
import { hotColumnName, renderParquet, rfc3339Micros } from './parquet.js';
import { objectPreview, objectSinkSettings } from './sink.js';

const inv: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'web' };
const item: Item = {
  targetNamespace: 'team-a',
  targetName: 't',
  namespace: 'team-a',
  name: 'api',
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  uid: 'u1',
  attributes: { image: 'x:1', version: { major: 1 } },
};

describe('object store', () => {
  it('parses the seed endpoint forms', () => {
    expect(parseObjectEndpoint('s3://bucket/a/b')).toEqual({ bucket: 'bucket', prefix: 'a/b' });
    expect(parseObjectEndpoint('https://minio.local:9000/bucket/p/')).toEqual({
      bucket: 'bucket',
      prefix: 'p',
      endpoint: 'https://minio.local:9000',
    });
    expect(parseObjectEndpoint('bucket')).toEqual({ bucket: 'bucket', prefix: '' });
    expect(() => parseObjectEndpoint('https://k:s@h/b')).toThrow(/credentials/);
  });
  it('format: serialization.format beats objectStore.format; csv is refused clearly', () => {
    const sink = (spec: Record<string, unknown>) => ({
      ref: { family: 'snapshot' as const, namespace: 'a', name: 's' },
      uid: 'u',
      generation: 1,
      type: 's3',
      spec: { type: 's3', endpoint: 's3://b', ...spec },
    });
    expect(objectSinkSettings(sink({ serialization: { format: 'parquet' } })).format).toBe('parquet');
    expect(
      objectSinkSettings(sink({ objectStore: { format: 'parquet' }, serialization: { format: 'json' } }))
        .format,
    ).toBe('json');
    expect(() => objectSinkSettings(sink({ serialization: { format: 'csv' } }))).toThrow(
      /csv is not implemented/,
    );
    expect(objectPreview(sink({ objectStore: { format: 'parquet' } }), 'prod').details['objectPath']).toBe(
      'b/inventory/cluster=prod/ns=team-a/name=api/generation=1.parquet',
    );
  });
  it('renders Parquet for zero and several rows, with µs timestamps and hot columns', () => {
    const doc = {
      inventory: inv,
      cluster: 'c',
      generation: 1,
      exportGeneration: 1,
      checksum: checksumItems([]),
      exportedAt: '2026-01-15T12:00:00.123456789Z',
      items: [],
    };
    const empty = renderParquet(doc);
    expect(empty.subarray(0, 4).toString()).toBe('PAR1');
    const full = renderParquet({ ...doc, items: [item, { ...item, uid: 'u2', group: 'apps' }] });
    expect(full.length).toBeGreaterThan(empty.length);
    expect(rfc3339Micros('2026-01-15T12:00:00.123456789Z')).toBe(
      BigInt(Date.parse('2026-01-15T12:00:00Z')) * 1000n + 123456n,
    );
    expect(hotColumnName('app.kubernetes.io-name')).toBe('attr_app_kubernetes_io_name');
  });
});
