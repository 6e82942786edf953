import {
  BUS_SCHEMA_VERSION,
  HEADERS,
  decodeToken,
  objectMsgId,
  subjects,
  type Gvr,
  type ObjectMessage,
  type ObjectOrigin,
} from '@kollect/contracts';
import type { KubeObject } from '@kollect/kube';

/** The identity of one object version. */
export interface ObjectIdentity {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
}

/** Identity of a stripped object (namespace "" when cluster-scoped). */
export function identityOf(obj: KubeObject, resourceVersion?: string): ObjectIdentity {
  const m = obj.metadata ?? {};
  return {
    namespace: m.namespace ?? '',
    name: m.name ?? '',
    uid: m.uid ?? '',
    resourceVersion: resourceVersion ?? m.resourceVersion ?? '',
  };
}

/** An upsert message for a stripped object. */
export function upsertMessage(
  cluster: string,
  gvr: Gvr,
  kind: string,
  obj: KubeObject,
  origin: ObjectOrigin,
): ObjectMessage {
  const id = identityOf(obj);
  return {
    schemaVersion: BUS_SCHEMA_VERSION,
    op: 'upsert',
    cluster,
    gvr,
    kind: obj.kind ?? kind,
    ...id,
    origin,
    object: obj as Record<string, unknown>,
  };
}

/** A tombstone: the object is gone (a DELETED event, or it vanished between two lists). */
export function tombstoneMessage(
  cluster: string,
  gvr: Gvr,
  kind: string,
  id: ObjectIdentity,
  origin: ObjectOrigin,
): ObjectMessage {
  // Fields picked one by one: `id` may be a wider record (a LoggedObject carries its own `op`).
  return {
    schemaVersion: BUS_SCHEMA_VERSION,
    op: 'delete',
    cluster,
    gvr,
    kind,
    namespace: id.namespace,
    name: id.name,
    uid: id.uid,
    resourceVersion: id.resourceVersion,
    origin,
  };
}

/** Contract subject (before any bus prefix), msgId and identity headers of an object message. */
export function objectEnvelope(msg: ObjectMessage): {
  subject: string;
  msgId: string;
  headers: Record<string, string>;
} {
  return {
    subject: subjects.object(msg.cluster, msg.gvr, msg.uid),
    msgId: objectMsgId(msg.uid, msg.resourceVersion, msg.op),
    headers: {
      [HEADERS.schemaVersion]: BUS_SCHEMA_VERSION,
      [HEADERS.objectOp]: msg.op,
      [HEADERS.objectNamespace]: msg.namespace,
      [HEADERS.objectName]: msg.name,
      [HEADERS.objectResourceVersion]: msg.resourceVersion,
    },
  };
}

/** What a headers-only read of the object log tells about one subject's last message. */
export interface LoggedObject extends ObjectIdentity {
  op: 'upsert' | 'delete';
}

/** Anything with a `get(name)` (NATS MsgHdrs). */
export interface HeaderReader {
  get(name: string): string;
}

/**
 * Decode the identity of a logged object from its contract subject (`kollect.obj.<c>.<gvr>.<uid>`)
 * and headers; undefined when the message does not carry them (not written by this watcher).
 */
export function loggedObjectOf(
  contractSubject: string,
  headers: HeaderReader | undefined,
): LoggedObject | undefined {
  if (!headers) return undefined;
  const op = headers.get(HEADERS.objectOp);
  if (op !== 'upsert' && op !== 'delete') return undefined;
  const lastDot = contractSubject.lastIndexOf('.');
  if (lastDot === -1) return undefined;
  let uid: string;
  try {
    uid = decodeToken(contractSubject.slice(lastDot + 1));
  } catch {
    return undefined;
  }
  return {
    op,
    uid,
    namespace: headers.get(HEADERS.objectNamespace),
    name: headers.get(HEADERS.objectName),
    resourceVersion: headers.get(HEADERS.objectResourceVersion),
  };
}

/**
 * The objects a fresh list proves gone: logged as existing, inside the scope, and not among the
 * listed uids. Pure.
 */
export function vanishedObjects(
  logged: Iterable<LoggedObject>,
  listed: ReadonlySet<string>,
  inScope: (namespace: string) => boolean,
): LoggedObject[] {
  const out: LoggedObject[] = [];
  for (const o of logged) if (o.op === 'upsert' && inScope(o.namespace) && !listed.has(o.uid)) out.push(o);
  return out;
}
