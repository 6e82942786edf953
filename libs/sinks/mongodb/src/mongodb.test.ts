import { describe, expect, it } from 'vitest';
import type { InventoryRef, Item } from '@kollect/contracts';
import type { CompiledSink } from '@kollect/plan';
import { mongoSettings, tlsOptions, uriOf } from './config.js';
import { awkwardKey, rowDocument, rowId, sameIndexKeys, ROW_INDEX_KEYS } from './documents.js';
import { classifyMongoError } from './errors.js';
import { CLIENT, mongoClientOptions } from './sink.js';

const inv: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'web' };
const item: Item = {
  targetNamespace: 'team-a',
  targetName: 'deployments',
  namespace: 'team-a-1',
  name: 'api',
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  uid: 'u1',
  attributes: { b: 1, a: 'x' },
};

function sink(m: Record<string, unknown>, spec: Record<string, unknown> = {}): CompiledSink {
  return {
    ref: { family: 'database', namespace: 'a', name: 'm' },
    uid: 'u',
    generation: 1,
    type: 'mongodb',
    spec: {
      type: 'mongodb',
      mongodb: { databaseRef: { name: 'db' }, database: 'kollect', collection: 'inventory', ...m },
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

describe('mongodb settings', () => {
  it('defaults to ensure and document payloads', () => {
    expect(mongoSettings(sink({}))).toMatchObject({
      database: 'kollect',
      collection: 'inventory',
      mode: 'ensure',
      payload: 'document',
    });
    expect(
      mongoSettings(sink({}, { options: { 'mongodb.payload': 'json' }, provisioning: { mode: 'existing' } })),
    ).toMatchObject({ mode: 'existing', payload: 'json' });
  });
  it.each([
    [{ database: 'a.b' }, 'spec.mongodb.database'],
    [{ collection: 'system.users' }, 'system.'],
    [{ collection: 'a$b' }, 'must not contain $'],
    [{ collection: 'kollect_exports' }, 'bookkeeping'],
  ])('refuses %j', (m, why) => {
    expect(err(() => mongoSettings(sink(m))).message).toContain(why);
  });
  it('every mongodb sink resolves its own URI from uri, url, connectionString or MONGODB_URI (the seed forgot this)', () => {
    expect(uriOf('s', { data: { MONGODB_URI: 'mongodb://h/' }, roles: {}, version: '1' }, 'f')).toBe(
      'mongodb://h/',
    );
    const e = err(() => uriOf('s', { data: {}, roles: {}, version: '1' }, 'spec.mongodb.databaseRef'));
    expect(e).toMatchObject({ errorClass: 'terminal', reason: 'SecretResolveFailed' });
    expect(e.message).toContain('uri, url, connectionString, MONGODB_URI');
  });
  it('spec.tls turns TLS on with the CA, or without verification', () => {
    expect(tlsOptions(sink({}), { data: {}, roles: {}, caPem: 'PEM', version: '1' })).toEqual({
      tls: true,
      ca: 'PEM',
    });
    expect(
      tlsOptions(sink({}, { tls: { insecureSkipVerify: true } }), { data: {}, roles: {}, version: '1' }),
    ).toMatchObject({ tls: true, tlsAllowInvalidCertificates: true });
  });
});

describe('mongodb client options', () => {
  const creds = { data: {}, roles: {}, version: '1' };
  it('the sink limits apply unless the URI sets them (any case)', () => {
    const d = mongoClientOptions('mongodb://h:1/', sink({}), creds);
    expect(d.serverSelectionTimeoutMS).toBe(CLIENT.serverSelectionTimeoutMS);
    expect(d.maxPoolSize).toBe(CLIENT.maxPoolSize);
    const u = mongoClientOptions(
      'mongodb://h:1,h:2/db?tls=true&serverselectiontimeoutms=5000',
      sink({}),
      creds,
    );
    expect(u.serverSelectionTimeoutMS).toBeUndefined();
    expect(u.maxPoolSize).toBe(CLIENT.maxPoolSize);
  });
  it('the CA comes from the resolved credentials (spec.tls), with TLS on', () => {
    expect(mongoClientOptions('mongodb://h:1/', sink({}), { ...creds, caPem: 'PEM' })).toMatchObject({
      tls: true,
      ca: 'PEM',
    });
  });
});

describe('mongodb documents', () => {
  it("keep the seed's fields in the seed's order, then target_namespace; _id is the row identity", () => {
    const d = rowDocument(item, inv, 'east', new Date(0), 'document');
    expect(Object.keys(d)).toEqual([
      '_id',
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
    expect(d._id).toBe(rowId('east', inv, item));
    expect(JSON.parse(d._id)).toEqual(['east', 'team-a', 'web', 'team-a', 'deployments', 'u1']);
    expect(Object.keys((d.payload as Item).attributes)).toEqual(['a', 'b']);
    expect(rowDocument(item, inv, 'east', new Date(0), 'json').payload).toBe(
      '{"targetNamespace":"team-a","targetName":"deployments","namespace":"team-a-1","name":"api","group":"apps","version":"v1","kind":"Deployment","uid":"u1","attributes":{"a":"x","b":1}}',
    );
  });
  it('the identity index includes cluster; the seed index is recognised', () => {
    expect(ROW_INDEX_KEYS[0]).toBe('cluster');
    expect(
      sameIndexKeys({ inventory_namespace: 1, inventory_name: 1, target_name: 1, source_uid: 1 }, [
        'inventory_namespace',
        'inventory_name',
        'target_name',
        'source_uid',
      ]),
    ).toBe(true);
    expect(sameIndexKeys({ inventory_namespace: -1 }, ['inventory_namespace'])).toBe(false);
  });
  it('finds the first field name a server may refuse', () => {
    expect(awkwardKey({ labels: { 'app.kubernetes.io/name': 'x' } })).toBe('labels.app.kubernetes.io/name');
    expect(awkwardKey({ list: [{ $ref: 1 }] })).toBe('list[0].$ref');
    expect(awkwardKey({ ok: { fine: 1 } })).toBeUndefined();
  });
});

describe('mongodb error classes', () => {
  const e = (name: string, code?: number, message = 'x') =>
    Object.assign(new Error(message), { name, ...(code !== undefined ? { code } : {}) });
  it.each([
    [e('MongoServerError', 18, 'Authentication failed.'), 'terminal', 'AuthenticationFailed'],
    [e('MongoServerError', 13, 'not authorized'), 'terminal', 'AuthenticationFailed'],
    [e('MongoParseError', undefined, 'Invalid scheme'), 'terminal', 'SecretResolveFailed'],
    [
      e('MongoBulkWriteError', 2, `invalid key: "a.b" (key must not contain '.' sign)`),
      'terminal',
      'ExportTerminal',
    ],
    [e('MongoServerError', 11000, 'E11000 duplicate key'), 'transient', 'Conflict'],
    [e('MongoServerError', 10334, 'BSONObjectTooLarge'), 'payload_too_large', 'PayloadTooLarge'],
    [e('MongoServerSelectionError', undefined, 'connect ECONNREFUSED'), 'transient', 'SinkUnavailable'],
    [e('MongoNetworkError', undefined, 'connection reset'), 'transient', 'SinkUnavailable'],
  ])('%s → %s', (x, cls, reason) => {
    const k = classifyMongoError('s', x);
    expect(k.errorClass).toBe(cls);
    expect(k.reason).toBe(reason);
  });
  /** What the driver throws when the handshake fails: built the way mongodb 7.9.0 builds it. */
  function selectionTimeout(code: string, message: string) {
    const socket = Object.assign(new Error(message), { code });
    const network = Object.assign(new Error(message, { cause: socket }), { name: 'MongoNetworkError' });
    return Object.assign(new Error(message, { cause: network }), {
      name: 'MongoServerSelectionError',
      reason: { servers: new Map([['127.0.0.1:27017', { error: network }]]) },
    });
  }
  it('an untrusted certificate inside a server selection timeout is terminal and names tls.caBundle / tls.caSecretRef', () => {
    const k = classifyMongoError(
      's',
      selectionTimeout('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
    );
    expect(k.errorClass).toBe('terminal');
    expect(k.reason).toBe('InvalidSinkConfig');
    expect(k.message).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    expect(k.message).toMatch(/set tls\.caBundle or tls\.caSecretRef/);
  });
  it('the TLS failure is found on the topology servers when the cause chain is cut', () => {
    const x = selectionTimeout('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain');
    const cut = Object.assign(new Error('Server selection timed out after 30000 ms'), {
      name: 'MongoServerSelectionError',
      reason: x.reason,
    });
    expect(classifyMongoError('s', cut).message).toMatch(/SELF_SIGNED_CERT_IN_CHAIN.*tls\.caSecretRef/);
  });
  it('a certificate for another host is terminal and points at the host of the URI, not the CA', () => {
    const k = classifyMongoError(
      's',
      selectionTimeout('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"),
    );
    expect(k.errorClass).toBe('terminal');
    expect(k.message).toMatch(/host of the connection URI/);
    expect(k.message).not.toMatch(/caBundle/);
  });
  it('a server selection timeout without a TLS failure stays transient', () => {
    const k = classifyMongoError('s', selectionTimeout('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'));
    expect(k.errorClass).toBe('transient');
  });
  it('a refused dotted field name points at mongodb.payload json', () => {
    expect(
      classifyMongoError('s', e('MongoServerError', 2, `invalid key: "a.b" (key must not contain '.' sign)`))
        .message,
    ).toContain('mongodb.payload');
  });
});
