import {
  compareUtf8,
  itemJson,
  itemSortKey,
  rowKeyOf,
  rowKeyString,
  sha256Hex,
  type Item,
  type RowMessage,
} from '@kollect/contracts';
import type { InventoryView } from './inventory-view.js';
import { compareVersions, type RowVersion } from './order.js';

/**
 * One key of an inventory's canonical row table: the live row, or a tombstone (`item === null`).
 *
 * Besides the row itself, an entry remembers what the **last export** holds under its key
 * (`exported`, a digest of the item's canonical JSON, or null when the last export does not hold
 * the key). The next snapshot diff is computed against these marks, and because they live next to
 * the rows they are persisted with them, so a new owner continues the diff sequence.
 */
export interface RowEntry extends RowVersion {
  /** The row; null = tombstone (the row was deleted or dropped). */
  item: Item | null;
  /** Digest of the item this key holds in the last export; null = not in the last export. */
  exported: string | null;
  /**
   * Tombstones only: since when the tombstone may expire (ms since the epoch) — the delete time,
   * or the time its delete was exported if it was still pending then.
   */
  tombstoneSinceMs: number;
  /** Cached canonical JSON, digest and sort key of `item` (derived data, never persisted). */
  json?: string;
  digest?: string;
  sortKey?: string;
  /** The sort key holds UTF-16 surrogates (so it must be compared by UTF-8 bytes, not natively). */
  sortKeyWide?: boolean;
}

/** The canonical row table of one inventory. Mutated in place by the functions of this module. */
export interface RowTable {
  /** By {@link rowKeyString}. */
  readonly rows: Map<string, RowEntry>;
  /** Live rows (entries with an item). */
  liveCount: number;
  /** Keys changed since the last {@link takeDirty}: the persistence layer writes exactly these. */
  readonly dirty: Set<string>;
  /** Increases on every change of live content; caches of derived data key on it. */
  contentVersion: number;
  /**
   * Tombstones that may expire (no pending export), oldest first. Entries are validated on pop,
   * so a key that came back to life or was re-deleted later is skipped cheaply.
   */
  readonly expiry: { key: string; sinceMs: number }[];
  /** Index of the next live element of `expiry` (a queue without O(n) shifts). */
  expiryHead: number;
  /**
   * Keys whose row may differ from what the last export holds (changed since the last committed
   * export): the next diff only has to look at these (`keepAll`).
   */
  readonly touched: Set<string>;
  /**
   * `touched` holds every key whose row may differ from its mark under `keepAll` semantics. False
   * after an export under `byResourceUID` (losing rows are live but unmarked): the next `keepAll`
   * diff then compares every row once.
   */
  touchedComplete: boolean;
}

/** A new, empty table. */
export function createTable(): RowTable {
  return {
    rows: new Map(),
    liveCount: 0,
    dirty: new Set(),
    contentVersion: 0,
    expiry: [],
    expiryHead: 0,
    touched: new Set(),
    touchedComplete: true,
  };
}

/** What {@link applyRow} did with a row message. */
export type ApplyOutcome =
  /** A new live row. */
  | 'inserted'
  /** A live row got different content. */
  | 'updated'
  /** A newer version with identical content (only the version moved). */
  | 'refreshed'
  /** A live row was deleted (a tombstone remains). */
  | 'deleted'
  /** A delete of a key that was not live: a tombstone now guards against older upserts. */
  | 'tombstoned'
  /** Older than what the table holds under the key: ignored. */
  | 'stale'
  /** Same version as what the table holds: ignored (redelivery, replay). */
  | 'duplicate'
  /** The row's target does not feed this inventory under the current plan: ignored. */
  | 'foreign'
  /** Malformed (an upsert without item, or an item whose key differs from the message key). */
  | 'invalid';

/** Options of {@link applyRow}. */
export interface ApplyOptions {
  /** Wall clock (ms) for tombstone expiry. */
  nowMs: number;
  /**
   * The inventory under the plan the aggregator currently runs. Rows computed under this plan
   * generation or an older one whose target no longer feeds the inventory are ignored; rows from
   * a *newer* plan are accepted (the aggregator has not seen that plan yet and will prune with
   * {@link retainRows} when it does).
   */
  view?: InventoryView;
}

/** Canonical JSON of an entry's item (cached). */
export function entryJson(entry: RowEntry): string {
  if (entry.item === null) throw new Error('a tombstone has no JSON');
  entry.json ??= itemJson(entry.item);
  return entry.json;
}

