import type { ErrorClass } from './errors.js';
import type { InventoryRef, SinkFamily, SinkRef } from './inventory.js';
import type { Item, RowKey } from './item.js';
import type { Gvr } from './subjects.js';

/**
 * Schema version of the internal bus messages (objects, rows, status). Internal subjects are not
 * a public interface, but messages are versioned so mixed-version pods fail loudly, not subtly.
 */
export const BUS_SCHEMA_VERSION = 'kollect.dev/bus/v1';

/** Header names used on the bus. */
export const HEADERS = {
  msgId: 'Nats-Msg-Id',
  traceparent: 'traceparent',
  schemaVersion: 'Kollect-Schema-Version',
  /**
   * Object messages repeat their identity in headers (`upsert`/`delete`, namespace — "" for
   * cluster-scoped —, name, resourceVersion) so the object log can be scanned headers-only: the
   * watcher's relist reconciliation reads the last message per subject without the bodies.
   */
  objectOp: 'Kollect-Op',
  objectNamespace: 'Kollect-Namespace',
  objectName: 'Kollect-Name',
  objectResourceVersion: 'Kollect-Resource-Version',
} as const;

/** Why the watcher published an object message. */
export type ObjectOrigin = 'list' | 'watch' | 'relist-vanished';

/**
 * An object change, published by the watcher to `kollect.obj.<cluster>.<gvr>.<uid>` with
 * `Nats-Msg-Id = uid:resourceVersion`. Deletes are tombstones without `object`.
 */
export interface ObjectMessage {
  schemaVersion: typeof BUS_SCHEMA_VERSION;
  op: 'upsert' | 'delete';
  cluster: string;
  gvr: Gvr;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  origin: ObjectOrigin;
  /** The stripped object (managedFields and last-applied annotation removed); absent on delete. */
  object?: Record<string, unknown>;
}

/** The dedupe id of an object message. */
export function objectMsgId(uid: string, resourceVersion: string, op: 'upsert' | 'delete'): string {
  // A delete of the last seen version must not be swallowed as a duplicate of that version's upsert.
  return op === 'delete' ? `${uid}:${resourceVersion}:delete` : `${uid}:${resourceVersion}`;
}

/** A row change for one inventory, emitted by the extractor to `kollect.row.<partition>.<inventory>`. */
export interface RowMessage {
  schemaVersion: typeof BUS_SCHEMA_VERSION;
  op: 'upsert' | 'delete';
  cluster: string;
  inventory: InventoryRef;
  key: RowKey;
  /** Present on upsert. */
  item?: Item;
  /** Stream sequence of the object message the row came from (last-writer-wins order). */
  sourceSeq: number;
  /** Plan generation the row was computed under (re-extraction beats older plans). */
  planGeneration: number;
}

/**
 * Why a snapshot is the last one of an inventory ({@link SnapshotMessage.final}).
 * `inventory-deleted`: the KollectInventory / KollectClusterInventory is being deleted.
 */
export type SnapshotFinal = 'inventory-deleted';

/** The value of {@link SnapshotMessage.final} on the last export of a deleted inventory. */
export const FINAL_INVENTORY_DELETED: SnapshotFinal = 'inventory-deleted';

/**
 * Whether a snapshot is the final export of an inventory. Any value counts, also one this reader
 * does not know yet (values may be added): the safe reading of "final" is "do not wipe".
 */
export function isFinalSnapshot(msg: { final?: unknown }): boolean {
  return msg.final !== undefined && msg.final !== null;
}

/**
 * A snapshot of one inventory, generation N: the diff from N-1 plus the full-table checksum and
 * count. Public, on `kollect.snap.<cluster>.<namespace>.<inventory>`; schemaVersion is the export
 * schema version. `kind: 'full'` carries every item (a full replace).
 */
export interface SnapshotMessage {
  schemaVersion: 'kollect.dev/v1alpha1';
  kind: 'diff' | 'full';
  cluster: string;
  inventory: InventoryRef;
  /** The inventory CR's metadata.generation. */
  generation: number;
  exportGeneration: number;
  /** The generation this diff applies on top of (exportGeneration - 1 for a diff). */
  previousGeneration: number;
  checksum: string;
  itemCount: number;
  exportedAt: string;
  upserts: Item[];
  deletes: RowKey[];
  /** When the diff is too large for one message, the payload lives in the object store. */
  objectRef?: { bucket: string; name: string; bytes: number };
  /**
   * Set only on the last export of an inventory that is being deleted (an empty generation: every
   * row deleted), and on the full snapshot the aggregator serves for that generation. It means
   * "this inventory ends", not "this inventory became empty": per the data contract only
   * relational stores apply it (their rows of the inventory are removed); Git, object stores and
   * streams keep their history and ignore it, whatever plan the reader holds. Readers treat any
   * value as final ({@link isFinalSnapshot}). Absent on every other export.
   */
  final?: SnapshotFinal;
}

/**
 * What happened to one export at one sink. `retained`: the final export of a deleted inventory
 * ({@link SnapshotMessage.final}) reached a non-relational sink, which keeps its history and wrote
 * nothing; the report names the final generation it did not apply.
 */
export type SinkOutcome = 'exported' | 'unchanged' | 'debounced' | 'failed' | 'full-requested' | 'retained';

