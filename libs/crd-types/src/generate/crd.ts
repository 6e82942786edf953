import { Document } from 'yaml';
import { GROUP, VERSION } from '../constants.js';
import type { KindDefinition } from '../kinds.js';
import type { JsonSchemaNode } from '../schema/keywords.js';
import { anyOf, itemsOf, mapValueSchema, propertiesOf, requiredOf } from '../schema/walk.js';

/** A structural OpenAPI v3 schema node as it appears in a CRD. */
export type StructuralSchema = Record<string, unknown>;

/** Keys copied verbatim from our schemas into the CRD, in the order they are emitted. */
const SCALAR_KEYS = [
  'description',
  'type',
  'format',
  'enum',
  'default',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
] as const;

const KUBE_KEYS = [
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-validations',
] as const;

/** Formats the apiserver understands; others would be ignored, so we drop them to avoid surprises. */
const KUBE_FORMATS = new Set(['int32', 'int64', 'float', 'double', 'byte', 'date', 'date-time', 'password']);

/**
 * Convert one of our TypeBox schema nodes into a structural schema node:
 * properties sorted by name (as controller-gen does), `patternProperties` records become
 * `additionalProperties`, `additionalProperties: false` is dropped (the apiserver prunes
 * unknown fields instead), and string-or-object unions become
 * `x-kubernetes-preserve-unknown-fields` (see `InventorySinkRefList`).
 */
export function toStructural(node: JsonSchemaNode): StructuralSchema {
  const branches = anyOf(node);
  if (branches) {
    // A structural schema cannot express "string or object"; keep the value as written and
    // let validate()/normalizeSinkRefs() interpret it.
    const out: StructuralSchema = {};
    if (node['description']) out['description'] = node['description'];
    out['x-kubernetes-preserve-unknown-fields'] = true;
    return out;
  }
  const out: StructuralSchema = {};
  for (const key of SCALAR_KEYS) {
    const v = node[key];
    if (v === undefined) continue;
    if (key === 'format' && !KUBE_FORMATS.has(v as string)) continue;
    out[key] = v;
  }
  if (node['const'] !== undefined && out['enum'] === undefined) out['enum'] = [node['const']];
  const required = requiredOf(node);
  if (required.length > 0) out['required'] = [...required];
  const props = propertiesOf(node);
  if (props) {
    const sorted: Record<string, StructuralSchema> = {};
    for (const name of Object.keys(props).sort()) sorted[name] = toStructural(props[name] as JsonSchemaNode);
    out['properties'] = sorted;
  }
  const items = itemsOf(node);
  if (items) out['items'] = toStructural(items);
  if (!props) {
    const mv = mapValueSchema(node);
    if (mv) out['additionalProperties'] = toStructural(mv);
  }
  for (const key of KUBE_KEYS) {
    const v = node[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** The `openAPIV3Schema` of a kind. */
export function crdSchema(def: KindDefinition): StructuralSchema {
  const properties: Record<string, StructuralSchema> = {
    apiVersion: {
      description: 'APIVersion defines the versioned schema of this representation of an object.',
      type: 'string',
    },
    kind: {
      description: 'Kind is a string value representing the REST resource this object represents.',
      type: 'string',
    },
    metadata: { type: 'object' },
    spec: toStructural(def.spec as JsonSchemaNode),
  };
  if (def.status) properties['status'] = toStructural(def.status as JsonSchemaNode);
  return { description: def.description, type: 'object', required: ['spec'], properties };
}

/** The CustomResourceDefinition object of a kind. */
export function crdObject(def: KindDefinition): Record<string, unknown> {
  const version: Record<string, unknown> = {
    name: VERSION,
    served: true,
    storage: true,
    schema: { openAPIV3Schema: crdSchema(def) },
  };
  if (def.status) version['subresources'] = { status: {} };
  version['additionalPrinterColumns'] = def.printerColumns.map((c) => ({
    name: c.name,
    type: c.type,
    jsonPath: c.jsonPath,
    description: c.description,
    ...(c.priority === undefined ? {} : { priority: c.priority }),
  }));
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'kollect', 'app.kubernetes.io/part-of': 'kollect' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: def.listKind,
        plural: def.plural,
        singular: def.singular,
        shortNames: [...def.shortNames],
        categories: ['kollect'],
      },
      scope: def.scope,
      versions: [version],
    },
  };
}

/** File name of a kind's CRD manifest under `crds/`. */
export function crdFileName(def: KindDefinition): string {
  return `${GROUP}_${def.plural}.yaml`;
}

/** The CRD manifest of a kind as deterministic YAML text. */
export function crdYaml(def: KindDefinition): string {
  const doc = new Document(crdObject(def));
  doc.commentBefore = ` Generated by \`npm run gen\` from libs/crd-types (${def.kind}). Do not edit by hand.`;
  return doc.toString({ lineWidth: 0 });
}
