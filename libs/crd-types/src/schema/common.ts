import { Type, type Static } from '@sinclair/typebox';
import { DURATION_PATTERN } from '../duration.js';
import { DEFAULT_GLOBAL_MAX_EXPORT_BYTES, MAX_CA_BUNDLE_BYTES, MAX_SINK_REFS } from '../constants.js';
import { admission, cel, StringEnum } from './keywords.js';

/** DNS-1123 subdomain: the shape of every Kubernetes object name. */
export const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** DNS-1123 label: the shape of a namespace name. */
export const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** An object name (DNS-1123 subdomain, at most 253 characters, never `namespace/name`). */
export const ObjectName = (description: string) =>
  Type.String({ description, minLength: 1, maxLength: 253, pattern: DNS1123_SUBDOMAIN });

/** A namespace name (DNS-1123 label, at most 63 characters). */
export const NamespaceName = (description: string, extra: { default?: string } = {}) =>
  Type.String({ description, minLength: 1, maxLength: 63, pattern: DNS1123_LABEL, ...extra });

/** A list of namespace names without duplicates. */
export const NamespaceSet = (description: string) =>
  Type.Array(NamespaceName('A namespace name.'), {
    description,
    maxItems: 256,
    'x-kubernetes-list-type': 'set',
  });

/** A list of non-empty names without duplicates. */
export const NameSet = (description: string) =>
  Type.Array(ObjectName('An object name.'), { description, maxItems: 64, 'x-kubernetes-list-type': 'set' });

/** A Go-style duration bounded to 0…24h (`30s`, `5m`, `1h`, `1m30s`, `0s`). */
export const ExportInterval = (description: string, defaultValue?: string) =>
  Type.String({
    description,
    pattern: DURATION_PATTERN,
    maxLength: 64,
    'x-kollect-doc-type': 'duration',
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
    ...cel({
      rule: "self == '0' || duration(self) <= duration('24h')",
      message: 'must be a duration between 0s and 24h, e.g. 30s, 5m or 1h',
    }),
  });

export const GroupVersionKind = Type.Object(
  {
    group: Type.Optional(
      Type.String({
        description:
          'API group of the resource. Empty (or omitted) means the core group, e.g. for `Pod` or `Secret`.',
        maxLength: 253,
      }),
    ),
    version: Type.String({
      description: 'API version of the resource, e.g. `v1`.',
      minLength: 1,
      maxLength: 63,
    }),
    kind: Type.String({
      description:
        'Kind of the resource, e.g. `Deployment`. Matching is case-insensitive in scopes, exact elsewhere.',
      minLength: 1,
      maxLength: 253,
    }),
  },
  {
    description: 'Identifies a Kubernetes resource type by group, version and kind.',
    additionalProperties: false,
  },
);
export type GroupVersionKind = Static<typeof GroupVersionKind>;

/** A reference from a cluster-scoped kind to a namespaced object: the namespace is mandatory. */
export const ClusterObjectReference = (description: string) =>
  Type.Object(
    {
      name: ObjectName('Name of the referenced object.'),
      namespace: NamespaceName(
        'Namespace of the referenced object. Required: cluster-scoped kinds have no implicit default namespace.',
      ),
    },
    { description, additionalProperties: false },
  );
export const NamespacedObjectReference = ClusterObjectReference(
  'A namespaced object referenced by name and namespace.',
);
export type NamespacedObjectReference = Static<typeof NamespacedObjectReference>;

export const SecretReference = Type.Object(
  {
    name: ObjectName('Name of the Secret.'),
    namespace: Type.Optional(
      NamespaceName('Namespace of the Secret. Defaults to the namespace of the object that references it.'),
    ),
  },
  {
    description:
      'Reference to a Secret holding credentials. Secret values are read only by the worker that needs them and never written to status, logs or the bus.',
    additionalProperties: false,
  },
);
export type SecretReference = Static<typeof SecretReference>;

