import { describe, expect, it } from 'vitest';
import { itemJson, type InventoryRef, type Item } from '@kollect/contracts';
import { names } from './ddl.js';
import {
  copyChunks,
  copyEscape,
  copyLine,
  rowsOf,
  rowValues,
  upsertValuesParams,
  upsertValuesSql,
} from './sql.js';

const inv: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'web' };
const item = (o: Partial<Item> = {}): Item => ({
  targetNamespace: 'team-a',
  targetName: 'deployments',
  namespace: 'team-a',
  name: 'api',
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  uid: 'u1',
  attributes: { image: 'nginx:1.27', note: 'tab\there "q" back\\slash\nline' },
  ...o,
});

describe('row values', () => {
  it('payload is the canonical Item JSON; resource_namespace falls back to the inventory namespace for cluster-scoped objects', () => {
    expect(rowValues(item(), inv)).toEqual({
      targetNamespace: 'team-a',
      targetName: 'deployments',
      uid: 'u1',
      resourceNamespace: 'team-a',
      payload: itemJson(item()),
    });
    expect(rowValues(item({ namespace: '' }), { ...inv, namespace: 'platform' }).resourceNamespace).toBe(
      'platform',
    );
  });

  it('keeps one row per row key (the last wins), so a merge never touches a row twice', () => {
    const rows = rowsOf(
      [item({ attributes: { v: 1 } }), item({ attributes: { v: 2 } }), item({ uid: 'u2' })],
      inv,
    );
    expect(rows).toHaveLength(2);
    expect(JSON.parse(rows[0]!.payload).attributes).toEqual({ v: 2 });
  });
});

describe('COPY text encoding', () => {
  it('escapes backslash, tab, newline and carriage return, and nothing else', () => {
    expect(copyEscape('plain "json" {}')).toBe('plain "json" {}');
    expect(copyEscape('a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re');
  });

  it('a line has five tab-separated columns and round-trips the payload', () => {
    const r = rowValues(item(), inv);
    const line = copyLine(r);
    expect(line.endsWith('\n')).toBe(true);
    const cols = line.slice(0, -1).split('\t');
    expect(cols).toHaveLength(5);
    // Decoding COPY text format gives back the exact JSON text.
    const decoded = cols[4]!.replace(/\\(.)/g, (_, c: string) =>
      c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c,
    );
    expect(decoded).toBe(r.payload);
  });

  it('chunks contain whole lines and all of them', () => {
    const rows = rowsOf(
      Array.from({ length: 50 }, (_, i) => item({ uid: `u${i}` })),
      inv,
    );
    const chunks = [...copyChunks(rows, 1000)];
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(c.endsWith('\n')).toBe(true);
    expect(chunks.join('')).toBe(rows.map(copyLine).join(''));
  });
});

describe('multi-row upsert', () => {
  it('numbers parameters after the four scope parameters, five per row, and casts the payload to jsonb', () => {
    const sql = upsertValuesSql(names({ schema: 'public', table: 'inv' }), 2);
    expect(sql).toContain(
      '($1, $2, $3, $5, $6, $7, $8, $9::jsonb, $4), ($1, $2, $3, $10, $11, $12, $13, $14::jsonb, $4)',
    );
    expect(sql).toContain(
      'ON CONFLICT (cluster, inventory_namespace, inventory_name, target_namespace, target_name, source_uid) DO UPDATE',
    );
    expect(sql).toContain('IS DISTINCT FROM');
    const params = upsertValuesParams(
      ['east', 'team-a', 'web', 'now'],
      rowsOf([item(), item({ uid: 'u2' })], inv),
    );
    expect(params).toHaveLength(4 + 2 * 5);
  });
});
