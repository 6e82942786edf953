import {
  compareUtf8,
  FINAL_INVENTORY_DELETED,
  formatRfc3339Nano,
  itemJson,
  parseRowKeyString,
  rowKeyOf,
  rowKeyString,
  SCHEMA_VERSION,
  type Item,
  type RowKey,
  type SnapshotMessage,
} from '@kollect/contracts';
import type { InventoryView } from './inventory-view.js';
import { exportedSet, type ExportedSet } from './rollup.js';
import { compareEntries, entryDigest, itemDigest, type RowEntry, type RowTable } from './table.js';

/**
 * The export position of one inventory: what its last published snapshot was. Persisted by the
 * aggregator (KV `kollect_state`) so that a new owner continues the generation sequence.
 */
export interface ExportState {
  /** Export generation of the last published snapshot; 0 = never exported. */
  exportGeneration: number;
  /** Its checksum; "" = never exported. */
  checksum: string;
  itemCount: number;
  /** The inventory CR generation it was exported under. */
  generation: number;
  /** RFC 3339 nanos; "" = never exported. */
  exportedAt: string;
}

/** The state of an inventory that was never exported. */
export const INITIAL_EXPORT_STATE: Readonly<ExportState> = Object.freeze({
  exportGeneration: 0,
  checksum: '',
  itemCount: 0,
  generation: 0,
  exportedAt: '',
});

/** A computed but not yet committed export. */
export interface PreparedExport {
  /** The snapshot to publish (a diff from the previous generation). */
  message: SnapshotMessage;
  /** The export state once the message is published. */
  state: ExportState;
  /** New export marks: row key → digest held by this generation, or null (no longer held). */
  marks: Map<string, string | null>;
  /**
   * The touched keys this diff looked at, with the entry each held then: on commit they leave
   * the touched set unless they changed again meanwhile.
   */
  seen: Map<string, RowEntry | undefined>;
  /** Exported under `keepAll` (the touched set stays complete after commit). */
  keepAll: boolean;
  /** Why this export happens. */
  reason: 'first' | 'changed' | 'spec-changed' | 'full';
}

/**
 * The next snapshot of an inventory, or null when there is nothing to export.
 *
 * Exports happen when (invariant 4, SEED-SPEC §6.2):
 * - the inventory was never exported (`first`) — an empty inventory exports too, once;
 * - the checksum of the exported rows changed (`changed`);
 * - the inventory CR generation changed (`spec-changed`) although the rows did not: a spec change
 *   exports at once, so it is a generation of its own, with an empty diff and the new CR
 *   `generation`. Each export is generation `exportGeneration + 1`; sinks thus see every spec
 *   change as an export and re-render (e.g. a new envelope `generation`) per their own binding
 *   debounce ({@link exportDecision}).
 *
 * With `full`, the next generation is exported even if nothing changed, as kind `full` (every
 * item, no deletes: sinks replace their state) — the recovery path when the previous owner's
 * export marks cannot be trusted.
 *
 * Under a plan where the inventory is `deleting` (no targets left, so every row is deleted) the
 * message carries `final: 'inventory-deleted'`: the caller publishes exactly one such export.
 *
 * Nothing is exported while the inventory is held by the plan (`hold`: suspended, scope denied).
 * The readiness gate and the coalescing window are the caller's business (see {@link readiness}
 * and {@link ExportScheduler}).
 *
 * The diff is computed against the export marks kept in the table: upserts are exported items
 * whose canonical JSON differs from what the last export held under that key (canonical order),
 * deletes are keys the last export held that are no longer exported (sorted by key). Nothing is
 * changed here: publish the message, then {@link commitExport}.
 */
