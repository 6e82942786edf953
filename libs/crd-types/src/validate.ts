import type { TSchema } from '@sinclair/typebox';
import { API_VERSION } from './constants.js';
import {
  isKollectKind,
  KIND_DEFINITIONS,
  objectSchema,
  type KollectKind,
  type KollectObjectByKind,
} from './kinds.js';
import { appendFieldPath, formatPath, type PathSegment } from './path.js';
import { evaluateRule } from './schema/cel-rules.js';
import type { CelRule, JsonSchemaNode } from './schema/keywords.js';
import {
  anyOf,
  isPlainObject,
  itemsOf,
  jsonTypeOf,
  mapValueSchema,
  propertiesOf,
  requiredOf,
  typeMatches,
} from './schema/walk.js';

/**
 * Why a field failed schema validation. The values mirror Kubernetes `field.ErrorType`
 * so that a validation failure reads the same whether the apiserver or Kollect found it.
 */
export type SchemaErrorReason =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueTypeInvalid'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueUnknown';

/** One schema violation, located by a field path (format: see {@link formatPath}). */
export interface FieldError {
  /** Field path such as `spec.attributes[0].path`. */
  readonly path: string;
  /** What is wrong and, where it helps, what to do. */
  readonly message: string;
  readonly reason: SchemaErrorReason;
}

/** Outcome of {@link validate}. */
export interface ValidationResult<T> {
  readonly ok: boolean;
  readonly errors: readonly FieldError[];
  /** The object with CRD defaults applied (a copy; the input is never modified). Present when `ok`. */
  readonly value?: T;
}

export interface ValidateOptions {
  /**
   * Unknown fields: `'error'` (default) reports them, as `kubectl apply --validate=strict` would;
   * `'ignore'` accepts them, as the apiserver does when it prunes them silently.
   */
  readonly unknownFields?: 'error' | 'ignore';
}

const schemaCache = new Map<KollectKind, TSchema>();
function schemaFor(kind: KollectKind): JsonSchemaNode {
  let s = schemaCache.get(kind);
  if (!s) {
    s = objectSchema(KIND_DEFINITIONS[kind]);
    schemaCache.set(kind, s);
  }
  return s as JsonSchemaNode;
}

/**
 * Validate a Kollect object against its CRD schema, the way the apiserver would: defaults are
 * applied first, then types, enums, patterns, bounds, list uniqueness and the CEL rules of
 * `x-kubernetes-validations` (evaluated with cel-js) are checked.
 *
 * Rules the schema cannot express (CEL/JSONPath compile, SSRF, secret guards, scopes) live in
 * the admission functions; {@link checkObject} runs both.
 */
export function validate<K extends KollectKind>(
  kind: K,
  obj: unknown,
  options: ValidateOptions = {},
): ValidationResult<KollectObjectByKind[K]> {
  if (!isKollectKind(kind)) throw new TypeError(`validate: unknown kind ${String(kind)}`);
  const errors: FieldError[] = [];
  if (!isPlainObject(obj)) {
    return {
      ok: false,
      errors: [{ path: '', message: `must be a ${kind} object`, reason: 'FieldValueTypeInvalid' }],
    };
  }
  const value = applyDefaults(kind, obj) as Record<string, unknown>;
  const ctx: WalkContext = { errors, unknownFields: options.unknownFields ?? 'error' };
  if (value['apiVersion'] !== API_VERSION) {
    errors.push({ path: 'apiVersion', message: `must be "${API_VERSION}"`, reason: 'FieldValueInvalid' });
  }
  if (value['kind'] !== kind) {
    errors.push({ path: 'kind', message: `must be "${kind}"`, reason: 'FieldValueInvalid' });
  }
  const root = schemaFor(kind);
  const props = propertiesOf(root) ?? {};
  for (const key of Object.keys(value)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    const child = props[key];
    if (!child) {
      if (ctx.unknownFields === 'error')
        errors.push({ path: key, message: 'unknown field', reason: 'FieldValueUnknown' });
      continue;
    }
    walk(child, value[key], [key], ctx);
  }
  if (!('spec' in value))
    errors.push({ path: 'spec', message: 'Required value', reason: 'FieldValueRequired' });
  const meta = value['metadata'];
  if (!isPlainObject(meta)) {
    errors.push({
      path: 'metadata',
      message: 'Required value: metadata with a name',
      reason: 'FieldValueRequired',
    });
  } else if (typeof meta['name'] !== 'string' && typeof meta['generateName'] !== 'string') {
    errors.push({
      path: 'metadata.name',
      message: 'Required value: name or generateName is required',
      reason: 'FieldValueRequired',
    });
  }
  return errors.length === 0
    ? { ok: true, errors, value: value as unknown as KollectObjectByKind[K] }
    : { ok: false, errors };
}

