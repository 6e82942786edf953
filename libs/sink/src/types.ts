import type { InventoryRef, Item, RowKey, SnapshotMessage } from '@kollect/contracts';
import type { CompiledSink } from '@kollect/plan';

/**
 * The one extension point for backends (ARCHITECTURE.md invariants 5–7, STYLE.md "One interface
 * per extension point"). A backend registers its capabilities explicitly; the framework
 * (not the backend) decides between applying a diff and asking for a full snapshot, so every
 * backend gets redelivery, gaps and recovery right in the same way.
 */

/** What kind of store a backend is; drives empty-snapshot and size behaviour (SEED-SPEC §5.10). */
export type SinkStoreKind = 'snapshot-store' | 'object-store' | 'relational' | 'stream';

export interface SinkCapabilities {
  kind: SinkStoreKind;
  /** Serialization formats the backend accepts (`serialization.format` capability gate). */
  formats: readonly string[];
  /**
   * Largest single payload the backend accepts, when it has a limit (drives the inventory's
   * ExportShardWarning). Undefined = no practical limit.
   */
  maxPayloadBytes?: number;
  /**
   * Whether the backend can apply a diff cheaply. When false the framework always hands it the
   * full snapshot of the generation (e.g. a backend that rewrites one document per export).
   */
  incremental: boolean;
}

/** The position a backend has recorded for one (cluster, inventory): read from the backend itself. */
export interface AppliedPosition {
  exportGeneration: number;
  checksum: string;
}

/** Credentials resolved from the referenced Secret(s) by the worker; never logged or published. */
export interface SinkCredentials {
  /** Secret data by key (already base64-decoded), from `spec.secretRef` and per-type overrides. */
  data: Readonly<Record<string, string>>;
  /** PEM bundle from `tls.caBundle` or `tls.caSecretRef`, when set. */
  caPem?: string;
  /** The Secret's resourceVersion(s), so a rotation rebuilds the backend. */
  version: string;
}

/** Everything a backend needs to connect; built by the worker from the plan and Secrets. */
export interface SinkContext {
  sink: CompiledSink;
  /** `spec.cluster` of the sink, or the pipeline's cluster name. */
  cluster: string;
  credentials: SinkCredentials;
  /** A private, persistent scratch directory (e.g. the git mirror). */
  workDir: string;
  /** Abort signal for the whole backend lifetime. */
  signal: AbortSignal;
  log: SinkLogger;
}

export interface SinkLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The current full state of an inventory, handed to non-incremental backends and on replace. */
export interface FullSnapshot {
  inventory: InventoryRef;
  cluster: string;
  /** The inventory CR's metadata.generation. */
  generation: number;
  exportGeneration: number;
  checksum: string;
  exportedAt: string;
  /** Canonically sorted. */
  items: Item[];
}

/** A diff from generation N-1 to N. */
export interface SnapshotDiff {
  inventory: InventoryRef;
  cluster: string;
  generation: number;
  exportGeneration: number;
  previousGeneration: number;
  checksum: string;
  itemCount: number;
  exportedAt: string;
  upserts: Item[];
  deletes: RowKey[];
}

export interface ApplyResult {
  /** False when the backend already held exactly this state (no commit, no write). */
  changed: boolean;
  /** Bytes written to the backend (metrics). */
  bytes: number;
  /** Where it went, for humans: a commit SHA, an object key, a table name. */
  location?: string;
}

export interface ProbeResult {
  ok: boolean;
  /** Scrubbed of credentials. */
  message: string;
  latencyMs: number;
}

/** Side-effect-free rendering for `status.preview` (SEED-SPEC §9.5). */
export interface SinkPreview {
  provisioningMode: string;
  serializationFormat: string;
  warnings: string[];
  /** Backend-specific fields (objectPath, git.sampleCommitSubject, postgres.expectedDDL, …). */
  details: Record<string, unknown>;
}

/** A connected backend instance for one sink object. */
export interface Sink {
  readonly type: string;
  readonly capabilities: SinkCapabilities;
  /** Connect/prepare (provisioning `ensure` runs here). Throws KollectError with a class. */
  connect(): Promise<void>;
  /** The last generation applied for (cluster, inventory), read from the backend; null = none. */
  lastApplied(inventory: InventoryRef): Promise<AppliedPosition | null>;
  /** Apply diff N on top of N-1. Only called when lastApplied is N-1 and `incremental` is true. */
  applyDiff(diff: SnapshotDiff): Promise<ApplyResult>;
  /** Replace the backend's state of this (cluster, inventory) with a full snapshot. */
  replace(snapshot: FullSnapshot): Promise<ApplyResult>;
  /** Remove what this inventory owns where the backend's semantics say so (inventory deleted). */
  forget?(inventory: InventoryRef): Promise<ApplyResult>;
  probe(): Promise<ProbeResult>;
  close(): Promise<void>;
}

/** Registered once per backend type. */
export interface SinkFactory {
  readonly type: string;
  readonly family: 'snapshot' | 'database' | 'event';
  readonly capabilities: SinkCapabilities;
  create(ctx: SinkContext): Sink;
  /** No I/O: what an export would look like (DDL, paths, commit subject…). */
  preview(sink: CompiledSink): SinkPreview;
}

/** Converts a bus SnapshotMessage diff into the backend-facing form. */
export function toSnapshotDiff(msg: SnapshotMessage): SnapshotDiff {
  return {
    inventory: msg.inventory,
    cluster: msg.cluster,
    generation: msg.generation,
    exportGeneration: msg.exportGeneration,
    previousGeneration: msg.previousGeneration,
    checksum: msg.checksum,
    itemCount: msg.itemCount,
    exportedAt: msg.exportedAt,
    upserts: msg.upserts,
    deletes: msg.deletes,
  };
}
