import { describe, expect, it } from 'vitest';
import type { CompiledSink } from '@kollect/plan';
import {
  derivedName,
  dsnOf,
  identifierProblem,
  MAX_IDENTIFIER_BYTES,
  parseDsn,
  postgresSettings,
} from './config.js';

function sink(pg: Record<string, unknown>, spec: Record<string, unknown> = {}): CompiledSink {
  return {
    ref: { family: 'database', namespace: 'team-a', name: 'warehouse' },
    uid: 'u',
    generation: 1,
    type: 'postgres',
    spec: { type: 'postgres', postgres: { databaseRef: { name: 'db' }, ...pg }, ...spec },
  };
}

const err = (fn: () => unknown): { message: string; errorClass: string; reason?: string } => {
  try {
    fn();
  } catch (e) {
    return e as { message: string; errorClass: string; reason?: string };
  }
  throw new Error('expected a throw');
};

describe('postgres settings', () => {
  it('defaults the schema to public, the mode to ensure, and no portal objects', () => {
    expect(postgresSettings(sink({ table: 'inventory' }))).toMatchObject({
      schema: 'public',
      table: 'inventory',
      mode: 'ensure',
      portalIndexes: false,
      portalViews: false,
      sinkName: 'database/team-a/warehouse',
    });
  });

  it('reads provisioning.mode existing and the portal options', () => {
    const s = postgresSettings(
      sink(
        { table: 'inv', schema: 'kollect' },
        {
          provisioning: { mode: 'existing' },
          options: {
            'postgres.indexes': 'portal',
            'postgres.views': 'portal',
            'postgres.copyThreshold': '2000',
          },
        },
      ),
    );
    expect(s).toMatchObject({
      schema: 'kollect',
      mode: 'existing',
      portalIndexes: true,
      portalViews: true,
      copyThreshold: 2000,
    });
  });

  it.each([
    ['inv"; DROP TABLE x; --', 'may contain only'],
    ['a.b', 'may contain only'],
    ['1abc', 'must start'],
    ['pg_catalog', 'pg_'],
    ['x'.repeat(64), 'at most 63 bytes'],
  ])('refuses the table name %j with a terminal error naming the field', (table, why) => {
    const e = err(() => postgresSettings(sink({ table })));
    expect(e.errorClass).toBe('terminal');
    expect(e.message).toContain('spec.postgres.table');
    expect(e.message).toContain(why);
  });

  it('refuses kollect_exports as the table: it is the bookkeeping table', () => {
    expect(err(() => postgresSettings(sink({ table: 'kollect_exports' }))).message).toContain('bookkeeping');
  });

  it('refuses an unknown option value and a non-numeric COPY threshold', () => {
    expect(
      err(() => postgresSettings(sink({ table: 't' }, { options: { 'postgres.indexes': 'all' } }))).message,
    ).toContain('postgres.indexes');
    expect(
      err(() => postgresSettings(sink({ table: 't' }, { options: { 'postgres.copyThreshold': '-1' } })))
        .message,
    ).toContain('positive integer');
  });

  it('accepts mixed case and hyphens (they are quoted)', () => {
    expect(identifierProblem('Inventory-2024')).toBeUndefined();
  });
});

describe('derived names', () => {
  it('append the suffix while it fits, and hash-shorten long table names to 63 bytes, distinctly', () => {
    expect(derivedName('inv', '_images')).toBe('inv_images');
    const a = derivedName('a'.repeat(63), '_resource_namespace_idx');
    const b = derivedName(`${'a'.repeat(62)}b`, '_resource_namespace_idx');
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(MAX_IDENTIFIER_BYTES);
    expect(a.endsWith('_resource_namespace_idx')).toBe(true);
    expect(a).not.toBe(b);
  });
});

