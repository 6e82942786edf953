import type { KollectClusterTarget, KollectTarget } from '../kinds.js';
import { formatPath } from '../path.js';
import type { GroupVersionKind } from '../schema/common.js';
import type { ResourceRule } from '../schema/target.js';
import { compileCel } from './cel.js';
import { gvkAllowed, namespaceDenial, staticRefNamespaceAllowed, type ScopeCeiling } from './scope.js';
import { issue, type AdmissionContext, type AdmissionIssue } from './types.js';

const gvkText = (g: GroupVersionKind) => `${g.group ? `${g.group}/` : ''}${g.version}, Kind=${g.kind}`;

function checkRules(rules: readonly ResourceRule[] | undefined): AdmissionIssue[] {
  const out: AdmissionIssue[] = [];
  (rules ?? []).forEach((r, i) => {
    if (r.matchPolicy === undefined) return;
    const c = compileCel(r.matchPolicy);
    if (!c.ok) {
      out.push(
        issue(
          formatPath(['spec', 'resourceRules', i, 'matchPolicy']),
          'CelCompileFailed',
          `matchPolicy does not compile: ${c.error}`,
        ),
      );
    } else if (c.type !== 'bool' && c.type !== 'dyn') {
      out.push(
        issue(
          formatPath(['spec', 'resourceRules', i, 'matchPolicy']),
          'CelCompileFailed',
          `matchPolicy must return a bool, but returns ${c.type}`,
        ),
      );
    }
  });
  return out;
}

interface FilterSpec {
  readonly includedNamespaces?: readonly string[] | undefined;
  readonly resourceRules?: readonly ResourceRule[] | undefined;
}

/**
 * Scope ceiling checks a target's intent can fail before any namespace is listed (SEED-SPEC
 * §7.2): every GVK it would collect is allowed, and `includedNamespaces` lies within the allowed
 * namespaces and outside the denied ones. Selector-based intent is checked at reconcile with
 * {@link namespaceDenial} over the matched namespaces.
 */
export function checkTargetAgainstScope(
  spec: FilterSpec,
  scope: ScopeCeiling | undefined,
  profileGVK: GroupVersionKind | undefined,
  profilePath: string,
): AdmissionIssue[] {
  if (!scope) return [];
  const out: AdmissionIssue[] = [];
  const rules = spec.resourceRules ?? [];
  if (rules.length > 0) {
    rules.forEach((r, i) => {
      if (!gvkAllowed(scope, r.gvk)) {
        out.push(
          issue(
            formatPath(['spec', 'resourceRules', i, 'gvk']),
            'ScopeGVKDenied',
            `${gvkText(r.gvk)} is not in the scope's allowedGVKs; ask the platform team to allow it or remove the rule`,
          ),
        );
      }
    });
  } else if (profileGVK && !gvkAllowed(scope, profileGVK)) {
    out.push(
      issue(
        profilePath,
        'ScopeGVKDenied',
        `the profile collects ${gvkText(profileGVK)}, which is not in the scope's allowedGVKs`,
      ),
    );
  }
  (spec.includedNamespaces ?? []).forEach((ns, i) => {
    const why = namespaceDenial(scope, ns);
    if (why)
      out.push(
        issue(
          formatPath(['spec', 'includedNamespaces', i]),
          'ScopeNamespaceDenied',
          `${why}; remove it from includedNamespaces`,
        ),
      );
  });
  return out;
}

/** Admission rules of a KollectTarget: matchPolicy compiles; the namespace KollectScope ceiling. */
export function admitTarget(target: KollectTarget, ctx: AdmissionContext = {}): AdmissionIssue[] {
  return [
    ...checkRules(target.spec.resourceRules),
    ...checkTargetAgainstScope(target.spec, ctx.scope?.spec, ctx.profileGVK, 'spec.profileRef'),
  ];
}

/** Admission rules of a KollectClusterTarget: tenant mode, matchPolicy, cluster scope ceiling and static refs. */
export function admitClusterTarget(
  target: KollectClusterTarget,
  ctx: AdmissionContext = {},
): AdmissionIssue[] {
  if (ctx.tenantMode) {
    return [
      issue(
        'kind',
        'TenantModeForbidden',
        'KollectClusterTarget is not available when the operator runs in tenant mode; use a namespaced KollectTarget',
      ),
    ];
  }
  const out = [...checkRules(target.spec.resourceRules)];
  const scope = ctx.clusterScope?.spec;
  out.push(...checkTargetAgainstScope(target.spec, scope, ctx.profileGVK, 'spec.profileRef.name'));
  const ns = target.spec.profileRef.namespace;
  if (!staticRefNamespaceAllowed(scope, ns)) {
    out.push(
      issue(
        'spec.profileRef.namespace',
        'ScopeStaticRefDenied',
        `namespace "${ns}" is not in the KollectClusterScope allowedStaticRefNamespaces; reference a profile in an allowed namespace`,
      ),
    );
  }
  return out;
}
