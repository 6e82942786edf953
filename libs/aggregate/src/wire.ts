import {
  inventoryKey,
  itemsJson,
  parseItem,
  SCHEMA_VERSION,
  type InventoryRef,
  type RowKey,
  type SnapshotMessage,
} from '@kollect/contracts';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The bytes of a snapshot message. Items are written with the canonical item serializer of
 * `@kollect/contracts` (seed key order, sorted attributes), so what a subscriber reads hashes to
 * the message's checksum when sorted; the other fields are plain JSON.
 */
export function encodeSnapshotMessage(msg: SnapshotMessage): Uint8Array {
  const { upserts, ...rest } = msg;
  const head = JSON.stringify(rest);
  return encoder.encode(`${head.slice(0, -1)},"upserts":${itemsJson(upserts)}}`);
}

/** Parse and check a snapshot message (inline or object-store stub). Throws a TypeError saying what is wrong. */
export function decodeSnapshotMessage(data: Uint8Array | string): SnapshotMessage {
  const v = JSON.parse(typeof data === 'string' ? data : decoder.decode(data)) as Record<string, unknown>;
  if (typeof v !== 'object' || v === null) throw new TypeError('snapshot message: expected an object');
  if (v['schemaVersion'] !== SCHEMA_VERSION) {
    throw new TypeError(
      `snapshot message: schemaVersion ${JSON.stringify(v['schemaVersion'])}, expected ${SCHEMA_VERSION}`,
    );
  }
  if (v['kind'] !== 'diff' && v['kind'] !== 'full')
    throw new TypeError('snapshot message: kind must be diff or full');
  for (const k of ['generation', 'exportGeneration', 'previousGeneration', 'itemCount']) {
    if (typeof v[k] !== 'number') throw new TypeError(`snapshot message: ${k} must be a number`);
  }
  for (const k of ['cluster', 'checksum', 'exportedAt']) {
    if (typeof v[k] !== 'string') throw new TypeError(`snapshot message: ${k} must be a string`);
  }
  if (v['final'] !== undefined && typeof v['final'] !== 'string')
    throw new TypeError('snapshot message: final must be a string when present');
  if (!Array.isArray(v['upserts']) || !Array.isArray(v['deletes'])) {
    throw new TypeError('snapshot message: upserts and deletes must be arrays');
  }
  const upserts = (v['upserts'] as unknown[]).map((it, i) => parseItem(it, `snapshot message.upserts[${i}]`));
  const deletes = (v['deletes'] as unknown[]).map((k, i) => {
    const r = k as Partial<RowKey> | null;
    if (
      !r ||
      typeof r.targetNamespace !== 'string' ||
      typeof r.targetName !== 'string' ||
      typeof r.uid !== 'string'
    ) {
      throw new TypeError(`snapshot message.deletes[${i}]: expected {targetNamespace, targetName, uid}`);
    }
    return { targetNamespace: r.targetNamespace, targetName: r.targetName, uid: r.uid };
  });
  return { ...(v as unknown as SnapshotMessage), upserts, deletes };
}

/** Name of a snapshot payload in the `kollect_full` object store. */
export function snapshotObjectName(
  cluster: string,
  inventory: InventoryRef,
  exportGeneration: number,
  kind: SnapshotMessage['kind'],
): string {
  return `${kind}/${cluster}/${inventoryKey(inventory)}/${exportGeneration}.json`;
}

/** How to publish one snapshot message. */
export interface SnapshotPublication {
  /** The message as it goes on the snapshot subject: complete, or a stub with `objectRef`. */
  message: SnapshotMessage;
  /** Its bytes. */
  body: Uint8Array;
  /** Present when the payload is too large for a message: store these bytes under `name` first. */
  object?: { bucket: string; name: string; data: Uint8Array };
}

/**
 * The split rule for large snapshots. NATS refuses messages above the server's `max_payload`
 * (1 MiB by default), and a diff of a big change can exceed it. When the encoded message is larger
 * than `maxInlineBytes`, the complete message (same bytes a reader would have received inline)
 * goes to the object store, and the subject carries a stub: every metadata field the same,
 * `upserts` and `deletes` empty, and `objectRef {bucket, name, bytes}`. Readers seeing
 * `objectRef` fetch and decode the object instead. Write the object **before** publishing the
 * stub, so a published reference always resolves.
 *
 * Choose `maxInlineBytes` comfortably under `max_payload` (headers and the msg id ride along);
 * the aggregator uses 3/4 of it.
 */
export function planSnapshotPublication(
  message: SnapshotMessage,
  opts: { maxInlineBytes: number; bucket: string },
): SnapshotPublication {
  const body = encodeSnapshotMessage(message);
  if (body.length <= opts.maxInlineBytes) return { message, body };
  const name = snapshotObjectName(message.cluster, message.inventory, message.exportGeneration, message.kind);
  const stub: SnapshotMessage = {
    ...message,
    upserts: [],
    deletes: [],
    objectRef: { bucket: opts.bucket, name, bytes: body.length },
  };
  return {
    message: stub,
    body: encodeSnapshotMessage(stub),
    object: { bucket: opts.bucket, name, data: body },
  };
}

/**
 * Reply to a full-snapshot request (`kollect.ctl.full.<cluster>.<inventory>`, request/reply).
 * On success `snapshot` is a `kind: 'full'` stub of the inventory's **current** export
 * generation whose `objectRef` names the complete message in the object store. Otherwise the
 * reason says whether to retry (`NotReady`: gate closed or an export in flight; `retryAfterMs`) or
 * not (`NotFound`: the aggregator owning it does not know the inventory). Replicas that do not own
 * the inventory stay silent, so a request during a handover times out and is retried.
 */
export type FullSnapshotReply =
  | { ok: true; snapshot: SnapshotMessage }
  | { ok: false; reason: 'NotReady' | 'NotFound'; message: string; retryAfterMs?: number };
