import type { Gvr } from '@kollect/contracts';
import type {
  KollectClusterInventory,
  KollectClusterScope,
  KollectClusterTarget,
  KollectDatabaseSink,
  KollectEventSink,
  KollectInventory,
  KollectProfile,
  KollectScope,
  KollectSnapshotSink,
  KollectTarget,
} from '@kollect/crd-types';
import type { CompiledPlan, Gvk } from './types.js';

/** A Namespace as the compiler needs it. */
export interface NamespaceInfo {
  name: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
}

/** What discovery says about a GVK: its resource and scope. */
export interface DiscoveredKind {
  gvr: Gvr;
  namespaced: boolean;
}

/** Discovery lookup: undefined when the apiserver does not serve the GVK. Must be pure for one compile. */
export type DiscoveryLookup = (gvk: Gvk) => DiscoveredKind | undefined;

/** Operator-wide settings (env / Helm values) the compiler applies. */
export interface CompileSettings {
  /** Fleet partition label of this cluster. */
  cluster: string;
  /** Aggregator partition count (fixed at install). */
  partitions: number;
  /** Global export byte cap (`--max-export-bytes`, default 1,572,864). */
  maxExportBytes: number;
  /** Operator-wide extra redaction keys (`--scrub-keys`). */
  scrubKeys: readonly string[];
  /** Helm `defaultIncludedNamespaces`: used when a target's `includedNamespaces` is empty. */
  defaultIncludedNamespaces: readonly string[];
  /** Helm `defaultExcludedNamespaces`: always excluded. */
  defaultExcludedNamespaces: readonly string[];
  /** Team install: cluster-scoped kinds are rejected. */
  tenantMode: boolean;
  /** Test beds only: let sink endpoints point at loopback/private addresses (disables the SSRF guard). */
  allowPrivateEndpoints: boolean;
  /**
   * Operator cache boundary (`--watch-namespaces`, SEED-SPEC §4.5 step 1). Empty = every
   * namespace. When set, no target ever watches outside these namespaces and nothing is
   * watched cluster-wide.
   */
  watchNamespaces: readonly string[];
  /** CEL cost limit per evaluation and wall-clock timeout, passed through to the extractor. */
  celCostLimit: number;
  celTimeoutMs: number;
}

/** Every Kollect CR the compiler reads. Objects being deleted are included (they carry `deletionTimestamp`). */
export interface KollectObjects {
  profiles: readonly KollectProfile[];
  targets: readonly KollectTarget[];
  clusterTargets: readonly KollectClusterTarget[];
  inventories: readonly KollectInventory[];
  clusterInventories: readonly KollectClusterInventory[];
  snapshotSinks: readonly KollectSnapshotSink[];
  databaseSinks: readonly KollectDatabaseSink[];
  eventSinks: readonly KollectEventSink[];
  scopes: readonly KollectScope[];
  clusterScopes: readonly KollectClusterScope[];
}

/** Input of {@link compilePlan}: data only. */
export interface CompileInput {
  objects: KollectObjects;
  namespaces: readonly NamespaceInfo[];
  discovery: DiscoveryLookup;
  settings: CompileSettings;
  /** The plan currently published, to keep `generation` monotonic (and unchanged when nothing changed). */
  previous?: CompiledPlan | undefined;
  /** Wall clock of this compile (plan `compiledAt`, bootstrap windows). */
  now: Date;
}

/** An empty object set, handy for tests and callers that fill only some kinds. */
export function emptyObjects(): KollectObjects {
  return {
    profiles: [],
    targets: [],
    clusterTargets: [],
    inventories: [],
    clusterInventories: [],
    snapshotSinks: [],
    databaseSinks: [],
    eventSinks: [],
    scopes: [],
    clusterScopes: [],
  };
}
