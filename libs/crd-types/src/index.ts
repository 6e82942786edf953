/**
 * @kollect/crd-types — the single source of truth for the Kollect CRDs (kollect.dev/v1alpha1).
 *
 * - Schemas (TypeBox) and their TypeScript types, one `…Spec`/`…Status` pair per kind.
 * - `validate()` / `applyDefaults()`: the CRD schema, defaults and CEL rules, as the apiserver applies them.
 * - `admit()` / `checkObject()`: the admission rules the schema cannot express (webhooks may be off,
 *   so the controller calls these on every reconcile).
 * - Building blocks other libraries share: `parseJsonPath`, `parseDuration`, `checkEndpoint`,
 *   scope ceiling functions, sink ref normalisation, samples of every kind.
 */
export * from './constants.js';
export * from './duration.js';
export * from './kinds.js';
export { formatPath, type PathSegment } from './path.js';
export * from './validate.js';
export * from './sink-refs.js';
export { SAMPLES, sample, sampleDocuments } from './samples/index.js';
export { SCHEMA_INVALID_CASES, invalidDocument, type SchemaInvalidCase } from './samples/invalid.js';

export * from './schema/common.js';
export { StringEnum, type CelRule, type KubeKeywords } from './schema/keywords.js';
export * from './schema/profile.js';
export * from './schema/target.js';
export * from './schema/inventory.js';
export * from './schema/sinks.js';
export * from './schema/scope.js';
export * from './schema/connection-test.js';

export * from './admission/types.js';
export * from './admission/admit.js';
export * from './admission/jsonpath.js';
export * from './admission/attribute-path.js';
export * from './admission/cel.js';
export * from './admission/helm.js';
export * from './admission/endpoint.js';
export * from './admission/scope.js';
export { admitProfile, isCoreSecret } from './admission/profile.js';
export { admitTarget, admitClusterTarget, checkTargetAgainstScope } from './admission/target.js';
export { admitInventory, admitClusterInventory } from './admission/inventory.js';
export { admitSink, isSafeGitRef, isSecretLikeOptionKey, SECRET_LIKE_OPTION_KEYS } from './admission/sink.js';

export { crdObject, crdYaml, crdFileName, crdSchema, type StructuralSchema } from './generate/crd.js';
export { renderGeneratedFiles } from './generate/files.js';
