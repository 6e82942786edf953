import { defineError, KollectError, redactSecrets } from '@kollect/contracts';
import {
  classifySinkError,
  SinkAuthFailed,
  SinkConfigInvalid,
  SinkConflict,
  SinkDataInvalid,
  SinkTimeout,
  SinkUnavailable,
  sinkTlsError,
  tlsVerifyFailure,
} from '@kollect/sink';

/**
 * Postgres-specific errors and the mapping of server errors (SQLSTATE) onto the contract's
 * classes (SEED-SPEC §9.1). Messages carry the server's text (never the DSN) and what to do.
 */

/** The destination table does not have the shape Kollect writes. Terminal. */
export const PostgresTableIncompatible = defineError(
  'KOLLECT_ERR_POSTGRES_TABLE',
  'terminal',
  (sink: string, table: string, problems: string, found: string, remedy: string) =>
    `sink ${sink}: table ${table} cannot be used: ${problems}. It has: ${found}. ${remedy}`,
  'TableIncompatible',
);

/** `provisioning.mode: existing` and the table (or kollect_exports) is missing. Terminal. */
export const PostgresTableMissing = defineError(
  'KOLLECT_ERR_POSTGRES_TABLE_MISSING',
  'terminal',
  (sink: string, table: string, ddl: string) =>
    `sink ${sink}: table ${table} does not exist and provisioning.mode is existing, so Kollect will not create it; create it with: ${ddl} — or set provisioning.mode: ensure`,
  'TableMissing',
);

/**
 * Postgres refused a row (e.g. `\u0000` in a string: JSONB cannot store the NUL character).
 * The transaction was rolled back. Terminal for this export.
 */
export const PostgresRowRejected = defineError(
  'KOLLECT_ERR_POSTGRES_ROW_REJECTED',
  'terminal',
  (sink: string, inventory: string, detail: string) =>
    `sink ${sink}: Postgres rejected a row of inventory ${inventory}: ${redactSecrets(detail)}; nothing was written (the transaction was rolled back)`,
  'ExportTerminal',
);

interface PgErrorLike {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
  where?: unknown;
  routine?: unknown;
}

/** The SQLSTATE of a server error, if it is one. */
export function sqlState(err: unknown): string | undefined {
  const c = (err as PgErrorLike | undefined)?.code;
  return typeof c === 'string' && /^[0-9A-Z]{5}$/.test(c) ? c : undefined;
}

/** `SQLSTATE: message (detail)` of a server error, scrubbed. */
export function describePgError(err: unknown): string {
  const code = sqlState(err);
  return code !== undefined ? `${code}: ${text(err)}` : text(err);
}

function text(err: unknown): string {
  const e = err as PgErrorLike | undefined;
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  const detail = typeof e?.detail === 'string' && e.detail !== '' ? ` (${e.detail})` : '';
  return redactSecrets(`${msg}${detail}`);
}

/** TLS handshake problems that retrying cannot fix. */
const TLS_CONFIG = [
  /self[- ]signed certificate/i,
  /unable to (?:verify|get local issuer)/i,
  /certificate has expired/i,
  /Hostname\/IP does not match/i,
  /does not support SSL/i,
  /ERR_TLS_CERT_ALTNAME_INVALID/,
  /wrong version number/i,
];

/**
 * Map anything `pg` throws into a classified Kollect error:
 * - 28xxx (authentication), 42501 (permission) → terminal `AuthenticationFailed`;
 * - 3D000 (database missing), 3F000 (schema missing), 42P01/42703 (table/column missing),
 *   TLS set-up problems → terminal `InvalidSinkConfig`;
 * - 22xxx (data exception, e.g. `\u0000` in JSONB) → terminal `ExportTerminal`;
 * - 23xxx (a concurrent writer won a race), 40001/40P01 → transient `Conflict`;
 * - 57014 (statement timeout) → transient `Timeout`;
 * - 08xxx, 53xxx, 57Pxx and network errors → transient `SinkUnavailable`;
 * - everything else → transient.
 */
export function classifyPgError(
  sink: string,
  err: unknown,
  inventory?: string,
  statementTimeoutMs = 300_000,
): KollectError {
  if (err instanceof KollectError) return err;
  const code = sqlState(err);
  const msg = text(err);
  if (code !== undefined) {
    const cls = code.slice(0, 2);
    if (cls === '28' || code === '42501') return SinkAuthFailed(sink, `${code}: ${msg}`, { cause: err });
    if (code === '3D000')
      return SinkConfigInvalid(sink, 'the Secret (connection string database)', `${code}: ${msg}`, {
        cause: err,
      });
    if (code === '3F000' || code === '42P01' || code === '42703')
      return SinkConfigInvalid(sink, 'spec.postgres', `${code}: ${msg}`, { cause: err });
    if (cls === '22')
      return inventory !== undefined
        ? PostgresRowRejected(sink, inventory, `${code}: ${msg}`, { cause: err })
        : SinkDataInvalid(sink, `${code}: ${msg}`, { cause: err });
    if (cls === '23' || code === '40001' || code === '40P01')
      return SinkConflict(sink, `${code}: ${msg}`, { cause: err });
    if (code === '57014') return SinkTimeout(sink, 'a statement', statementTimeoutMs, { cause: err });
    return SinkUnavailable(sink, `${code}: ${msg}`, { cause: err });
  }
  // an untrusted or mismatched server certificate: name tls.caBundle / tls.caSecretRef (or the host)
  const tls = tlsVerifyFailure(err);
  if (tls) return sinkTlsError(sink, tls, err);
  if (TLS_CONFIG.some((re) => re.test(msg)))
    return SinkConfigInvalid(sink, 'spec.tls / sslmode', `TLS: ${msg}`, { cause: err });
  if (/timeout expired|Connection terminated due to connection timeout/i.test(msg))
    return SinkUnavailable(sink, `connect timed out: ${msg}`, { cause: err });
  return classifySinkError(sink, err);
}
