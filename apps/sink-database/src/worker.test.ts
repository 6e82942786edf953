import { describe, expect, it } from 'vitest';
import { SinkRegistry } from '@kollect/sink';
import { durableName, workerFamily } from '@kollect/sink-worker';
import { databaseFamily, databaseRegistry } from './registry.js';

describe('sink-database worker', () => {
  it('serves exactly the database family', () => {
    expect(databaseRegistry().types().sort()).toEqual(['bigquery', 'mongodb', 'postgres']);
  });
  it('derives its names from the family: sinks, connection-test ref, prober lease, durables', () => {
    expect(databaseFamily()).toMatchObject({
      family: 'database',
      service: 'sink-database',
      kind: 'KollectDatabaseSink',
      resource: 'kollectdatabasesinks',
      testRef: 'databaseSinkRef',
    });
    expect(
      durableName({
        ref: { family: 'database', namespace: 'team-a', name: 'portal.pg' },
        uid: 'u',
        generation: 1,
        type: 'postgres',
        spec: {},
      }),
    ).toBe('sink-database-team-a-portal_pg');
  });
  it('refuses a backend of another family', () => {
    const snapshotOnly = new SinkRegistry().register({
      type: 'git',
      family: 'snapshot',
      capabilities: { kind: 'snapshot-store', formats: ['yaml'], incremental: true },
      create: () => {
        throw new Error('not used');
      },
      preview: () => ({ provisioningMode: 'ensure', serializationFormat: 'yaml', warnings: [], details: {} }),
    });
    expect(() => workerFamily('database', snapshotOnly)).toThrow(/snapshot family/);
  });
  it('every database backend previews without I/O', () => {
    const pg = databaseRegistry()
      .get('postgres')
      .preview(
        {
          ref: { family: 'database', namespace: 'a', name: 'p' },
          uid: 'u',
          generation: 1,
          type: 'postgres',
          spec: { type: 'postgres', postgres: { databaseRef: { name: 'db' }, table: 'inventory' } },
        },
        'east',
      );
    expect((pg.details['postgres'] as { expectedDDL: string }).expectedDDL).toContain(
      'CREATE TABLE IF NOT EXISTS "public"."inventory"',
    );
    const mg = databaseRegistry()
      .get('mongodb')
      .preview(
        {
          ref: { family: 'database', namespace: 'a', name: 'm' },
          uid: 'u',
          generation: 1,
          type: 'mongodb',
          spec: {
            type: 'mongodb',
            mongodb: { databaseRef: { name: 'db' }, database: 'k', collection: 'inventory' },
          },
        },
        'east',
      );
    expect((mg.details['mongodb'] as { expectedIndexKeys: string[] }).expectedIndexKeys[0]).toBe('cluster');
  });
});
