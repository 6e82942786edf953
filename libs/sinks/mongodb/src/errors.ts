import { defineError, KollectError, redactSecrets } from '@kollect/contracts';
import {
  classifySinkError,
  SinkAuthFailed,
  SinkConfigInvalid,
  SinkConflict,
  SinkDataInvalid,
  SinkPayloadTooLarge,
  SinkSecretResolveFailed,
  SinkUnavailable,
  sinkTlsError,
  tlsVerifyFailure,
} from '@kollect/sink';
import { OPTION_PAYLOAD } from './config.js';

/** MongoDB-specific errors and the mapping of driver/server errors onto the contract's classes. */

/** `provisioning.mode: existing` and the collection does not exist. Terminal. */
export const MongoCollectionMissing = defineError(
  'KOLLECT_ERR_MONGODB_COLLECTION_MISSING',
  'terminal',
  (sink: string, ns: string) =>
    `sink ${sink}: collection ${ns} does not exist and provisioning.mode is existing, so Kollect will not create it; create it (with a unique index on cluster, inventory_namespace, inventory_name, target_namespace, target_name, source_uid) or set provisioning.mode: ensure`,
  'TableMissing',
);

/** An index with Kollect's name or the seed's key is in the way. Terminal. */
export const MongoIndexConflict = defineError(
  'KOLLECT_ERR_MONGODB_INDEX',
  'terminal',
  (sink: string, ns: string, detail: string) => `sink ${sink}: collection ${ns}: ${redactSecrets(detail)}`,
  'TableIncompatible',
);

/**
 * The server refused a field name with `.` or a leading `$` (FerretDB, MongoDB before 5.0);
 * Kubernetes label keys such as `app.kubernetes.io/name` have dots. Terminal for this export.
 */
export const MongoFieldNameRefused = defineError(
  'KOLLECT_ERR_MONGODB_FIELD_NAME',
  'terminal',
  (sink: string, detail: string, where: string) =>
    `sink ${sink}: the server refused a field name${where ? ` (${where})` : ''}: ${redactSecrets(detail)}; this server does not accept "." or a leading "$" in field names; set spec.options["${OPTION_PAYLOAD}"]: "json" to store the payload as JSON text`,
  'ExportTerminal',
);

interface MongoErrorLike {
  name?: unknown;
  code?: unknown;
  codeName?: unknown;
  message?: unknown;
  writeErrors?: { code?: unknown; errmsg?: unknown }[] | unknown;
}

/** The server error code, also from the first write error of a bulk write. */
export function mongoCode(err: unknown): number | undefined {
  const e = err as MongoErrorLike | undefined;
  if (typeof e?.code === 'number') return e.code;
  const we = Array.isArray(e?.writeErrors) ? (e.writeErrors[0] as { code?: unknown } | undefined) : undefined;
  return typeof we?.code === 'number' ? we.code : undefined;
}

function messageOf(err: unknown): string {
  const e = err as MongoErrorLike | undefined;
  const we = Array.isArray(e?.writeErrors)
    ? (e.writeErrors[0] as { errmsg?: unknown } | undefined)
    : undefined;
  const m =
    typeof we?.errmsg === 'string' ? we.errmsg : typeof e?.message === 'string' ? e.message : String(err);
  return redactSecrets(m.split('\n')[0] ?? m);
}

const NETWORK = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongoServerClosedError',
  'MongoNotConnectedError',
]);

/** FerretDB: `invalid key: "a.b" (key must not contain '.' sign)`; MongoDB < 5: `… must not contain '.'`. */
export const FIELD_NAME =
  /key must not (contain '\.'|start with '\$')|must not contain '\.'|must not start with '\$'/;

/** Node's TLS verification messages, for a driver error that kept the message but lost the code. */
const TLS_UNTRUSTED = [
  /self[- ]signed certificate/i,
  /unable to (?:verify|get local issuer)/i,
  /certificate has expired/i,
];
const TLS_HOST = [/Hostname\/IP does not match/i, /ERR_TLS_CERT_ALTNAME_INVALID/];

