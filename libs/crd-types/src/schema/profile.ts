import { Type, type Static } from '@sinclair/typebox';
import { MAX_METRIC_LABELS } from '../constants.js';
import { Conditions, GroupVersionKind } from './common.js';
import { admission, cel, StringEnum } from './keywords.js';

export const AttributeSpec = Type.Object(
  {
    name: Type.String({
      description: 'Key of the value in `Item.attributes`. Unique within the profile.',
      minLength: 1,
      maxLength: 253,
    }),
    path: Type.String({
      description:
        'Where the value comes from, chosen by prefix: `cel:<expr>` evaluates CEL with the single variable `object` (the whole object); `helm:release.<field>` reads a field of a Helm 3 release Secret; anything else is kubectl JSONPath (`$.spec.replicas` or `{.spec.replicas}`). JSONPath yields null for no match, a scalar for one match and a list for several.',
      minLength: 1,
      maxLength: 4096,
      ...admission(
        '`cel:` expressions must compile; `object.…` without the `cel:` prefix is rejected',
        'JSONPath must parse; filter expressions `[?(…)]` are accepted with a warning',
        '`helm:release.<field>` must name an exportable field (`manifest`, `hooks`, `chart.templates`, `chart.files`, `chart.values`, `chart.raw` are denied)',
        'on a core `Secret` profile, paths that read `data` (and `helm:release.config…`) need the annotation `kollect.dev/allow-secret-extraction: "true"`',
      ),
    }),
    type: Type.Optional(
      Type.String({
        description:
          'Type hint for consumers (`string`, `int`, `bool`, `list`, `map`, …). Documentation only: values are never coerced.',
        maxLength: 64,
      }),
    ),
    optional: Type.Optional(
      Type.Boolean({
        description:
          'When true, an extraction error or an absent value omits the attribute instead of failing the object (a required attribute that is absent is stored as null; a required attribute that errors fails the whole object).',
      }),
    ),
  },
  { description: 'One value extracted from each matching object.', additionalProperties: false },
);
export type AttributeSpec = Static<typeof AttributeSpec>;

export const PruneSpec = Type.Object(
  {
    defaults: Type.Optional(
      Type.Boolean({
        description:
          'Remove built-in noise: `metadata.managedFields`, `resourceVersion`, `generation`, and the kubectl last-applied and Argo CD tracking-id annotations.',
        default: true,
      }),
    ),
    jsonPointers: Type.Optional(
      Type.Array(
        Type.String({
          pattern: '^(/([^~/]|~[01])*)+$',
          maxLength: 1024,
          description: 'An RFC 6901 JSON Pointer.',
        }),
        {
          description:
            'RFC 6901 JSON Pointers to remove, e.g. `/metadata/annotations/example.com~1secret`. Each must start with `/`; `~` only as `~0` or `~1`. Removing an array element sets it to null.',
          maxItems: 128,
          'x-kubernetes-list-type': 'atomic',
        },
      ),
    ),
    jsonPaths: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), {
        description:
          'JSONPath subset to remove: dotted fields plus `["key"]` and `[0]`. Paths with `*` or filters are accepted with a warning and ignored.',
        maxItems: 128,
        'x-kubernetes-list-type': 'atomic',
        ...admission('wildcard and filter paths are accepted with a warning and not applied'),
      }),
    ),
    scrubKeys: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 253 }), {
        description:
          'Extra key names (case-insensitive) redacted at any depth, merged with the operator scrub list.',
        maxItems: 128,
        'x-kubernetes-list-type': 'set',
      }),
    ),
    cel: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), {
        description: 'Reserved: CEL predicates for pruning. Accepted with a warning and not enforced yet.',
        maxItems: 32,
        'x-kubernetes-list-type': 'atomic',
        ...admission('accepted with a warning; not enforced'),
      }),
    ),
  },
  {
    description: 'Path-based removals applied to the embedded object in Resource mode.',
    additionalProperties: false,
  },
);

