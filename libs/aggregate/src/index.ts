/**
 * @packageDocumentation
 * The aggregation core of Kollect, pure (no I/O): the canonical row table of an inventory with
 * last-writer-wins by (source sequence, plan generation), tombstones, cluster roll-ups with
 * `keepAll` / `byResourceUID` dedupe and namespace shards, CONTRACT.md checksums, snapshot
 * generations with diffs against persisted export marks, full snapshots, the export debounce of
 * SEED-SPEC §6.2, the export coalescing scheduler, the readiness gate, and the snapshot wire
 * format with its object-store split rule. The aggregator app wires these to the bus.
 */
export { compareVersions, type RowVersion } from './order.js';
export { inventoryView, type InventoryView } from './inventory-view.js';
export {
  createTable,
  applyRow,
  retainRows,
  retainAccepted,
  expireTombstones,
  takeDirty,
  liveEntries,
  entryJson,
  entryDigest,
  itemDigest,
  persistedRow,
  restoreRow,
  type RowEntry,
  type RowTable,
  type ApplyOutcome,
  type ApplyOptions,
  type PersistedRow,
} from './table.js';
export {
  selectExported,
  exportedSet,
  namespaceShards,
  rollupChecksum,
  type ExportedSet,
  type KeyedEntry,
  type NamespaceShard,
} from './rollup.js';
export {
  nextSnapshot,
  commitExport,
  redoExport,
  fullSnapshot,
  stateFromSnapshot,
  INITIAL_EXPORT_STATE,
  type ExportState,
  type ExportRecord,
  type PreparedExport,
} from './snapshot.js';
export {
  exportDecision,
  requeueDelayMs,
  MIN_WAKE_MS,
  WATCHDOG_MS,
  type BindingExportState,
  type BindingRound,
  type ExportDecision,
} from './debounce.js';
export { ExportScheduler } from './scheduler.js';
export { readiness, ReadinessLatch, type Readiness, type ReadinessInput } from './readiness.js';
export {
  encodeSnapshotMessage,
  decodeSnapshotMessage,
  snapshotObjectName,
  planSnapshotPublication,
  type SnapshotPublication,
  type FullSnapshotReply,
} from './wire.js';
