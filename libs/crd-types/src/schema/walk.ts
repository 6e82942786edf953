import type { JsonSchemaNode } from './keywords.js';

/** Schema-node helpers shared by the validator, the CRD generator and the docs generator. */

/** The value schema of a map node (`Type.Record` emits `patternProperties`; CRDs want `additionalProperties`). */
export function mapValueSchema(node: JsonSchemaNode): JsonSchemaNode | undefined {
  const pp = node['patternProperties'] as Record<string, JsonSchemaNode> | undefined;
  if (pp) {
    const values = Object.values(pp);
    if (values.length !== 1) throw new Error('only single-pattern records are supported in CRD schemas');
    return values[0];
  }
  const ap = node['additionalProperties'];
  return typeof ap === 'object' && ap !== null ? (ap as JsonSchemaNode) : undefined;
}

export function propertiesOf(node: JsonSchemaNode): Record<string, JsonSchemaNode> | undefined {
  return node['properties'] as Record<string, JsonSchemaNode> | undefined;
}

export function requiredOf(node: JsonSchemaNode): readonly string[] {
  return (node['required'] as string[] | undefined) ?? [];
}

export function itemsOf(node: JsonSchemaNode): JsonSchemaNode | undefined {
  return node['items'] as JsonSchemaNode | undefined;
}

export function anyOf(node: JsonSchemaNode): JsonSchemaNode[] | undefined {
  return node['anyOf'] as JsonSchemaNode[] | undefined;
}

export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

/** JSON type of a value as a schema `type` keyword would name it. */
export function jsonTypeOf(value: unknown): JsonType | 'undefined' | 'other' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    case 'bigint':
      return 'integer';
    case 'object':
      return 'object';
    case 'undefined':
      return 'undefined';
    default:
      return 'other';
  }
}

/** Whether a value has the JSON type a schema node demands (integers count as numbers). */
export function typeMatches(node: JsonSchemaNode, value: unknown): boolean {
  const want = node['type'] as string | undefined;
  if (want === undefined) return true;
  const got = jsonTypeOf(value);
  return got === want || (want === 'number' && got === 'integer');
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