/** Validate an object whose kind is read from its own `kind` field. */
export function validateObject(
  obj: unknown,
  options: ValidateOptions = {},
): ValidationResult<KollectObjectByKind[KollectKind]> {
  const kind = isPlainObject(obj) ? obj['kind'] : undefined;
  if (!isKollectKind(kind)) {
    return {
      ok: false,
      errors: [
        {
          path: 'kind',
          message: 'must name a Kollect kind (KollectProfile, KollectTarget, …)',
          reason: 'FieldValueNotSupported',
        },
      ],
    };
  }
  return validate(kind, obj, options);
}

/**
 * Return a deep copy of `obj` with the CRD defaults applied, exactly as the apiserver
 * defaults on admission: a default fills an absent field only inside an object that exists.
 */
export function applyDefaults<T>(kind: KollectKind, obj: T): T {
  const copy = structuredClone(obj);
  defaultNode(schemaFor(kind), copy);
  return copy;
}

function defaultNode(node: JsonSchemaNode, value: unknown): void {
  const branches = anyOf(node);
  if (branches) {
    const branch = branches.find((b) => typeMatches(b, value));
    if (branch) defaultNode(branch, value);
    return;
  }
  if (isPlainObject(value)) {
    const props = propertiesOf(node);
    if (props) {
      for (const [key, child] of Object.entries(props)) {
        if (value[key] === undefined && child['default'] !== undefined)
          value[key] = structuredClone(child['default']);
        if (value[key] !== undefined) defaultNode(child, value[key]);
      }
    }
    const mv = mapValueSchema(node);
    if (mv) for (const v of Object.values(value)) defaultNode(mv, v);
  } else if (Array.isArray(value)) {
    const items = itemsOf(node);
    if (items) for (const v of value) defaultNode(items, v);
  }
}

interface WalkContext {
  readonly errors: FieldError[];
  readonly unknownFields: 'error' | 'ignore';
}

function push(
  ctx: WalkContext,
  path: readonly PathSegment[],
  reason: SchemaErrorReason,
  message: string,
): void {
  ctx.errors.push({ path: formatPath(path), message, reason });
}

const TYPE_WORDS: Record<string, string> = {
  object: 'an object',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean (true or false)',
};

