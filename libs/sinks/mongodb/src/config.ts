import type { CompiledSink } from '@kollect/plan';
import { SinkConfigInvalid, SinkSecretResolveFailed, type SinkCredentials } from '@kollect/sink';

/** Settings of one MongoDB sink, read from the compiled spec (pure; no I/O). */

/** Secret keys tried for the connection URI, in order (SEED-SPEC §3.8, §15.14). */
export const URI_KEYS = ['uri', 'url', 'connectionString', 'MONGODB_URI'] as const;

/** `spec.options` keys read by this backend. */
export const OPTION_PAYLOAD = 'mongodb.payload';

/** The bookkeeping collection in the sink's database. */
export const EXPORTS_COLLECTION = 'kollect_exports';

export type ProvisioningMode = 'ensure' | 'existing';

/**
 * How `payload` is stored: `document` (default, the seed's shape: the Item as a sub-document,
 * queryable as `payload.attributes.image`), or `json` (the canonical Item JSON as a string), for
 * servers that refuse field names with `.` or a leading `$` — FerretDB does, and Kubernetes
 * label keys such as `app.kubernetes.io/name` have dots.
 */
export type PayloadMode = 'document' | 'json';

export interface MongoSettings {
  /** `family/namespace/name`, for messages. */
  sinkName: string;
  database: string;
  collection: string;
  mode: ProvisioningMode;
  payload: PayloadMode;
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function sinkNameOf(sink: CompiledSink): string {
  return `${sink.ref.family}/${sink.ref.namespace}/${sink.ref.name}`;
}

/** Why a database name is unusable (MongoDB naming rules), or undefined. */
export function databaseProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (Buffer.byteLength(name, 'utf8') > 63) return 'must be shorter than 64 bytes';
  if (/[/\\. "$*<>:|?]/.test(name) || name.includes('\u0000'))
    return 'must not contain / \\ . space " $ * < > : | ? or NUL';
  return undefined;
}

/** Why a collection name is unusable, or undefined. */
export function collectionProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (Buffer.byteLength(name, 'utf8') > 200) return 'must be at most 200 bytes';
  if (name.includes('$') || name.includes('\u0000')) return 'must not contain $ or NUL';
  if (name.startsWith('system.')) return 'must not start with "system." (reserved)';
  if (name === EXPORTS_COLLECTION)
    return `"${EXPORTS_COLLECTION}" is the bookkeeping collection of every Kollect sink in the database`;
  return undefined;
}

/** Parse the sink spec. Throws `InvalidSinkConfig` (terminal) naming the field. */
export function mongoSettings(sink: CompiledSink): MongoSettings {
  const sinkName = sinkNameOf(sink);
  const m = obj(sink.spec['mongodb']);
  const database = m['database'];
  const collection = m['collection'];
  if (typeof database !== 'string') throw SinkConfigInvalid(sinkName, 'spec.mongodb.database', 'is required');
  if (typeof collection !== 'string')
    throw SinkConfigInvalid(sinkName, 'spec.mongodb.collection', 'is required');
  const dbp = databaseProblem(database);
  if (dbp) throw SinkConfigInvalid(sinkName, 'spec.mongodb.database', `${JSON.stringify(database)} ${dbp}`);
  const cp = collectionProblem(collection);
  if (cp) throw SinkConfigInvalid(sinkName, 'spec.mongodb.collection', `${JSON.stringify(collection)} ${cp}`);
  const modeRaw = obj(sink.spec['provisioning'])['mode'];
  if (modeRaw !== undefined && modeRaw !== 'ensure' && modeRaw !== 'existing')
    throw SinkConfigInvalid(
      sinkName,
      'spec.provisioning.mode',
      `must be ensure or existing, got ${JSON.stringify(modeRaw)}`,
    );
  const p = obj(sink.spec['options'])[OPTION_PAYLOAD];
  if (p !== undefined && p !== 'document' && p !== 'json')
    throw SinkConfigInvalid(
      sinkName,
      `spec.options["${OPTION_PAYLOAD}"]`,
      `must be "document" or "json", got ${JSON.stringify(p)}`,
    );
  return {
    sinkName,
    database,
    collection,
    mode: modeRaw === 'existing' ? 'existing' : 'ensure',
    payload: p === 'json' ? 'json' : 'document',
  };
}

/** The connection URI from the credentials; terminal `SecretResolveFailed` when absent or not a MongoDB URI. */
export function uriOf(sinkName: string, credentials: SinkCredentials, secretField: string): string {
  const uri =
    credentials.roles.uri ??
    URI_KEYS.map((k) => credentials.data[k]).find((v) => typeof v === 'string' && v !== '');
  if (!uri)
    throw SinkSecretResolveFailed(
      sinkName,
      `the Secret referenced by ${secretField} has none of the keys ${URI_KEYS.join(', ')}; put the connection URI (mongodb://user:password@host:27017/?authSource=admin) under one of them`,
    );
  const u = uri.trim();
  if (!/^mongodb(\+srv)?:\/\//.test(u))
    throw SinkSecretResolveFailed(
      sinkName,
      'the connection URI in the Secret must start with mongodb:// or mongodb+srv://',
    );
  return u;
}

/** TLS client options from `spec.tls` (and the CA PEM the worker resolved). */
export function tlsOptions(sink: CompiledSink, credentials: SinkCredentials): Record<string, unknown> {
  const tls = obj(sink.spec['tls']);
  const out: Record<string, unknown> = {};
  if (credentials.caPem !== undefined) {
    out['tls'] = true;
    out['ca'] = credentials.caPem;
  }
  if (tls['insecureSkipVerify'] === true) {
    out['tls'] = true;
    out['tlsAllowInvalidCertificates'] = true;
    out['tlsAllowInvalidHostnames'] = true;
  }
  return out;
}
