import { canonicalJson } from '@kollect/contracts';
import type { KollectKind } from '@kollect/crd-types';
import { mergeConditions, type Condition, type DesiredCondition } from './conditions.js';

/** The CR a status belongs to. */
export interface StatusSubject {
  kind: KollectKind;
  /** "" for cluster-scoped kinds. */
  namespace: string;
  name: string;
  uid: string;
  /** metadata.generation observed. */
  generation: number;
}

/** `Kind/namespace/name`, the key the controller files statuses under. */
export function subjectKey(s: Pick<StatusSubject, 'kind' | 'namespace' | 'name'>): string {
  return `${s.kind}/${s.namespace}/${s.name}`;
}

/**
 * The status the controller wants for one CR, before it is merged with what is stored.
 * The controller owns `ownedFields` and `ownedConditionTypes`; anything else in the stored
 * status (e.g. a sink prober's `ConnectionVerified`) is preserved.
 */
export interface DesiredStatus {
  subject: StatusSubject;
  conditions: DesiredCondition[];
  ownedConditionTypes: readonly string[];
  /** Values of owned top-level fields; an owned field absent here is removed. */
  fields: Record<string, unknown>;
  ownedFields: readonly string[];
}

type StatusObject = Record<string, unknown>;

/**
 * Build the full status object to store: owned fields replaced, foreign fields kept, conditions
 * merged so `lastTransitionTime` moves only on a status flip (also inside `sinkExports[]`).
 */
export function buildStatus(
  current: StatusObject | undefined,
  desired: DesiredStatus,
  now: Date,
): StatusObject {
  const cur = current ?? {};
  const next: StatusObject = {};
  const owned = new Set(desired.ownedFields);
  for (const [k, v] of Object.entries(cur)) {
    if (k === 'conditions' || owned.has(k)) continue;
    next[k] = v;
  }
  for (const [k, v] of Object.entries(desired.fields)) {
    if (v === undefined) continue;
    if (k === 'sinkExports' && Array.isArray(v)) {
      next[k] = mergeSinkExports(cur[k], v as SinkExportEntry[], now);
    } else {
      next[k] = v;
    }
  }
  const conditions = mergeConditions(
    cur['conditions'] as Condition[] | undefined,
    desired.conditions,
    desired.ownedConditionTypes,
    desired.subject.generation,
    now,
  );
  if (conditions.length > 0) next['conditions'] = conditions;
  return next;
}

/** One `status.sinkExports[]` entry as the status functions produce it (conditions without timestamps). */
export interface SinkExportEntry {
  name: string;
  namespace?: string;
  lastExportTime?: string;
  lastChecksum?: string;
  exportGeneration?: number;
  conditions?: (DesiredCondition | Condition)[];
}

function mergeSinkExports(current: unknown, desired: SinkExportEntry[], now: Date): unknown[] {
  const prior = new Map<string, { conditions?: Condition[] }>();
  if (Array.isArray(current)) {
    for (const e of current as { name?: string; conditions?: Condition[] }[])
      if (e && typeof e.name === 'string') prior.set(e.name, e);
  }
  return desired.map((e) => {
    const conditions = mergeConditions(
      prior.get(e.name)?.conditions,
      (e.conditions ?? []) as DesiredCondition[],
      ['Synced'],
      undefined,
      now,
    );
    const out: Record<string, unknown> = { ...e };
    if (conditions.length > 0) out['conditions'] = conditions;
    else delete out['conditions'];
    return out;
  });
}

/** Canonical form for comparison: conditions keyed by type, without `lastTransitionTime`. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'conditions' && Array.isArray(v)) {
      out[k] = (v as Condition[])
        .map((c) => {
          const { lastTransitionTime: _ltt, ...rest } = c;
          return rest;
        })
        .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
    } else if (v !== undefined) {
      out[k] = normalize(v);
    }
  }
  return out;
}

/**
 * Compare-before-write: true when `next` differs from `current` in anything but condition
 * order and `lastTransitionTime` (SEED-SPEC §7.5: status is patched only when something changed).
 */
export function statusChanged(current: StatusObject | undefined, next: StatusObject): boolean {
  return canonicalJson(normalize(current ?? {})) !== canonicalJson(normalize(next));
}

/**
 * The JSON merge patch (RFC 7386) for the status subresource that turns `current` into `next`:
 * changed keys set, removed keys `null`. Arrays are replaced whole (CRDs do not support
 * strategic merge), which is why `next` already carries the preserved foreign conditions.
 */
export function statusMergePatch(
  current: StatusObject | undefined,
  next: StatusObject,
): { status: StatusObject } {
  const patch: StatusObject = {};
  for (const [k, v] of Object.entries(next)) {
    if (canonicalJson(normalizeLoose(current?.[k])) !== canonicalJson(normalizeLoose(v))) patch[k] = v;
  }
  for (const k of Object.keys(current ?? {})) if (!(k in next)) patch[k] = null;
  return { status: patch };
}

function normalizeLoose(v: unknown): unknown {
  return v === undefined ? null : v;
}