function walk(node: JsonSchemaNode, value: unknown, path: PathSegment[], ctx: WalkContext): void {
  const before = ctx.errors.length;
  const branches = anyOf(node);
  if (branches) {
    const branch = branches.find((b) => typeMatches(b, value));
    if (!branch) {
      const words = branches.map((b) => TYPE_WORDS[b['type'] as string] ?? String(b['type']));
      push(ctx, path, 'FieldValueTypeInvalid', `must be ${words.join(' or ')}, got ${jsonTypeOf(value)}`);
      return;
    }
    walk(branch, value, path, ctx);
    return;
  }
  if (!typeMatches(node, value)) {
    push(
      ctx,
      path,
      'FieldValueTypeInvalid',
      `must be ${TYPE_WORDS[node['type'] as string] ?? String(node['type'])}, got ${jsonTypeOf(value)}`,
    );
    return;
  }
  switch (node['type']) {
    case 'string':
      checkString(node, value as string, path, ctx);
      break;
    case 'integer':
    case 'number':
      checkNumber(node, value as number, path, ctx);
      break;
    case 'array':
      checkArray(node, value as unknown[], path, ctx);
      break;
    case 'object':
      checkObjectNode(node, value as Record<string, unknown>, path, ctx);
      break;
    default:
      break;
  }
  // Like the apiserver, CEL rules run even when a nested field is invalid, so every problem is
  // reported in one pass. A rule that cannot even be evaluated because of such a nested error
  // would only repeat it less precisely, so that outcome is dropped.
  const rules = node['x-kubernetes-validations'];
  if (rules) checkRules(rules, value, path, ctx, ctx.errors.length > before);
}

function checkRules(
  rules: readonly CelRule[],
  value: unknown,
  path: PathSegment[],
  ctx: WalkContext,
  nestedErrors: boolean,
): void {
  for (const r of rules) {
    const res = evaluateRule(r.rule, value);
    if (res === true || (res !== false && nestedErrors)) continue;
    const at = appendFieldPath(path, r.fieldPath);
    const reason: SchemaErrorReason =
      r.reason === 'FieldValueForbidden'
        ? 'FieldValueForbidden'
        : r.reason === 'FieldValueRequired'
          ? 'FieldValueRequired'
          : r.reason === 'FieldValueDuplicate'
            ? 'FieldValueDuplicate'
            : 'FieldValueInvalid';
    push(ctx, at, reason, res === false ? r.message : `${r.message} (rule could not be evaluated: ${res})`);
  }
}

const PATTERN_HINTS: Record<string, string> = {
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$':
    'must be a lowercase DNS-1123 name: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit (a single name, not namespace/name)',
  '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$':
    'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit',
};

function checkString(node: JsonSchemaNode, value: string, path: PathSegment[], ctx: WalkContext): void {
  const en = node['enum'] as string[] | undefined;
  if (en && !en.includes(value)) {
    push(
      ctx,
      path,
      'FieldValueNotSupported',
      `Unsupported value: ${JSON.stringify(value)}: supported values: ${en.map((e) => JSON.stringify(e)).join(', ')}`,
    );
    return;
  }
  const c = node['const'];
  if (c !== undefined && value !== c) {
    push(ctx, path, 'FieldValueNotSupported', `must be ${JSON.stringify(c)}`);
    return;
  }
  const min = node['minLength'] as number | undefined;
  if (min !== undefined && value.length < min) {
    push(
      ctx,
      path,
      min === 1 ? 'FieldValueRequired' : 'FieldValueInvalid',
      min === 1 ? 'must not be empty' : `must be at least ${min} characters`,
    );
    return;
  }
  const max = node['maxLength'] as number | undefined;
  if (max !== undefined && value.length > max) {
    push(ctx, path, 'FieldValueTooLong', `must be at most ${max} characters, got ${value.length}`);
    return;
  }
  const pattern = node['pattern'] as string | undefined;
  if (pattern !== undefined && !new RegExp(pattern, 'u').test(value)) {
    const hint = PATTERN_HINTS[pattern];
    const docType = node['x-kollect-doc-type'];
    push(
      ctx,
      path,
      'FieldValueInvalid',
      hint ??
        (docType === 'duration'
          ? `invalid duration ${JSON.stringify(value)}: use Go syntax such as 30s, 5m, 1h or 1m30s`
          : `must match the pattern ${pattern}`),
    );
    return;
  }
  const format = node['format'];
  if (format === 'byte' && !/^[A-Za-z0-9+/]*={0,2}$/.test(value.replace(/\s/g, ''))) {
    push(ctx, path, 'FieldValueInvalid', 'must be base64-encoded');
  } else if (
    format === 'date-time' &&
    !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)
  ) {
    push(ctx, path, 'FieldValueInvalid', 'must be an RFC 3339 date-time such as 2024-01-31T12:00:00Z');
  }
}

