import { describe, expect, it } from 'vitest';
import { ensureDdl, migrationDdl, names, ROW_COLUMNS, ROW_KEY, SEED_ROW_KEY } from './ddl.js';

describe('postgres DDL', () => {
  it('keeps the seed columns in the seed order and adds target_namespace last', () => {
    expect(ROW_COLUMNS.map((c) => c.name)).toEqual([
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
  });

  it('keys rows by the delete scope (cluster, inventory) and the contract row key', () => {
    expect(ROW_KEY).toEqual([
      'cluster',
      'inventory_namespace',
      'inventory_name',
      'target_namespace',
      'target_name',
      'source_uid',
    ]);
    for (const c of SEED_ROW_KEY) expect(ROW_KEY).toContain(c);
  });

  it('ensure DDL (golden)', async () => {
    const ddl = ensureDdl({
      schema: 'public',
      table: 'inventory',
      portalIndexes: false,
      portalViews: false,
    }).join('\n\n');
    await expect(ddl + '\n').toMatchFileSnapshot('./__golden__/ensure.sql');
  });

  it('ensure DDL with portal indexes and views (golden)', async () => {
    const ddl = ensureDdl({
      schema: 'kollect',
      table: 'Inventory',
      portalIndexes: true,
      portalViews: true,
    }).join('\n\n');
    await expect(ddl + '\n').toMatchFileSnapshot('./__golden__/ensure-portal.sql');
  });

  it('migration of the seed table (golden)', async () => {
    const ddl = migrationDdl(names({ schema: 'public', table: 'inventory' }), 'inventory_pkey', false).join(
      '\n',
    );
    await expect(ddl + '\n').toMatchFileSnapshot('./__golden__/migrate-seed.sql');
  });

  it('quotes every identifier, so a mixed-case name is not folded', () => {
    const ddl = ensureDdl({
      schema: 'Kollect',
      table: 'Inventory',
      portalIndexes: true,
      portalViews: true,
    }).join('\n');
    expect(ddl).toContain('"Kollect"."Inventory"');
    expect(ddl).not.toMatch(/ Kollect\./);
  });
});
