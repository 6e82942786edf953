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

const TLS_CONFIG = [
  /self[- ]signed certificate/i,
  /unable to (?:verify|get local issuer)/i,
  /certificate has expired/i,
  /Hostname\/IP does not match/i,
  /ERR_TLS_CERT_ALTNAME_INVALID/,
];

/**
 * Map a driver or server error onto the contract's classes:
 * - 18 AuthenticationFailed, 13 Unauthorized → terminal `AuthenticationFailed`;
 * - a malformed URI (MongoParseError) → terminal `SecretResolveFailed`;
 * - 2 BadValue on a field name (`.` or leading `$`: FerretDB) → terminal, pointing at `mongodb.payload: json`;
 * - 10334 / BSON size → `payload_too_large`; other 2/9/14 → terminal data;
 * - 11000 duplicate key → transient `Conflict`;
 * - 26 NamespaceNotFound, 238 NotImplemented → terminal config;
 * - network, server selection, TLS verification failures → transient (TLS: terminal);
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
  if (TLS_CONFIG.some((re) => re.test(msg)))
    return SinkConfigInvalid(sink, 'spec.tls', `TLS: ${msg}`, { cause: err });
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
