import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildEnvelope,
  canonicalJson,
  checksumItems,
  checksumShort,
  compareUtf8,
  decodeToken,
  encodeToken,
  envelopeJson,
  formatRfc3339Nano,
  itemJson,
  parseEnvelope,
  partitionOf,
  sortItems,
  subjects,
  type Item,
} from './index.js';

const golden = (name: string): string =>
  readFileSync(new URL(`./__golden__/${name}`, import.meta.url), 'utf8').trimEnd();

const deployment: Item = {
  targetNamespace: 'team-a',
  targetName: 'web-deployments',
  namespace: 'team-a',
  name: 'api',
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  uid: '8f3c2a10-0d5e-4c55-9b1e-3f6b2f7a9c01',
  // Deliberately unsorted, with characters Go escapes.
  attributes: {
    labels: { tier: '<web> & co', app: 'api' },
    images: ['nginx:1.27', 'envoy:1.30'],
    image: 'nginx:1.27',
    containerCount: 2,
  },
};

const service: Item = {
  targetNamespace: 'team-a',
  targetName: 'web-services',
  namespace: 'team-a',
  name: 'api',
  group: '',
  version: 'v1',
  kind: 'Service',
  uid: '11111111-2222-3333-4444-555555555555',
  attributes: { ports: [80, 443], clusterIP: '10.0.0.12' },
};

describe('item serialization', () => {
  it('writes an item in the seed key order with sorted attributes and Go escaping (golden)', () => {
    expect(itemJson(deployment)).toBe(golden('item.json'));
  });

  it('omits group for core kinds', () => {
    expect(itemJson(service)).not.toContain('"group"');
    expect(itemJson(service)).toContain('"name":"api","version":"v1"');
  });
});

describe('envelope', () => {
  it('writes the seed fields in order plus inventory and exportGeneration (golden)', () => {
    const env = buildEnvelope({
      items: [service, deployment],
      exportedAt: new Date('2026-01-15T12:00:00.123Z'),
      generation: 3,
      cluster: 'prod-west',
      inventory: { kind: 'KollectInventory', namespace: 'team-a', name: 'team-inventory' },
      exportGeneration: 7,
    });
    // The golden file pins the checksum literally (computed outside the function under test).
    expect(envelopeJson(env)).toBe(golden('envelope.json'));
  });

  it('omits generation 0 and an empty cluster', () => {
    const env = buildEnvelope({ items: [], exportedAt: new Date(0) });
    expect(envelopeJson(env)).toBe(
      '{"schemaVersion":"kollect.dev/v1alpha1","checksum":"4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945","itemCount":0,"exportedAt":"1970-01-01T00:00:00Z","items":[]}',
    );
  });

  it('round-trips through parseEnvelope and accepts a legacy bare array', () => {
    const env = buildEnvelope({ items: [deployment], exportedAt: new Date(1000), cluster: 'c1' });
    const back = parseEnvelope(JSON.parse(envelopeJson(env)));
    expect(back.checksum).toBe(env.checksum);
    expect(back.items[0]).toEqual(deployment);
    const legacy = parseEnvelope(JSON.parse(`[${itemJson(service)}]`));
    expect(legacy.itemCount).toBe(1);
    expect(legacy.checksum).toBe(checksumItems([service]));
  });

  it('rejects an envelope of another schema version with a clear message', () => {
    expect(() => parseEnvelope({ schemaVersion: 'kollect.dev/v2', items: [] })).toThrow(
      /unsupported schemaVersion "kollect.dev\/v2"/,
    );
  });
});

describe('checksum', () => {
  it('is SHA-256 over the canonical bytes of the sorted items, computed independently', () => {
    // Written out by hand: deployment sorts before service (targetName web-deployments < web-services).
    const canonical =
      '[' +
      '{"targetNamespace":"team-a","targetName":"web-deployments","namespace":"team-a","name":"api","group":"apps","version":"v1","kind":"Deployment","uid":"8f3c2a10-0d5e-4c55-9b1e-3f6b2f7a9c01","attributes":{"containerCount":2,"image":"nginx:1.27","images":["nginx:1.27","envoy:1.30"],"labels":{"app":"api","tier":"\\u003cweb\\u003e \\u0026 co"}}}' +
      ',' +
      '{"targetNamespace":"team-a","targetName":"web-services","namespace":"team-a","name":"api","version":"v1","kind":"Service","uid":"11111111-2222-3333-4444-555555555555","attributes":{"clusterIP":"10.0.0.12","ports":[80,443]}}' +
      ']';
    const expected = createHash('sha256').update(canonical, 'utf8').digest('hex');
    expect(checksumItems([service, deployment])).toBe(expected);
    expect(checksumItems([deployment, service])).toBe(expected);
  });

  it('of the empty inventory is the hash of []', () => {
    expect(checksumItems([])).toBe(createHash('sha256').update('[]').digest('hex'));
  });

  it('ignores timestamps, generations and cluster', () => {
    const a = buildEnvelope({ items: [deployment], exportedAt: new Date(1), generation: 1, cluster: 'a' });
    const b = buildEnvelope({ items: [deployment], exportedAt: new Date(2), generation: 9, cluster: 'b' });
    expect(a.checksum).toBe(b.checksum);
  });

  it('changes when one attribute changes', () => {
    const changed = { ...deployment, attributes: { ...deployment.attributes, image: 'nginx:1.28' } };
    expect(checksumItems([changed])).not.toBe(checksumItems([deployment]));
  });

  it('short form drops a sha256: prefix and keeps 12 hex digits', () => {
    expect(checksumShort('sha256:a1b2c3d4e5f6a7b8')).toBe('a1b2c3d4e5f6');
  });
});

