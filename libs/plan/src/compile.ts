import {
  canonicalJson,
  gvrString,
  inventoryKey,
  partitionOf,
  sha256Hex,
  sinkKey,
  type Gvr,
  type InventoryRef,
  type SinkFamily,
} from '@kollect/contracts';
import {
  DEFAULT_SINK_NAMESPACE,
  FINALIZERS,
  isCoreSecret,
  normalizeSinkRefs,
  SINK_FAMILIES,
  SINK_KINDS,
  SINK_REF_FIELDS,
  type InventorySinkRef,
  type InventorySinkRefListEntry,
  type KollectClusterInventory,
  type KollectClusterTarget,
  type KollectInventory,
  type KollectKind,
  type KollectObjectByKind,
  type KollectProfile,
  type KollectTarget,
  type ObjectMeta,
} from '@kollect/crd-types';
import {
  CONDITION_TYPES as T,
  REASONS as R,
  applyDegradedRule,
  findCondition,
  type Condition,
  type DesiredCondition,
  type Reason,
} from './conditions.js';
import type { CompileInput, KollectObjects } from './input.js';
import {
  intersectNamespaces,
  namespacesMatching,
  namespaceUniverse,
  resolveNamespaces,
  type NamespaceUniverse,
} from './namespaces.js';
import {
  inventoryStatusFrom,
  targetStatusFrom,
  type InventoryStatusBasis,
  type StatusBinding,
  type TargetStatusBasis,
} from './runtime-status.js';
import {
  ceilingOf,
  deniedGvk,
  effectiveInterval,
  effectiveScope,
  gvkLabel,
  namespaceViolation,
  pickScope,
  sinkViolation,
  staticRefViolation,
  type EffectiveScope,
} from './scope.js';
import { isSecretsGvr, secretDataUse } from './secret-data.js';
import { matchesLabelSelector, ruleLabelSelector } from './selectors.js';
import { sinkSizeLimit } from './sinks.js';
import type { DesiredStatus, StatusSubject } from './status-model.js';
import { admissionValidator, type ObjectValidator, type ValidationContext } from './validation.js';
import {
  PLAN_SCHEMA_VERSION,
  targetKey,
  type CompiledExport,
  type CompiledInventory,
  type CompiledPlan,
  type CompiledProfile,
  type CompiledRule,
  type CompiledSink,
  type CompiledTarget,
  type Gvk,
  type SinkBinding,
  type TargetFeed,
  type WatchSpec,
} from './types.js';

/** Default inventory export interval (CRD default of `exportMinInterval`). */
export const DEFAULT_EXPORT_INTERVAL_MS = 30_000;
/** A cluster inventory without targets is Degraded `NoTargets` only after this bootstrap window (SEED-SPEC §3.7). */
export const NO_TARGETS_BOOTSTRAP_MS = 5 * 60_000;

/** Output of {@link compilePlan}. */
export interface CompileResult {
  plan: CompiledPlan;
  /** True when the plan content differs from `input.previous` (then `generation` was bumped). */
  changed: boolean;
  /** The status to write for every CR the compiler saw (objects being deleted: inventories only). */
  statuses: DesiredStatus[];
  /** Compile-time facts per inventory (key: `inventoryKey`), for merging runtime reports. */
  inventoryBases: Map<string, InventoryStatusBasis>;
  /** Compile-time facts per target (key: `targetKey`), for merging runtime reports. */
  targetBases: Map<string, TargetStatusBasis>;
}

export interface CompileOptions {
  /** Schema + admission checks per object; defaults to {@link admissionValidator} (crd-types). */
  validator?: ObjectValidator;
}

const TARGET_CONDITIONS = [T.ready, T.synced, T.degraded, T.sinkReachable] as const;
const TARGET_FIELDS = [
  'observedGeneration',
  'matchedNamespaces',
  'effectiveNamespaces',
  'activeResourceRules',
  'extractionFailures',
  'lastExtractionError',
] as const;
const PROFILE_CONDITIONS = [T.ready, T.degraded] as const;

// ---------------------------------------------------------------------------------------------

