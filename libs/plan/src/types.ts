import { gvrString, type Gvr, type InventoryRef, type SinkRef } from '@kollect/contracts';

/**
 * The compiled plan: everything the data-plane services (watcher, extractor, aggregator, sink
 * workers) need to know about the Kollect CRs, already validated, reference-resolved and
 * scope-checked by the controller. Published to KV `kollect_plan` under key `plan` (`PLAN_KEY` of
 * @kollect/bus; one plan per bus topology — each cluster's pipeline has its own topology or bus
 * prefix, and `settings.cluster` names the cluster); services watch it and never read CRs
 * themselves (ARCHITECTURE.md §2).
 *
 * Invariants:
 * - Everything here is data; no secrets (sinks carry only Secret *references*).
 * - Namespace selectors are already resolved into explicit namespace lists against the live
 *   Namespace objects, so the extractor needs no Namespace cache.
 * - `generation` increases on every published change; `profiles[].hash` changes exactly when
 *   extraction output could change, which drives re-extraction by replay.
 */
export const PLAN_SCHEMA_VERSION = 'kollect.dev/plan/v1';

export interface Gvk {
  /** "" for the core group. */
  group: string;
  version: string;
  kind: string;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

/** A Kubernetes label selector. An empty selector matches everything. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** One profile attribute. `path` keeps its prefix: `cel:…`, `helm:release.…` or JSONPath. */
export interface CompiledAttribute {
  name: string;
  path: string;
  optional: boolean;
  /** Hint only; never used to coerce (SEED-SPEC §4.2). */
  type?: string;
}

export type ExportInclude = 'MetadataOnly' | 'SpecOnly' | 'StatusOnly' | 'SpecAndStatus' | 'All';

export interface CompiledExport {
  mode: 'Attributes' | 'Resource';
  /** Attribute name that holds the pruned resource in Resource mode (default `resource`). */
  as: string;
  include: ExportInclude;
  dedupeIdentity: boolean;
  prune: {
    defaults: boolean;
    jsonPointers: string[];
    jsonPaths: string[];
    /** The profile's extra keys; merged with the operator list in `settings.scrubKeys`. */
    scrubKeys: string[];
  };
}

export interface CompiledProfile {
  /** `<namespace>/<name>` */
  key: string;
  namespace: string;
  name: string;
  uid: string;
  /** metadata.generation of the KollectProfile. */
  generation: number;
  gvk: Gvk;
  /** Resolved through discovery; profiles whose GVK is not served are not in the plan. */
  gvr: Gvr;
  namespaced: boolean;
  attributes: CompiledAttribute[];
  export: CompiledExport;
  metrics: { name: string; path: string; labels: string[] }[];
  /** Digest of everything extraction output depends on (gvk, attributes, export, scrub keys). */
  hash: string;
}

/** A resourceRules entry, with its namespace selector already resolved. */
export interface CompiledRule {
  gvr: Gvr;
  gvk: Gvk;
  /** null = no namespace restriction from this rule. */
  namespaces: string[] | null;
  labelSelector?: LabelSelector;
  /** CEL bool over `object`; an error counts as no match. */
  matchPolicy?: string;
}

/** Where a target's rows go: one entry per inventory it feeds. */
export interface TargetFeed {
  inventory: InventoryRef;
  partition: number;
  /** Cluster inventories may restrict namespaces (`spec.namespaces` ∩ selector); null = all. */
  namespaces: string[] | null;
}

export type TargetKind = 'KollectTarget' | 'KollectClusterTarget';

export interface CompiledTarget {
  kind: TargetKind;
  /** "" for KollectClusterTarget. Rows carry targetNamespace = this, or the object's namespace for cluster targets. */
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  profileKey: string;
  /** Effective namespaces after intent, scope ceiling and deny lists; null = every namespace. */
  namespaces: string[] | null;
  /** resourceRules (OR-union). Empty = legacy path: profile GVR + labelSelector + names. */
  rules: CompiledRule[];
  labelSelector?: LabelSelector;
  names?: string[];
  watchMode: 'All' | 'OptIn';
  feeds: TargetFeed[];
}

/** Key of a target in the plan: `KollectTarget/<ns>/<name>` or `KollectClusterTarget//<name>`. */
export function targetKey(t: Pick<CompiledTarget, 'kind' | 'namespace' | 'name'>): string {
  return `${t.kind}/${t.namespace}/${t.name}`;
}

/**
 * The GVRs whose objects a target collects (SEED-SPEC §4.5 step 3): with `resourceRules`, every
 * rule's GVR (deduplicated, in rule order) — a rule may name a kind other than the profile's
 * `targetGVK`, and its objects are then evaluated with the profile (rows carry the profile's
 * group/version/kind); without rules, the profile's GVR. The extractor indexes targets by these,
 * and re-extraction replays exactly these GVRs.
 */
export function collectedGvrs(
  target: Pick<CompiledTarget, 'rules'>,
  profile: Pick<CompiledProfile, 'gvr'>,
): Gvr[] {
  if (target.rules.length === 0) return [profile.gvr];
  const seen = new Set<string>();
  const out: Gvr[] = [];
  for (const r of target.rules) {
    const k = gvrString(r.gvr);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r.gvr);
  }
  return out;
}

