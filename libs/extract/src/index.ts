/**
 * @packageDocumentation
 * The pure extraction core run by the extractor service: from one object message and the
 * compiled plan to row messages (SEED-SPEC §4.1–4.5). No I/O; failures are data.
 */
export {
  type ExtractionPlan,
  type CompileExtractionOptions,
  type CompileIssue,
  type ProfileExtraction,
  type TargetExtraction,
  type CompiledAttributeExtractor,
  type CompiledRuleMatcher,
  type FeedRoute,
  type AttributeSource,
  compileExtraction,
  compileProfile,
  compileAttributePath,
} from './compile.js';
export {
  ObjectView,
  type MatchResult,
  type NoMatchReason,
  type PolicyError,
  type AttributeFailure,
  type AttributesResult,
  type ExtractionFailure,
  type ExtractionFailureReason,
  type ClearedFailure,
  type ExtractionResult,
  type RowsForObjectOptions,
  matchTarget,
  extractAttributes,
  rowsForObject,
} from './extract.js';
export {
  type CompiledJsonPath,
  JsonPathNotFoundError,
  JsonPathEvalError,
  compileJsonPath,
  jsonPathWarnings,
  findJsonPathResults,
  evaluateJsonPath,
} from './jsonpath.js';
export {
  MAX_RELEASE_BYTES,
  type HelmPath,
  HelmPathError,
  HelmDecodeError,
  compileHelmPath,
  decodeHelmRelease,
  readHelmField,
} from './helm.js';
export { BUILTIN_SCRUB_KEYS, type RedactedValue, Scrubber, normalizeScrubKey } from './redact.js';
export {
  DEFAULT_PRUNE_POINTERS,
  type PathSegment,
  type CompiledResourceExport,
  parseJsonPointer,
  parsePruneJsonPath,
  removeAt,
  compileResourceExport,
  exportResource,
} from './resource.js';
export { WATCH_LABEL, type WatchVerdict, labelsOf, gateNamespace, watchVerdict } from './match.js';
export {
  AttributePathInvalid,
  JsonPathFailed,
  HelmReleaseUnreadable,
  ObjectMessageInvalid,
  ExtractionCrashed,
  TargetProfileMissing,
  MatchPolicyInvalid,
} from './errors.js';