export const ExportSpec = Type.Object(
  {
    mode: Type.Optional(
      StringEnum(['Attributes', 'Resource'], {
        description:
          '`Attributes` extracts only `spec.attributes`. `Resource` also embeds a pruned copy of the whole object under `attributes[<as>]`.',
        default: 'Attributes',
        ...admission(
          '`Resource` on a core `Secret` profile needs the annotation `kollect.dev/allow-full-resource-export: "true"`',
        ),
      }),
    ),
    as: Type.Optional(
      Type.String({
        description:
          'Attribute key under which Resource mode stores the embedded object. Must not collide with an attribute name.',
        default: 'resource',
        minLength: 1,
        maxLength: 253,
      }),
    ),
    include: Type.Optional(
      StringEnum(['MetadataOnly', 'SpecOnly', 'StatusOnly', 'SpecAndStatus', 'All'], {
        description: 'Top-level sections kept in Resource mode (`apiVersion` and `kind` are always kept).',
        default: 'SpecAndStatus',
      }),
    ),
    dedupeIdentity: Type.Optional(
      Type.Boolean({
        description:
          'Strip `metadata.name`, `metadata.namespace` and `metadata.uid` from the embedded object; the Item already carries them.',
        default: true,
      }),
    ),
    prune: Type.Optional(PruneSpec),
  },
  { description: 'Full-resource export. Omit for plain attribute extraction.', additionalProperties: false },
);

export const MetricSpec = Type.Object(
  {
    name: Type.String({
      description: 'Series name, unique within the profile.',
      minLength: 1,
      maxLength: 128,
    }),
    path: Type.String({
      description: 'Name of the attribute whose numeric values are summed across rows.',
      minLength: 1,
      maxLength: 253,
      ...admission('must name an attribute of `spec.attributes`'),
    }),
    labels: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 253 }), {
        description: `Attribute names copied as metric labels (at most ${MAX_METRIC_LABELS}); each must name an attribute. Label tuples are capped at 200 per series.`,
        maxItems: MAX_METRIC_LABELS,
        'x-kubernetes-list-type': 'set',
        ...admission('every label must name an attribute of `spec.attributes`'),
      }),
    ),
  },
  { description: 'A Prometheus series derived from collected attributes.', additionalProperties: false },
);

export const KollectProfileSpec = Type.Object(
  {
    targetGVK: GroupVersionKind,
    attributes: Type.Optional(
      Type.Array(AttributeSpec, {
        description:
          'Values to extract from each matching object. Required (non-empty) unless `export.mode` is `Resource`. Keyed by `name`.',
        maxItems: 256,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    ),
    export: Type.Optional(ExportSpec),
    metrics: Type.Optional(
      Type.Array(MetricSpec, {
        description:
          'Domain metrics emitted on the operator `/metrics` endpoint. Without entries, every numeric attribute is summed.',
        maxItems: 32,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    ),
  },
  {
    description: 'Extraction schema: which kind to read and which values to keep.',
    additionalProperties: false,
    ...cel(
      {
        rule: "(has(self.export) && has(self.export.mode) && self.export.mode == 'Resource') || (has(self.attributes) && size(self.attributes) > 0)",
        message: 'spec.attributes must list at least one attribute unless spec.export.mode is Resource',
        fieldPath: '.attributes',
        reason: 'FieldValueRequired',
      },
      {
        rule: "!(has(self.export) && has(self.export.mode) && self.export.mode == 'Resource' && has(self.attributes)) || !self.attributes.exists(a, a.name == (has(self.export.as) ? self.export.as : 'resource'))",
        message:
          'spec.export.as collides with an attribute name; rename the attribute or set export.as to another key',
        fieldPath: '.export.as',
        reason: 'FieldValueDuplicate',
      },
    ),
  },
);
export type KollectProfileSpec = Static<typeof KollectProfileSpec>;

export const KollectProfileStatus = Type.Object(
  {
    conditions: Type.Optional(Conditions),
    observedGeneration: Type.Optional(
      Type.Integer({ description: 'Most recent generation observed.', minimum: 0, format: 'int64' }),
    ),
  },
  {
    description: 'Reserved: profiles are static and nothing writes their status yet.',
    additionalProperties: false,
  },
);
export type KollectProfileStatus = Static<typeof KollectProfileStatus>;
