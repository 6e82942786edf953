import {
  type CelEngine,
  type CelLimits,
  type CelProgram,
  DEFAULT_CEL_LIMITS,
  defaultCelEngine,
} from '@kollect/cel';
import { type KollectError, gvrString } from '@kollect/contracts';
import {
  type CompiledPlan,
  type CompiledProfile,
  type CompiledRule,
  type CompiledTarget,
  type TargetFeed,
  collectedGvrs,
  targetKey,
} from '@kollect/plan';
import { AttributePathInvalid, MatchPolicyInvalid, TargetProfileMissing } from './errors.js';
import { HELM_RELEASE_PREFIX } from '@kollect/crd-types';
import { type HelmPath, compileHelmPath } from './helm.js';
import { type CompiledJsonPath, compileJsonPath, jsonPathWarnings } from './jsonpath.js';
import { Scrubber } from './redact.js';
import { type CompiledResourceExport, compileResourceExport } from './resource.js';

/** How one attribute gets its value. `invalid` keeps the compile error for every evaluation. */
export type AttributeSource =
  | { kind: 'cel'; program: CelProgram }
  | { kind: 'jsonpath'; path: CompiledJsonPath }
  | { kind: 'helm'; path: HelmPath }
  | { kind: 'invalid'; detail: string; error?: KollectError };

export interface CompiledAttributeExtractor {
  readonly name: string;
  readonly path: string;
  readonly optional: boolean;
  readonly source: AttributeSource;
}

/** A profile, compiled once per profile hash. */
export interface ProfileExtraction {
  readonly profile: CompiledProfile;
  readonly attributes: readonly CompiledAttributeExtractor[];
  /** Set in Resource mode. */
  readonly resource: CompiledResourceExport | undefined;
  /** Built-in plus operator keys (curated attributes). */
  readonly scrubber: Scrubber;
  readonly needsCel: boolean;
  readonly needsHelm: boolean;
  /** Compile problems of this profile (errors make the affected attribute fail at runtime). */
  readonly issues: readonly CompileIssue[];
  /** @internal Operator scrub keys this was compiled with (reuse check). */
  readonly operatorScrubKeys: string;
}

export interface CompiledRuleMatcher {
  readonly index: number;
  readonly rule: CompiledRule;
  readonly gvrKey: string;
  readonly namespaces: ReadonlySet<string> | null;
  /** undefined = no matchPolicy. */
  readonly policy: CelProgram | undefined;
  /** The policy did not compile: the rule matches nothing. */
  readonly policyInvalid: boolean;
}

export interface FeedRoute {
  readonly feed: TargetFeed;
  readonly namespaces: ReadonlySet<string> | null;
}

/** A target with everything precomputed for matching. */
export interface TargetExtraction {
  readonly target: CompiledTarget;
  readonly key: string;
  readonly profile: ProfileExtraction;
  readonly namespaces: ReadonlySet<string> | null;
  readonly names: ReadonlySet<string> | null;
  readonly rules: readonly CompiledRuleMatcher[];
  readonly feeds: readonly FeedRoute[];
  /** Some attribute or rule needs the object as CEL input. */
  readonly needsCel: boolean;
}

/** A problem found while compiling the plan for extraction, for status and events. */
export interface CompileIssue {
  severity: 'error' | 'warning';
  /** `profile` (key `<ns>/<name>`) or `target` (key from `targetKey`). */
  scope: 'profile' | 'target';
  key: string;
  /** Field path in the CR, e.g. `spec.attributes[2].path`. */
  field: string;
  /** Kollect error code for errors. */
  code?: string;
  message: string;
}

/** The plan compiled for extraction: reuse it for every object until the plan changes. */
export interface ExtractionPlan {
  readonly plan: CompiledPlan;
  readonly engine: CelEngine;
  readonly limits: Readonly<CelLimits>;
  readonly profiles: ReadonlyMap<string, ProfileExtraction>;
  /**
   * Targets by every GVR they collect (`gvrString`; see `collectedGvrs` of @kollect/plan): the
   * rule GVRs of a target with `resourceRules`, else its profile's GVR.
   */
  readonly targetsByGvr: ReadonlyMap<string, readonly TargetExtraction[]>;
  readonly issues: readonly CompileIssue[];
}