/** Canonical sort key of an entry's item (cached; see `itemSortKey`). */
export function entrySortKey(entry: RowEntry): string {
  if (entry.item === null) throw new Error('a tombstone has no sort key');
  if (entry.sortKey === undefined) {
    entry.sortKey = itemSortKey(entry.item);
    entry.sortKeyWide = /[\ud800-\udfff]/.test(entry.sortKey);
  }
  return entry.sortKey;
}

/**
 * Canonical order of two live entries (UTF-8 byte order of their sort keys, SEED-SPEC §5.2). Keys
 * without surrogates compare the same by UTF-16 code units, which the engine does natively.
 */
export function compareEntries(a: RowEntry, b: RowEntry): number {
  const ka = entrySortKey(a);
  const kb = entrySortKey(b);
  if (a.sortKeyWide || b.sortKeyWide) return compareUtf8(ka, kb);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Digest of an entry's item as stored in the export marks (cached). 128 bits of SHA-256. */
export function entryDigest(entry: RowEntry): string {
  entry.digest ??= itemDigest(entryJson(entry));
  return entry.digest;
}

/** Digest of an item's canonical JSON, the unit of the export marks. */
export function itemDigest(json: string): string {
  return sha256Hex(json).slice(0, 32);
}

function enqueueExpiry(table: RowTable, key: string, sinceMs: number): void {
  table.expiry.push({ key, sinceMs });
}

/**
 * Apply one row message, last-writer-wins by {@link compareVersions}:
 *
 * - an upsert replaces the held entry (row or tombstone) only when strictly newer;
 * - a delete newer than the held live row turns it into a tombstone (the delete is exported with
 *   the next snapshot); a delete older than the held row is ignored;
 * - a delete of an unknown key is a no-op for the content but leaves a tombstone with the delete's
 *   version, so an *older* upsert of that key arriving afterwards (two extractor replicas racing
 *   on successive versions of one object) cannot resurrect it. Tombstones with no pending export
 *   expire after a bounded time ({@link expireTombstones}) — long enough to cover reordering on
 *   the bus, which is bounded by the extractors' publish window.
 *
 * Duplicates and reordering are therefore harmless: applying any permutation of a set of row
 * messages (with repeats) gives the same table, as long as tombstones have not expired in between.
 */
export function applyRow(table: RowTable, msg: RowMessage, opts: ApplyOptions): ApplyOutcome {
  const key = rowKeyString(msg.key);
  if (msg.op === 'upsert') {
    if (!msg.item || rowKeyString(rowKeyOf(msg.item)) !== key) return 'invalid';
  }
  const view = opts.view;
  const held = table.rows.get(key);
  if (view && msg.planGeneration <= view.planGeneration) {
    const ns = msg.op === 'upsert' ? msg.item?.namespace : undefined;
    // A delete of a key we hold is always applied: it can only remove what should not be here.
    if (!view.accepts(msg.key, ns) && !(msg.op === 'delete' && held?.item)) return 'foreign';
  }
  if (held) {
    const c = compareVersions(msg, held);
    if (c < 0) return 'stale';
    if (c === 0) return 'duplicate';
  }
  if (msg.op === 'upsert') {
    const item = msg.item as Item;
    const json = itemJson(item);
    const entry: RowEntry = {
      item,
      sourceSeq: msg.sourceSeq,
      planGeneration: msg.planGeneration,
      exported: held?.exported ?? null,
      tombstoneSinceMs: 0,
      json,
    };
    table.rows.set(key, entry);
    table.dirty.add(key);
    if (!held?.item) {
      table.liveCount++;
      table.contentVersion++;
      table.touched.add(key);
      return 'inserted';
    }
    if (held.item && entryJson(held) === json) {
      entry.digest = held.digest;
      return 'refreshed';
    }
    table.contentVersion++;
    table.touched.add(key);
    return 'updated';
  }
  // delete
  const exported = held?.exported ?? null;
  table.rows.set(key, {
    item: null,
    sourceSeq: msg.sourceSeq,
    planGeneration: msg.planGeneration,
    exported,
    tombstoneSinceMs: opts.nowMs,
  });
  table.dirty.add(key);
  if (exported === null) enqueueExpiry(table, key, opts.nowMs);
  if (held?.item) {
    table.liveCount--;
    table.contentVersion++;
    table.touched.add(key);
    return 'deleted';
  }
  return 'tombstoned';
}

/**
 * Drop every live row the predicate rejects (a target removed from the inventory, a namespace
 * no longer in a cluster inventory's feed): the rows become tombstones at their current version,
 * so their deletes go out with the next snapshot. Returns the number of rows dropped.
 */
export function retainRows(
  table: RowTable,
  keep: (key: string, entry: RowEntry & { item: Item }) => boolean,
  nowMs: number,
): number {
  let dropped = 0;
  for (const [key, entry] of table.rows) {
    if (entry.item === null || keep(key, entry as RowEntry & { item: Item })) continue;
    table.rows.set(key, {
      item: null,
      sourceSeq: entry.sourceSeq,
      planGeneration: entry.planGeneration,
      exported: entry.exported,
      tombstoneSinceMs: nowMs,
    });
    if (entry.exported === null) enqueueExpiry(table, key, nowMs);
    table.dirty.add(key);
    table.touched.add(key);
    table.liveCount--;
    dropped++;
  }
  if (dropped > 0) table.contentVersion++;
  return dropped;
}

/** Keep only the rows an inventory view accepts (see {@link InventoryView.accepts}). */
export function retainAccepted(table: RowTable, view: InventoryView, nowMs: number): number {
  return retainRows(table, (_k, e) => view.accepts(rowKeyOf(e.item), e.item.namespace), nowMs);
}

/**
 * Forget tombstones that guard nothing any more: no pending export, and older than `ttlMs` —
 * or, beyond `maxTombstones` such tombstones, the oldest ones first. Returns how many were
 * removed. Removed tombstones are *not* marked dirty: they were never persisted (a tombstone is
 * persisted only while its delete is pending export).
 */
export function expireTombstones(
  table: RowTable,
  nowMs: number,
  ttlMs: number,
  maxTombstones = Infinity,
): number {
  let removed = 0;
  const q = table.expiry;
  let pending = q.length - table.expiryHead;
  while (table.expiryHead < q.length) {
    const head = q[table.expiryHead] as { key: string; sinceMs: number };
    if (head.sinceMs + ttlMs > nowMs && pending <= maxTombstones) break;
    table.expiryHead++;
    pending--;
    const e = table.rows.get(head.key);
    if (e && e.item === null && e.exported === null && e.tombstoneSinceMs === head.sinceMs) {
      table.rows.delete(head.key);
      removed++;
    }
  }
  // Compact the queue once its consumed prefix dominates.
  if (table.expiryHead > 1024 && table.expiryHead * 2 > q.length) {
    q.splice(0, table.expiryHead);
    table.expiryHead = 0;
  }
  return removed;
}

/** The keys changed since the last call (and clears the set). */
export function takeDirty(table: RowTable): string[] {
  const keys = [...table.dirty];
  table.dirty.clear();
  return keys;
}

/** Live items of the table, in no particular order. */
export function liveEntries(table: RowTable): (RowEntry & { item: Item })[] {
  const out: (RowEntry & { item: Item })[] = [];
  for (const e of table.rows.values()) if (e.item !== null) out.push(e as RowEntry & { item: Item });
  return out;
}

/**
 * The persisted form of an entry (KV `kollect_rows`), or null when the key needs no persistence
 * (an expiring tombstone whose delete is not pending export: the KV key is removed).
 * Short field names keep 100k-row inventories compact.
 */
export interface PersistedRow {
  /** The item, or null for a tombstone whose delete is still to be exported. */
  i: Item | null;
  /** sourceSeq */
  s: number;
  /** planGeneration */
  g: number;
  /** Export mark (see {@link RowEntry.exported}). */
  x: string | null;
}

/** Persisted form of the entry under `key`, or null when nothing needs to be stored for it. */
export function persistedRow(table: RowTable, key: string): PersistedRow | null {
  const e = table.rows.get(key);
  if (!e || (e.item === null && e.exported === null)) return null;
  return { i: e.item, s: e.sourceSeq, g: e.planGeneration, x: e.exported };
}

/** Load one persisted entry into a table (partition takeover). Not marked dirty. */
export function restoreRow(table: RowTable, key: string, row: PersistedRow, nowMs: number): void {
  const prev = table.rows.get(key);
  if (prev?.item) table.liveCount--;
  table.rows.set(key, {
    item: row.i,
    sourceSeq: row.s,
    planGeneration: row.g,
    exported: row.x,
    tombstoneSinceMs: row.i === null ? nowMs : 0,
  });
  if (row.i !== null) table.liveCount++;
  table.contentVersion++;
  // Whether the persisted mark matches the row is unknown until the next diff looks.
  table.touched.add(key);
}
