import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checksumItems, sortItems, type InventoryRef, type Item } from '@kollect/contracts';
import { toYaml, isPlainSafe } from './yaml.js';
import { renderDocument, type SnapshotDocument } from './document.js';
import { resolveFormat } from './format.js';
import { renderFiles, resolveLayout, pruneCandidates, LayoutError } from './layout.js';
import { renderItemPath, sanitizeSegment, renderDocumentPath } from './paths.js';
import { renderCommitMessage } from './commit.js';
import { objectKey, parquetKey } from './object-key.js';

const GOLDEN = join(import.meta.dirname, '__golden__');
function golden(name: string, actual: string): void {
  const p = join(GOLDEN, name);
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(p)) writeFileSync(p, actual);
  expect(actual).toBe(readFileSync(p, 'utf8'));
}

const inv: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'web' };
const items: Item[] = sortItems([
  {
    targetNamespace: 'team-a',
    targetName: 'deploys',
    namespace: 'team-a',
    name: 'api',
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    uid: 'u-1',
    attributes: {
      image: 'nginx:1.27',
      replicas: 3,
      images: ['nginx:1.27', 'envoy:1.30'],
      labels: { app: 'api', 'app.kubernetes.io/name': 'api' },
    },
  },
  {
    targetNamespace: 'team-a',
    targetName: 'deploys',
    namespace: 'team-a',
    name: 'web.frontend',
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    uid: 'u-2',
    attributes: { image: 'web:2', note: 'yes', version: '1.10', empty: {}, none: null },
  },
  {
    targetNamespace: 'team-a',
    targetName: 'ns',
    namespace: '',
    name: 'team-a',
    group: '',
    version: 'v1',
    kind: 'Namespace',
    uid: 'u-3',
    attributes: {},
  },
]);
const doc: SnapshotDocument = {
  inventory: inv,
  cluster: 'prod-west',
  generation: 2,
  exportGeneration: 7,
  checksum: checksumItems(items),
  exportedAt: '2026-01-15T12:00:00.123456789Z',
  items,
};

describe('yaml emitter', () => {
  const tricky = [
    'yes',
    'No',
    'on',
    'null',
    '~',
    '',
    ' x',
    'x ',
    'a: b',
    'a #b',
    'x:',
    '1.10',
    '0x1f',
    '1e3',
    '.inf',
    '-x',
    '- x',
    '@x',
    '!x',
    '&x',
    '*x',
    '|',
    '>',
    '%x',
    '`x`',
    "it's",
    'say "hi"',
    'multi\nline',
    'tab\there',
    'ünï',
    '2026-01-01',
    'true',
    '[x]',
    '{x}',
    'a,b',
    '=',
    '<<',
    'del\u007f',
    'nel\u0085',
    'x:y',
    'nginx:1.27',
    'app.kubernetes.io/name',
    'C:\\path',
  ];
  it('round-trips awkward strings through the yaml package', () => {
    const value = {
      list: tricky,
      map: Object.fromEntries(tricky.filter((t) => t !== '').map((t, i) => [t, i])),
    };
    expect(parse(toYaml(value))).toEqual(value);
  });
  it('keeps safe strings plain and quotes ambiguous ones', () => {
    expect(isPlainSafe('nginx:1.27')).toBe(true);
    expect(isPlainSafe('app.kubernetes.io/name')).toBe(true);
    expect(isPlainSafe('1.27')).toBe(false);
    expect(isPlainSafe('Yes')).toBe(false);
  });
  it('round-trips nested values and numbers', () => {
    const v = [
      { a: [[1, 2], [], {}], b: { c: [{ d: 1.5, e: false, f: null }] }, g: -0.25, h: 12345678901234 },
    ];
    expect(parse(toYaml(v))).toEqual(v);
  });
});

describe('document layout', () => {
  it('renders the seed formats (golden)', () => {
    golden('document.yaml', renderDocument('yaml', doc));
    golden('document.json', renderDocument('json', doc));
    golden('document.ndjson', renderDocument('ndjson', doc));
  });
  it('yaml document is a bare item list that parses back to the items', () => {
    const parsed = parse(renderDocument('yaml', doc)) as unknown[];
    expect(parsed).toHaveLength(3);
    expect(parsed[0]).toEqual(JSON.parse(JSON.stringify(items[0])));
  });
  it('format precedence: serialization.format, then objectStore.format, then the type default', () => {
    expect(resolveFormat('git', {})).toBe('yaml');
    expect(resolveFormat('s3', {})).toBe('json');
    expect(resolveFormat('s3', { objectStore: { format: 'parquet' } })).toBe('parquet');
    expect(
      resolveFormat('s3', { objectStore: { format: 'parquet' }, serialization: { format: 'json' } }),
    ).toBe('json');
  });
  it('document path: cluster inventories use the namespace segment "cluster"', () => {
    expect(
      renderDocumentPath('inventory/{namespace}/{name}{extension}', {
        cluster: '',
        inventory: { kind: 'KollectClusterInventory', namespace: '', name: 'fleet' },
        generation: 1,
        extension: '.yaml',
      }),
    ).toBe('inventory/cluster/fleet.yaml');
    expect(
      renderDocumentPath('{cluster}/{namespace}/{name}-{generation}{extension}', {
        cluster: '',
        inventory: inv,
        generation: 4,
        extension: '.json',
      }),
    ).toBe('default/team-a/web-4.json');
  });
});