export interface CompileExtractionOptions {
  /** CEL engine (compile cache and counters). Default: the process-wide engine. */
  engine?: CelEngine;
  /** The previous compiled plan: profiles with an unchanged hash are reused as they are. */
  previous?: ExtractionPlan;
}

/**
 * Compile a plan for extraction: CEL programs (attributes and matchPolicies), JSONPaths and helm
 * paths once per profile hash; targets indexed by the GVRs they collect. Never throws for bad
 * expressions: they become {@link CompileIssue}s, and the attribute fails (or the rule never
 * matches) at runtime.
 */
export function compileExtraction(
  plan: CompiledPlan,
  options: CompileExtractionOptions = {},
): ExtractionPlan {
  const engine = options.engine ?? options.previous?.engine ?? defaultCelEngine();
  const operatorKeys = plan.settings.scrubKeys ?? [];
  const operatorFingerprint = JSON.stringify([...operatorKeys].sort());
  const issues: CompileIssue[] = [];

  const profiles = new Map<string, ProfileExtraction>();
  for (const [key, profile] of Object.entries(plan.profiles)) {
    const prev = options.previous?.profiles.get(key);
    const px =
      prev !== undefined &&
      prev.profile.hash === profile.hash &&
      prev.operatorScrubKeys === operatorFingerprint
        ? prev
        : compileProfile(profile, operatorKeys, operatorFingerprint, engine);
    profiles.set(key, px);
    issues.push(...px.issues);
  }

  const targetsByGvr = new Map<string, TargetExtraction[]>();
  for (const target of plan.targets) {
    const key = targetKey(target);
    const profile = profiles.get(target.profileKey);
    if (profile === undefined) {
      const err = TargetProfileMissing(key, target.profileKey);
      issues.push({
        severity: 'error',
        scope: 'target',
        key,
        field: 'spec.profileRef',
        code: err.code,
        message: err.message,
      });
      continue;
    }
    const rules: CompiledRuleMatcher[] = target.rules.map((rule, index) => {
      const gvrKey = gvrString(rule.gvr);
      let policy: CelProgram | undefined;
      let policyInvalid = false;
      if (rule.matchPolicy !== undefined && rule.matchPolicy.trim() !== '') {
        const r = engine.tryCompile(rule.matchPolicy);
        if (r.ok) {
          policy = r.program;
          if (r.program.resultType !== 'bool' && r.program.resultType !== 'dyn') {
            policyInvalid = true;
            const err = MatchPolicyInvalid(key, index, `it returns ${r.program.resultType}, not bool`);
            issues.push({
              severity: 'error',
              scope: 'target',
              key,
              field: `spec.resourceRules[${index}].matchPolicy`,
              code: err.code,
              message: err.message,
            });
          }
        } else {
          policyInvalid = true;
          const err = MatchPolicyInvalid(key, index, r.error.message);
          issues.push({
            severity: 'error',
            scope: 'target',
            key,
            field: `spec.resourceRules[${index}].matchPolicy`,
            code: err.code,
            message: err.message,
          });
        }
      }
      return {
        index,
        rule,
        gvrKey,
        namespaces: rule.namespaces === null ? null : new Set(rule.namespaces),
        policy,
        policyInvalid,
      };
    });
    const tx: TargetExtraction = {
      target,
      key,
      profile,
      namespaces: target.namespaces === null ? null : new Set(target.namespaces),
      names: target.names !== undefined && target.names.length > 0 ? new Set(target.names) : null,
      rules,
      feeds: target.feeds.map((feed) => ({
        feed,
        namespaces: feed.namespaces === null ? null : new Set(feed.namespaces),
      })),
      needsCel: profile.needsCel || rules.some((r) => r.policy !== undefined),
    };
    // A rule may select a kind other than the profile's: the target is indexed under every GVR it
    // collects, and its objects are evaluated with the profile (SEED-SPEC §4.5 step 3).
    for (const gvr of collectedGvrs(target, profile.profile)) {
      const g = gvrString(gvr);
      const list = targetsByGvr.get(g);
      if (list === undefined) targetsByGvr.set(g, [tx]);
      else list.push(tx);
    }
  }

  const costLimit =
    plan.settings.celCostLimit > 0 ? plan.settings.celCostLimit : DEFAULT_CEL_LIMITS.costLimit;
  const timeoutMs =
    plan.settings.celTimeoutMs > 0 ? plan.settings.celTimeoutMs : DEFAULT_CEL_LIMITS.timeoutMs;
  return { plan, engine, limits: Object.freeze({ costLimit, timeoutMs }), profiles, targetsByGvr, issues };
}

