import { Type, type TSchema, type TUnsafe } from '@sinclair/typebox';

/**
 * A CEL validation rule as the apiserver reads it from `x-kubernetes-validations`.
 * Our validator evaluates the same rule with cel-js, so a rule written once holds in both places.
 */
export interface CelRule {
  /** CEL expression over `self` (the node the rule is attached to); must be true. */
  readonly rule: string;
  /** What is wrong and what to do; shown by kubectl on rejection. */
  readonly message: string;
  /** Relative JSONPath-like field the error points at, e.g. `.git`. */
  readonly fieldPath?: string;
  /** Kubernetes `FieldValueInvalid` style reason; defaults to `FieldValueInvalid`. */
  readonly reason?:
    'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** Schema keys the Kubernetes structural-schema dialect adds to JSON Schema, plus our documentation keys. */
export interface KubeKeywords {
  'x-kubernetes-validations'?: CelRule[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  /**
   * Rules enforced by the Kollect admission functions (not expressible in the CRD schema).
   * Shown in the reference docs; stripped from the CRD manifests.
   */
  'x-kollect-admission'?: string[];
  /** Documentation-only type name override for the reference docs (e.g. `duration`). */
  'x-kollect-doc-type'?: string;
}

/** A TypeBox schema viewed as the plain JSON Schema our generator and validator walk. */
export type JsonSchemaNode = TSchema & KubeKeywords & Record<string, unknown>;

/** Attach CEL rules to schema options. */
export function cel(...rules: CelRule[]): Pick<KubeKeywords, 'x-kubernetes-validations'> {
  return { 'x-kubernetes-validations': rules };
}

/** Document admission-only rules on a schema node. */
export function admission(...rules: string[]): Pick<KubeKeywords, 'x-kollect-admission'> {
  return { 'x-kollect-admission': rules };
}

/**
 * A string enum emitted as `{type: string, enum: [...]}` (what structural schemas and kubectl
 * explain understand), typed as the union of its values.
 */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> & { description: string; default?: T[number] },
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...values] });
}