describe('DSN', () => {
  const creds = (data: Record<string, string>, dsn?: string) => ({
    data,
    roles: dsn ? { dsn } : {},
    version: '1',
  });

  it('takes the DSN from the role, or from the first of dsn, url, connectionString, DATABASE_URL', () => {
    expect(dsnOf('s', creds({}, 'postgres://a@h/d'), 'f')).toBe('postgres://a@h/d');
    expect(dsnOf('s', creds({ DATABASE_URL: 'postgres://x@h/d' }), 'f')).toBe('postgres://x@h/d');
  });

  it('a Secret without any DSN key is a terminal SecretResolveFailed naming the keys and the field', () => {
    const e = err(() => dsnOf('database/a/b', creds({ password: 'p' }), 'spec.postgres.databaseRef'));
    expect(e).toMatchObject({ errorClass: 'terminal', reason: 'SecretResolveFailed' });
    expect(e.message).toContain('spec.postgres.databaseRef');
    expect(e.message).toContain('dsn, url, connectionString, DATABASE_URL');
  });

  it('parses host, port, user, decoded password and database', () => {
    const c = parseDsn(
      's',
      'postgresql://kollect:p%40ss%2Fw@db.example:6543/inventory?application_name=x',
      {},
    );
    expect(c).toMatchObject({
      host: 'db.example',
      port: 6543,
      user: 'kollect',
      password: 'p@ss/w',
      database: 'inventory',
      ssl: false,
      sslmode: 'prefer',
    });
    expect(c.extra).toEqual({ application_name: 'x' });
  });

  it.each([
    ['host=db user=kollect password=hunter2xyz', 'not a URL'],
    ['mysql://u:hunter2xyz@h/d', 'scheme'],
    ['postgres://u:hunter2xyz@h:99999/d', 'port'],
    ['postgres://u:hunter2xyz@h/d?sslmode=sometimes', 'sslmode'],
    ['postgres://u:hunter2xyz@h/d?sslrootcert=/etc/passwd', 'reads a file'],
    ['postgres://u:hunter2xyz@h1,h2/d', 'several hosts'],
  ])('a malformed DSN (%s) is terminal and never repeated in the message', (dsn, why) => {
    const e = err(() => parseDsn('database/a/b', dsn, {}));
    expect(e.errorClass).toBe('terminal');
    expect(e.message).toContain(why);
    expect(e.message).not.toContain('hunter2xyz');
  });

  const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  it.each([
    ['disable', {}, false],
    ['prefer', {}, false],
    ['prefer', { caPem: CA }, { rejectUnauthorized: true, ca: CA, servername: 'db.example' }],
    ['require', {}, { rejectUnauthorized: false }],
    ['require', { caPem: CA }, { rejectUnauthorized: true, ca: CA, chainOnly: true }],
    ['verify-ca', { caPem: CA }, { rejectUnauthorized: true, ca: CA, chainOnly: true }],
    ['verify-full', {}, { rejectUnauthorized: true, servername: 'db.example' }],
    ['verify-full', { caPem: CA }, { rejectUnauthorized: true, ca: CA, servername: 'db.example' }],
    ['verify-full', { caPem: CA, insecureSkipVerify: true }, { rejectUnauthorized: false, ca: CA }],
  ] as const)('sslmode=%s with tls %j keeps libpq semantics', (mode, tls, want) => {
    const c = parseDsn('s', `postgres://u@db.example/d?sslmode=${mode}`, tls);
    expect(c.sslmode).toBe(mode);
    if (want === false) {
      expect(c.ssl).toBe(false);
      return;
    }
    const ssl = c.ssl as Record<string, unknown>;
    expect(ssl['rejectUnauthorized']).toBe(want.rejectUnauthorized);
    expect(ssl['ca']).toBe('ca' in want ? want.ca : undefined);
    expect(typeof ssl['checkServerIdentity'] === 'function').toBe('chainOnly' in want);
    if ('servername' in want) expect(ssl['servername']).toBe(want.servername);
  });

  it('without sslmode, a CA from spec.tls turns verified TLS on, and skip-verify turns unverified TLS on', () => {
    expect(parseDsn('s', 'postgres://u@h/d', { caPem: CA })).toMatchObject({
      sslmode: 'verify-full',
      ssl: { rejectUnauthorized: true, ca: CA },
    });
    expect(parseDsn('s', 'postgres://u@h/d', { insecureSkipVerify: true })).toMatchObject({
      sslmode: 'require',
      ssl: { rejectUnauthorized: false },
    });
  });
});
