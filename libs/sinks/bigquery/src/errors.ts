import { defineError, KollectError, redactSecrets } from '@kollect/contracts';
import {
  classifySinkError,
  SinkAuthFailed,
  SinkConfigInvalid,
  SinkConflict,
  SinkDataInvalid,
  SinkPayloadTooLarge,
  SinkUnavailable,
} from '@kollect/sink';

/** BigQuery-specific errors and the mapping of API errors onto the contract's classes (SEED-SPEC §5.8). */

/** `provisioning.mode: existing` (or the dataset) and it does not exist. Terminal. */
export const BigQueryTableMissing = defineError(
  'KOLLECT_ERR_BIGQUERY_TABLE_MISSING',
  'terminal',
  (sink: string, what: string, remedy: string) => `sink ${sink}: ${what} does not exist; ${remedy}`,
  'TableMissing',
);

/** The table exists with another schema. Terminal. */
export const BigQueryTableIncompatible = defineError(
  'KOLLECT_ERR_BIGQUERY_TABLE',
  'terminal',
  (sink: string, table: string, problems: string, found: string) =>
    `sink ${sink}: table ${table} cannot be used: ${problems}. It has: ${found}. Point spec.bigquery.table at a new table (provisioning.mode ensure creates it) or change this one`,
  'TableIncompatible',
);

interface ApiErrorLike {
  code?: unknown;
  status?: unknown;
  message?: unknown;
  errors?: unknown;
  response?: { statusCode?: unknown };
}

/** The HTTP status of an API error, if any. */
export function httpStatus(err: unknown): number | undefined {
  const e = err as ApiErrorLike | undefined;
  for (const v of [e?.code, e?.status, e?.response?.statusCode])
    if (typeof v === 'number' && v >= 100 && v < 600) return v;
  return undefined;
}

/** The `reason` values of an API or job error (`invalidQuery`, `rateLimitExceeded`, …). */
export function reasons(err: unknown): string[] {
  const e = err as ApiErrorLike | undefined;
  return Array.isArray(e?.errors)
    ? e.errors
        .map((x) => (x as { reason?: unknown }).reason)
        .filter((r): r is string => typeof r === 'string')
    : [];
}

function messageOf(err: unknown): string {
  const e = err as ApiErrorLike | undefined;
  return redactSecrets(typeof e?.message === 'string' ? e.message : String(err));
}

const TRANSIENT_REASONS = new Set([
  'rateLimitExceeded',
  'jobRateLimitExceeded',
  'quotaExceeded',
  'backendError',
  'internalError',
  'jobBackendError',
  'jobInternalError',
  'tableUnavailable',
  'stopped',
]);
const CONCURRENT = /concurrent update|Transaction is aborted|could not serialize access/i;

/**
 * SEED-SPEC §5.8 with the reasons Google documents as retryable:
 * - 401 → terminal `AuthenticationFailed`; 403 `accessDenied` → terminal `AuthenticationFailed`,
 *   but 403 `rateLimitExceeded`/`quotaExceeded` → transient;
 * - 400 → terminal (`invalidQuery` and friends), except a concurrent-update abort → transient `Conflict`;
 * - 404 → terminal `InvalidSinkConfig` (project, dataset or table missing);
 * - 409 → transient `Conflict` (a create that conflicts is handled as success by the caller);
 * - 413 / `responseTooLarge` → `payload_too_large`;
 * - 429, 5xx, `backendError`, timeouts, network errors → transient.
 * Job failures carry no HTTP status; their `reason` decides the same way.
 */
export function classifyBigQueryError(sink: string, err: unknown): KollectError {
  if (err instanceof KollectError) return err;
  const status = httpStatus(err);
  const rs = reasons(err);
  const msg = messageOf(err);
  const detail = `${status !== undefined ? `HTTP ${status}` : 'job'}${rs.length ? ` ${rs.join(',')}` : ''}: ${msg}`;
  if (CONCURRENT.test(msg)) return SinkConflict(sink, detail, { cause: err });
  if (rs.some((r) => TRANSIENT_REASONS.has(r)) || status === 429 || (status !== undefined && status >= 500))
    return SinkUnavailable(sink, detail, { cause: err });
  if (
    status === 401 ||
    rs.includes('accessDenied') ||
    /invalid_grant|unauthorized_client|invalid_client/.test(msg)
  )
    return SinkAuthFailed(sink, detail, { cause: err });
  if (status === 403) return SinkAuthFailed(sink, detail, { cause: err });
  if (
    status === 413 ||
    rs.includes('responseTooLarge') ||
    /request.*too large|payload size exceeds/i.test(msg)
  )
    return SinkPayloadTooLarge(sink, detail, { cause: err });
  if (status === 404 || rs.includes('notFound'))
    return SinkConfigInvalid(sink, 'spec.bigquery', detail, { cause: err });
  if (status === 409 || rs.includes('duplicate')) return SinkConflict(sink, detail, { cause: err });
  if (status === 400 || rs.includes('invalidQuery') || rs.includes('invalid'))
    return SinkDataInvalid(sink, detail, { cause: err });
  return classifySinkError(sink, err);
}
