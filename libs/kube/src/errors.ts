import { type KollectError, defineError, redactSecrets } from '@kollect/contracts';

/** A GVK that the apiserver does not serve (no such group/version, or no such kind in it). */
export const GvkNotServed = defineError(
  'KOLLECT_ERR_GVK_NOT_SERVED',
  'terminal',
  (gvk: string, detail: string) =>
    `${gvk} is not served by the apiserver (${detail}); install its CRD or fix the profile's apiVersion/kind`,
  'GvkNotServed',
);

/** 401/403 from the apiserver: the service account lacks a permission. */
export const KubeForbidden = defineError(
  'KOLLECT_ERR_KUBE_FORBIDDEN',
  'forbidden',
  (what: string, status: number, message: string) =>
    `${what} was refused with HTTP ${status}: ${message}; grant the Kollect service account the verb on that resource`,
  'Forbidden',
);

/** 410 Gone / Expired: the resourceVersion (or continue token) is older than the apiserver keeps. */
export const KubeResourceExpired = defineError(
  'KOLLECT_ERR_KUBE_EXPIRED',
  'transient',
  (what: string, message: string) => `${what}: resource version expired (410): ${message}; a relist follows`,
  'ResourceExpired',
);

/** Any other 4xx: the request is wrong and repeating it will not help. */
export const KubeRequestRejected = defineError(
  'KOLLECT_ERR_KUBE_REJECTED',
  'terminal',
  (what: string, status: number, message: string) => `${what} was rejected with HTTP ${status}: ${message}`,
  'KubeRequestRejected',
);

/** 404 for a named object or a collection. */
export const KubeNotFound = defineError(
  'KOLLECT_ERR_KUBE_NOT_FOUND',
  'terminal',
  (what: string, message: string) => `${what}: not found (404): ${message}`,
  'NotFound',
);

/** 409 Conflict / AlreadyExists (optimistic concurrency lost). */
export const KubeConflict = defineError(
  'KOLLECT_ERR_KUBE_CONFLICT',
  'transient',
  (what: string, message: string) => `${what}: conflict (409): ${message}; re-read and retry`,
  'Conflict',
);

/** 5xx, 429, connection refused/reset, timeouts: worth retrying with backoff. */
export const KubeUnavailable = defineError(
  'KOLLECT_ERR_KUBE_UNAVAILABLE',
  'transient',
  (what: string, detail: string) => `${what} failed: ${detail}; retrying with backoff`,
  'ApiServerUnavailable',
);

/** The watch connection delivered nothing (no event, no bookmark, no byte) for too long. */
export const WatchStalled = defineError(
  'KOLLECT_ERR_WATCH_STALLED',
  'transient',
  (what: string, seconds: number) =>
    `${what}: no bytes for ${seconds}s (half-open connection?); aborting and resuming the watch`,
  'WatchStalled',
);

/** A single watch line or list page exceeded the configured byte cap. */
export const WatchLineTooLarge = defineError(
  'KOLLECT_ERR_WATCH_LINE_TOO_LARGE',
  'transient',
  (bytes: number, max: number) => `a watch event of more than ${bytes} bytes exceeds the ${max}-byte cap`,
  'WatchLineTooLarge',
);

/** A watch line that is not a watch event. */
export const WatchProtocolError = defineError(
  'KOLLECT_ERR_WATCH_PROTOCOL',
  'transient',
  (what: string, detail: string) => `${what}: malformed watch stream: ${detail}`,
  'WatchProtocolError',
);

const HTTP_STATUS = Symbol('kollect.kube.httpStatus');

/** The HTTP status an apiserver error came with, if any. */
export function httpStatusOf(err: unknown): number | undefined {
  if (err !== null && typeof err === 'object' && HTTP_STATUS in err) {
    return (err as { [HTTP_STATUS]: number })[HTTP_STATUS];
  }
  return undefined;
}

/** True for a 410 Gone / Expired answer (HTTP or an in-stream watch ERROR). */
export function isResourceExpired(err: unknown): boolean {
  return KubeResourceExpired.is(err);
}

/** A Kubernetes `Status` body (or anything close enough). */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
}

/**
 * Map an apiserver answer to a declared error. `what` names the request (`LIST /api/v1/pods`);
 * messages pass through {@link redactSecrets} because Status messages echo request details.
 */
export function kubeErrorFor(what: string, status: number, body: KubeStatus | undefined): KollectError {
  const message = redactSecrets((body?.message ?? body?.reason ?? `HTTP ${status}`).toString().slice(0, 500));
  let err: KollectError;
  if (status === 410 || body?.reason === 'Expired' || body?.reason === 'Gone') {
    err = KubeResourceExpired(what, message);
  } else if (status === 401 || status === 403) {
    err = KubeForbidden(what, status, message);
  } else if (status === 404) {
    err = KubeNotFound(what, message);
  } else if (status === 409) {
    err = KubeConflict(what, message);
  } else if (status === 429 || status >= 500 || status === 408) {
    err = KubeUnavailable(what, `HTTP ${status}: ${message}`);
  } else {
    err = KubeRequestRejected(what, status, message);
  }
  Object.defineProperty(err, HTTP_STATUS, { value: status, enumerable: false });
  return err;
}

/** The ListWatch handler (the consumer's callback) threw; the engine redoes the work after backoff. */
export const ListWatchHandlerFailed = defineError(
  'KOLLECT_ERR_LISTWATCH_HANDLER',
  'transient',
  (what: string, detail: string) =>
    `${what}: the consumer failed to take an object (${detail}); retrying from the last resume point`,
  'HandlerFailed',
);
