import { describe, expect, it } from 'vitest';
import { EXPORT_COLUMNS, EXPORT_KEY, ROW_COLUMNS, ROW_KEY, SEED_DOCS_ROW_KEY, SEED_ROW_KEY } from './ddl.js';
import { exportsTableVerdict, rowsTableVerdict, type ColumnInfo, type TableInfo } from './schema.js';

const cols = (specs: readonly { name: string; type: string }[]): ColumnInfo[] =>
  specs.map((c) => ({ name: c.name, type: c.type, notNull: true, hasDefault: false }));

function table(
  columns: ColumnInfo[],
  keys: { columns: readonly string[]; primary?: boolean }[],
  relkind = 'r',
): TableInfo {
  return {
    exists: true,
    relkind,
    columns,
    uniqueKeys: keys.map((k, i) => ({
      name: i === 0 ? 'inventory_pkey' : `k${i}`,
      primary: k.primary ?? i === 0,
      constraint: true,
      columns: [...k.columns],
    })),
  };
}

describe('rows table verdict', () => {
  it('a missing table is missing', () => {
    expect(rowsTableVerdict({ exists: false, columns: [], uniqueKeys: [] })).toEqual({ verdict: 'missing' });
  });

  it('the Kollect layout is ok, whatever the key column order', () => {
    expect(rowsTableVerdict(table(cols(ROW_COLUMNS), [{ columns: [...ROW_KEY].reverse() }]))).toEqual({
      verdict: 'ok',
    });
  });

  it('extra nullable or defaulted columns are fine; an extra NOT NULL column without default is not', () => {
    const extra = [...cols(ROW_COLUMNS), { name: 'note', type: 'text', notNull: false, hasDefault: false }];
    expect(rowsTableVerdict(table(extra, [{ columns: ROW_KEY }])).verdict).toBe('ok');
    const strict = [...cols(ROW_COLUMNS), { name: 'owner', type: 'text', notNull: true, hasDefault: false }];
    const v = rowsTableVerdict(table(strict, [{ columns: ROW_KEY }]));
    expect(v).toMatchObject({ verdict: 'incompatible' });
    expect(JSON.stringify(v)).toContain('owner is NOT NULL without a default');
  });

  it.each([
    ['the seed layout', SEED_ROW_KEY],
    ["the seed docs' layout", SEED_DOCS_ROW_KEY],
  ])('%s is legacy (migratable), naming its old key', (_, key) => {
    const seedCols = cols(ROW_COLUMNS.filter((c) => c.name !== 'target_namespace'));
    const v = rowsTableVerdict(table(seedCols, [{ columns: key }]));
    expect(v).toMatchObject({ verdict: 'legacy', constraint: 'inventory_pkey', hasTargetNamespace: false });
    expect(v.verdict === 'legacy' && v.why).toContain(`(${key.join(', ')})`);
  });

  it('a table with other columns is incompatible and lists what it has', () => {
    const v = rowsTableVerdict(
      table(
        [
          { name: 'id', type: 'integer', notNull: true, hasDefault: true },
          { name: 'payload', type: 'json', notNull: false, hasDefault: false },
        ],
        [{ columns: ['id'] }],
      ),
    );
    expect(v.verdict).toBe('incompatible');
    if (v.verdict !== 'incompatible') return;
    expect(v.problems).toContain('column inventory_namespace (text) is missing');
    expect(v.problems).toContain('column payload is json, expected jsonb');
    expect(v.found).toBe('id integer not null, payload json');
  });

  it('the right columns without a matching unique key are incompatible (ON CONFLICT needs one)', () => {
    const v = rowsTableVerdict(table(cols(ROW_COLUMNS), [{ columns: ['source_uid'] }]));
    expect(JSON.stringify(v)).toContain('no primary key or unique index on exactly');
  });

  it('a view is not a table', () => {
    expect(rowsTableVerdict(table(cols(ROW_COLUMNS), [], 'v')).verdict).toBe('incompatible');
  });
});

describe('kollect_exports verdict', () => {
  it('accepts the layout and refuses one without its key', () => {
    expect(exportsTableVerdict(table(cols(EXPORT_COLUMNS), [{ columns: EXPORT_KEY }]))).toEqual({
      verdict: 'ok',
    });
    expect(exportsTableVerdict(table(cols(EXPORT_COLUMNS), [])).verdict).toBe('incompatible');
  });
});