/** A sink worker's report for the controller (CR status `sinkExports[]`), on `kollect.status.sink.<cluster>`. */
export interface SinkStatusReport {
  schemaVersion: typeof BUS_SCHEMA_VERSION;
  cluster: string;
  inventory: InventoryRef;
  sink: SinkRef;
  sinkType: string;
  exportGeneration: number;
  checksum: string;
  itemCount: number;
  outcome: SinkOutcome;
  errorClass?: ErrorClass;
  reason?: string;
  /** Human-readable, already scrubbed of credentials. */
  message?: string;
  durationMs?: number;
  bytes?: number;
  at: string;
}

/** A family of sink types. */
export const SINK_TYPES: Record<SinkFamily, readonly string[]> = {
  snapshot: ['git', 'gitlab', 's3', 'gcs'],
  database: ['postgres', 'mongodb', 'bigquery'],
  event: ['kafka', 'nats'],
};

/**
 * Aggregator → controller, on `kollect.status.aggregator.<cluster>`: the state of one inventory,
 * sent after each change of it (rows, export, gate) — the controller writes `itemCount`,
 * `exportGeneration`, the readiness-gate reason and, for cluster inventories, the namespace shards.
 */
export interface AggregatorStatusReport {
  schemaVersion: typeof BUS_SCHEMA_VERSION;
  cluster: string;
  inventory: InventoryRef;
  /** Plan generation the aggregator acted under. */
  planGeneration: number;
  /** Rows in the inventory's table now. */
  itemCount: number;
  /** Export generation of the last published snapshot (0 = none yet). */
  exportGeneration: number;
  /** Checksum of the last published snapshot ("" = none yet). */
  checksum: string;
  /** When the last snapshot was published (RFC 3339). */
  lastExportedAt?: string;
  /** Readiness gate (invariant 4): false while the partition loads or a feeding GVR has not synced. */
  gateOpen: boolean;
  /** Why the gate is closed, human-readable, e.g. `["apps/v1/deployments not synced"]`. */
  waitingFor?: string[];
  /**
   * Set once the inventory is `deleting` in the plan and its final empty snapshot has been
   * published: the export generation of that snapshot. The controller then waits for every
   * relational binding to report it applied before it removes the cleanup finalizer.
   */
  finalExportGeneration?: number;
  /** Cluster inventories: per-namespace shard summary of the last roll-up. */
  namespaceShards?: { namespace: string; itemCount: number; targetCount: number; checksum: string }[];
  at: string;
}

/** Names a target in reports: `namespace` is "" for KollectClusterTarget. */
export interface TargetRef {
  kind: 'KollectTarget' | 'KollectClusterTarget';
  namespace: string;
  name: string;
}

/**
 * Extractor → controller, on `kollect.status.extractor.<cluster>`: extraction failure transitions
 * of one target (SEED-SPEC §4.2: a failing object keeps its previous row; the target reports
 * `Degraded/ExtractionFailed` with the count). Failures are keyed by object uid; a later success,
 * non-match or delete of that uid is reported in `cleared`. The controller forgets a target's
 * failures when its definition changes (the replay re-reports what still fails).
 */
export interface ExtractionStatusReport {
  schemaVersion: typeof BUS_SCHEMA_VERSION;
  cluster: string;
  target: TargetRef;
  /** Plan generation the extraction ran under. */
  planGeneration: number;
  failed: {
    uid: string;
    namespace: string;
    name: string;
    /** Enum-like, e.g. `ExtractionFailed`, `CostLimitExceeded`, `PayloadTooLarge`. */
    reason: string;
    /** Already scrubbed of secrets; never contains attribute values. */
    message: string;
  }[];
  cleared: string[];
  at: string;
}

/** An object too large for the bus: identity and size, never content. */
export interface OversizedObject {
  namespace: string;
  name: string;
  uid: string;
  /** Encoded message size. */
  bytes: number;
  /** The bus max payload it exceeded. */
  limit: number;
}

/** At most this many oversized objects are listed per watch report (`current` counts them all). */
export const MAX_REPORTED_OVERSIZED = 20;

/**
 * Watcher → controller, on `kollect.status.watcher.<cluster>`: the sync state of one list+watch
 * (a GVR, cluster-wide or in one namespace). `failed` with `reason` `NotFound` means the GVR is
 * not served (target `Degraded/InformerRegistrationFailed`); `Forbidden` means RBAC denies it
 * (target `Synced/ScopeForbidden`, partial collection continues).
 */
export interface WatcherStatusReport {
  schemaVersion: typeof BUS_SCHEMA_VERSION;
  cluster: string;
  gvr: Gvr;
  /** null = cluster-wide watch. */
  namespace: string | null;
  state: 'listing' | 'synced' | 'failed';
  reason?: 'NotFound' | 'Forbidden' | 'Error';
  message?: string;
  /**
   * Objects of this watch that could not be published because they exceed the bus's max payload
   * (the rest of the pipeline keeps moving). Identity and size only, never content. `count` and
   * `last` are cumulative since the watch started; `current` and `objects` say which objects are
   * oversized *now*: an object leaves them when a version that fits is published, when it is
   * deleted, or when a relist no longer returns it. The controller turns `objects` into
   * `Degraded/PayloadTooLarge` on the targets whose GVR and namespaces cover them.
   */
  oversized?: {
    count: number;
    last?: OversizedObject;
    /** Objects of this watch currently too large (0 once they all shrank or were deleted). */
    current?: number;
    /** Up to {@link MAX_REPORTED_OVERSIZED} of them, sorted by namespace/name. */
    objects?: OversizedObject[];
  };
  at: string;
}