/** Base64 length of {@link MAX_CA_BUNDLE_BYTES} decoded bytes. */
const MAX_CA_BUNDLE_BASE64 = Math.ceil(MAX_CA_BUNDLE_BYTES / 3) * 4;

export const TLSSpec = Type.Object(
  {
    insecureSkipVerify: Type.Optional(
      Type.Boolean({
        description:
          'Skip verification of the server certificate. Not recommended: the sink then reports the condition `TLSInsecure=True`.',
      }),
    ),
    caBundle: Type.Optional(
      Type.String({
        description: `Inline PEM CA bundle, base64-encoded as for any \`[]byte\` field (at most ${MAX_CA_BUNDLE_BYTES / 1024} KiB decoded). Mutually exclusive with \`caSecretRef\`.`,
        format: 'byte',
        maxLength: MAX_CA_BUNDLE_BASE64,
      }),
    ),
    caSecretRef: Type.Optional(
      Type.Object(
        {
          name: ObjectName('Name of the Secret.'),
          namespace: Type.Optional(NamespaceName('Namespace of the Secret. Defaults to the sink namespace.')),
        },
        {
          description:
            'Secret holding a PEM CA bundle; the keys `tls.crt`, `ca.crt` and `ca.pem` are tried in that order. Mutually exclusive with `caBundle`.',
          additionalProperties: false,
        },
      ),
    ),
  },
  {
    description: 'TLS settings for the sink connection. Certificates are verified by default.',
    additionalProperties: false,
    ...cel({
      rule: '!(has(self.caBundle) && has(self.caSecretRef))',
      message: 'set either caBundle or caSecretRef, not both',
      fieldPath: '.caSecretRef',
      reason: 'FieldValueForbidden',
    }),
  },
);
export type TLSSpec = Static<typeof TLSSpec>;

export const Condition = Type.Object(
  {
    type: Type.String({
      description: 'Type of the condition in CamelCase, e.g. `Ready`.',
      minLength: 1,
      maxLength: 316,
    }),
    status: StringEnum(['True', 'False', 'Unknown'], {
      description: 'Status of the condition: `True`, `False` or `Unknown`.',
    }),
    observedGeneration: Type.Optional(
      Type.Integer({
        description: 'The `metadata.generation` the condition was set for.',
        minimum: 0,
        format: 'int64',
      }),
    ),
    lastTransitionTime: Type.String({
      description: 'When the status last changed (RFC 3339).',
      format: 'date-time',
    }),
    reason: Type.String({
      description: 'Machine-readable CamelCase reason for the last transition.',
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    }),
    message: Type.String({ description: 'Human-readable details of the last transition.', maxLength: 32768 }),
  },
  { description: 'Standard Kubernetes condition (`metav1.Condition`).', additionalProperties: false },
);
export type Condition = Static<typeof Condition>;

export const Conditions = Type.Array(Condition, {
  description: 'Latest observations of the object state, one per condition type.',
  maxItems: 32,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
});

export const LabelSelectorRequirement = Type.Object(
  {
    key: Type.String({ description: 'Label key the requirement applies to.', minLength: 1, maxLength: 317 }),
    operator: StringEnum(['In', 'NotIn', 'Exists', 'DoesNotExist'], {
      description: 'Relation of the key to the values: `In`, `NotIn`, `Exists` or `DoesNotExist`.',
    }),
    values: Type.Optional(
      Type.Array(Type.String({ maxLength: 63 }), {
        description: 'Values for `In`/`NotIn` (non-empty); must be empty for `Exists`/`DoesNotExist`.',
        maxItems: 64,
        'x-kubernetes-list-type': 'atomic',
      }),
    ),
  },
  { description: 'A label selector requirement.', additionalProperties: false },
);

export const MatchLabels = (description: string) =>
  Type.Record(Type.String(), Type.String({ maxLength: 63 }), { description, maxProperties: 64 });

