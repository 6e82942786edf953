import { defineError, KollectError, redactSecrets, type ErrorClass } from '@kollect/contracts';

/**
 * Errors of the sink framework and of every backend. Backends declare their own specific errors
 * with `defineError` too, but most failures map onto these, so that status reasons stay a small,
 * stable enum across backends (SEED-SPEC §9.1).
 */

/** Credentials were rejected by the backend (HTTP 401/403, SSH publickey, SASL). Terminal. */
export const SinkAuthFailed = defineError(
  'KOLLECT_ERR_SINK_AUTH',
  'terminal',
  (sink: string, detail: string) =>
    `sink ${sink}: the backend rejected the credentials (${redactSecrets(detail)}); check the Secret referenced by spec.secretRef (or the type's own secretRef) and the permissions of that identity`,
  'AuthenticationFailed',
);

/** The backend could not be reached (connection refused, DNS, timeout, 5xx). Transient. */
export const SinkUnavailable = defineError(
  'KOLLECT_ERR_SINK_UNAVAILABLE',
  'transient',
  (sink: string, detail: string) => `sink ${sink}: backend unavailable: ${redactSecrets(detail)}; will retry`,
  'SinkUnavailable',
);

/** The sink spec cannot work (bad endpoint, unsupported format, bucket/repository missing). Terminal. */
export const SinkConfigInvalid = defineError(
  'KOLLECT_ERR_SINK_CONFIG',
  'terminal',
  (sink: string, field: string, detail: string) => `sink ${sink}: ${field}: ${redactSecrets(detail)}`,
  'InvalidSinkConfig',
);

/** A referenced Secret or key is missing. Terminal until the Secret changes (watched). */
export const SinkSecretResolveFailed = defineError(
  'KOLLECT_ERR_SINK_SECRET',
  'terminal',
  (sink: string, detail: string) => `sink ${sink}: ${detail}`,
  'SecretResolveFailed',
);

/** The endpoint is refused by the SSRF guard (SEED-SPEC §3.8). Terminal. */
export const SinkEndpointForbidden = defineError(
  'KOLLECT_ERR_SINK_ENDPOINT_FORBIDDEN',
  'terminal',
  (sink: string, detail: string) =>
    `sink ${sink}: spec.endpoint is not allowed: ${redactSecrets(detail)}; use a cluster DNS name or a public host`,
  'EndpointForbidden',
);

/** The circuit breaker of the sink is open (SEED-SPEC §9.2). Transient. */
export const SinkCircuitOpen = defineError(
  'KOLLECT_ERR_SINK_CIRCUIT_OPEN',
  'transient',
  (sink: string, retryInMs: number) =>
    `sink ${sink}: sink circuit breaker open after repeated failures; next trial in ${Math.ceil(retryInMs / 1000)}s`,
  'CircuitOpen',
);

/** Another writer changed the destination concurrently; the export is retried. Transient. */
export const SinkConflict = defineError(
  'KOLLECT_ERR_SINK_CONFLICT',
  'transient',
  (sink: string, detail: string) => `sink ${sink}: concurrent update: ${redactSecrets(detail)}; will retry`,
  'Conflict',
);

/** A payload is larger than the backend accepts. */
export const SinkPayloadTooLarge = defineError(
  'KOLLECT_ERR_SINK_PAYLOAD_TOO_LARGE',
  'payload_too_large',
  (sink: string, detail: string) =>
    `sink ${sink}: payload too large (${detail}); shard the inventory or raise maxExportBytes`,
  'PayloadTooLarge',
);

/** The data cannot be projected (two rows render the same path, missing manifest attribute). Terminal. */
export const SinkDataInvalid = defineError(
  'KOLLECT_ERR_SINK_DATA',
  'terminal',
  (sink: string, detail: string) => `sink ${sink}: ${detail}`,
  'ExportTerminal',
);

/**
 * Thrown by `applyDiff` when a backend cannot apply this particular diff on top of N-1 (for
 * example every path moved). Not an export failure: the framework replaces from a full snapshot.
 */
export const SinkNeedsFullSnapshot = defineError(
  'KOLLECT_ERR_SINK_NEEDS_FULL',
  'transient',
  (why: string) => `diff cannot be applied incrementally: ${why}`,
  'FullSnapshotRequired',
);

/** The full snapshot of a generation could not be obtained from the aggregator. Transient. */
export const FullSnapshotUnavailable = defineError(
  'KOLLECT_ERR_FULL_SNAPSHOT_UNAVAILABLE',
  'transient',
  (inventory: string, detail: string) => `full snapshot of ${inventory} unavailable: ${detail}; will retry`,
  'FullSnapshotUnavailable',
);

