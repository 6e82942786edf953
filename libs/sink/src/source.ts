import type { InventoryRef, Item, RowKey, SnapshotMessage } from '@kollect/contracts';
import type { FullSnapshot } from './types.js';

/**
 * Where the framework gets the full snapshot of an inventory's current generation when a
 * backend cannot be brought forward by a diff. The sink worker implements it with the bus:
 * a request on `subjects.fullSnapshotRequest(cluster, inventory)`, answered by the aggregator
 * that owns the inventory, which writes the snapshot to object store `kollect_full` and replies
 * with its name. Tests implement it with an in-memory model.
 */
export interface FullSnapshotSource {
  /**
   * The full snapshot of the inventory's current generation, which is at least `atLeast`
   * (an aggregator that is behind must wait or fail, never answer with an older generation).
   * Throws `FullSnapshotUnavailable` (transient) when it cannot be had now.
   */
  fetch(
    cluster: string,
    inventory: InventoryRef,
    atLeast: number,
    signal?: AbortSignal,
  ): Promise<FullSnapshot>;
  /**
   * The upserts/deletes of a message whose payload lives in the object store
   * (`SnapshotMessage.objectRef`).
   */
  loadPayload?(msg: SnapshotMessage, signal?: AbortSignal): Promise<{ upserts: Item[]; deletes: RowKey[] }>;
}
