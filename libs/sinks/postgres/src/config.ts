import { createHash } from 'node:crypto';
import type { CompiledSink } from '@kollect/plan';
import { SinkConfigInvalid, SinkSecretResolveFailed, type SinkCredentials } from '@kollect/sink';
import type { ConnectionOptions } from 'node:tls';

/**
 * Settings of one Postgres sink, read from the compiled spec (pure; no I/O). Everything a user
 * can get wrong is checked here, so the message names the field and says what to do.
 */

/** Longest identifier Postgres keeps (NAMEDATALEN - 1 bytes); longer ones are silently truncated. */
export const MAX_IDENTIFIER_BYTES = 63;

/**
 * Names we accept for schema and table. They are always double-quoted in SQL, so case is kept;
 * the pattern keeps out quotes, dots, whitespace and control characters, which would otherwise
 * need escaping everywhere and make derived names (indexes, views) ambiguous.
 */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$-]*$/;

/** Secret keys tried for the DSN, in order (SEED-SPEC §3.8, §15.14). */
export const DSN_KEYS = ['dsn', 'url', 'connectionString', 'DATABASE_URL'] as const;

/** `spec.options` keys read by this backend (none look like credentials, see SEED-SPEC §3.8). */
export const OPTION_INDEXES = 'postgres.indexes';
export const OPTION_VIEWS = 'postgres.views';
export const OPTION_COPY_THRESHOLD = 'postgres.copyThreshold';

export type ProvisioningMode = 'ensure' | 'existing';

export interface PostgresSettings {
  /** `family/namespace/name`, for messages. */
  sinkName: string;
  schema: string;
  table: string;
  mode: ProvisioningMode;
  /** Extra indexes for portal queries (`spec.options["postgres.indexes"]="portal"`). */
  portalIndexes: boolean;
  /** Views `<table>_images` and `<table>_objects_per_team` (`spec.options["postgres.views"]="portal"`). */
  portalViews: boolean;
  /**
   * Upserts of at least this many rows go through COPY into a staging table; fewer use a
   * multi-row INSERT. Measured on the test bed (docs/sinks-database.md "COPY threshold").
   */
  copyThreshold: number;
}

/**
 * Default COPY threshold. Below it, a multi-row INSERT is as fast or faster (no temp table to
 * create, no second statement); above it, COPY + merge wins. Measured with
 * `npm run -w @kollect/bench postgres` (docs/sinks-database.md).
 */
export const DEFAULT_COPY_THRESHOLD = 500;

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** `family/namespace/name` of a sink. */
export function sinkNameOf(sink: CompiledSink): string {
  return `${sink.ref.family}/${sink.ref.namespace}/${sink.ref.name}`;
}

/** Why an identifier is unusable, or undefined when it is fine. */
export function identifierProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES)
    return `must be at most ${MAX_IDENTIFIER_BYTES} bytes (Postgres truncates longer names)`;
  if (!IDENTIFIER.test(name))
    return 'may contain only letters, digits, "_", "$" and "-", and must start with a letter or "_"';
  if (name.startsWith('pg_')) return 'must not start with "pg_" (reserved for system objects)';
  return undefined;
}

/** A double-quoted identifier. Only called on names that passed {@link identifierProblem}. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * A name derived from the table (index, view, constraint) that stays within 63 bytes and unique:
 * `<table><suffix>`, or a truncated table name plus a short hash when that is too long.
 */
export function derivedName(table: string, suffix: string): string {
  const full = `${table}${suffix}`;
  if (Buffer.byteLength(full, 'utf8') <= MAX_IDENTIFIER_BYTES) return full;
  const hash = createHash('sha256').update(table).digest('hex').slice(0, 8);
  const room = MAX_IDENTIFIER_BYTES - suffix.length - hash.length - 1;
  return `${table.slice(0, room)}_${hash}${suffix}`;
}

