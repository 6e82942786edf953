import { encodeKvSegment, decodeKvSegment, lastPerSubject, kvStreamName, type Bus } from '@kollect/bus';
import type { PersistedRow, ExportRecord } from '@kollect/aggregate';

/**
 * Layout of the aggregator's state in KV `kollect_rows` (every write fenced by the partition):
 *
 * - `r.<partition>.<inventory>.<row>` → {@link PersistedRow}: **one key per row**. A row change
 *   rewrites one small value (a few hundred bytes) instead of a chunk, keys never outgrow
 *   max_payload whatever the attributes, and a partition loads with one ordered
 *   last-per-subject scan (measured: see docs/operations/aggregator.md). Deleted rows whose
 *   delete is still to be exported stay as tombstone values; exported deletes become KV delete
 *   markers, which {@link purgeOldDeleteMarkers} removes later.
 * - `x.<partition>.<inventory>` → {@link ExportRecord}: the export position (write-ahead for the
 *   next generation).
 * - `_fence.<group>.<partition>` → the fence (written by `PartitionOwner`).
 *
 * `<inventory>` is the inventory key and `<row>` the row key string, each as one KV segment.
 */
export function rowKvKey(partition: number, inventoryKey: string, rowKey: string): string {
  return `r.${partition}.${encodeKvSegment(inventoryKey)}.${encodeKvSegment(rowKey)}`;
}

/** Key of an inventory's export record. */
export function exportKvKey(partition: number, inventoryKey: string): string {
  return `x.${partition}.${encodeKvSegment(inventoryKey)}`;
}

/** What a partition holds in KV. */
export interface LoadedPartition {
  rows: Map<string, { key: string; row: PersistedRow }[]>;
  exports: Map<string, ExportRecord>;
  rowCount: number;
}

/**
 * Read a partition's rows and export records (the last value of every key; delete markers
 * skipped). Reads need no fence: the owner that called this already holds it, and the fence
 * write made every earlier owner write visible.
 */
export async function loadPartition(bus: Bus, bucket: string, partition: number): Promise<LoadedPartition> {
  const stream = kvStreamName(bucket);
  const out: LoadedPartition = { rows: new Map(), exports: new Map(), rowCount: 0 };
  const decoder = new TextDecoder();
  const isValue = (h: { get(k: string): string } | undefined): boolean => {
    const op = h?.get('KV-Operation') ?? '';
    return op === '' || op === 'PUT';
  };
  await lastPerSubject(bus, stream, `$KV.${bucket}.r.${partition}.>`, (m) => {
    if (!isValue(m.headers) || m.data.length === 0) return;
    const parts = m.subject.split('.');
    // $KV.<bucket>.r.<p>.<inv>.<row>
    const inv = decodeKvSegment(parts[4] as string);
    const key = decodeKvSegment(parts[5] as string);
    let list = out.rows.get(inv);
    if (!list) out.rows.set(inv, (list = []));
    list.push({ key, row: JSON.parse(decoder.decode(m.data)) as PersistedRow });
    out.rowCount++;
  });
  await lastPerSubject(bus, stream, `$KV.${bucket}.x.${partition}.>`, (m) => {
    if (!isValue(m.headers) || m.data.length === 0) return;
    const parts = m.subject.split('.');
    out.exports.set(decodeKvSegment(parts[4] as string), JSON.parse(decoder.decode(m.data)) as ExportRecord);
  });
  return out;
}

/**
 * Remove KV delete markers older than `olderMs` from the rows bucket (deleted rows leave one
 * marker each). Safe from any replica at any time: only markers are removed, never values.
 */
export async function purgeOldDeleteMarkers(bus: Bus, bucket: string, olderMs: number): Promise<number> {
  const kv = (await bus.kvm.open(bucket)) as unknown as {
    purgeDeletes?: (olderMillis?: number) => Promise<{ purged: number }>;
  };
  // Implemented by the bucket class of @nats-io/kv, though not declared on its KV interface.
  if (typeof kv.purgeDeletes !== 'function') return 0;
  const r = await kv.purgeDeletes(olderMs);
  return r.purged;
}