/** A sink bound to an inventory, with the effective per-binding settings. */
export interface SinkBinding {
  sink: SinkRef;
  type: string;
  /** ref → sink → inventory (30 s), clamped up to the scope floor (SEED-SPEC §6.2, §15.9). */
  exportMinIntervalMs: number;
  /** ref → inventory → global cap. */
  maxExportBytes: number;
}

export interface CompiledInventory {
  ref: InventoryRef;
  uid: string;
  /** metadata.generation of the inventory CR (a spec change exports at once). */
  generation: number;
  partition: number;
  /** Target keys (see {@link targetKey}) that feed this inventory. */
  targets: string[];
  dedupe: 'keepAll' | 'byResourceUID';
  /** GVRs feeding it: the readiness gate waits until each has synced (in every needed namespace). */
  gvrs: Gvr[];
  exportMinIntervalMs: number;
  bindings: SinkBinding[];
  /**
   * When set, the inventory must not export (suspended, scope denied, …); the aggregator keeps
   * its rows but publishes no snapshots.
   */
  hold?: { reason: string; message: string };
  /**
   * The CR is being deleted and its cleanup finalizer is pending (added by the controller, not in
   * the lead's first draft). The aggregator publishes one final snapshot with zero items, reports
   * its export generation (`AggregatorStatusReport.finalExportGeneration`) and exports nothing
   * after it. `bindings` then hold only the relational (database-family) sinks, so Git/S3 history
   * and streams are left untouched (CONTRACT.md "Deletes and empty inventories"); `targets` is
   * empty. The controller removes the finalizer once every binding reports that generation
   * applied, and the inventory then leaves the plan.
   */
  deleting?: true;
}

export interface CompiledSink {
  ref: SinkRef;
  uid: string;
  generation: number;
  type: string;
  /** The CR spec as admitted (defaults applied). Secrets are referenced, never inlined. */
  spec: Record<string, unknown>;
}

/** One GVR to list+watch, and where. */
export interface WatchSpec {
  gvr: Gvr;
  gvk: Gvk;
  namespaced: boolean;
  /** null = cluster-wide; otherwise the union of namespaces every target needs. */
  namespaces: string[] | null;
  /**
   * Core Secrets only: keep `data`/`stringData` in published objects, in every namespace of this
   * watch. Set only when targets whose profile reads Secret data (a `data` path, any `helm:` path,
   * or Resource export of `All`) and carries `kollect.dev/allow-secret-extraction: "true"` (or,
   * for Resource export, `kollect.dev/allow-full-resource-export: "true"`), admitted by their
   * scope, need all of the watch's namespaces (ARCHITECTURE invariant 1/7). Absent or false = the
   * watcher strips Secret data (except in {@link WatchSpec.secretDataNamespaces}).
   */
  allowSecretData?: boolean;
  /**
   * Core Secrets only, when `allowSecretData` is not set: keep Secret data only for objects in
   * these namespaces (sorted) — the namespaces of the permitted targets — and strip it everywhere
   * else in the watch, so a Secret watch shared with targets that did not ask never carries their
   * namespaces' data. (Added by the controller follow-up; a watcher that does not know the field
   * strips all Secret data: it fails closed.)
   */
  secretDataNamespaces?: string[];
}

export interface PlanSettings {
  /** The fleet partition label of this cluster's pipeline. */
  cluster: string;
  /** Aggregator partition count (fixed at install). */
  partitions: number;
  /** Global export byte cap (default 1,572,864). */
  maxExportBytes: number;
  /** Operator-wide extra redaction keys (`--scrub-keys`). */
  scrubKeys: string[];
  /** CEL cost limit per evaluation and wall-clock timeout. */
  celCostLimit: number;
  celTimeoutMs: number;
}

export interface CompiledPlan {
  schemaVersion: typeof PLAN_SCHEMA_VERSION;
  generation: number;
  /** RFC 3339. */
  compiledAt: string;
  settings: PlanSettings;
  watches: WatchSpec[];
  profiles: Record<string, CompiledProfile>;
  targets: CompiledTarget[];
  inventories: CompiledInventory[];
  sinks: CompiledSink[];
  /**
   * Watch-label state of namespaces that carry `kollect.dev/watch` (label) or
   * `kollect.dev/namespace-watch` (annotation); absent = unlabelled.
   */
  namespaceWatch: Record<string, 'enabled' | 'disabled'>;
}
