import type { Gvr } from '@kollect/contracts';
import type { KubeObject } from './types.js';

/** The annotation kubectl client-side apply writes: a full copy of the object, never useful downstream. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** Options of {@link stripObject}. */
export interface StripOptions {
  /** The object's apiVersion, filled in when missing (list items carry none). */
  apiVersion?: string;
  /** The object's kind, filled in when missing. */
  kind?: string;
  /**
   * Keep `data`/`stringData` of core Secrets. Only when the plan admitted a profile with
   * `kollect.dev/allow-secret-extraction` for this GVR (ARCHITECTURE invariant 7).
   */
  allowSecretData?: boolean;
}

/** True for core/v1 Secrets (by apiVersion+kind, so it works on list items after filling). */
export function isCoreSecret(obj: KubeObject): boolean {
  return obj.kind === 'Secret' && obj.apiVersion === 'v1';
}

/** True when a GVR is the core Secret resource. */
export function isSecretGvr(gvr: Gvr): boolean {
  return gvr.group === '' && gvr.resource === 'secrets';
}

/**
 * Strip an object before it leaves the watcher, in place (the object is freshly parsed and owned
 * by the caller): drop `metadata.managedFields` and the last-applied annotation (both can double
 * an object's size), drop Secret `data`/`stringData` unless allowed, and fill in apiVersion/kind.
 * Returns the same object for chaining.
 */
export function stripObject<T extends KubeObject>(obj: T, opts: StripOptions = {}): T {
  if (obj.apiVersion === undefined && opts.apiVersion !== undefined) obj.apiVersion = opts.apiVersion;
  if (obj.kind === undefined && opts.kind !== undefined) obj.kind = opts.kind;
  const meta = obj.metadata;
  if (meta) {
    delete meta.managedFields;
    const ann = meta.annotations;
    if (ann && Object.hasOwn(ann, LAST_APPLIED_ANNOTATION)) {
      delete ann[LAST_APPLIED_ANNOTATION];
      if (Object.keys(ann).length === 0) delete meta.annotations;
    }
  }
  if (isCoreSecret(obj) && !opts.allowSecretData) {
    delete obj['data'];
    delete obj['stringData'];
  }
  return obj;
}

/** The item kind of a list kind: `ConfigMapList` → `ConfigMap`. */
export function itemKindOfList(listKind: string | undefined): string | undefined {
  if (!listKind || !listKind.endsWith('List') || listKind.length <= 4) return undefined;
  return listKind.slice(0, -4);
}