describe('tree layouts', () => {
  it('perResource: one file per row, sanitised segments, lower-cased kind, empty segments dropped (golden)', () => {
    const layout = resolveLayout({ layout: { mode: 'perResource' } }, 'yaml', () => items);
    const files = renderFiles(layout, doc);
    expect([...files.keys()].sort()).toEqual([
      'prod-west/namespace/team-a.yaml',
      'prod-west/team-a/deployment/api.yaml',
      'prod-west/team-a/deployment/web-frontend.yaml',
    ]);
    golden('perResource-api.yaml', files.get('prod-west/team-a/deployment/api.yaml') as string);
    expect(layout.prune).toBe(true);
    expect(layout.index.enabled).toBe(false);
  });
  it('split adds an index listing every path; json files are indented with a trailing newline (golden)', () => {
    const layout = resolveLayout({ layout: { mode: 'split' } }, 'json', () => items);
    const files = renderFiles(layout, doc);
    golden('split-index.json', files.get('inventory/team-a/web.json') as string);
    expect(files.get('prod-west/team-a/deployment/api.json')).toMatch(
      /^\{\n {2}"targetNamespace": "team-a",[\s\S]*\}\n$/,
    );
  });
  it('infers perResource + manifest for Resource-export rows when mode is unset', () => {
    const res: Item[] = [
      {
        ...(items[0] as Item),
        attributes: { resource: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api' } } },
      },
    ];
    const layout = resolveLayout({}, 'yaml', () => res);
    expect(layout).toMatchObject({ mode: 'perResource', content: 'manifest', inferred: true });
    const files = renderFiles(layout, { ...doc, items: res });
    expect(parse([...files.values()][0] as string)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api' },
    });
    expect(resolveLayout({}, 'yaml', () => items).mode).toBe('document');
  });
  it('two rows rendering the same path is an error that names both', () => {
    const layout = resolveLayout(
      { layout: { mode: 'perResource', pathTemplate: '{kind}/x{extension}' } },
      'yaml',
      () => items,
    );
    expect(() => renderFiles(layout, doc)).toThrow(LayoutError);
    expect(() => renderFiles(layout, doc)).toThrow(/both render to deployment\/x.yaml/);
  });
  it('group handling and sanitising', () => {
    const it0 = items.find((i) => i.name === 'web.frontend') as Item;
    expect(
      renderItemPath(
        '{group}/{kind}/{sourceName}{extension}',
        it0,
        { cluster: 'c', generation: 1, extension: '.yaml' },
        { groupInPath: 'never', lowercaseKind: false, maxSegmentLength: 63 },
      ),
    ).toBe('Deployment/web-frontend.yaml');
    expect(sanitizeSegment('..a/b\\c:d...e--')).toBe('a-b-c-d-e');
    expect(sanitizeSegment('x'.repeat(100), 10)).toBe('x'.repeat(10));
  });
  it('prunes only inside directories written this round, plus paths known to be owned', () => {
    const out = pruneCandidates(['a/1', 'a/2', 'b/1', 'c/1'], new Set(['a/1']), ['c/1']);
    expect([...out].sort()).toEqual(['a/2', 'c/1']);
  });
});

describe('commit messages and keys', () => {
  it('renders the default subject and one trailer paragraph (golden)', () => {
    const msg = renderCommitMessage(
      { body: 'Exported by {sink} to {path}', trailers: ['Reviewed-by: {sink}'] },
      {
        inventory: inv,
        cluster: 'prod-west',
        generation: 2,
        exportGeneration: 7,
        itemCount: 3,
        checksum: 'sha256:a1b2c3d4e5f6a7b8',
        exportedAt: doc.exportedAt,
        sink: 'audit',
        path: 'inventory/team-a/web.yaml',
      },
    );
    golden('commit-message.txt', msg);
    expect(msg.split('\n')[0]).toBe('chore(prod-west/team-a/web): export 3 items @ a1b2c3d4e5f6');
  });
  it('object keys: prefix + template, and the hive parquet key', () => {
    expect(objectKey('exports/', undefined, { cluster: '', inventory: inv, generation: 1 })).toBe(
      'exports/inventory/team-a/web.json',
    );
    expect(parquetKey('', { cluster: 'prod west', inventory: inv, generation: 3 })).toBe(
      'inventory/cluster=prod_west/ns=team-a/name=web/generation=3.parquet',
    );
  });
});

describe('performance shape', () => {
  it('renders a 100k-row yaml document', () => {
    const big: Item[] = Array.from({ length: 100_000 }, (_, i) => ({
      ...(items[0] as Item),
      name: `app-${i}`,
      uid: `u-${i}`,
    }));
    const s = renderDocument('yaml', { ...doc, items: big });
    expect(s.split('\n- ').length).toBe(100_000);
  });
});
