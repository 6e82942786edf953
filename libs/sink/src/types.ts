import type { InventoryRef, Item, RowKey, SnapshotFinal, SnapshotMessage } from '@kollect/contracts';
import type { CompiledSink } from '@kollect/plan';

/**
 * The one extension point for backends (ARCHITECTURE.md invariants 5–7, STYLE.md "One interface
 * per extension point"). A backend registers its capabilities explicitly; the framework
 * (not the backend) decides between applying a diff and asking for a full snapshot, so every
 * backend gets redelivery, gaps and recovery right in the same way (see `runner.ts`).
 *
 * Design decisions (docs/sinks.md "Framework"):
 * - Backends are told *what* to make true (a diff on top of N-1, or a whole generation), never
 *   *when*; ordering, redelivery, gaps, breakers and cadence live in the framework.
 * - The backend is the source of truth for its own position (`lastApplied`), so a new replica,
 *   a restarted worker or a second writer converges without any shared worker state.
 * - Families: snapshot stores (git, s3, …) rewrite documents; relational stores upsert/delete
 *   rows; streams append events. The same interface serves all three; `capabilities` says which
 *   inputs a backend can use cheaply.
 */

/** What kind of store a backend is; drives size behaviour (SEED-SPEC §5.10). */
export type SinkStoreKind = 'snapshot-store' | 'object-store' | 'relational' | 'stream';

export interface SinkCapabilities {
  /**
   * Also decides deletion semantics (CONTRACT.md "Deletes and empty inventories"): only
   * `relational` backends apply the final export of a deleted inventory (its rows are removed);
   * the framework never hands it to the others, which keep their history.
   */
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
  /**
   * An incremental backend that needs the state at N-1 to apply diff N (e.g. a Git tree layout
   * must know the path of a deleted row). When the framework has no such state it replaces
   * from a full snapshot instead. Default false.
   */
  diffNeedsBase?: boolean;
}

/** The position a backend has recorded for one (cluster, inventory): read from the backend itself. */
export interface AppliedPosition {
  exportGeneration: number;
  checksum: string;
}

/**
 * Credentials resolved from the referenced Secret(s) by the worker (see `credentials.ts`);
 * never logged or published.
 */
export interface SinkCredentials {
  /** Secret data by key (already base64-decoded), from the effective Secret of the sink. */
  data: Readonly<Record<string, string>>;
  /**
   * The same data under canonical role names for the sink type (`token`, `username`,
   * `password`, `sshPrivateKey`, `knownHosts`, `accessKeyId`, `secretAccessKey`,
   * `sessionToken`, `credentialsJson`, `dsn`, `uri`), after the per-type key aliases of
   * SEED-SPEC §15.14 were applied.
   */
  roles: Readonly<Partial<Record<CredentialRole, string>>>;
  /** PEM bundle from `tls.caBundle` or `tls.caSecretRef`, when set. */
  caPem?: string;
  /** Identity of the Secret contents (resourceVersions), so a rotation rebuilds the backend. */
  version: string;
}

/** Canonical credential roles (see {@link SinkCredentials.roles}). */
export type CredentialRole =
  | 'token'
  | 'username'
  | 'password'
  | 'sshPrivateKey'
  | 'knownHosts'
  | 'accessKeyId'
  | 'secretAccessKey'
  | 'sessionToken'
  | 'credentialsJson'
  | 'dsn'
  | 'uri';

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
  /**
   * Test installs only: allow loopback/private endpoints that the SSRF guard rejects in
   * production (the worker's `--allow-private-endpoints`). Default false.
   */
  allowPrivateEndpoints?: boolean;
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
  /**
   * The final (empty) generation of a deleted inventory (`SnapshotMessage.final`). The framework
   * hands it only to relational backends ({@link SinkCapabilities.kind}); others keep their history.
   */
  final?: SnapshotFinal;
}

/**
 * A read-only view of the rows a backend held before an operation (generation N-1 for a diff,
 * the backend's last applied generation for a replace). Valid only during the call.
 */
export interface BaseState {
  exportGeneration: number;
  /** The inventory CR generation the state was exported under. */
  generation: number;
  get(key: RowKey): Item | undefined;
  size: number;
  values(): IterableIterator<Item>;
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
  /** The state at N-1 when the framework holds it (always set for `diffNeedsBase` backends). */
  base?: BaseState;
  /** As {@link FullSnapshot.final}: only relational backends ever receive a final diff. */
  final?: SnapshotFinal;
}

/** Extra knowledge the framework may pass to {@link Sink.replace}. */
export interface ReplaceContext {
  /**
   * The state at the backend's last applied generation when the framework holds it: lets a
   * tree layout prune exactly the files of rows that vanished in a gap.
   */
  base?: BaseState;
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
  /** When not ok: the error class (auth problems are terminal). */
  errorClass?: 'transient' | 'terminal' | 'forbidden';
  /** When not ok: a condition reason such as `ConnectionTestFailed` or `SecretResolveFailed`. */
  reason?: string;
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
  /**
   * Capabilities of this instance. May be narrower than the factory's (a Git sink with a
   * `document` layout is not incremental, a tree layout is).
   */
  readonly capabilities: SinkCapabilities;
  /** Connect/prepare (provisioning `ensure` runs here). Throws KollectError with a class. */
  connect(): Promise<void>;
  /** The last generation applied for (cluster, inventory), read from the backend; null = none. */
  lastApplied(inventory: InventoryRef): Promise<AppliedPosition | null>;
  /**
   * Apply diff N on top of N-1. Only called when lastApplied is N-1 and `incremental` is true.
   * May throw {@link import('./errors.js').SinkNeedsFullSnapshot} when it cannot apply this
   * particular diff (e.g. every path moved); the framework then replaces from a full snapshot.
   */
  applyDiff(diff: SnapshotDiff): Promise<ApplyResult>;
  /** Replace the backend's state of this (cluster, inventory) with a full snapshot. */
  replace(snapshot: FullSnapshot, ctx?: ReplaceContext): Promise<ApplyResult>;
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
  preview(sink: CompiledSink, cluster: string): SinkPreview;
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
    ...(msg.final !== undefined ? { final: msg.final } : {}),
  };
}