export function nextSnapshot(
  state: ExportState,
  table: RowTable,
  view: InventoryView,
  now: Date | bigint,
  opts: { full?: boolean } = {},
): PreparedExport | null {
  if (view.inventory.hold) return null;
  const set = exportedSet(table, view);
  const first = state.exportGeneration === 0;
  const changed = set.checksum !== state.checksum;
  const specChanged = view.inventory.generation !== state.generation;
  if (!first && !changed && !specChanged && !opts.full) return null;
  const keepAll = view.inventory.dedupe === 'keepAll';
  const seen = new Map<string, RowEntry | undefined>();
  for (const k of table.touched) seen.set(k, table.rows.get(k));
  const { upserts, deletes, marks } = opts.full
    ? replaceMarks(table, set)
    : keepAll && table.touchedComplete
      ? diffTouched(table)
      : diffAgainstMarks(table, set);
  const exportGeneration = state.exportGeneration + 1;
  const exportedAt = formatRfc3339Nano(now);
  const message: SnapshotMessage = {
    schemaVersion: SCHEMA_VERSION,
    kind: opts.full ? 'full' : 'diff',
    cluster: view.cluster,
    inventory: view.ref,
    generation: view.inventory.generation,
    exportGeneration,
    previousGeneration: state.exportGeneration,
    checksum: set.checksum,
    itemCount: set.count,
    exportedAt,
    upserts,
    deletes,
    // The last export of a deleted inventory says so: non-relational sinks must not apply it.
    ...(view.inventory.deleting ? { final: FINAL_INVENTORY_DELETED } : {}),
  };
  return {
    message,
    state: {
      exportGeneration,
      checksum: set.checksum,
      itemCount: set.count,
      generation: view.inventory.generation,
      exportedAt,
    },
    marks,
    seen,
    keepAll,
    reason: opts.full ? 'full' : first ? 'first' : changed ? 'changed' : 'spec-changed',
  };
}

/** A full replace: every exported item; marks become exactly the exported set. */
function replaceMarks(
  table: RowTable,
  set: ExportedSet,
): { upserts: Item[]; deletes: RowKey[]; marks: Map<string, string | null> } {
  const marks = new Map<string, string | null>();
  for (const [key, entry] of table.rows) if (entry.exported !== null) marks.set(key, null);
  for (const { key, entry } of set.entries) marks.set(key, entryDigest(entry));
  return { upserts: set.items, deletes: [], marks };
}

/**
 * `keepAll` exports every live row, so only keys changed since the last committed export can
 * differ from their marks: the diff costs O(changes), not O(rows).
 */
function diffTouched(table: RowTable): {
  upserts: Item[];
  deletes: RowKey[];
  marks: Map<string, string | null>;
} {
  const marks = new Map<string, string | null>();
  const ups: RowEntry[] = [];
  const deleted: string[] = [];
  for (const key of table.touched) {
    const entry = table.rows.get(key);
    if (entry?.item) {
      const d = entryDigest(entry);
      if (entry.exported !== d) {
        ups.push(entry);
        marks.set(key, d);
      }
    } else if (entry && entry.exported !== null) {
      deleted.push(key);
      marks.set(key, null);
    }
  }
  ups.sort(compareEntries);
  deleted.sort(compareUtf8);
  return { upserts: ups.map((e) => e.item as Item), deletes: deleted.map(parseRowKeyString), marks };
}

/** Any dedupe mode: compare every exported row and every marked key. O(rows). */
function diffAgainstMarks(
  table: RowTable,
  set: ExportedSet,
): { upserts: Item[]; deletes: RowKey[]; marks: Map<string, string | null> } {
  const marks = new Map<string, string | null>();
  const upserts: Item[] = [];
  const exportedKeys = new Set<string>();
  for (const { key, entry } of set.entries) {
    exportedKeys.add(key);
    const d = entryDigest(entry);
    if (entry.exported !== d) {
      upserts.push(entry.item);
      marks.set(key, d);
    }
  }
  const deleted: string[] = [];
  for (const [key, entry] of table.rows) {
    if (entry.exported !== null && !exportedKeys.has(key)) {
      deleted.push(key);
      marks.set(key, null);
    }
  }
  deleted.sort(compareUtf8);
  return { upserts, deletes: deleted.map(parseRowKeyString), marks };
}

/**
 * Record a published export in the table: set the export marks. Tombstones whose delete went
 * out become expirable. Changed keys are marked dirty (to be persisted).
 */
export function commitExport(
  table: RowTable,
  prepared: Pick<PreparedExport, 'marks'> & Partial<Pick<PreparedExport, 'seen' | 'keepAll'>>,
  nowMs: number,
): void {
  for (const [key, mark] of prepared.marks) setMark(table, key, mark, nowMs);
  table.touchedComplete = prepared.keepAll ?? false;
  // Keys the diff settled and that did not change since: their marks match their rows now.
  for (const [key, entry] of prepared.seen ?? []) {
    if (table.rows.get(key) === entry) table.touched.delete(key);
  }
}

