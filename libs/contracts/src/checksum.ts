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

/** Lowercase hex SHA-256 of a UTF-8 string. */
export function sha256Hex(s: string | Uint8Array): string {
  return createHash('sha256').update(s).digest('hex');
}

/** The first 12 hex digits of a checksum, with any "sha256:" prefix removed (commit subjects). */
export function checksumShort(checksum: string): string {
  return checksum.replace(/^sha256:/, '').slice(0, 12);
}
