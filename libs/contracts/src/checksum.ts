import { createHash } from 'node:crypto';
import { itemsJson, sortItems, type Item } from './item.js';

/**
 * The inventory checksum: lowercase hex SHA-256 of the canonical JSON of the canonically sorted
 * items — and of nothing else (no timestamps, generations or cluster). SEED-SPEC §5.2, §15.2.
 */
export function checksumItems(items: readonly Item[]): string {
  return sha256Hex(itemsJson(sortItems(items)));
}

/** Checksum of items already in canonical order (skips the sort). */
export function checksumSortedItems(sorted: readonly Item[]): string {
  return sha256Hex(itemsJson(sorted));
}

/**
 * Checksum of items given as their canonical JSON (`itemJson` of each), already in canonical
 * order: the same bytes as {@link checksumSortedItems} hashes, without serializing again. For
 * callers that keep each item's JSON (the aggregator hashes large tables on every export).
 */
export function checksumOfItemJsons(sortedItemJsons: Iterable<string>): string {
  const h = createHash('sha256');
  let buf = '[';
  let first = true;
  for (const j of sortedItemJsons) {
    buf += first ? j : ',' + j;
    first = false;
    // Hash in chunks: one update per item is slow, one string for 100k items is large.
    if (buf.length > 1 << 16) {
      h.update(buf);
      buf = '';
    }
  }
  h.update(buf + ']');
  return h.digest('hex');
}

/** Lowercase hex SHA-256 of a UTF-8 string. */
export function sha256Hex(s: string | Uint8Array): string {
  return createHash('sha256').update(s).digest('hex');
}

/** The first 12 hex digits of a checksum, with any "sha256:" prefix removed (commit subjects). */
export function checksumShort(checksum: string): string {
  return checksum.replace(/^sha256:/, '').slice(0, 12);
}
