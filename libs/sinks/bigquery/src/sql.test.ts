import { describe, expect, it } from 'vitest';
import type { InventoryRef, Item } from '@kollect/contracts';
import {
  bqTimestamp,
  chunkRows,
  CLUSTERING,
  deleteParam,
  diffMergeSql,
  exportsTableResource,
  forgetSql,
  positionSql,
  recordPositionSql,
  replaceMergeSql,
  ROW_FIELDS,
  rowsTableResource,
  sweepSql,
  transaction,
  upsertParam,
} from './sql.js';

const s = { project: 'acme-inventory', dataset: 'kollect', table: 'inventory' };
const inv: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'web' };
const item: Item = {
  targetNamespace: 'team-a',
  targetName: 'deployments',
  namespace: '',
  name: 'n',
  group: '',
  version: 'v1',
  kind: 'Node',
  uid: 'u1',
  attributes: { zone: 'a' },
};

describe('bigquery statements (golden)', () => {
  it('full replace: the seed MERGE and the position in one transaction', async () => {
    await expect(transaction(replaceMergeSql(s), recordPositionSql(s)) + '\n').toMatchFileSnapshot(
      './__golden__/replace.sql',
    );
  });
  it('diff: MERGE by key with op rows and the position in one transaction', async () => {
    await expect(transaction(diffMergeSql(s), recordPositionSql(s)) + '\n').toMatchFileSnapshot(
      './__golden__/diff.sql',
    );
  });
  it('sweep after a chunked replace', async () => {
    await expect(transaction(sweepSql(s), recordPositionSql(s)) + '\n').toMatchFileSnapshot(
      './__golden__/sweep.sql',
    );
  });
  it('position and forget', async () => {
    await expect(positionSql(s) + '\n\n' + forgetSql(s) + '\n').toMatchFileSnapshot(
      './__golden__/position-forget.sql',
    );
  });
  it('table resources: day partitions on exported_at, clustering by cluster, inventory and namespace', async () => {
    const rows = rowsTableResource(s);
    expect(rows).toMatchObject({
      timePartitioning: { type: 'DAY', field: 'exported_at' },
      clustering: { fields: CLUSTERING },
    });
    await expect(
      JSON.stringify({ rows, exports: exportsTableResource(s) }, null, 2) + '\n',
    ).toMatchFileSnapshot('./__golden__/tables.json');
  });
});

describe('bigquery statement semantics', () => {
  it('the replace MERGE deletes only within (cluster, inventory)', () => {
    expect(replaceMergeSql(s)).toMatch(
      /WHEN NOT MATCHED BY SOURCE AND T\.cluster = @cluster AND T\.inventory_namespace = @inventory_namespace AND T\.inventory_name = @inventory_name THEN\s+DELETE/,
    );
  });
  it('the diff MERGE never deletes by source', () => {
    expect(diffMergeSql(s)).not.toContain('NOT MATCHED BY SOURCE');
  });
  it('keeps the seed columns and adds a NULLABLE target_namespace', () => {
    expect(ROW_FIELDS.map((f) => f.name)).toEqual([
      'inventory_namespace',
      'inventory_name',
      'target_name',
      'source_uid',
      'cluster',
      'resource_namespace',
      'payload',
      'exported_at',
      'target_namespace',
    ]);
    expect(ROW_FIELDS.find((f) => f.name === 'target_namespace')?.mode).toBe('NULLABLE');
    expect(ROW_FIELDS.find((f) => f.name === 'payload')?.type).toBe('JSON');
  });
});

describe('bigquery parameters', () => {
  it('an upsert row carries the Item JSON and the inventory namespace for cluster-scoped objects; a delete carries the key only', () => {
    expect(upsertParam(item, inv)).toMatchObject({
      op: 'upsert',
      resource_namespace: 'team-a',
      payload: expect.stringContaining('"uid":"u1"'),
    });
    expect(deleteParam(item)).toEqual({
      op: 'delete',
      target_namespace: 'team-a',
      target_name: 'deployments',
      source_uid: 'u1',
      resource_namespace: '',
      payload: '',
    });
  });
  it('chunks stay under the budget and keep every row in order', () => {
    const rows = Array.from({ length: 100 }, (_, i) =>
      upsertParam({ ...item, uid: `u${i}`, attributes: { pad: 'x'.repeat(500) } }, inv),
    );
    const chunks = chunkRows(rows, 10_000);
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.flat()).toEqual(rows);
    expect(chunkRows([], 10)).toEqual([[]]);
  });
  it('timestamps are truncated to microseconds, never rounded', () => {
    expect(bqTimestamp('2026-01-15T12:00:00.123456789Z')).toBe('2026-01-15T12:00:00.123456Z');
    expect(bqTimestamp('2026-01-15T12:00:00Z')).toBe('2026-01-15T12:00:00Z');
  });
});