describe('canonical JSON', () => {
  it('sorts keys by UTF-8 bytes, not UTF-16 code units', () => {
    // U+FF5E (3 UTF-8 bytes, EF BD 9E) sorts before U+1F600 (4 bytes, F0 ...), though its UTF-16 unit is larger.
    expect(canonicalJson({ '\u{1F600}': 1, '\uFF5E': 2, a: 3 })).toBe('{"a":3,"\uFF5E":2,"\u{1F600}":1}');
    expect(compareUtf8('\uFF5E', '\u{1F600}')).toBe(-1);
  });

  it('escapes as Go does: HTML characters, line separators, lone surrogates', () => {
    expect(canonicalJson('<a>&\u2028\u2029')).toBe('"\\u003ca\\u003e\\u0026\\u2028\\u2029"');
    expect(canonicalJson('x\ud800y')).toBe('"x\ufffdy"');
    expect(canonicalJson('\b\f\n\u0001')).toBe('"\\b\\f\\n\\u0001"');
  });

  it('formats numbers like Go float64 and bigint as integers', () => {
    expect(canonicalJson([1, 1.5, 1e21, 1e-7, 0.000001, -0, 10n ** 20n])).toBe(
      '[1,1.5,1e+21,1e-7,0.000001,-0,100000000000000000000]',
    );
  });

  it('omits undefined members and writes nested structures sorted', () => {
    expect(canonicalJson({ b: { d: 1, c: [{ z: 1, y: undefined }] }, a: undefined })).toBe(
      '{"b":{"c":[{"z":1}],"d":1}}',
    );
  });

  it('sortItems orders by the seed key', () => {
    const b = { ...deployment, targetName: 'b' };
    const a = { ...deployment, targetName: 'a' };
    expect(sortItems([b, a]).map((i) => i.targetName)).toEqual(['a', 'b']);
  });
});

describe('subject tokens', () => {
  it.each(['', 'team-a', 'my.dotted.name', 'a*b>c', '100%', 'sp ace\ttab', 'ünïcødé.ok', '%'])(
    'encodes %j losslessly into a single valid token',
    (s) => {
      const t = encodeToken(s);
      expect(t).not.toMatch(/[.*>\s]/);
      expect(t.length).toBeGreaterThan(0);
      expect(decodeToken(t)).toBe(s);
    },
  );

  it('keeps GVRs lossless, including the core group', () => {
    const s = subjects.object('prod.west', { group: '', version: 'v1', resource: 'pods' }, 'u-1');
    expect(s).toBe('kollect.obj.prod%2Ewest./v1/pods.u-1');
    const d = subjects.object('c', { group: 'apps.example.com', version: 'v1', resource: 'widgets' }, 'u');
    expect(d.split('.')).toHaveLength(5);
    expect(decodeToken(d.split('.')[3] as string)).toBe('apps.example.com/v1/widgets');
  });

  it('puts cluster inventories under the _cluster namespace token', () => {
    expect(subjects.snapshot('c', { kind: 'KollectClusterInventory', namespace: '', name: 'fleet' })).toBe(
      'kollect.snap.c._cluster.fleet',
    );
    expect(subjects.snapshot('c', { kind: 'KollectInventory', namespace: 'team-a', name: 'inv.v2' })).toBe(
      'kollect.snap.c.team-a.inv%2Ev2',
    );
  });

  it('rejects malformed tokens', () => {
    expect(() => decodeToken('a%zz')).toThrow(/malformed/);
  });

  it('assigns partitions stably and within range', () => {
    const inv = { kind: 'KollectInventory' as const, namespace: 'team-a', name: 'inv' };
    const p = partitionOf(inv, 8);
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(8);
    expect(partitionOf(inv, 8)).toBe(p);
    expect(() => partitionOf(inv, 0)).toThrow(RangeError);
  });
});

describe('time', () => {
  it('formats RFC 3339 nanos like Go, trimming trailing zeros', () => {
    expect(formatRfc3339Nano(new Date('2026-01-15T12:00:00.120Z'))).toBe('2026-01-15T12:00:00.12Z');
    expect(formatRfc3339Nano(1_768_478_400_123_456_789n)).toBe('2026-01-15T12:00:00.123456789Z');
    expect(formatRfc3339Nano(new Date('2026-01-15T12:00:00Z'))).toBe('2026-01-15T12:00:00Z');
  });
});
