import { type CelFailureKind, type CelInput, toCelInput } from '@kollect/cel';
import {
  BUS_SCHEMA_VERSION,
  type ErrorClass,
  type Item,
  type KollectError,
  type ObjectMessage,
  type RowKey,
  type RowMessage,
  type TargetRef,
  gvrString,
} from '@kollect/contracts';
import { type CompiledTarget, matchesLabelSelector } from '@kollect/plan';
import type { ExtractionPlan, ProfileExtraction, TargetExtraction } from './compile.js';
import { ExtractionCrashed, HelmReleaseUnreadable, JsonPathFailed, ObjectMessageInvalid } from './errors.js';
import { decodeHelmRelease, readHelmField } from './helm.js';
import { evaluateJsonPath } from './jsonpath.js';
import { gateNamespace, labelsOf, watchVerdict } from './match.js';
import { setMember } from './redact.js';
import { exportResource } from './resource.js';

/**
 * One object as the extraction sees it, with the expensive views computed at most once and
 * shared by every target: CEL input (BigInt conversion), labels, the decoded Helm release.
 */
export class ObjectView {
  readonly object: Record<string, unknown>;
  /** The object's namespace ("" for cluster-scoped objects). */
  readonly namespace: string;
  #labels: Record<string, string> | undefined;
  #cel: CelInput | undefined;
  #helm: { ok: true; release: unknown } | { ok: false; error: KollectError } | undefined;

  constructor(object: Record<string, unknown>, namespace: string) {
    this.object = object;
    this.namespace = namespace;
  }

