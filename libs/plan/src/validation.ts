import type { KollectKind, KollectObjectByKind } from '@kollect/crd-types';

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