function checkNumber(node: JsonSchemaNode, value: number, path: PathSegment[], ctx: WalkContext): void {
  const min = node['minimum'] as number | undefined;
  const max = node['maximum'] as number | undefined;
  if (min !== undefined && value < min)
    push(ctx, path, 'FieldValueInvalid', `must be greater than or equal to ${min}`);
  else if (max !== undefined && value > max)
    push(ctx, path, 'FieldValueInvalid', `must be less than or equal to ${max}`);
  else if (node['format'] === 'int32' && (value < -2147483648 || value > 2147483647))
    push(ctx, path, 'FieldValueInvalid', 'must fit in 32 bits');
}

function checkArray(node: JsonSchemaNode, value: unknown[], path: PathSegment[], ctx: WalkContext): void {
  const minItems = node['minItems'] as number | undefined;
  const maxItems = node['maxItems'] as number | undefined;
  if (minItems !== undefined && value.length < minItems) {
    push(
      ctx,
      path,
      'FieldValueRequired',
      minItems === 1 ? 'must contain at least 1 item' : `must contain at least ${minItems} items`,
    );
  }
  if (maxItems !== undefined && value.length > maxItems) {
    push(ctx, path, 'FieldValueTooMany', `must have at most ${maxItems} items, got ${value.length}`);
    return;
  }
  const items = itemsOf(node);
  if (items) value.forEach((v, i) => walk(items, v, [...path, i], ctx));
  const listType = node['x-kubernetes-list-type'];
  if (listType === 'set') {
    const seen = new Set<string>();
    value.forEach((v, i) => {
      const key = JSON.stringify(v);
      if (seen.has(key)) push(ctx, [...path, i], 'FieldValueDuplicate', `Duplicate value: ${key}`);
      seen.add(key);
    });
  } else if (listType === 'map') {
    const keys = node['x-kubernetes-list-map-keys'] ?? [];
    const seen = new Set<string>();
    value.forEach((v, i) => {
      if (!isPlainObject(v)) return;
      const key = JSON.stringify(keys.map((k) => v[k]));
      if (seen.has(key)) {
        const keyPath = keys.length === 1 ? [...path, i, keys[0] as string] : [...path, i];
        push(
          ctx,
          keyPath,
          'FieldValueDuplicate',
          `Duplicate value: ${keys.map((k) => `${k}=${JSON.stringify(v[k])}`).join(', ')}; names must be unique`,
        );
      }
      seen.add(key);
    });
  }
}

function checkObjectNode(
  node: JsonSchemaNode,
  value: Record<string, unknown>,
  path: PathSegment[],
  ctx: WalkContext,
): void {
  if (node['x-kubernetes-preserve-unknown-fields'] === true && !propertiesOf(node)) return;
  for (const req of requiredOf(node)) {
    if (value[req] === undefined) push(ctx, [...path, req], 'FieldValueRequired', 'Required value');
  }
  const maxProps = node['maxProperties'] as number | undefined;
  if (maxProps !== undefined && Object.keys(value).length > maxProps) {
    push(ctx, path, 'FieldValueTooMany', `must have at most ${maxProps} entries`);
  }
  const props = propertiesOf(node);
  const mv = mapValueSchema(node);
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const child = props?.[key] ?? mv;
    if (child) walk(child, v, [...path, key], ctx);
    else if (node['additionalProperties'] !== true && ctx.unknownFields === 'error') {
      push(
        ctx,
        [...path, key],
        'FieldValueUnknown',
        `unknown field ${JSON.stringify(key)}${props ? `; known fields: ${Object.keys(props).join(', ')}` : ''}`,
      );
    }
  }
}