function setMark(table: RowTable, key: string, mark: string | null, nowMs: number): void {
  const e = table.rows.get(key);
  if (!e) {
    // Only reachable when redoing a published diff whose row is gone from the table: keep a
    // versionless tombstone holding the mark, so the next diff deletes the key.
    if (mark === null) return;
    table.rows.set(key, {
      item: null,
      sourceSeq: 0,
      planGeneration: 0,
      exported: mark,
      tombstoneSinceMs: nowMs,
    });
    table.dirty.add(key);
    table.touched.add(key);
    return;
  }
  if (e.exported === mark) return;
  e.exported = mark;
  table.dirty.add(key);
  table.touched.add(key);
  if (e.item === null && mark === null) {
    e.tombstoneSinceMs = nowMs;
    table.expiry.push({ key, sinceMs: nowMs });
  }
}

/**
 * Re-apply the marks of a published snapshot (the last one, read back from the export record on
 * takeover): the previous owner may have published it without persisting its marks. Idempotent.
 * A `full` message sets the marks to exactly its items.
 */
export function redoExport(
  table: RowTable,
  message: Pick<SnapshotMessage, 'kind' | 'upserts' | 'deletes'>,
  nowMs: number,
): void {
  if (message.kind === 'full') {
    const held = new Map(message.upserts.map((it) => [rowKeyString(rowKeyOf(it)), itemDigest(itemJson(it))]));
    for (const key of [...table.rows.keys()]) if (!held.has(key)) setMark(table, key, null, nowMs);
    for (const [key, d] of held) setMark(table, key, d, nowMs);
    return;
  }
  for (const it of message.upserts)
    setMark(table, rowKeyString(rowKeyOf(it)), itemDigest(itemJson(it)), nowMs);
  for (const k of message.deletes) setMark(table, rowKeyString(k), null, nowMs);
}

/** The export state a published snapshot leaves behind. */
export function stateFromSnapshot(message: SnapshotMessage): ExportState {
  return {
    exportGeneration: message.exportGeneration,
    checksum: message.checksum,
    itemCount: message.itemCount,
    generation: message.generation,
    exportedAt: message.exportedAt,
  };
}

/**
 * A full snapshot of the **last exported generation** (kind `full`: every item, no deletes), for
 * a sink that must replace its state. It is exact only while the table still exports what that
 * generation held, so this returns null when the table has moved on (checksum differs) or was
 * never exported: the caller then exports the next generation first and asks again.
 */
export function fullSnapshot(
  state: ExportState,
  table: RowTable,
  view: InventoryView,
): SnapshotMessage | null {
  if (state.exportGeneration === 0) return null;
  const set = exportedSet(table, view);
  if (set.checksum !== state.checksum) return null;
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: 'full',
    cluster: view.cluster,
    inventory: view.ref,
    generation: state.generation,
    exportGeneration: state.exportGeneration,
    previousGeneration: 0,
    checksum: set.checksum,
    itemCount: set.count,
    exportedAt: state.exportedAt,
    upserts: set.items,
    deletes: [],
  };
}

/**
 * The persisted export record of one inventory (one KV key per inventory, written with the
 * partition fence). Write-ahead: the record naming generation N+1 is stored **before** N+1 is
 * published, and `pending` holds that message until its export marks are persisted too. A new
 * owner that finds `pending` re-publishes it (same msg id, so JetStream drops it if the first
 * publish landed; sinks are idempotent by generation anyway) and re-applies its marks with
 * {@link redoExport}. The generation sequence thus never forks and never skips.
 */
export interface ExportRecord {
  v: 1;
  state: ExportState;
  /**
   * The published (or about to be published) message whose marks may not be persisted yet; a stub
   * with `objectRef` when the diff lives in the object store.
   */
  pending: SnapshotMessage | null;
  /**
   * Set on the final export of an inventory being deleted (plan `deleting`): nothing is exported
   * after it, and its generation is reported as `finalExportGeneration`.
   */
  final?: boolean;
}