function meta(o: { metadata?: ObjectMeta }): ObjectMeta {
  return o.metadata ?? {};
}
function subjectOf(kind: KollectKind, o: { metadata?: ObjectMeta }): StatusSubject {
  const m = meta(o);
  return {
    kind,
    namespace: m.namespace ?? '',
    name: m.name ?? '',
    uid: m.uid ?? '',
    generation: m.generation ?? 0,
  };
}
function isDeleting(o: { metadata?: ObjectMeta }): boolean {
  return meta(o).deletionTimestamp !== undefined && meta(o).deletionTimestamp !== null;
}
function nsName(ns: string, name: string): string {
  return `${ns}/${name}`;
}
function cond(
  type: string,
  status: DesiredCondition['status'],
  reason: Reason,
  message: string,
): DesiredCondition {
  return { type, status, reason, message };
}
function degraded(reason: Reason, message: string): DesiredCondition {
  return cond(T.degraded, 'True', reason, message);
}
function byName<T extends { metadata?: ObjectMeta }>(a: T, b: T): number {
  const ka = `${meta(a).namespace ?? ''}/${meta(a).name ?? ''}`;
  const kb = `${meta(b).namespace ?? ''}/${meta(b).name ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
function gvkOf(g: { group?: string | undefined; version: string; kind: string }): Gvk {
  return { group: g.group ?? '', version: g.version, kind: g.kind };
}

/** One GVR a compiled target collects, with the namespaces it needs there. */
interface TargetGvr {
  gvr: Gvr;
  gvk: Gvk;
  namespaced: boolean;
  namespaces: string[] | null;
  /** The target's profile reads Secret data and may (only ever set on core `secrets`). */
  secretData?: boolean;
}

type ProfileResolution =
  { ok: true; profile: CompiledProfile } | { ok: false; reason: Reason; message: string };

/**
 * Compile every Kollect CR into the plan the data plane runs, and the status each CR should
 * carry. A pure function of its input (no I/O, no clock but `input.now`).
 *
 * Semantics: SEED-SPEC §3 (kinds, conditions, reasons), §4.5 step 2 (namespaces), §6.2 (interval
 * precedence), §6.3 (which targets feed which inventory), §7.2 (scopes, exactly), §9.4 (schema
 * and admission re-run here because webhooks may be off). Deliberate differences from orig are
 * noted where they are made.
 */
export function compilePlan(input: CompileInput, options: CompileOptions = {}): CompileResult {
  const validator = options.validator ?? admissionValidator;
  const { settings, discovery } = input;
  const objs: KollectObjects = input.objects;
  const vctx: ValidationContext = {
    tenantMode: settings.tenantMode,
    allowPrivateEndpoints: settings.allowPrivateEndpoints,
    maxExportBytes: settings.maxExportBytes,
  };
  const universe: NamespaceUniverse = namespaceUniverse(input.namespaces, settings.watchNamespaces);
  const defaults = {
    included: settings.defaultIncludedNamespaces,
    excluded: settings.defaultExcludedNamespaces,
  };
  const statuses: DesiredStatus[] = [];
  const inventoryBases = new Map<string, InventoryStatusBasis>();
  const targetBases = new Map<string, TargetStatusBasis>();

  const check = <K extends KollectKind>(kind: K, o: KollectObjectByKind[K]) => validator(kind, o, vctx);

  // --- scopes -------------------------------------------------------------------------------
  const scopesByNs = new Map<string, KollectObjects['scopes'][number][]>();
  for (const s of objs.scopes) {
    const ns = meta(s).namespace ?? '';
    (scopesByNs.get(ns) ?? scopesByNs.set(ns, []).get(ns)!).push(s);
  }
  const scopeCache = new Map<string, EffectiveScope | undefined>();
  const scopeFor = (ns: string): EffectiveScope | undefined => {
    if (!scopeCache.has(ns)) scopeCache.set(ns, effectiveScope(pickScope(scopesByNs.get(ns) ?? [])));
    return scopeCache.get(ns);
  };
  const clusterScope = effectiveScope(pickScope(objs.clusterScopes));

  // --- profiles -----------------------------------------------------------------------------
  const profileObjs = new Map<string, KollectProfile>();
  for (const p of objs.profiles) profileObjs.set(nsName(meta(p).namespace ?? '', meta(p).name ?? ''), p);
  const profileCache = new Map<string, ProfileResolution>();
  /** Profile key → it reads Secret data and carries the annotations that allow it. */
  const secretDataProfiles = new Set<string>();
  const resolveProfile = (ns: string, name: string): ProfileResolution | undefined => {
    const key = nsName(ns, name);
    const obj = profileObjs.get(key);
    if (!obj || isDeleting(obj)) return undefined;
    let r = profileCache.get(key);
    if (!r) {
      r = compileProfile(obj, key);
      profileCache.set(key, r);
    }
    return r;
  };
  function compileProfile(p: KollectProfile, key: string): ProfileResolution {
    const c = check('KollectProfile', p);
    if (!c.ok || !c.value)
      return {
        ok: false,
        reason: R.ProfileInvalid,
        message: `KollectProfile ${key} is invalid: ${c.errors.join('; ')}`,
      };
    const spec = c.value.spec;
    const gvk = gvkOf(spec.targetGVK);
    // Invariant 1: Secret data reaches the bus only for a profile that asks explicitly. Admission
    // already rejects `data` paths and Resource export without their annotation; a `helm:` path
    // passes admission (orig needed the annotation only for `config`) but cannot work without the
    // release in `data`, so the profile is refused here with the fix in the message.
    const sd = secretDataUse(c.value);
    if (sd && !sd.permitted && isCoreSecret(spec.targetGVK)) {
      return {
        ok: false,
        reason: R.SecretDataNotAllowed,
        message: `KollectProfile ${key} reads Secret data (${sd.readers.join('; ')}), which is published only for profiles annotated ${sd.missing.map((a) => `${a}: "true"`).join(' and ')}; add the annotation if exporting it is intended`,
      };
    }
    if (sd?.permitted) secretDataProfiles.add(key);
    const d = discovery(gvk);
    if (!d) {
      return {
        ok: false,
        reason: R.InformerRegistrationFailed,
        message: `KollectProfile ${key}: targetGVK ${gvkLabel(gvk)} is not served by the apiserver (is its CRD installed?)`,
      };
    }
    const ex = spec.export ?? {};
    const exp: CompiledExport = {
      mode: ex.mode ?? 'Attributes',
      as: ex.as ?? 'resource',
      include: ex.include ?? 'SpecAndStatus',
      dedupeIdentity: ex.dedupeIdentity ?? true,
      prune: {
        defaults: ex.prune?.defaults ?? true,
        jsonPointers: [...(ex.prune?.jsonPointers ?? [])],
        jsonPaths: [...(ex.prune?.jsonPaths ?? [])],
        scrubKeys: [...(ex.prune?.scrubKeys ?? [])],
      },
    };
    const attributes = (spec.attributes ?? []).map((a) => ({
      name: a.name,
      path: a.path,
      optional: a.optional ?? false,
      ...(a.type !== undefined ? { type: a.type } : {}),
    }));
    const m = meta(p);
    const profile: CompiledProfile = {
      key,
      namespace: m.namespace ?? '',
      name: m.name ?? '',
      uid: m.uid ?? '',
      generation: m.generation ?? 0,
      gvk,
      gvr: d.gvr,
      namespaced: d.namespaced,
      attributes,
      export: exp,
      metrics: (spec.metrics ?? []).map((x) => ({
        name: x.name,
        path: x.path,
        labels: [...(x.labels ?? [])],
      })),
      hash: '',
    };
    // Everything extraction output depends on — and nothing else (metrics, uid and generation
    // do not change rows), so a no-op edit does not trigger a replay.
    profile.hash = sha256Hex(
      canonicalJson({
        gvk,
        gvr: d.gvr,
        namespaced: d.namespaced,
        attributes: attributes.map((a) => ({ name: a.name, path: a.path, optional: a.optional })),
        export: exp,
        scrubKeys: [...settings.scrubKeys].map((k) => k.toLowerCase()).sort(),
        celCostLimit: settings.celCostLimit,
        celTimeoutMs: settings.celTimeoutMs,
      }),
    );
    return { ok: true, profile };
  }

  // --- sinks --------------------------------------------------------------------------------
  type SinkObj =
    | KollectObjects['snapshotSinks'][number]
    | KollectObjects['databaseSinks'][number]
    | KollectObjects['eventSinks'][number];
  interface SinkResolution {
    obj: SinkObj;
    ok: boolean;
    errors: string[];
    compiled?: CompiledSink;
  }
  const sinkObjs = new Map<string, SinkObj>();
  const familySinks: Record<SinkFamily, readonly SinkObj[]> = {
    snapshot: objs.snapshotSinks,
    database: objs.databaseSinks,
    event: objs.eventSinks,
  };
  for (const family of SINK_FAMILIES) {
    for (const s of familySinks[family])
      sinkObjs.set(sinkKey({ family, namespace: meta(s).namespace ?? '', name: meta(s).name ?? '' }), s);
  }
  const sinkCache = new Map<string, SinkResolution>();
  const resolveSink = (family: SinkFamily, ns: string, name: string): SinkResolution | undefined => {
    const key = sinkKey({ family, namespace: ns, name });
    const obj = sinkObjs.get(key);
    if (!obj || isDeleting(obj)) return undefined;
    let r = sinkCache.get(key);
    if (!r) {
      const kind = SINK_KINDS[family];
      const c = check(kind, obj as never) as { ok: boolean; errors: string[]; value?: SinkObj };
      if (!c.ok || !c.value) r = { obj, ok: false, errors: c.errors };
      else {
        const m = meta(obj);
        const spec = c.value.spec as unknown as Record<string, unknown>;
        r = {
          obj,
          ok: true,
          errors: [],
          compiled: {
            ref: { family, namespace: ns, name },
            uid: m.uid ?? '',
            generation: m.generation ?? 0,
            type: String(spec['type'] ?? ''),
            spec: structuredClone(spec),
          },
        };
      }
      sinkCache.set(key, r);
    }
    return r;
  };
  const boundSinks = new Map<string, CompiledSink>();

  // --- targets ------------------------------------------------------------------------------
  const compiledTargets: CompiledTarget[] = [];
  const targetGvrs = new Map<string, TargetGvr[]>();
  /** Cluster targets: name → compiled (only those in the plan). */
  const clusterTargetsInPlan = new Map<string, CompiledTarget>();
  const targetStatusParts = new Map<
    string,
    {
      subject: StatusSubject;
      conditions: DesiredCondition[];
      fields: Record<string, unknown>;
      active: boolean;
      fingerprint: string;
      gvrs: Gvr[];
      scopes: TargetStatusBasis['scopes'];
    }
  >();

  interface RuleInput {
    gvk: { group?: string | undefined; version: string; kind: string };
    namespaceSelector?: CompiledRule['labelSelector'];
    matchLabels?: Record<string, string>;
    matchExpressions?: NonNullable<CompiledRule['labelSelector']>['matchExpressions'];
    matchPolicy?: string;
  }

  /** Shared target logic after kind-specific checks; returns the compiled target or a degraded condition. */
  function finishTarget(
    kind: CompiledTarget['kind'],
    obj: KollectTarget | KollectClusterTarget,
    spec: KollectTarget['spec'] | KollectClusterTarget['spec'],
    profile: CompiledProfile,
    scope: EffectiveScope | undefined,
    fields: Record<string, unknown>,
  ): { ok: true; target: CompiledTarget; gvrs: TargetGvr[] } | { ok: false; condition: DesiredCondition } {
    const m = meta(obj);
    const ownNs = kind === 'KollectTarget' ? (m.namespace ?? '') : '';
    const rules = (spec.resourceRules ?? []) as RuleInput[];
    // SEED-SPEC §7.2 (orig CollectRuleGVKs): the rule GVKs when rules exist, else the profile GVK.
    const gvks = rules.length > 0 ? rules.map((r) => gvkOf(r.gvk)) : [profile.gvk];
    const denied = deniedGvk(scope, gvks);
    if (denied && scope) {
      return {
        ok: false,
        condition: degraded(
          R.ScopeGVKDenied,
          `target GVK ${gvkLabel(denied)} is not in ${scope.kind} "${scope.name}" allowedGVKs`,
        ),
      };
    }
    const compiledRules: CompiledRule[] = [];
    for (const [i, r] of rules.entries()) {
      const gvk = gvkOf(r.gvk);
      const d = discovery(gvk);
      if (!d) {
        return {
          ok: false,
          condition: degraded(
            R.InformerRegistrationFailed,
            `resourceRules[${i}].gvk ${gvkLabel(gvk)} is not served by the apiserver (is its CRD installed?)`,
          ),
        };
      }
      const labelSelector = ruleLabelSelector(r.matchLabels, r.matchExpressions);
      compiledRules.push({
        gvr: d.gvr,
        gvk,
        namespaces: r.namespaceSelector ? namespacesMatching(r.namespaceSelector, universe) : null,
        ...(labelSelector ? { labelSelector } : {}),
        ...(r.matchPolicy !== undefined && r.matchPolicy.trim() !== '' ? { matchPolicy: r.matchPolicy } : {}),
      });
    }

    const resolved = resolveNamespaces(spec, universe, defaults, ceilingOf(scope));
    fields['matchedNamespaces'] = resolved.matched;
    fields['effectiveNamespaces'] = resolved.unrestricted
      ? universe.list.map((n) => n.name)
      : resolved.effective;
    // SEED-SPEC §7.2: the intent namespaces (or, when the intent matches nothing, the target's
    // own namespace) must all lie inside the ceiling; otherwise the target does not register.
    const checked = resolved.matched.length > 0 ? resolved.matched : ownNs ? [ownNs] : [];
    const violation = namespaceViolation(scope, checked);
    if (violation) return { ok: false, condition: degraded(R.ScopeNamespaceDenied, violation) };

    const namespaces = resolved.unrestricted ? null : resolved.effective;
    const legacy = compiledRules.length === 0;
    const tspec = spec as KollectTarget['spec'];
    const target: CompiledTarget = {
      kind,
      namespace: ownNs,
      name: m.name ?? '',
      uid: m.uid ?? '',
      generation: m.generation ?? 0,
      profileKey: profile.key,
      namespaces,
      rules: compiledRules,
      ...(legacy && kind === 'KollectTarget' && tspec.labelSelector
        ? { labelSelector: structuredClone(tspec.labelSelector) }
        : {}),
      ...(legacy && kind === 'KollectTarget' && tspec.names?.length ? { names: [...tspec.names] } : {}),
      watchMode: kind === 'KollectTarget' ? (tspec.watchMode ?? 'All') : 'All',
      feeds: [],
    };
    // Secret data is kept only on the Secret watch of a permitted profile's target, in its namespaces.
    const readsSecretData = secretDataProfiles.has(profile.key);
    const gvrs: TargetGvr[] = legacy
      ? [{ gvr: profile.gvr, gvk: profile.gvk, namespaced: profile.namespaced, namespaces }]
      : compiledRules.map((r) => {
          const d = discovery(r.gvk)!;
          return {
            gvr: r.gvr,
            gvk: r.gvk,
            namespaced: d.namespaced,
            namespaces: intersectNamespaces(namespaces, r.namespaces),
          };
        });
    for (const g of gvrs) if (readsSecretData && isSecretsGvr(g.gvr)) g.secretData = true;
    return { ok: true, target, gvrs };
  }

  const kindsInScope = (gvrs: { gvk: Gvk }[]): string =>
    [...new Set(gvrs.map((g) => gvkLabel(g.gvk)))].join(', ');

  /**
   * The part both target kinds share once their own checks passed: resolve the profile (`ref`
   * names it for messages), check rules, namespaces and scope (`finishTarget`), and record the
   * target in the plan (Ready/Synced `Collecting`) or its one Degraded condition.
   */
  function registerTarget(
    kind: CompiledTarget['kind'],
    t: KollectTarget | KollectClusterTarget,
    spec: KollectTarget['spec'] | KollectClusterTarget['spec'],
    profileRef: { namespace: string; name: string; label: string },
    scope: EffectiveScope | undefined,
    subject: StatusSubject,
    fields: Record<string, unknown>,
  ): CompiledTarget | undefined {
    const key = targetKey({
      kind,
      namespace: kind === 'KollectTarget' ? subject.namespace : '',
      name: subject.name,
    });
    const pr = resolveProfile(profileRef.namespace, profileRef.name);
    if (!pr) {
      const missing = `KollectProfile "${profileRef.name}" not found in namespace "${profileRef.namespace}"`;
      targetFailed(key, subject, fields, degraded(R.ProfileNotFound, missing));
      return undefined;
    }
    if (!pr.ok) {
      targetFailed(key, subject, fields, degraded(pr.reason, pr.message));
      return undefined;
    }
    const profile = pr.profile;
    const r = finishTarget(kind, t, spec, profile, scope, fields);
    if (!r.ok) {
      targetFailed(key, subject, fields, r.condition);
      return undefined;
    }
    compiledTargets.push(r.target);
    targetGvrs.set(key, r.gvrs);
    const n = r.target.namespaces?.length;
    // Cluster targets count the namespaces they run in; a namespaced target may run everywhere.
    const where =
      kind === 'KollectClusterTarget'
        ? `${n ?? universe.list.length} namespace(s)`
        : n === undefined
          ? 'every namespace'
          : `${n} namespace(s)`;
    targetStatusParts.set(key, {
      subject,
      conditions: [
        cond(
          T.ready,
          'True',
          R.Collecting,
          `profileRef "${profileRef.label}" resolved; collecting ${kindsInScope(r.gvrs)} in ${where}`,
        ),
        cond(T.synced, 'True', R.Collecting, `collecting ${kindsInScope(r.gvrs)} in ${where}`),
      ],
      fields,
      active: true,
      fingerprint: `${subject.generation}:${profile.hash}`,
      gvrs: r.gvrs.map((g) => g.gvr),
      scopes: r.gvrs.map((g) => ({ gvr: g.gvr, namespaces: g.namespaces })),
    });
    return r.target;
  }

  /** A target that does not collect, with the one Degraded condition that says why. */
  function targetFailed(
    key: string,
    subject: StatusSubject,
    fields: Record<string, unknown>,
    c: DesiredCondition,
  ): void {
    targetStatusParts.set(key, {
      subject,
      conditions: [c],
      fields,
      active: false,
      fingerprint: '',
      gvrs: [],
      scopes: [],
    });
  }

  for (const t of [...objs.targets].sort(byName)) {
    if (isDeleting(t)) continue;
    const subject = subjectOf('KollectTarget', t);
    const fields: Record<string, unknown> = { observedGeneration: subject.generation };
    const key = targetKey({ kind: 'KollectTarget', namespace: subject.namespace, name: subject.name });
    const fail = (c: DesiredCondition): void => targetFailed(key, subject, fields, c);
    const profileRef = (t.spec as Partial<KollectTarget['spec']> | undefined)?.profileRef;
    if (t.spec?.suspend) {
      fail(degraded(R.Suspended, 'target is suspended: nothing is collected and its rows are removed'));
      continue;
    }
    if (!profileRef) {
      fail(
        degraded(R.MissingProfileRef, 'spec.profileRef is required: name a KollectProfile in this namespace'),
      );
      continue;
    }
    const c = check('KollectTarget', t);
    if (!c.ok || !c.value) {
      fail(degraded(R.InvalidSpec, `invalid spec: ${c.errors.join('; ')}`));
      continue;
    }
    const spec = c.value.spec;
    fields['activeResourceRules'] = spec.resourceRules?.length ?? 0;
    registerTarget(
      'KollectTarget',
      t,
      spec,
      { namespace: subject.namespace, name: spec.profileRef, label: spec.profileRef },
      scopeFor(subject.namespace),
      subject,
      fields,
    );
  }

  for (const t of [...objs.clusterTargets].sort(byName)) {
    if (isDeleting(t)) continue;
    const subject = subjectOf('KollectClusterTarget', t);
    const fields: Record<string, unknown> = { observedGeneration: subject.generation };
    const key = targetKey({ kind: 'KollectClusterTarget', namespace: '', name: subject.name });
    const fail = (c: DesiredCondition): void => targetFailed(key, subject, fields, c);
    if (settings.tenantMode) {
      fail(
        degraded(
          R.TenantModeForbidden,
          'cluster-scoped kinds are not available while the operator runs in tenant mode',
        ),
      );
      continue;
    }
    if (t.spec?.suspend) {
      fail(
        degraded(R.Suspended, 'cluster target is suspended: nothing is collected and its rows are removed'),
      );
      continue;
    }
    const c = check('KollectClusterTarget', t);
    if (!c.ok || !c.value) {
      fail(degraded(R.InvalidSpec, `invalid spec: ${c.errors.join('; ')}`));
      continue;
    }
    const spec = c.value.spec;
    fields['activeResourceRules'] = spec.resourceRules?.length ?? 0;
    const refViolation = staticRefViolation(clusterScope, 'profileRef', spec.profileRef.namespace);
    if (refViolation) {
      fail(degraded(R.ProfileForbidden, refViolation));
      continue;
    }
    const { namespace, name } = spec.profileRef;
    const compiled = registerTarget(
      'KollectClusterTarget',
      t,
      spec,
      { namespace, name, label: `${namespace}/${name}` },
      clusterScope,
      subject,
      fields,
    );
    if (compiled) clusterTargetsInPlan.set(subject.name, compiled);
  }

  // --- inventories --------------------------------------------------------------------------
  const compiledInventories: CompiledInventory[] = [];
  /** Namespace → outcome of every ref of the live inventories there (for the targets' SinkReachable). */
  const sinkHealthByNs = new Map<string, { missing: string[]; unreachable: string[]; count: number }>();

  interface RefOutcome {
    family: SinkFamily;
    ref: InventorySinkRef;
    namespace: string;
    denied?: string;
    missing?: boolean;
    invalid?: string;
    sink?: CompiledSink;
    connection?: Condition;
  }

  function resolveRefs(
    spec: { snapshotSinkRefs?: unknown; databaseSinkRefs?: unknown; eventSinkRefs?: unknown },
    nsFor: (ref: InventorySinkRef) => string,
    scope: EffectiveScope | undefined,
    staticRefs: boolean,
  ): RefOutcome[] {
    const out: RefOutcome[] = [];
    for (const family of SINK_FAMILIES) {
      const list = normalizeSinkRefs(
        spec[SINK_REF_FIELDS[family]] as InventorySinkRefListEntry[] | undefined,
      );
      for (const ref of list) {
        const namespace = nsFor(ref);
        const o: RefOutcome = { family, ref, namespace };
        const denied =
          (staticRefs
            ? staticRefViolation(scope, `${family} sink ref "${ref.name}"`, namespace)
            : undefined) ?? sinkViolation(scope, family, ref.name);
        if (denied) o.denied = denied;
        const s = resolveSink(family, namespace, ref.name);
        if (!s) o.missing = true;
        else if (!s.ok) o.invalid = s.errors.join('; ');
        else {
          o.sink = s.compiled!;
          const cv = findCondition(
            (s.obj.status as { conditions?: Condition[] } | undefined)?.conditions,
            'ConnectionVerified',
          );
          if (cv) o.connection = cv;
        }
        out.push(o);
      }
    }
    return out;
  }

  /** The compile-time Degraded reason of a ref list, in precedence order (scope before existence). */
  function refProblem(refs: RefOutcome[]): DesiredCondition | undefined {
    const denied = refs.filter((r) => r.denied);
    if (denied.length) return degraded(R.ScopeSinkDenied, denied.map((r) => r.denied).join('; '));
    const missing = refs.filter((r) => r.missing);
    if (missing.length)
      return degraded(
        R.SinkNotFound,
        missing
          .map((r) => `${SINK_KINDS[r.family]} "${r.ref.name}" not found in namespace "${r.namespace}"`)
          .join('; '),
      );
    const invalid = refs.filter((r) => r.invalid);
    if (invalid.length)
      return degraded(
        R.SinkInvalid,
        invalid
          .map((r) => `${SINK_KINDS[r.family]} ${r.namespace}/${r.ref.name} is invalid: ${r.invalid}`)
          .join('; '),
      );
    return undefined;
  }

  function preExportReachable(refs: RefOutcome[]): DesiredCondition {
    if (refs.length === 0) return cond(T.sinkReachable, 'True', R.NoSinksConfigured, 'no sink refs');
    const missing = refs.filter((r) => r.missing || r.invalid || r.denied);
    if (missing.length)
      return cond(
        T.sinkReachable,
        'False',
        R.SinkNotFound,
        `unresolved sink refs: ${missing.map((r) => `${r.family}/${r.ref.name}`).join(', ')}`,
      );
    const down = refs.filter((r) => r.connection?.status === 'False');
    // rec (SEED-SPEC §9.2): a sink whose probe failed is reported here but does not block the others.
    if (down.length)
      return cond(
        T.sinkReachable,
        'False',
        R.SinkUnreachable,
        down
          .map((r) => `${r.family}/${r.ref.name}: ${r.connection?.message || 'connection not verified'}`)
          .join('; '),
      );
    if (refs.every((r) => r.connection?.status === 'True'))
      return cond(T.sinkReachable, 'True', R.ConnectionVerified, `${refs.length} sink(s) verified`);
    return cond(T.sinkReachable, 'True', R.SinkResolved, `${refs.length} sink(s) resolved`);
  }

  function bindingsOf(
    refs: RefOutcome[],
    inventoryInterval: string | undefined,
    scope: EffectiveScope | undefined,
    bytes: (r: RefOutcome) => number,
  ): SinkBinding[] {
    const out: SinkBinding[] = [];
    for (const r of refs) {
      if (r.denied || !r.sink) continue;
      boundSinks.set(sinkKey(r.sink.ref), r.sink);
      out.push({
        sink: r.sink.ref,
        type: r.sink.type,
        exportMinIntervalMs: effectiveInterval(
          r.ref.exportMinInterval,
          r.sink.spec['exportMinInterval'] as string | undefined,
          inventoryInterval,
          scope,
        ),
        maxExportBytes: Math.min(bytes(r), settings.maxExportBytes),
      });
    }
    return out;
  }

  const statusBindings = (bindings: SinkBinding[]): StatusBinding[] =>
    bindings.map((b) => ({
      family: b.sink.family,
      name: b.sink.name,
      namespace: b.sink.namespace,
      key: sinkKey(b.sink),
      type: b.type,
    }));
  const sizeLimited = (bindings: SinkBinding[]): boolean =>
    bindings.some((b) => {
      const s = boundSinks.get(sinkKey(b.sink));
      return s !== undefined && sinkSizeLimit(s, b.maxExportBytes) !== undefined;
    });

  for (const inv of [...objs.inventories].sort(byName)) {
    const subject = subjectOf('KollectInventory', inv);
    const ref: InventoryRef = { kind: 'KollectInventory', namespace: subject.namespace, name: subject.name };
    const deleting = isDeleting(inv);
    if (deleting && !(meta(inv).finalizers ?? []).includes(FINALIZERS.inventory)) continue;
    const c = check('KollectInventory', inv);
    const spec = (c.value?.spec ?? inv.spec ?? {}) as KollectInventory['spec'];
    const scope = scopeFor(subject.namespace);
    const refs = c.ok ? resolveRefs(spec, () => subject.namespace, scope, false) : [];
    let bindings = bindingsOf(
      refs,
      spec.exportMinInterval,
      scope,
      (r) => r.ref.maxExportBytes ?? spec.maxExportBytes ?? settings.maxExportBytes,
    );
    let problem: DesiredCondition | undefined;
    if (!c.ok) problem = degraded(R.InvalidSpec, `invalid spec: ${c.errors.join('; ')}`);
    else if (spec.suspend)
      problem = degraded(R.Suspended, 'inventory is suspended: rows are kept, nothing is exported');
    else problem = refProblem(refs);
    if (deleting) bindings = bindings.filter((b) => b.sink.family === 'database');

    const targets = deleting
      ? []
      : compiledTargets.filter((t) => t.kind === 'KollectTarget' && t.namespace === subject.namespace);
    const compiled: CompiledInventory = {
      ref,
      uid: subject.uid,
      generation: subject.generation,
      partition: partitionOf(ref, settings.partitions),
      targets: targets.map(targetKey),
      dedupe: 'keepAll',
      gvrs: gvrsOf(targets.map(targetKey)),
      exportMinIntervalMs: effectiveInterval(undefined, undefined, spec.exportMinInterval, scope),
      bindings,
      ...(problem && !deleting ? { hold: { reason: problem.reason, message: problem.message } } : {}),
      ...(deleting ? { deleting: true as const } : {}),
    };
    compiledInventories.push(compiled);
    if (!deleting) {
      const h = sinkHealthByNs.get(subject.namespace) ?? { missing: [], unreachable: [], count: 0 };
      for (const r of refs) {
        h.count++;
        if (r.missing || r.invalid) h.missing.push(`${r.family}/${r.ref.name}`);
        else if (r.connection?.status === 'False') h.unreachable.push(`${r.family}/${r.ref.name}`);
      }
      sinkHealthByNs.set(subject.namespace, h);
    }
    inventoryBases.set(inventoryKey(ref), {
      subject,
      kind: 'KollectInventory',
      ...(problem ? { degraded: problem } : {}),
      preExportReachable: preExportReachable(refs),
      bindings: statusBindings(bindings),
      sizeLimited: sizeLimited(bindings),
      deleting,
    });
  }

  for (const inv of [...objs.clusterInventories].sort(byName)) {
    const subject = subjectOf('KollectClusterInventory', inv);
    const ref: InventoryRef = { kind: 'KollectClusterInventory', namespace: '', name: subject.name };
    const deleting = isDeleting(inv);
    if (deleting && !(meta(inv).finalizers ?? []).includes(FINALIZERS.clusterInventory)) continue;
    const c = check('KollectClusterInventory', inv);
    const spec = (c.value?.spec ?? inv.spec ?? {}) as KollectClusterInventory['spec'];
    const sinkNs = spec.sinkNamespace ?? DEFAULT_SINK_NAMESPACE;
    const refs =
      c.ok && !settings.tenantMode ? resolveRefs(spec, (r) => r.namespace ?? sinkNs, clusterScope, true) : [];
    let bindings = bindingsOf(
      refs,
      spec.exportMinInterval,
      clusterScope,
      // SEED-SPEC §3.7: no spec-level maxExportBytes; each ref gets the global cap unless it overrides it.
      (r) => r.ref.maxExportBytes ?? settings.maxExportBytes,
    );
    let problem: DesiredCondition | undefined;
    let waiting: DesiredCondition | undefined;
    if (settings.tenantMode)
      problem = degraded(
        R.TenantModeForbidden,
        'cluster-scoped kinds are not available while the operator runs in tenant mode',
      );
    else if (!c.ok) problem = degraded(R.InvalidSpec, `invalid spec: ${c.errors.join('; ')}`);
    else if (spec.suspend)
      problem = degraded(R.Suspended, 'cluster inventory is suspended: rows are kept, nothing is exported');
    else if (spec.profileRef && staticRefViolation(clusterScope, 'profileRef', spec.profileRef.namespace)) {
      problem = degraded(
        R.ProfileForbidden,
        staticRefViolation(clusterScope, 'profileRef', spec.profileRef.namespace)!,
      );
    } else problem = refProblem(refs);
    if (deleting) bindings = bindings.filter((b) => b.sink.family === 'database');

    // SEED-SPEC §6.3: namespaces = `namespaces` ∩ `namespaceSelector`; targets = targetRefs, else
    // targetSelector, else all; keep those whose namespaces intersect.
    let invNamespaces: string[];
    const feeding: { target: CompiledTarget; namespaces: string[] | null }[] = [];
    const notReady: string[] = [];
    if (c.ok && !settings.tenantMode) {
      invNamespaces = namespacesMatching(spec.namespaceSelector, universe);
      if (spec.namespaces?.length) {
        const explicit = new Set(spec.namespaces);
        invNamespaces = invNamespaces.filter((n) => explicit.has(n));
      }
      const selectedNames: string[] = spec.targetRefs?.length
        ? [...spec.targetRefs]
        : objs.clusterTargets
            .filter((t) => !isDeleting(t) && matchesLabelSelector(spec.targetSelector, meta(t).labels))
            .map((t) => meta(t).name ?? '');
      for (const name of [...new Set(selectedNames)].sort()) {
        const t = clusterTargetsInPlan.get(name);
        if (!t) {
          const exists = objs.clusterTargets.some((x) => meta(x).name === name && !isDeleting(x));
          notReady.push(
            exists
              ? `KollectClusterTarget "${name}" is not collecting (see its status)`
              : `KollectClusterTarget "${name}" not found`,
          );
          continue;
        }
        const ns = intersectNamespaces(t.namespaces, invNamespaces);
        if (ns !== null && ns.length === 0) continue;
        feeding.push({ target: t, namespaces: ns });
      }
      if (!problem && notReady.length) problem = degraded(R.TargetDegraded, notReady.join('; '));
      if (!problem && feeding.length === 0) {
        const created = Date.parse(meta(inv).creationTimestamp ?? '');
        const age = Number.isFinite(created) ? input.now.getTime() - created : Number.POSITIVE_INFINITY;
        if (age >= NO_TARGETS_BOOTSTRAP_MS)
          problem = degraded(
            R.NoTargets,
            'no KollectClusterTarget selected by this inventory collects in its namespaces',
          );
        else
          waiting = cond(
            T.synced,
            'False',
            R.Progressing,
            `waiting for cluster targets (Degraded NoTargets after a ${NO_TARGETS_BOOTSTRAP_MS / 60_000}m bootstrap window)`,
          );
      }
    }
    // TargetDegraded and NoTargets report; they do not hold exports (the roll-up of the healthy
    // targets is still the truth). Hold only for the reasons that forbid exporting.
    const holdReasons: Reason[] = [
      R.TenantModeForbidden,
      R.InvalidSpec,
      R.Suspended,
      R.ProfileForbidden,
      R.ScopeSinkDenied,
      R.SinkNotFound,
      R.SinkInvalid,
    ];
    const hold =
      problem && holdReasons.includes(problem.reason) && !deleting
        ? { hold: { reason: problem.reason, message: problem.message } }
        : {};
    if (!deleting) {
      for (const f of feeding) {
        f.target.feeds.push({
          inventory: ref,
          partition: partitionOf(ref, settings.partitions),
          namespaces: f.namespaces,
        });
      }
    }
    const targetKeys = deleting ? [] : feeding.map((f) => targetKey(f.target));
    const compiled: CompiledInventory = {
      ref,
      uid: subject.uid,
      generation: subject.generation,
      partition: partitionOf(ref, settings.partitions),
      targets: targetKeys,
      dedupe: spec.dedupe ?? 'keepAll',
      gvrs: gvrsOf(targetKeys),
      exportMinIntervalMs: effectiveInterval(undefined, undefined, spec.exportMinInterval, clusterScope),
      bindings,
      ...hold,
      ...(deleting ? { deleting: true as const } : {}),
    };
    compiledInventories.push(compiled);
    inventoryBases.set(inventoryKey(ref), {
      subject,
      kind: 'KollectClusterInventory',
      ...(problem ? { degraded: problem } : {}),
      ...(waiting ? { waiting } : {}),
      preExportReachable: preExportReachable(refs),
      bindings: statusBindings(bindings),
      sizeLimited: sizeLimited(bindings),
      targetCount: feeding.length,
      deleting,
    });
  }

  // Namespaced targets feed every (non-deleting) inventory of their namespace (SEED-SPEC §6.3,
  // §15.5). Cluster-target rows feed only cluster inventories (rec: kept apart, unlike orig).
  const invByNs = new Map<string, CompiledInventory[]>();
  for (const inv of compiledInventories) {
    if (inv.ref.kind !== 'KollectInventory' || inv.deleting) continue;
    (invByNs.get(inv.ref.namespace) ?? invByNs.set(inv.ref.namespace, []).get(inv.ref.namespace)!).push(inv);
  }
  for (const t of compiledTargets) {
    if (t.kind !== 'KollectTarget') continue;
    t.feeds = (invByNs.get(t.namespace) ?? []).map((inv): TargetFeed => ({
      inventory: inv.ref,
      partition: inv.partition,
      namespaces: null,
    }));
  }
  for (const t of compiledTargets)
    t.feeds.sort((a, b) => cmp(inventoryKey(a.inventory), inventoryKey(b.inventory)));

  function gvrsOf(keys: readonly string[]): Gvr[] {
    const seen = new Map<string, Gvr>();
    for (const k of keys) for (const g of targetGvrs.get(k) ?? []) seen.set(gvrString(g.gvr), g.gvr);
    return [...seen.entries()].sort((a, b) => cmp(a[0], b[0])).map(([, g]) => g);
  }

  // --- watches ------------------------------------------------------------------------------
  // Union per GVR in a set (null = cluster-wide absorbs everything), sorted once at the end.
  const watchMap = new Map<
    string,
    {
      spec: Pick<WatchSpec, 'gvr' | 'gvk' | 'namespaced'>;
      all: boolean;
      namespaces: Set<string>;
      /** Secret data: wanted in every namespace of the watch / in these namespaces. */
      dataAll: boolean;
      dataNamespaces: Set<string>;
    }
  >();
  for (const t of compiledTargets) {
    for (const g of targetGvrs.get(targetKey(t)) ?? []) {
      const k = gvrString(g.gvr);
      // Cluster-scoped kinds are always watched cluster-wide; a bounded operator never watches
      // cluster-wide for namespaced kinds (it may lack the RBAC).
      let needed = g.namespaced ? g.namespaces : null;
      if (g.namespaced && needed === null && universe.bounded) needed = universe.list.map((n) => n.name);
      let w = watchMap.get(k);
      if (!w)
        watchMap.set(
          k,
          (w = {
            spec: { gvr: g.gvr, gvk: g.gvk, namespaced: g.namespaced },
            all: false,
            namespaces: new Set(),
            dataAll: false,
            dataNamespaces: new Set(),
          }),
        );
      if (needed === null) w.all = true;
      else if (!w.all) for (const n of needed) w.namespaces.add(n);
      if (g.secretData) {
        if (needed === null) w.dataAll = true;
        else for (const n of needed) w.dataNamespaces.add(n);
      }
    }
  }
  const watches: WatchSpec[] = [...watchMap.entries()]
    .sort((a, b) => cmp(a[0], b[0]))
    .map(([, w]) => {
      const spec: WatchSpec = { ...w.spec, namespaces: w.all ? null : [...w.namespaces].sort(cmp) };
      // A Secret watch shared by permitted and other targets keeps data only in the permitted
      // targets' namespaces; the watcher strips it from every other object of the watch.
      const dataEverywhere = w.dataAll || (!w.all && [...w.namespaces].every((n) => w.dataNamespaces.has(n)));
      if (w.dataAll || w.dataNamespaces.size > 0) {
        if (dataEverywhere) spec.allowSecretData = true;
        else spec.secretDataNamespaces = [...w.dataNamespaces].sort(cmp);
      }
      return spec;
    });

  // --- namespace watch labels ---------------------------------------------------------------
  const namespaceWatch: Record<string, 'enabled' | 'disabled'> = {};
  for (const ns of universe.list) {
    const values = [ns.labels['kollect.dev/watch'], ns.annotations['kollect.dev/namespace-watch']];
    if (values.includes('disabled')) namespaceWatch[ns.name] = 'disabled';
    else if (values.includes('enabled')) namespaceWatch[ns.name] = 'enabled';
  }

  // --- profiles in the plan: those some compiled target uses ---------------------------------
  const profiles: Record<string, CompiledProfile> = {};
  for (const key of [...new Set(compiledTargets.map((t) => t.profileKey))].sort()) {
    const r = profileCache.get(key);
    if (r?.ok) profiles[key] = r.profile;
  }

  compiledTargets.sort((a, b) => cmp(targetKey(a), targetKey(b)));
  compiledInventories.sort((a, b) => cmp(inventoryKey(a.ref), inventoryKey(b.ref)));
  const sinks = [...boundSinks.entries()].sort((a, b) => cmp(a[0], b[0])).map(([, s]) => s);

  const body = {
    settings: {
      cluster: settings.cluster,
      partitions: settings.partitions,
      maxExportBytes: settings.maxExportBytes,
      scrubKeys: [...settings.scrubKeys],
      celCostLimit: settings.celCostLimit,
      celTimeoutMs: settings.celTimeoutMs,
    },
    watches,
    profiles,
    targets: compiledTargets,
    inventories: compiledInventories,
    sinks,
    namespaceWatch,
  };
  const prev = input.previous;
  const bodyDigest = canonicalJson(body);
  const same = prev !== undefined && planBodyDigest(prev) === bodyDigest;
  const plan: CompiledPlan = {
    schemaVersion: PLAN_SCHEMA_VERSION,
    generation: same ? prev.generation : (prev?.generation ?? 0) + 1,
    compiledAt: same ? prev.compiledAt : input.now.toISOString(),
    ...body,
  };
  digests.set(plan, bodyDigest);

  // --- statuses -----------------------------------------------------------------------------
  for (const p of [...objs.profiles].sort(byName)) {
    if (isDeleting(p)) continue;
    const subject = subjectOf('KollectProfile', p);
    const r = resolveProfile(subject.namespace, subject.name);
    const conditions: DesiredCondition[] = !r
      ? []
      : r.ok
        ? [
            cond(
              T.ready,
              'True',
              R.Resolved,
              `targetGVK ${gvkLabel(r.profile.gvk)} is served as ${gvrString(r.profile.gvr)}`,
            ),
          ]
        : [degraded(r.reason === R.ProfileInvalid ? R.InvalidSpec : r.reason, r.message)];
    statuses.push({
      subject,
      conditions: applyDegradedRule(conditions),
      ownedConditionTypes: PROFILE_CONDITIONS,
      fields: { observedGeneration: subject.generation },
      ownedFields: ['observedGeneration'],
    });
  }

  for (const [key, part] of targetStatusParts) {
    const conditions = [...part.conditions];
    if (part.subject.kind === 'KollectTarget') {
      const h = sinkHealthByNs.get(part.subject.namespace);
      // The target reports the sinks of its namespace's inventories (SEED-SPEC §3.4) but is not
      // degraded by them: a sink problem stops exports, never collection (deliberate, vs orig).
      if (!h || h.count === 0)
        conditions.push(
          cond(T.sinkReachable, 'True', R.NoSinksConfigured, 'no inventory in this namespace binds a sink'),
        );
      else if (h.missing.length)
        conditions.push(
          cond(
            T.sinkReachable,
            'False',
            R.SinkNotFound,
            `unresolved sink refs: ${[...new Set(h.missing)].join(', ')}`,
          ),
        );
      else if (h.unreachable.length)
        conditions.push(
          cond(
            T.sinkReachable,
            'False',
            R.SinkUnreachable,
            `connection not verified: ${[...new Set(h.unreachable)].join(', ')}`,
          ),
        );
      else
        conditions.push(cond(T.sinkReachable, 'True', R.SinksReachable, `${h.count} sink ref(s) resolved`));
    }
    const status: DesiredStatus = {
      subject: part.subject,
      conditions: applyDegradedRule(conditions),
      ownedConditionTypes: TARGET_CONDITIONS,
      fields: part.fields,
      ownedFields: TARGET_FIELDS,
    };
    const basis: TargetStatusBasis = {
      subject: part.subject,
      status,
      active: part.active,
      gvrs: part.gvrs,
      ...(part.scopes ? { scopes: part.scopes } : {}),
      fingerprint: part.fingerprint,
    };
    targetBases.set(key, basis);
    statuses.push(targetStatusFrom(basis, undefined, new Map()));
  }

  for (const basis of inventoryBases.values())
    statuses.push(inventoryStatusFrom(basis, new Map(), undefined));

  for (const family of SINK_FAMILIES) {
    for (const s of [...familySinks[family]].sort(byName)) {
      if (isDeleting(s)) continue;
      const subject = subjectOf(SINK_KINDS[family], s);
      const tls = (s.spec as { tls?: { insecureSkipVerify?: boolean } } | undefined)?.tls;
      const conditions = tls?.insecureSkipVerify
        ? [
            cond(
              T.tlsInsecure,
              'True',
              R.TLSInsecure,
              'TLS certificate verification is disabled (tls.insecureSkipVerify)',
            ),
          ]
        : [];
      // Sinks: the controller owns only TLSInsecure; ConnectionVerified/Degraded belong to the prober.
      statuses.push({
        subject,
        conditions,
        ownedConditionTypes: [T.tlsInsecure],
        fields: {},
        ownedFields: [],
      });
    }
  }

  return { plan, changed: !same, statuses, inventoryBases, targetBases };
}

/** Canonical JSON of everything in a plan except `generation` and `compiledAt`. */
const digests = new WeakMap<CompiledPlan, string>();
function planBodyDigest(p: CompiledPlan): string {
  // The previous plan is usually the one this process compiled last time: digest it once.
  let d = digests.get(p);
  if (d === undefined) {
    const { schemaVersion: _s, generation: _g, compiledAt: _c, ...body } = p;
    d = canonicalJson(body);
    digests.set(p, d);
  }
  return d;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