  get labels(): Record<string, string> {
    return (this.#labels ??= labelsOf(this.object));
  }

  get celInput(): CelInput {
    return (this.#cel ??= toCelInput(this.object));
  }

  /** The decoded Helm release, decoded once per object (SEED-SPEC §4.1). */
  get helm(): { ok: true; release: unknown } | { ok: false; error: KollectError } {
    if (this.#helm === undefined) {
      try {
        this.#helm = { ok: true, release: decodeHelmRelease(this.object) };
      } catch (err) {
        this.#helm = {
          ok: false,
          error: HelmReleaseUnreadable(err instanceof Error ? err.message : String(err)),
        };
      }
    }
    return this.#helm;
  }
}

/** Why a target did not collect an object. */
export type NoMatchReason =
  'namespace' | 'names' | 'labels' | 'rules' | 'resource-disabled' | 'namespace-disabled' | 'opt-in-required';

/** A matchPolicy that failed at runtime (counted as "no match"), reported for status and metrics. */
export interface PolicyError {
  targetKey: string;
  rule: number;
  uid: string;
  outcome: CelFailureKind;
  code: string;
  message: string;
}

export type MatchResult = { matched: true } | { matched: false; reason: NoMatchReason };

/**
 * SEED-SPEC §4.5 for one target and one object of a GVR the target collects: namespace gate
 * (cluster-scoped objects count as `default`), then `resourceRules` (any rule: same GVR, rule
 * namespaces, label selector, CEL `matchPolicy` — an error is no match) or the legacy filters
 * (`names`, `labelSelector`), then the watch labels. Cheap checks run before CEL.
 */
export function matchTarget(
  x: ExtractionPlan,
  t: TargetExtraction,
  view: ObjectView,
  gvrKey: string,
  uid: string,
  policyErrors?: PolicyError[],
): MatchResult {
  const ns = gateNamespace(view.namespace);
  if (t.namespaces !== null && !t.namespaces.has(ns)) return { matched: false, reason: 'namespace' };
  if (t.rules.length === 0) {
    if (t.names !== null && !t.names.has(nameOf(view.object))) return { matched: false, reason: 'names' };
    if (!matchesLabelSelector(t.target.labelSelector, view.labels))
      return { matched: false, reason: 'labels' };
  }
  const verdict = watchVerdict(view.labels, view.namespace, x.plan.namespaceWatch, t.target.watchMode);
  if (verdict !== 'collect') return { matched: false, reason: verdict };
  if (t.rules.length > 0 && !anyRuleMatches(x, t, view, gvrKey, uid, policyErrors)) {
    return { matched: false, reason: 'rules' };
  }
  return { matched: true };
}

function anyRuleMatches(
  x: ExtractionPlan,
  t: TargetExtraction,
  view: ObjectView,
  gvrKey: string,
  uid: string,
  policyErrors: PolicyError[] | undefined,
): boolean {
  const ns = gateNamespace(view.namespace);
  const withPolicy = [];
  for (const r of t.rules) {
    if (r.policyInvalid || r.gvrKey !== gvrKey) continue;
    if (r.namespaces !== null && !r.namespaces.has(ns)) continue;
    if (!matchesLabelSelector(r.rule.labelSelector, view.labels)) continue;
    if (r.policy === undefined) return true;
    withPolicy.push(r);
  }
  for (const r of withPolicy) {
    const res = x.engine.evaluateBool(r.policy!, view.celInput, x.limits);
    if (res.ok) {
      if (res.value) return true;
    } else {
      policyErrors?.push({
        targetKey: t.key,
        rule: r.index,
        uid,
        outcome: res.kind,
        code: res.error.code,
        message: res.error.message,
      });
    }
  }
  return false;
}

function nameOf(object: Record<string, unknown>): string {
  const name = (object['metadata'] as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : '';
}

/** An attribute that failed on a required path: the whole object fails for that target. */
export interface AttributeFailure {
  attribute: string;
  outcome: CelFailureKind | 'invalid_object';
  code: string;
  errorClass: ErrorClass;
  message: string;
}

export type AttributesResult =
  { ok: true; attributes: Record<string, unknown> } | { ok: false; failure: AttributeFailure };

/**
 * Evaluate a profile on one object (SEED-SPEC §4.2–4.4). Per attribute: an error or a null value
 * on an optional attribute omits it; an error on a required attribute fails the whole object
 * (returned as data); a null value on a required attribute is stored as null. Values are
 * redacted (§4.3); `type` never coerces. In Resource mode the pruned object is added under
 * `export.as`.
 */
export function extractAttributes(
  x: ExtractionPlan,
  p: ProfileExtraction,
  view: ObjectView,
): AttributesResult {
  const attributes: Record<string, unknown> = {};
  for (const a of p.attributes) {
    let value: unknown;
    let failure: AttributeFailure | undefined;
    const src = a.source;
    switch (src.kind) {
      case 'cel': {
        const r = x.engine.evaluate(src.program, view.celInput, x.limits);
        if (r.ok) value = r.value;
        else failure = failureOf(a.name, r.kind, r.error);
        break;
      }
      case 'jsonpath':
        try {
          value = evaluateJsonPath(src.path, view.object);
        } catch (err) {
          failure = failureOf(
            a.name,
            'error',
            JsonPathFailed(a.path, err instanceof Error ? err.message : String(err)),
          );
        }
        break;
      case 'helm': {
        const h = view.helm;
        if (h.ok) value = readHelmField(h.release, src.path);
        else failure = failureOf(a.name, 'error', h.error);
        break;
      }
      case 'invalid':
        failure = failureOf(a.name, 'error', src.error ?? ExtractionCrashed(src.detail));
        break;
    }
    if (failure !== undefined) {
      if (a.optional) continue;
      return { ok: false, failure };
    }
    if (value === null || value === undefined) {
      if (!a.optional) setMember(attributes, a.name, null);
      continue;
    }
    setMember(attributes, a.name, p.scrubber.scrub(value));
  }
  if (p.resource !== undefined) {
    setMember(attributes, p.resource.spec.as, exportResource(view.object, p.resource));
  }
  return { ok: true, attributes };
}

function failureOf(attribute: string, outcome: CelFailureKind, error: KollectError): AttributeFailure {
  return { attribute, outcome, code: error.code, errorClass: error.errorClass, message: error.message };
}

/** Status reason of a failure, for `ExtractionStatusReport.failed[].reason`. */
export type ExtractionFailureReason =
  'ExtractionFailed' | 'CostLimitExceeded' | 'EvaluationTimeout' | 'InvalidObject';

const REASONS: Record<AttributeFailure['outcome'], ExtractionFailureReason> = {
  error: 'ExtractionFailed',
  cost_exceeded: 'CostLimitExceeded',
  timeout: 'EvaluationTimeout',
  invalid_object: 'InvalidObject',
};

/**
 * A target that could not extract an object: no row is sent, so the previous row stays (§4.2).
 * Shaped to fill `ExtractionStatusReport.failed` (contracts); the message never holds values.
 */
export interface ExtractionFailure extends AttributeFailure {
  targetKey: string;
  target: TargetRef;
  profileKey: string;
  uid: string;
  namespace: string;
  name: string;
  reason: ExtractionFailureReason;
}

/** A target whose outcome for this uid was not a failure (upserted, not matched, or deleted). */
export interface ClearedFailure {
  targetKey: string;
  target: TargetRef;
  uid: string;
}

export interface ExtractionResult {
  rows: RowMessage[];
  failures: ExtractionFailure[];
  /**
   * Targets for which this uid no longer fails: a success, a non-match or a delete clears a
   * recorded failure (SEED-SPEC §4.2) — `ExtractionStatusReport.cleared`.
   */
  cleared: ClearedFailure[];
  /** matchPolicy evaluations that failed (each counted as "no match"). */
  policyErrors: PolicyError[];
}

export interface RowsForObjectOptions {
  /**
   * Send deletes to a target's feeds even when the object is outside the target's namespaces
   * (default true). An object never changes namespace, so such a delete only matters after a
   * plan change narrowed the target; turn it off when the aggregator prunes rows outside a
   * target's namespaces itself on plan change, to save one no-op delete per target and object.
   */
  namespaceMissDeletes?: boolean;
}

/**
 * Everything one object message means for the inventories (the extractor's whole job for one
 * message). For an upsert, for every target that collects the object's GVR (its profile's GVR, or
 * a `resourceRules` GVR — items carry the profile's group/version/kind either way):
 * - it matches → the item is extracted and upserted to each feed whose namespaces include the
 *   object's (deleted from the others);
 * - it does not match (or is opted out) → a delete to each feed: the aggregator ignores deletes
 *   of rows it does not hold, which is how an object that stops matching leaves statelessly;
 * - extraction fails → nothing for that target (the previous row stays) and a failure record.
 * For a delete (tombstone) → a delete to every feed of every such target.
 * Never throws: a broken object or an internal error becomes a failure record.
 */
export function rowsForObject(
  x: ExtractionPlan,
  msg: ObjectMessage,
  sourceSeq: number,
  options: RowsForObjectOptions = {},
): ExtractionResult {
  const result: ExtractionResult = { rows: [], failures: [], cleared: [], policyErrors: [] };
  let gvrKey: string;
  try {
    gvrKey = gvrString(msg.gvr);
  } catch {
    return result;
  }
  const targets = x.targetsByGvr.get(gvrKey);
  if (targets === undefined || targets.length === 0) return result;

  const namespace = typeof msg.namespace === 'string' ? msg.namespace : '';
  const ns = gateNamespace(namespace);
  const uid = typeof msg.uid === 'string' ? msg.uid : '';
  const name = typeof msg.name === 'string' ? msg.name : '';
  const missDeletes = options.namespaceMissDeletes ?? true;
  const planGeneration = x.plan.generation;

  const emit = (
    t: TargetExtraction,
    op: 'upsert' | 'delete',
    item: Item | undefined,
    feedNs: string,
  ): void => {
    result.cleared.push({ targetKey: t.key, target: refOf(t.target), uid });
    const key: RowKey = { targetNamespace: rowTargetNamespace(t.target, ns), targetName: t.target.name, uid };
    for (const route of t.feeds) {
      const inFeed = route.namespaces === null || route.namespaces.has(feedNs);
      const rowOp = op === 'upsert' && inFeed ? 'upsert' : 'delete';
      const row: RowMessage = {
        schemaVersion: BUS_SCHEMA_VERSION,
        op: rowOp,
        cluster: msg.cluster,
        inventory: route.feed.inventory,
        key,
        sourceSeq,
        planGeneration,
      };
      if (rowOp === 'upsert' && item !== undefined) row.item = item;
      result.rows.push(row);
    }
  };
  const fail = (t: TargetExtraction, f: AttributeFailure): void => {
    result.failures.push({
      ...f,
      reason: REASONS[f.outcome],
      targetKey: t.key,
      target: refOf(t.target),
      profileKey: t.target.profileKey,
      uid,
      namespace,
      name,
    });
  };

  /** A malformed message fails every target of its GVR (counted and reported; the pipeline moves on). */
  const invalid = (detail: string): ExtractionResult => {
    const err = ObjectMessageInvalid(detail);
    for (const t of targets)
      fail(t, {
        attribute: '',
        outcome: 'invalid_object',
        code: err.code,
        errorClass: err.errorClass,
        message: err.message,
      });
    return result;
  };

  if (uid === '') return invalid('it has no uid');

  if (msg.op === 'delete') {
    for (const t of targets) {
      if (!missDeletes && t.namespaces !== null && !t.namespaces.has(ns)) {
        result.cleared.push({ targetKey: t.key, target: refOf(t.target), uid });
        continue;
      }
      emit(t, 'delete', undefined, ns);
    }
    return result;
  }

  const object = msg.object;
  if (object === null || typeof object !== 'object' || Array.isArray(object))
    return invalid('an upsert without an object map');
  const view = new ObjectView(object, namespace);

  for (const t of targets) {
    try {
      const m = matchTarget(x, t, view, gvrKey, uid, result.policyErrors);
      if (!m.matched) {
        if (m.reason === 'namespace' && !missDeletes) {
          result.cleared.push({ targetKey: t.key, target: refOf(t.target), uid });
          continue;
        }
        emit(t, 'delete', undefined, ns);
        continue;
      }
      const r = extractAttributes(x, t.profile, view);
      if (!r.ok) {
        fail(t, r.failure);
        continue;
      }
      const gvk = t.profile.profile.gvk;
      const item: Item = {
        targetNamespace: rowTargetNamespace(t.target, ns),
        targetName: t.target.name,
        namespace,
        name,
        group: gvk.group,
        version: gvk.version,
        kind: gvk.kind,
        uid,
        attributes: r.attributes,
      };
      emit(t, 'upsert', item, ns);
    } catch (err) {
      // A stack overflow on a pathologically deep object, or a bug: the object fails for this
      // target and the pipeline moves on.
      const e = ExtractionCrashed(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      fail(t, {
        attribute: '',
        outcome: 'error',
        code: e.code,
        errorClass: e.errorClass,
        message: e.message,
      });
    }
  }
  return result;
}

function refOf(t: CompiledTarget): TargetRef {
  return { kind: t.kind, namespace: t.namespace, name: t.name };
}

/**
 * The row's targetNamespace: the target's own namespace, or for a KollectClusterTarget the
 * object's (gate) namespace — cluster rows are kept per workload namespace, like the seed's
 * synthetic per-namespace targets.
 */
function rowTargetNamespace(target: CompiledTarget, gateNs: string): string {
  return target.kind === 'KollectClusterTarget' ? gateNs : target.namespace;
}