/** Parse the sink spec. Throws `InvalidSinkConfig` (terminal) with the field path. */
export function postgresSettings(sink: CompiledSink): PostgresSettings {
  const sinkName = sinkNameOf(sink);
  const pg = obj(sink.spec['postgres']);
  const table = pg['table'];
  if (typeof table !== 'string' || table === '')
    throw SinkConfigInvalid(sinkName, 'spec.postgres.table', 'is required');
  const schema = typeof pg['schema'] === 'string' && pg['schema'] !== '' ? pg['schema'] : 'public';
  for (const [field, value] of [
    ['spec.postgres.table', table],
    ['spec.postgres.schema', schema],
  ] as const) {
    const problem = identifierProblem(value);
    if (problem) throw SinkConfigInvalid(sinkName, field, `${JSON.stringify(value)} ${problem}`);
  }
  if (table === 'kollect_exports')
    throw SinkConfigInvalid(
      sinkName,
      'spec.postgres.table',
      '"kollect_exports" is the bookkeeping table of every Kollect sink in the schema; choose another name',
    );
  const modeRaw = obj(sink.spec['provisioning'])['mode'];
  const mode: ProvisioningMode = modeRaw === 'existing' ? 'existing' : 'ensure';
  if (modeRaw !== undefined && modeRaw !== 'ensure' && modeRaw !== 'existing')
    throw SinkConfigInvalid(
      sinkName,
      'spec.provisioning.mode',
      `must be ensure or existing, got ${JSON.stringify(modeRaw)}`,
    );
  const options = obj(sink.spec['options']);
  const choice = (key: string): boolean => {
    const v = options[key];
    if (v === undefined || v === '' || v === 'none') return false;
    if (v === 'portal') return true;
    throw SinkConfigInvalid(
      sinkName,
      `spec.options["${key}"]`,
      `must be "portal" or "none", got ${JSON.stringify(v)}`,
    );
  };
  let copyThreshold = DEFAULT_COPY_THRESHOLD;
  const ct = options[OPTION_COPY_THRESHOLD];
  if (ct !== undefined) {
    const n = typeof ct === 'string' && /^\d+$/.test(ct) ? Number(ct) : NaN;
    if (!Number.isSafeInteger(n) || n < 1)
      throw SinkConfigInvalid(
        sinkName,
        `spec.options["${OPTION_COPY_THRESHOLD}"]`,
        `must be a positive integer, got ${JSON.stringify(ct)}`,
      );
    copyThreshold = n;
  }
  return {
    sinkName,
    schema,
    table,
    mode,
    portalIndexes: choice(OPTION_INDEXES),
    portalViews: choice(OPTION_VIEWS),
    copyThreshold,
  };
}

/** Connection settings handed to `pg` (no secrets in anything derived from it for messages). */
export interface PostgresConnection {
  host: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** false = plain TCP; otherwise Node TLS options. */
  ssl: false | ConnectionOptions;
  /** The effective sslmode, for status and logs. */
  sslmode: SslMode;
  /** Other libpq parameters from the DSN that `pg` understands (application_name, options…). */
  extra: Record<string, string>;
}

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** DSN parameters that name files on the worker's disk: refused (use `spec.tls` instead). */
const FILE_PARAMS = [
  'sslrootcert',
  'sslcert',
  'sslkey',
  'sslcrl',
  'sslcrldir',
  'passfile',
  'service',
  'servicefile',
];
/** DSN parameters passed through to `pg`. */
const PASS_THROUGH = [
  'application_name',
  'options',
  'client_encoding',
  'keepalives',
  'keepalives_idle',
  'target_session_attrs',
];

/** The DSN of the sink from its credentials; terminal `SecretResolveFailed` when absent. */
export function dsnOf(sinkName: string, credentials: SinkCredentials, secretField: string): string {
  const dsn =
    credentials.roles.dsn ??
    DSN_KEYS.map((k) => credentials.data[k]).find((v) => typeof v === 'string' && v !== '');
  if (!dsn)
    throw SinkSecretResolveFailed(
      sinkName,
      `the Secret referenced by ${secretField} has none of the keys ${DSN_KEYS.join(', ')}; put the connection string (postgres://user:password@host:5432/db) under one of them`,
    );
  return dsn.trim();
}

/**
 * Parse a libpq connection URI (`postgres://` / `postgresql://`) and combine it with the sink's
 * `spec.tls` into `pg` settings. `sslmode` keeps libpq's meaning (docs/sinks-database.md "TLS"):
 * `disable` no TLS; `allow`/`prefer` TLS only when `spec.tls` configures it (`pg` cannot fall
 * back); `require` encrypted, verified only when a CA is given; `verify-ca` chain checked, host
 * name not; `verify-full` both. Without `sslmode`, TLS is used when `spec.tls` sets a CA or
 * skip-verify. Malformed DSNs are terminal and the message never repeats the DSN.
 */
