import { defineError } from '@kollect/contracts';

/** A profile attribute's path does not compile (JSONPath, helm or CEL). */
export const AttributePathInvalid = defineError(
  'KOLLECT_ERR_EXTRACT_PATH_INVALID',
  'terminal',
  (profile: string, attribute: string, detail: string) =>
    `profile ${profile}, attribute ${JSON.stringify(attribute)}: ${detail}. Fix spec.attributes[].path`,
  'InvalidProfile',
);

/** A JSONPath failed on an object for a reason other than a missing field. */
export const JsonPathFailed = defineError(
  'KOLLECT_ERR_EXTRACT_JSONPATH',
  'terminal',
  (path: string, detail: string) =>
    `JSONPath ${JSON.stringify(path)} failed: ${detail}. Mark the attribute optional if the value may be absent`,
  'ExtractionFailed',
);

/** A helm attribute could not be read from the object. */
export const HelmReleaseUnreadable = defineError(
  'KOLLECT_ERR_EXTRACT_HELM',
  'terminal',
  (detail: string) =>
    `${detail}. Select only Helm release Secrets (label owner=helm) or mark the attribute optional`,
  'ExtractionFailed',
);

/** The object message is unusable (no object on an upsert, no uid, not a map). */
export const ObjectMessageInvalid = defineError(
  'KOLLECT_ERR_EXTRACT_INVALID_OBJECT',
  'terminal',
  (detail: string) => `object message is invalid: ${detail}. This is a watcher bug; the object is skipped`,
  'ExtractionFailed',
);

/** Something unexpected broke while extracting one object for one target. */
export const ExtractionCrashed = defineError(
  'KOLLECT_ERR_EXTRACT_INTERNAL',
  'terminal',
  (detail: string) => `extraction failed unexpectedly: ${detail}`,
  'ExtractionFailed',
);

/** A target's profile is not in the plan. */
export const TargetProfileMissing = defineError(
  'KOLLECT_ERR_EXTRACT_PROFILE_MISSING',
  'terminal',
  (target: string, profile: string) =>
    `target ${target} refers to profile ${profile}, which is not in the plan`,
  'ProfileNotFound',
);

/** A resource rule's matchPolicy does not compile; the rule never matches. */
export const MatchPolicyInvalid = defineError(
  'KOLLECT_ERR_EXTRACT_MATCH_POLICY_INVALID',
  'terminal',
  (target: string, rule: number, detail: string) =>
    `target ${target}, spec.resourceRules[${rule}].matchPolicy: ${detail}; the rule matches nothing until fixed`,
  'InvalidMatchPolicy',
);