/** Standard Kubernetes label selector (`metav1.LabelSelector`). */
export const LabelSelector = (description: string) =>
  Type.Object(
    {
      matchLabels: Type.Optional(MatchLabels('Labels that must all match exactly (`key: value`).')),
      matchExpressions: Type.Optional(
        Type.Array(LabelSelectorRequirement, {
          description: 'Set-based requirements; all must match.',
          maxItems: 32,
          'x-kubernetes-list-type': 'atomic',
        }),
      ),
    },
    { description, additionalProperties: false, 'x-kubernetes-map-type': 'atomic' },
  );
export const LabelSelectorSchema = LabelSelector('A label selector.');
export type LabelSelector = Static<typeof LabelSelectorSchema>;

/** CEL rule: a selector that selects something, i.e. not nil/empty (an empty one would mean "everything"). */
export const NON_EMPTY_SELECTOR_RULE =
  'has(self.namespaceSelector) && ((has(self.namespaceSelector.matchLabels) && size(self.namespaceSelector.matchLabels) > 0) || (has(self.namespaceSelector.matchExpressions) && size(self.namespaceSelector.matchExpressions) > 0))';

/** Builds the per-ref schema; namespaced and cluster inventories differ only in the docs of `namespace`. */
export const InventorySinkRef = Type.Object(
  {
    name: ObjectName('Name of the family sink object.'),
    namespace: Type.Optional(
      NamespaceName(
        'Namespace of the sink. Cluster inventories only (defaults to `spec.sinkNamespace`); forbidden on a namespaced KollectInventory, whose sinks always resolve in its own namespace.',
      ),
    ),
    exportMinInterval: Type.Optional(
      ExportInterval(
        'Overrides the interval for this binding. Precedence: this value, then the sink `spec.exportMinInterval`, then the inventory `spec.exportMinInterval`; the scope `minExportInterval` is a floor. `0s` exports only on change.',
      ),
    ),
    maxExportBytes: Type.Optional(
      Type.Integer({
        description: `Byte ceiling for one export part to this sink; replaces the inventory value (it may be larger or smaller) but must not exceed the operator global cap (default ${DEFAULT_GLOBAL_MAX_EXPORT_BYTES}). Larger payloads are split into parts.`,
        minimum: 1,
        format: 'int64',
      }),
    ),
  },
  {
    description: 'Binding of an inventory to one family sink, with optional per-binding overrides.',
    additionalProperties: false,
  },
);
export type InventorySinkRef = Static<typeof InventorySinkRef>;

/**
 * A family sink ref list: entries are sink names (`"audit-git"`) or {@link InventorySinkRef} objects.
 * A structural schema cannot say "string or object", so the CRD preserves the items as they are;
 * `validate()` checks each item and `normalizeSinkRefs()` turns strings into `{name}` objects.
 */
export const InventorySinkRefList = (family: 'snapshot' | 'database' | 'event', kindName: string) =>
  Type.Array(Type.Union([ObjectName(`Name of a ${kindName}.`), InventorySinkRef]), {
    description: `${kindName} bindings. Each entry is either the sink name as a plain string or an object with \`name\` and optional overrides (\`exportMinInterval\`, \`maxExportBytes\`, and on cluster inventories \`namespace\`). Strings are read as \`{name: <string>}\`.`,
    maxItems: MAX_SINK_REFS,
    'x-kollect-doc-type': `[]string | []${family}SinkRef`,
    ...admission(
      'each entry is a sink name or an object with `name`',
      'no duplicate names in one list',
      `at most ${MAX_SINK_REFS} refs across the three family lists`,
      '`maxExportBytes` must not exceed the operator global cap',
      'the scope `minExportInterval` is a floor for `exportMinInterval`; the scope family allow-list is checked at reconcile',
    ),
  });
export type InventorySinkRefListEntry = string | InventorySinkRef;