/** An operation exceeded its deadline. Transient. */
export const SinkTimeout = defineError(
  'KOLLECT_ERR_SINK_TIMEOUT',
  'transient',
  (sink: string, what: string, ms: number) => `sink ${sink}: ${what} timed out after ${ms} ms; will retry`,
  'Timeout',
);

/** No factory is registered for a sink type. Terminal. */
export const SinkTypeUnknown = defineError(
  'KOLLECT_ERR_SINK_TYPE_UNKNOWN',
  'terminal',
  (type: string, known: string) => `unknown sink type ${JSON.stringify(type)}; this worker serves ${known}`,
  'UnknownSinkType',
);

/** Network error codes that mean "try again later". */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Node's (OpenSSL's) codes for a server certificate the client does not trust. */
const TLS_UNTRUSTED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'INVALID_CA',
]);
/** The certificate is trusted but names another host. */
const TLS_HOST_CODES = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);

/**
 * A TLS verification failure anywhere in the cause chain (fetch wraps it as `TypeError: fetch
 * failed` with the socket error as `cause`; other clients throw it as is): `untrusted` when the
 * chain does not lead to a trusted CA, `host` when the certificate names another host.
 */
export function tlsVerifyFailure(
  err: unknown,
): { kind: 'untrusted' | 'host'; code: string; message: string } | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    const msg = typeof message === 'string' ? message : '';
    if (typeof code === 'string' && TLS_UNTRUSTED_CODES.has(code))
      return { kind: 'untrusted', code, message: msg };
    if (typeof code === 'string' && TLS_HOST_CODES.has(code)) return { kind: 'host', code, message: msg };
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The terminal error of a TLS verification failure, naming what to set: retrying cannot make a
 * certificate trusted. `detail` is scrubbed; no certificate or secret is ever part of it.
 */
export function sinkTlsError(
  sink: string,
  failure: { kind: 'untrusted' | 'host'; code: string; message: string },
  cause: unknown,
): KollectError {
  const what = `${failure.code}: ${failure.message}`;
  return failure.kind === 'untrusted'
    ? SinkConfigInvalid(
        sink,
        'spec.tls',
        `TLS verification of the server certificate failed (${what}); set tls.caBundle or tls.caSecretRef to the CA that signed it`,
        { cause },
      )
    : SinkConfigInvalid(
        sink,
        'spec.endpoint',
        `TLS verification of the server certificate failed (${what}); the certificate does not name the endpoint's host: use a host name it was issued for`,
        { cause },
      );
}

/** The error class an HTTP status means for a sink (SEED-SPEC §5.8/§9.1). */
export function classifyHttpStatus(status: number): ErrorClass {
  if (status === 401 || status === 403) return 'terminal';
  if (status === 413) return 'payload_too_large';
  if (status === 408 || status === 409 || status === 412 || status === 429 || status >= 500)
    return 'transient';
  if (status >= 400) return 'terminal';
  return 'transient';
}

/**
 * Map any error a backend client raised into the contract's classes: Kollect errors keep their
 * class; HTTP statuses and network codes are classified; everything unknown is transient.
 */
export function classifySinkError(sink: string, err: unknown): KollectError {
  if (err instanceof KollectError) return err;
  const e = err as {
    code?: unknown;
    status?: unknown;
    statusCode?: unknown;
    message?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  const message = redactSecrets(typeof e?.message === 'string' ? e.message : String(err));
  const status =
    typeof e?.status === 'number'
      ? e.status
      : typeof e?.statusCode === 'number'
        ? e.statusCode
        : e?.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 400) {
    const cls = classifyHttpStatus(status);
    if (status === 401 || status === 403)
      return SinkAuthFailed(sink, `HTTP ${status}: ${message}`, { cause: err });
    if (cls === 'payload_too_large') return SinkPayloadTooLarge(sink, `HTTP ${status}`, { cause: err });
    if (cls === 'terminal')
      return SinkConfigInvalid(sink, 'spec', `HTTP ${status}: ${message}`, { cause: err });
    return SinkUnavailable(sink, `HTTP ${status}: ${message}`, { cause: err });
  }
  const tls = tlsVerifyFailure(err);
  if (tls) return sinkTlsError(sink, tls, err);
  if (typeof e?.code === 'string' && TRANSIENT_CODES.has(e.code)) {
    return SinkUnavailable(sink, `${e.code}: ${message}`, { cause: err });
  }
  return SinkUnavailable(sink, message, { cause: err });
}
