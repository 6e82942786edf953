import { checksumOfItemJsons, compareUtf8, sha256Hex, type Item } from '@kollect/contracts';
import type { InventoryView } from './inventory-view.js';
import { compareVersions } from './order.js';
import { compareEntries, entryJson, type RowEntry, type RowTable } from './table.js';

/** A live table entry with its key. */
export interface KeyedEntry {
  key: string;
  entry: RowEntry & { item: Item };
}

/** What an inventory exports now: its items in canonical order and their checksum. */
export interface ExportedSet {
  /** The exported entries in canonical item order (SEED-SPEC §5.2). */
  entries: KeyedEntry[];
  /** The same items, canonical order (built on first use). */
  readonly items: Item[];
  /** Number of exported items. */
  count: number;
  /** CONTRACT.md checksum: SHA-256 over the canonical JSON of `items` only. */
  checksum: string;
  /** The table's content version this was computed from. */
  contentVersion: number;
}

/** One namespace of a cluster roll-up (CR status `namespaceShards[]`). */
export interface NamespaceShard {
  namespace: string;
  /** Exported rows in this namespace (after dedupe). */
  itemCount: number;
  /** Distinct targets with live rows in this namespace (before dedupe). */
  targetCount: number;
  /** Checksum of the shard's exported items (same definition as the inventory checksum). */
  checksum: string;
}

/** Dedupe key of `byResourceUID`: one row per object, i.e. per (namespace, uid). */
function objectKey(item: Item): string {
  return `${item.namespace}\u0000${item.uid}`;
}

/**
 * The rows an inventory exports, per its dedupe mode (SEED-SPEC §6.3):
 *
 * - `keepAll`: every live row, one per (target, uid).
 * - `byResourceUID`: one row per (namespace, uid) across targets — **last writer wins**: the row
 *   with the newest {@link compareVersions} version; on a tie (the usual case: every target's row
 *   comes from the same object message) the target that comes **later in the inventory's target
 *   list** wins, as in the seed's "concatenate targets in order, keep the last". No attribute
 *   union: the winner's item is exported as it is, under its own row key. The result depends only
 *   on the table and the plan, never on arrival order, so every replica and every restart exports
 *   the same rows.
 *
 * Output is in canonical item order (sort key of SEED-SPEC §5.2, via `@kollect/contracts`).
 */
export function selectExported(table: RowTable, view: InventoryView): KeyedEntry[] {
  let chosen: KeyedEntry[];
  if (view.inventory.dedupe === 'byResourceUID') {
    const best = new Map<string, KeyedEntry & { rank: number }>();
    for (const [key, entry] of table.rows) {
      if (entry.item === null) continue;
      const ok = objectKey(entry.item);
      const rank = view.targetIndex(entry.item);
      const cur = best.get(ok);
      if (!cur) {
        best.set(ok, { key, entry: entry as KeyedEntry['entry'], rank });
        continue;
      }
      const c = compareVersions(entry, cur.entry);
      if (c > 0 || (c === 0 && (rank > cur.rank || (rank === cur.rank && compareUtf8(key, cur.key) > 0)))) {
        best.set(ok, { key, entry: entry as KeyedEntry['entry'], rank });
      }
    }
    chosen = [...best.values()].map(({ key, entry }) => ({ key, entry }));
  } else {
    chosen = [];
    for (const [key, entry] of table.rows) {
      if (entry.item !== null) chosen.push({ key, entry: entry as KeyedEntry['entry'] });
    }
  }
  chosen.sort((a, b) => compareEntries(a.entry, b.entry));
  return chosen;
}

const cache = new WeakMap<RowTable, { view: InventoryView; set: ExportedSet }>();

/**
 * The exported set of an inventory now, with its checksum. Cached per table until its content
 * or the view (plan) changes, so asking twice costs nothing.
 */
export function exportedSet(table: RowTable, view: InventoryView): ExportedSet {
  const hit = cache.get(table);
  if (hit && hit.view === view && hit.set.contentVersion === table.contentVersion) return hit.set;
  const entries = selectExported(table, view);
  let items: Item[] | undefined;
  const set: ExportedSet = {
    entries,
    get items() {
      items ??= entries.map((e) => e.entry.item);
      return items;
    },
    count: entries.length,
    // The cached canonical JSON of each row is exactly what the contract hashes.
    checksum: checksumOfItemJsons(entries.map((e) => entryJson(e.entry))),
    contentVersion: table.contentVersion,
  };
  cache.set(table, { view, set });
  return set;
}

/**
 * Per-namespace shards of a roll-up (cluster inventories): exported items per namespace with
 * their checksum, and how many targets hold live rows there. Namespaces without rows are not
 * listed. Sorted by namespace.
 */
export function namespaceShards(table: RowTable, set: ExportedSet): NamespaceShard[] {
  const items = new Map<string, string[]>();
  for (const { entry } of set.entries) {
    let list = items.get(entry.item.namespace);
    if (!list) items.set(entry.item.namespace, (list = []));
    list.push(entryJson(entry)); // set.entries is canonically sorted, so each list is too
  }
  const targets = new Map<string, Set<string>>();
  for (const e of table.rows.values()) {
    if (e.item === null) continue;
    let s = targets.get(e.item.namespace);
    if (!s) targets.set(e.item.namespace, (s = new Set()));
    s.add(`${e.item.targetNamespace}\u0000${e.item.targetName}`);
  }
  return [...items.keys()].sort(compareUtf8).map((namespace) => {
    const list = items.get(namespace) as string[];
    return {
      namespace,
      itemCount: list.length,
      targetCount: targets.get(namespace)?.size ?? 0,
      checksum: checksumOfItemJsons(list),
    };
  });
}

/**
 * The seed's roll-up checksum of a cluster inventory (SEED-SPEC §6.3): SHA-256 over
 * `"<namespace>:<shard checksum>\n"` lines sorted by namespace. Reported in status only; the
 * export checksum is the CONTRACT.md one over the exported items.
 */
export function rollupChecksum(shards: readonly NamespaceShard[]): string {
  const lines = [...shards].sort((a, b) => compareUtf8(a.namespace, b.namespace));
  return sha256Hex(lines.map((s) => `${s.namespace}:${s.checksum}\n`).join(''));
}
