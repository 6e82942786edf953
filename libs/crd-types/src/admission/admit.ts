import type { KollectKind, KollectObjectByKind } from '../kinds.js';
import { validate, type ValidateOptions } from '../validate.js';
import { admitClusterInventory, admitInventory } from './inventory.js';
import { admitProfile } from './profile.js';
import { admitSink } from './sink.js';
import { admitClusterTarget, admitTarget } from './target.js';
import { issue, type AdmissionContext, type AdmissionIssue } from './types.js';

/**
 * Run the admission rules of one kind on an object that already passed {@link validate}
 * (admission, like a validating webhook, runs after schema validation and defaulting).
 * Scopes and connection tests have no rules beyond their schema.
 */
export function admit<K extends KollectKind>(
  kind: K,
  obj: KollectObjectByKind[K],
  ctx: AdmissionContext = {},
): AdmissionIssue[] {
  const o = obj as KollectObjectByKind[KollectKind];
  switch (o.kind) {
    case 'KollectProfile':
      return admitProfile(o);
    case 'KollectTarget':
      return admitTarget(o, ctx);
    case 'KollectClusterTarget':
      return admitClusterTarget(o, ctx);
    case 'KollectInventory':
      return admitInventory(o, ctx);
    case 'KollectClusterInventory':
      return admitClusterInventory(o, ctx);
    case 'KollectSnapshotSink':
    case 'KollectDatabaseSink':
    case 'KollectEventSink':
      return admitSink(o, ctx);
    case 'KollectClusterScope':
      return ctx.tenantMode
        ? [
            issue(
              'kind',
              'TenantModeForbidden',
              'KollectClusterScope has no effect in tenant mode; use a namespaced KollectScope',
            ),
          ]
        : [];
    case 'KollectScope':
    case 'KollectConnectionTest':
      return [];
    default:
      throw new TypeError(`admit: unexpected kind ${String(kind)}`);
  }
}

/** Outcome of {@link checkObject}. */
export interface CheckResult<T> {
  /** No issue of severity `error`. */
  readonly ok: boolean;
  /** Errors and warnings; schema errors carry reason `InvalidSpec`. */
  readonly issues: readonly AdmissionIssue[];
  /** The defaulted object, when the schema accepted it. */
  readonly value?: T;
}

/**
 * Everything the apiserver plus a validating webhook would check, in one call: schema
 * validation with defaults, then — if the schema accepted the object — the admission rules.
 * The controller calls this on every reconcile, because webhooks may be off.
 */
export function checkObject<K extends KollectKind>(
  kind: K,
  obj: unknown,
  ctx: AdmissionContext = {},
  options: ValidateOptions = {},
): CheckResult<KollectObjectByKind[K]> {
  const v = validate(kind, obj, options);
  if (!v.ok || v.value === undefined) {
    return { ok: false, issues: v.errors.map((e) => issue(e.path, 'InvalidSpec', e.message)) };
  }
  const issues = admit(kind, v.value, ctx);
  return { ok: !issues.some((i) => i.severity === 'error'), issues, value: v.value };
}

/** Only the issues of severity `error`. */
export function errorsOf(issues: readonly AdmissionIssue[]): AdmissionIssue[] {
  return issues.filter((i) => i.severity === 'error');
}

/** Only the issues of severity `warning`. */
export function warningsOf(issues: readonly AdmissionIssue[]): AdmissionIssue[] {
  return issues.filter((i) => i.severity === 'warning');
}