export function parseDsn(
  sinkName: string,
  dsn: string,
  tls: { caPem?: string; insecureSkipVerify?: boolean },
): PostgresConnection {
  const bad = (why: string) =>
    SinkSecretResolveFailed(
      sinkName,
      `the connection string in the Secret is not usable: ${why}; expected postgres://user:password@host:5432/database?sslmode=verify-full`,
    );
  let url: URL;
  try {
    url = new URL(dsn);
  } catch {
    throw bad('it is not a URL (key=value strings are not supported)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw bad(`the scheme must be postgres:// or postgresql://, not ${url.protocol.replace(/:$/, '')}://`);
  const params = new Map<string, string>();
  for (const [k, v] of url.searchParams) params.set(k, v);
  for (const k of FILE_PARAMS)
    if (params.has(k))
      throw bad(
        `the parameter ${k} reads a file on the worker; put CA certificates in spec.tls.caSecretRef or spec.tls.caBundle instead`,
      );
  let host = decodeURIComponent(url.hostname).replace(/^\[(.+)\]$/, '$1');
  if (params.has('host')) host = params.get('host') as string;
  if (host === '') throw bad('it names no host');
  if (host.includes(',')) throw bad('several hosts are not supported');
  const portRaw = params.get('port') ?? url.port;
  const port = portRaw === '' ? undefined : Number(portRaw);
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535))
    throw bad('the port is not a number in 1–65535');
  let user: string | undefined;
  let password: string | undefined;
  try {
    user = params.get('user') ?? (url.username !== '' ? decodeURIComponent(url.username) : undefined);
    password = params.get('password') ?? (url.password !== '' ? decodeURIComponent(url.password) : undefined);
  } catch {
    throw bad('the user or password is not valid percent-encoding');
  }
  const path = url.pathname.replace(/^\//, '');
  const database = params.get('dbname') ?? (path !== '' ? decodeURIComponent(path) : undefined);
  const modeRaw = params.get('sslmode');
  if (modeRaw !== undefined && !SSL_MODES.includes(modeRaw as SslMode))
    throw bad(`sslmode must be one of ${SSL_MODES.join(', ')}`);
  const skip = tls.insecureSkipVerify === true;
  const ca = tls.caPem;
  let sslmode: SslMode;
  if (modeRaw !== undefined) sslmode = modeRaw as SslMode;
  else if (ca !== undefined) sslmode = 'verify-full';
  else if (skip) sslmode = 'require';
  else sslmode = 'prefer';
  let ssl: false | ConnectionOptions;
  switch (sslmode) {
    case 'disable':
      ssl = false;
      break;
    case 'allow':
    case 'prefer':
      ssl = ca !== undefined || skip ? tlsOptions(host, ca, skip ? 'none' : 'full') : false;
      break;
    case 'require':
      ssl = tlsOptions(host, ca, skip || ca === undefined ? 'none' : 'chain');
      break;
    case 'verify-ca':
      ssl = tlsOptions(host, ca, skip ? 'none' : 'chain');
      break;
    case 'verify-full':
      ssl = tlsOptions(host, ca, skip ? 'none' : 'full');
      break;
  }
  const extra: Record<string, string> = {};
  for (const k of PASS_THROUGH) {
    const v = params.get(k);
    if (v !== undefined) extra[k] = v;
  }
  return {
    host,
    ...(port !== undefined ? { port } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(database !== undefined ? { database } : {}),
    ssl,
    sslmode,
    extra,
  };
}

function tlsOptions(
  host: string,
  ca: string | undefined,
  verify: 'none' | 'chain' | 'full',
): ConnectionOptions {
  const o: ConnectionOptions = { rejectUnauthorized: verify !== 'none' };
  if (ca !== undefined) o.ca = ca;
  // Node checks the host name by default; verify-ca (libpq) checks only the chain.
  if (verify === 'chain') o.checkServerIdentity = () => undefined;
  if (verify === 'full' && !/^[\d.]+$|:/.test(host)) o.servername = host;
  return o;
}

/** The `spec.tls` of a sink as the options {@link parseDsn} needs (the CA PEM comes from credentials). */
export function tlsSettings(
  sink: CompiledSink,
  credentials: SinkCredentials,
): { caPem?: string; insecureSkipVerify?: boolean } {
  const tls = obj(sink.spec['tls']);
  return {
    ...(credentials.caPem !== undefined ? { caPem: credentials.caPem } : {}),
    ...(tls['insecureSkipVerify'] === true ? { insecureSkipVerify: true } : {}),
  };
}
