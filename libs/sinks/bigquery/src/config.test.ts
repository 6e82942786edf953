import { describe, expect, it } from 'vitest';
import type { CompiledSink } from '@kollect/plan';
import { bigquerySettings, credentialsJsonOf } from './config.js';
import { classifyBigQueryError } from './errors.js';

function sink(b: Record<string, unknown>, spec: Record<string, unknown> = {}): CompiledSink {
  return {
    ref: { family: 'database', namespace: 'a', name: 'bq' },
    uid: 'u',
    generation: 1,
    type: 'bigquery',
    spec: {
      type: 'bigquery',
      bigquery: { project: 'acme-inventory', dataset: 'kollect', table: 'inventory', ...b },
      ...spec,
    },
  };
}
const err = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e as { message: string; errorClass: string; reason?: string };
  }
  throw new Error('expected a throw');
};

describe('bigquery settings', () => {
  it('reads project, dataset, table, location and the provisioning mode', () => {
    expect(bigquerySettings(sink({ location: 'EU' }, { provisioning: { mode: 'existing' } }))).toMatchObject({
      project: 'acme-inventory',
      dataset: 'kollect',
      table: 'inventory',
      location: 'EU',
      mode: 'existing',
      emulator: false,
    });
  });
  it.each([
    [{ project: 'Bad_Project' }, 'spec.bigquery.project'],
    [{ dataset: 'a-b' }, 'spec.bigquery.dataset'],
    [{ table: 'x`; DROP' }, 'spec.bigquery.table'],
    [{ table: 'kollect_exports' }, 'bookkeeping'],
  ])('refuses %j', (b, why) => {
    expect(err(() => bigquerySettings(sink(b))).message).toContain(why);
  });
  it('the emulator option needs spec.endpoint', () => {
    expect(
      err(() => bigquerySettings(sink({}, { options: { 'bigquery.emulator': 'true' } }))).message,
    ).toContain('spec.endpoint');
  });
});

describe('credentials.json', () => {
  const creds = (data: Record<string, string>) => ({ data, roles: {}, version: '1' });
  it('no Secret means Application Default Credentials', () => {
    expect(credentialsJsonOf('s', creds({}), false)).toBeUndefined();
  });
  it('a Secret without credentials.json, with invalid JSON, or a key without private_key is a terminal SecretResolveFailed', () => {
    for (const [data, why] of [
      [{}, 'no key credentials.json'],
      [{ 'credentials.json': '{not json' }, 'not valid JSON'],
      [{ 'credentials.json': '{"type":"service_account","client_email":"a@b"}' }, 'private_key'],
    ] as const) {
      const e = err(() => credentialsJsonOf('s', creds(data), true));
      expect(e).toMatchObject({ errorClass: 'terminal', reason: 'SecretResolveFailed' });
      expect(e.message).toContain(why);
    }
  });
});

describe('bigquery error classes (SEED-SPEC §5.8)', () => {
  const api = (code: number, reason: string, message = 'x') =>
    Object.assign(new Error(message), { code, errors: [{ reason, message }] });
  it.each([
    [api(400, 'invalidQuery'), 'terminal'],
    [api(401, 'authError'), 'terminal'],
    [api(403, 'accessDenied'), 'terminal'],
    [api(403, 'rateLimitExceeded'), 'transient'],
    [api(404, 'notFound'), 'terminal'],
    [api(409, 'duplicate'), 'transient'],
    [api(429, 'rateLimitExceeded'), 'transient'],
    [api(500, 'backendError'), 'transient'],
    [
      api(400, 'invalidQuery', 'Transaction is aborted due to concurrent update against table p.d.t'),
      'transient',
    ],
    [Object.assign(new Error('job failed'), { errors: [{ reason: 'backendError' }] }), 'transient'],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'transient'],
    [new Error('invalid_grant: Invalid JWT Signature.'), 'terminal'],
  ])('%s is %s', (e, cls) => {
    expect(classifyBigQueryError('s', e).errorClass).toBe(cls);
  });
});
