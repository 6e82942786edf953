import {
  checksumSortedItems,
  rowKeyString,
  sortItems,
  type InventoryRef,
  type Item,
  type RowKey,
  type SnapshotFinal,
  inventoryKey,
} from '@kollect/contracts';
import type { BaseState, FullSnapshot, SnapshotDiff } from './types.js';

/**
 * The rows of one (cluster, inventory) at one export generation, kept by the sink worker so
 * that non-incremental backends need not fetch a full snapshot from the aggregator for every
 * export, and tree layouts know the paths of deleted rows. Advanced by diffs; trusted by
 * generation chaining and verified against the message checksum whenever it is turned into a
 * full snapshot (that costs O(n), which such a backend pays anyway to rewrite its document).
 */
export class MaterializedInventory implements BaseState {
  readonly inventory: InventoryRef;
  readonly cluster: string;
  exportGeneration: number;
  generation: number;
  checksum: string;
  exportedAt: string;
  /** Set when this generation is the final export of a deleted inventory. */
  final: SnapshotFinal | undefined;
  // Mutated only while building a new instance in advanced().
  private readonly rows: Map<string, Item>;
  /** Set once the rows were checked against `checksum` (cleared by every mutation). */
  private verified: boolean;

  private constructor(head: Omit<FullSnapshot, 'items'>, verified: boolean, rows: Map<string, Item>) {
    this.inventory = head.inventory;
    this.cluster = head.cluster;
    this.exportGeneration = head.exportGeneration;
    this.generation = head.generation;
    this.checksum = head.checksum;
    this.exportedAt = head.exportedAt;
    this.final = head.final;
    this.rows = rows;
    this.verified = verified;
  }

  /** State from a full snapshot (trusted: it came whole from the aggregator). */
  static fromFull(snapshot: FullSnapshot): MaterializedInventory {
    const rows = new Map<string, Item>();
    for (const item of snapshot.items) rows.set(rowKeyString(item), item);
    return new MaterializedInventory(snapshot, true, rows);
  }

  get size(): number {
    return this.rows.size;
  }

  get(key: RowKey): Item | undefined {
    return this.rows.get(rowKeyString(key));
  }

  values(): IterableIterator<Item> {
    return this.rows.values();
  }

  /** Whether `diff` continues exactly this state. */
  continuedBy(diff: Pick<SnapshotDiff, 'previousGeneration' | 'exportGeneration'>): boolean {
    return (
      diff.previousGeneration === this.exportGeneration && diff.exportGeneration === this.exportGeneration + 1
    );
  }

  /**
   * The state at generation N, from diff N on top of this state (caller checked
   * {@link continuedBy}). Returns a new instance: states are immutable once shared, because
   * another sink of the same inventory may be using this one as its base right now.
   */
  advanced(diff: SnapshotDiff): MaterializedInventory {
    const next = new MaterializedInventory(this, false, new Map(this.rows));
    for (const key of diff.deletes) next.rows.delete(rowKeyString(key));
    for (const item of diff.upserts) next.rows.set(rowKeyString(item), item);
    next.exportGeneration = diff.exportGeneration;
    next.generation = diff.generation;
    next.checksum = diff.checksum;
    next.exportedAt = diff.exportedAt;
    next.final = diff.final;
    return next;
  }

  /**
   * The state as a full snapshot, or null when the rows do not hash to the recorded checksum
   * (a lost or reordered diff): the caller then fetches the snapshot from the aggregator.
   */
  toFull(): FullSnapshot | null {
    const items = sortItems([...this.rows.values()]);
    if (!this.verified) {
      if (items.length !== this.rows.size || checksumSortedItems(items) !== this.checksum) return null;
      this.verified = true;
    }
    return {
      inventory: this.inventory,
      cluster: this.cluster,
      generation: this.generation,
      exportGeneration: this.exportGeneration,
      checksum: this.checksum,
      exportedAt: this.exportedAt,
      items,
      ...(this.final !== undefined ? { final: this.final } : {}),
    };
  }
}

/**
 * Materialised states shared by every sink of one worker, keyed by (cluster, inventory); one
 * generation per inventory (the newest seen). Bounded by a total row budget: the least recently
 * used inventories are dropped first (they are re-fetched from the aggregator when needed).
 */
export class MaterializedStore {
  private readonly states = new Map<string, MaterializedInventory>();

  constructor(private readonly maxRows = 1_000_000) {}

  private static key(cluster: string, inventory: InventoryRef): string {
    return `${cluster}\u0000${inventoryKey(inventory)}`;
  }

  get(cluster: string, inventory: InventoryRef): MaterializedInventory | undefined {
    const k = MaterializedStore.key(cluster, inventory);
    const s = this.states.get(k);
    if (s) {
      // Re-insert: Map iteration order is the LRU order.
      this.states.delete(k);
      this.states.set(k, s);
    }
    return s;
  }

  /** Keep `state` unless an equal-or-newer generation is already held. */
  put(state: MaterializedInventory): void {
    const k = MaterializedStore.key(state.cluster, state.inventory);
    const cur = this.states.get(k);
    if (cur && cur !== state && cur.exportGeneration > state.exportGeneration) return;
    this.states.delete(k);
    this.states.set(k, state);
    this.evict();
  }

  drop(cluster: string, inventory: InventoryRef): void {
    this.states.delete(MaterializedStore.key(cluster, inventory));
  }

  /** Total rows held. */
  rows(): number {
    let n = 0;
    for (const s of this.states.values()) n += s.size;
    return n;
  }

  private evict(): void {
    let total = this.rows();
    for (const [k, s] of this.states) {
      if (total <= this.maxRows || this.states.size <= 1) break;
      this.states.delete(k);
      total -= s.size;
    }
  }
}