/**
 * A TLS verification failure behind a driver error. The driver retries the handshake until server
 * selection times out, then throws MongoServerSelectionError whose `cause` chain ends at the
 * socket's error (UNABLE_TO_VERIFY_LEAF_SIGNATURE, …); the same error also sits on each server of
 * the topology description in `.reason`, looked at when the chain is cut.
 */
function mongoTlsFailure(err: unknown, msg: string): ReturnType<typeof tlsVerifyFailure> {
  const direct = tlsVerifyFailure(err);
  if (direct) return direct;
  const servers = (err as { reason?: { servers?: unknown } } | undefined)?.reason?.servers;
  if (servers instanceof Map)
    for (const s of servers.values()) {
      const f = tlsVerifyFailure((s as { error?: unknown } | undefined)?.error);
      if (f) return f;
    }
  if (TLS_UNTRUSTED.some((re) => re.test(msg))) return { kind: 'untrusted', code: 'TLS', message: msg };
  if (TLS_HOST.some((re) => re.test(msg))) return { kind: 'host', code: 'TLS', message: msg };
  return undefined;
}

/**
 * Map a driver or server error onto the contract's classes:
 * - 18 AuthenticationFailed, 13 Unauthorized → terminal `AuthenticationFailed`;
 * - a malformed URI (MongoParseError) → terminal `SecretResolveFailed`;
 * - 2 BadValue on a field name (`.` or leading `$`: FerretDB) → terminal, pointing at `mongodb.payload: json`;
 * - 10334 / BSON size → `payload_too_large`; other 2/9/14 → terminal data;
 * - 11000 duplicate key → transient `Conflict`;
 * - 26 NamespaceNotFound, 238 NotImplemented → terminal config;
 * - an untrusted server certificate (also inside a server selection timeout) → terminal, naming
 *   tls.caBundle / tls.caSecretRef (a host mismatch names spec.endpoint): retrying cannot fix it;
 * - network and server selection failures → transient;
 * - everything else → transient.
 */
export function classifyMongoError(sink: string, err: unknown): KollectError {
  if (err instanceof KollectError) return err;
  const e = err as MongoErrorLike | undefined;
  const name = typeof e?.name === 'string' ? e.name : '';
  const code = mongoCode(err);
  const msg = messageOf(err);
  if (name === 'MongoParseError' || name === 'MongoInvalidArgumentError')
    return SinkSecretResolveFailed(sink, `the connection URI in the Secret is not usable: ${msg}`, {
      cause: err,
    });
  if (code === 18 || code === 13) return SinkAuthFailed(sink, `${code}: ${msg}`, { cause: err });
  const tls = mongoTlsFailure(err, msg);
  if (tls?.kind === 'host')
    // the host is in the connection URI of the Secret, not in spec.endpoint
    return SinkConfigInvalid(
      sink,
      'spec.tls',
      `TLS verification of the server certificate failed (${tls.code}: ${redactSecrets(tls.message)}); the certificate does not name the host of the connection URI: use a host name it was issued for`,
      { cause: err },
    );
  if (tls) return sinkTlsError(sink, { ...tls, message: redactSecrets(tls.message) }, err);
  if (code === 11000) return SinkConflict(sink, `${code}: ${msg}`, { cause: err });
  if (code === 10334 || /BSONObjectTooLarge|larger than the maximum|exceeds maximum.*BSON/i.test(msg))
    return SinkPayloadTooLarge(sink, msg, { cause: err });
  if (code === 2 && FIELD_NAME.test(msg)) return MongoFieldNameRefused(sink, msg, '', { cause: err });
  if (code === 2 || code === 9 || code === 14 || name === 'BSONError')
    return SinkDataInvalid(sink, `${code ?? name}: ${msg}`, { cause: err });
  if (code === 26 || code === 238)
    return SinkConfigInvalid(sink, 'spec.mongodb', `${code}: ${msg}`, { cause: err });
  if (NETWORK.has(name)) return SinkUnavailable(sink, `${name}: ${msg}`, { cause: err });
  if (code !== undefined) return SinkUnavailable(sink, `${code}: ${msg}`, { cause: err });
  return classifySinkError(sink, err);
}