/** Compile one profile's attributes and Resource export. Exported for admission-style checks. */
export function compileProfile(
  profile: CompiledProfile,
  operatorScrubKeys: readonly string[],
  operatorFingerprint: string,
  engine: CelEngine,
): ProfileExtraction {
  const issues: CompileIssue[] = [];
  const attributes: CompiledAttributeExtractor[] = profile.attributes.map((attr, i) => {
    const field = `spec.attributes[${i}].path`;
    const source = compileAttributePath(attr.path, engine);
    if (source.kind === 'invalid') {
      const err = AttributePathInvalid(profile.key, attr.name, source.detail);
      issues.push({
        severity: 'error',
        scope: 'profile',
        key: profile.key,
        field,
        code: err.code,
        message: err.message,
      });
      return {
        name: attr.name,
        path: attr.path,
        optional: attr.optional,
        source: { kind: 'invalid', detail: source.detail, error: err },
      };
    }
    if (source.kind === 'jsonpath') {
      for (const w of jsonPathWarnings(source.path))
        issues.push({ severity: 'warning', scope: 'profile', key: profile.key, field, message: w });
    }
    return { name: attr.name, path: attr.path, optional: attr.optional, source };
  });
  const scrubber = Scrubber.withBuiltins(operatorScrubKeys);
  let resource: CompiledResourceExport | undefined;
  if (profile.export.mode === 'Resource') {
    resource = compileResourceExport(
      profile.export,
      Scrubber.withBuiltins(operatorScrubKeys, profile.export.prune.scrubKeys),
    );
    for (const w of resource.warnings) {
      issues.push({
        severity: 'warning',
        scope: 'profile',
        key: profile.key,
        field: 'spec.export.prune',
        message: w,
      });
    }
    if (profile.attributes.some((a) => a.name === profile.export.as)) {
      issues.push({
        severity: 'warning',
        scope: 'profile',
        key: profile.key,
        field: 'spec.export.as',
        message: `export.as ${JSON.stringify(profile.export.as)} is also an attribute name; the exported resource replaces that attribute`,
      });
    }
  }
  return {
    profile,
    attributes,
    resource,
    scrubber,
    needsCel: attributes.some((a) => a.source.kind === 'cel'),
    needsHelm: attributes.some((a) => a.source.kind === 'helm'),
    issues,
    operatorScrubKeys: operatorFingerprint,
  };
}

/**
 * Compile one attribute path by prefix (SEED-SPEC §4.1): `cel:` → CEL, `helm:release.` → helm,
 * anything else → kubectl JSONPath. Never throws.
 */
export function compileAttributePath(path: string, engine: CelEngine = defaultCelEngine()): AttributeSource {
  const p = path.trim();
  if (p.startsWith('cel:')) {
    const r = engine.tryCompile(p.slice(4).trim());
    return r.ok ? { kind: 'cel', program: r.program } : { kind: 'invalid', detail: r.error.message };
  }
  try {
    if (p.startsWith('helm:')) {
      if (!p.startsWith(HELM_RELEASE_PREFIX))
        throw new Error(`a helm path starts with ${HELM_RELEASE_PREFIX}`);
      return { kind: 'helm', path: compileHelmPath(p) };
    }
    return { kind: 'jsonpath', path: compileJsonPath(p) };
  } catch (err) {
    return { kind: 'invalid', detail: err instanceof Error ? err.message : String(err) };
  }
}
