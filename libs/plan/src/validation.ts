import { checkObject, type KollectKind, type KollectObjectByKind } from '@kollect/crd-types';

/**
 * Re-validation at reconcile time (SEED-SPEC §9.4, §15.15): webhooks may be off (team
 * installs), so the compiler re-runs the CRD schema and the admission rules on every object.
 * Scope checks are *not* part of this: at runtime a scope violation degrades with its own
 * reason, and an interval below the scope floor is clamped up, not rejected.
 */
export interface ValidationContext {
  tenantMode: boolean;
  allowPrivateEndpoints: boolean;
  maxExportBytes: number;
}

export interface ObjectCheck<K extends KollectKind> {
  ok: boolean;
  /** `field.path: message` lines, ready for a condition message. */
  errors: string[];
  /** The object with CRD defaults applied, when `ok`. */
  value?: KollectObjectByKind[K];
}

/** The function that checks one object (schema + admission). */
export type ObjectValidator = <K extends KollectKind>(
  kind: K,
  obj: KollectObjectByKind[K],
  ctx: ValidationContext,
) => ObjectCheck<K>;

/**
 * Minimal structural checks, used until the crd-types admission library is wired in (and as a
 * fallback for callers that want no CEL compilation): the fields the compiler cannot work
 * without.
 */
export const structuralValidator: ObjectValidator = (kind, obj) => {
  const errors: string[] = [];
  const spec = (obj as { spec?: unknown }).spec;
  if (spec === null || typeof spec !== 'object') errors.push('spec: Required value');
  const s = (spec ?? {}) as Record<string, unknown>;
  const str = (v: unknown): boolean => typeof v === 'string' && v.length > 0;
  switch (kind) {
    case 'KollectProfile': {
      const gvk = s['targetGVK'] as Record<string, unknown> | undefined;
      if (!gvk || !str(gvk['version']) || !str(gvk['kind']))
        errors.push('spec.targetGVK: version and kind are required');
      break;
    }
    case 'KollectTarget':
      if (!str(s['profileRef'])) errors.push('spec.profileRef: Required value');
      break;
    case 'KollectClusterTarget': {
      const ref = s['profileRef'] as Record<string, unknown> | undefined;
      if (!ref || !str(ref['name']) || !str(ref['namespace']))
        errors.push('spec.profileRef: name and namespace are required');
      break;
    }
    default:
      break;
  }
  return errors.length ? { ok: false, errors } : { ok: true, errors, value: obj };
};

/**
 * The real thing: the crd-types schema (with CRD defaults and CEL rules) plus the admission
 * rules, exactly what a validating webhook would run — minus the scope ceilings, which the
 * compiler enforces itself with runtime semantics. Unknown fields are ignored (the apiserver
 * prunes them). The SSRF guard honours `allowPrivateEndpoints` (test beds), which also admits
 * `file://` Git remotes.
 */
export const admissionValidator: ObjectValidator = (kind, obj, ctx) => {
  const r = checkObject(
    kind,
    obj,
    {
      tenantMode: ctx.tenantMode,
      globalMaxExportBytes: ctx.maxExportBytes,
      allowPrivateEndpoints: ctx.allowPrivateEndpoints,
      allowFileEndpoints: ctx.allowPrivateEndpoints,
    },
    { unknownFields: 'ignore' },
  );
  if (r.ok && r.value !== undefined) return { ok: true, errors: [], value: r.value };
  const errors = r.issues
    .filter((i) => i.severity === 'error')
    .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
  return { ok: false, errors: errors.length ? errors : ['invalid object'] };
};

/**
 * Cache checks per object content. The key is what validation reads — kind, name, namespace,
 * labels, annotations (the secret guards), generation and spec — never status or
 * resourceVersion, so a status write (ours or a prober's) does not re-run CEL compilation. One
 * entry per object uid; entries of objects not seen for `maxEntries` checks are dropped.
 */
export function memoizeValidator(inner: ObjectValidator, maxEntries = 10_000): ObjectValidator {
  const cache = new Map<string, { fp: string; result: ObjectCheck<KollectKind> }>();
  return ((kind, obj, ctx) => {
    const m = obj.metadata ?? {};
    const id = `${kind}|${m.uid ?? `${m.namespace ?? ''}/${m.name ?? ''}`}`;
    // JSON.stringify, not canonicalJson: an object from the apiserver keeps its key order between
    // versions, and a spurious miss only costs one re-validation.
    const fp = JSON.stringify([
      kind,
      m.name,
      m.namespace,
      m.labels,
      m.annotations,
      m.generation,
      (obj as { spec?: unknown }).spec,
      ctx,
    ]);
    const hit = cache.get(id);
    if (hit && hit.fp === fp) {
      // Refresh recency (Map iteration order = insertion order).
      cache.delete(id);
      cache.set(id, hit);
      return hit.result;
    }
    const result = inner(kind, obj, ctx) as ObjectCheck<KollectKind>;
    cache.delete(id);
    cache.set(id, { fp, result });
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
    return result;
  }) as ObjectValidator;
}
