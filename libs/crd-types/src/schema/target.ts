import { Type, type Static, type TProperties } from '@sinclair/typebox';
import {
  ClusterObjectReference,
  Conditions,
  GroupVersionKind,
  LabelSelector,
  LabelSelectorRequirement,
  MatchLabels,
  NamespaceSet,
  NON_EMPTY_SELECTOR_RULE,
  ObjectName,
} from './common.js';
import { admission, cel, StringEnum } from './keywords.js';

export const ResourceRule = Type.Object(
  {
    gvk: GroupVersionKind,
    namespaceSelector: Type.Optional(LabelSelector('Restricts this rule to namespaces whose labels match.')),
    matchLabels: Type.Optional(
      MatchLabels('Labels the resource must carry (ANDed with `matchExpressions`).'),
    ),
    matchExpressions: Type.Optional(
      Type.Array(LabelSelectorRequirement, {
        description: 'Set-based label requirements on the resource.',
        maxItems: 32,
        'x-kubernetes-list-type': 'atomic',
      }),
    ),
    matchPolicy: Type.Optional(
      Type.String({
        description:
          'CEL expression over `object` that must return true for the resource to be collected, e.g. `object.spec.replicas > 1`. An evaluation error counts as no match.',
        minLength: 1,
        maxLength: 4096,
        ...admission('must compile as CEL with the single variable `object`'),
      }),
    ),
  },
  {
    description:
      "Selects resources of one kind; rules are OR-ed. The kind may differ from the profile's `targetGVK`: its resources are then watched too, evaluated with the profile's attributes, and their rows carry the profile's group/version/kind.",
    additionalProperties: false,
  },
);
export type ResourceRule = Static<typeof ResourceRule>;

/** Namespace intent and rule fields shared by KollectTarget and KollectClusterTarget. */
const collectionFilterProperties = {
  includedNamespaces: Type.Optional(
    NamespaceSet(
      'Static allow-list of workload namespaces, ANDed with `namespaceSelector`. Empty means no extra restriction.',
    ),
  ),
  excludedNamespaces: Type.Optional(
    NamespaceSet('Static deny-list of workload namespaces, applied after the include logic.'),
  ),
  namespaceExcludeSelector: Type.Optional(LabelSelector('Excludes namespaces whose labels match.')),
  resourceRules: Type.Optional(
    Type.Array(ResourceRule, {
      description:
        "Rules selecting resources by kind, namespace labels, resource labels and a CEL policy; OR-ed. With rules, only the rules' kinds are collected (name the profile `targetGVK` in a rule to keep it). When empty, the profile `targetGVK` is collected, filtered by `labelSelector` and `names`.",
      maxItems: 32,
      'x-kubernetes-list-type': 'atomic',
    }),
  ),
} satisfies TProperties;

const filterStatusProperties = {
  matchedNamespaces: Type.Optional(
    Type.Array(Type.String(), {
      description: 'Workload namespaces matched by the intent, before the scope ceiling.',
      'x-kubernetes-list-type': 'set',
    }),
  ),
  effectiveNamespaces: Type.Optional(
    Type.Array(Type.String(), {
      description:
        'Namespaces actually collected: the intent intersected with the scope `allowedNamespaces`, minus every deny list.',
      'x-kubernetes-list-type': 'set',
    }),
  ),
  activeResourceRules: Type.Optional(
    Type.Integer({
      description: 'Number of compiled `resourceRules` (0 with the legacy fallback).',
      minimum: 0,
    }),
  ),
} satisfies TProperties;

const observedGeneration = Type.Integer({
  description: 'Most recent generation observed by the controller.',
  minimum: 0,
  format: 'int64',
});

export const KollectTargetSpec = Type.Object(
  {
    profileRef: ObjectName('Name of a KollectProfile in the same namespace.'),
    namespaceSelector: Type.Optional(
      LabelSelector(
        'Selects the workload namespaces to collect from. Omitted means every namespace the operator can see (subject to the scope ceiling).',
      ),
    ),
    ...collectionFilterProperties,
    labelSelector: Type.Optional(
      LabelSelector('Legacy resource filter, used only when `resourceRules` is empty.'),
    ),
    names: Type.Optional(
      Type.Array(ObjectName('A resource name.'), {
        description: 'Exact resource names to collect (legacy path, only when `resourceRules` is empty).',
        maxItems: 256,
        'x-kubernetes-list-type': 'set',
      }),
    ),
    suspend: Type.Optional(
      Type.Boolean({ description: "Stop collecting and remove this target's rows from its inventory." }),
    ),
    watchMode: Type.Optional(
      StringEnum(['All', 'OptIn'], {
        description:
          '`All` collects everything selected except resources or namespaces labelled `kollect.dev/watch: disabled`. `OptIn` collects only from namespaces labelled or annotated `enabled`.',
        default: 'All',
      }),
    ),
  },
  {
    description: 'Which objects to collect with which profile.',
    additionalProperties: false,
    ...admission(
      'profile and rule GVKs must be allowed by the namespace KollectScope; `includedNamespaces` must lie within its `allowedNamespaces` and outside `deniedNamespaces`',
    ),
  },
);
export type KollectTargetSpec = Static<typeof KollectTargetSpec>;

export const KollectTargetStatus = Type.Object(
  {
    conditions: Type.Optional(Conditions),
    observedGeneration: Type.Optional(observedGeneration),
    extractionFailures: Type.Optional(
      Type.Integer({ description: 'Resources currently failing attribute extraction.', minimum: 0 }),
    ),
    lastExtractionError: Type.Optional(
      Type.String({ description: 'Most recent extraction failure message.', maxLength: 32768 }),
    ),
    ...filterStatusProperties,
  },
  { description: 'Observed state of the target.', additionalProperties: false },
);
export type KollectTargetStatus = Static<typeof KollectTargetStatus>;

export const KollectClusterTargetSpec = Type.Object(
  {
    profileRef: ClusterObjectReference(
      'The KollectProfile to use, by name and namespace (the namespace is required).',
    ),
    namespaceSelector: LabelSelector(
      'Selects the workload namespaces to collect from. Required and non-empty: an empty selector would collect cluster-wide.',
    ),
    ...collectionFilterProperties,
    suspend: Type.Optional(Type.Boolean({ description: 'Stop collecting in every namespace.' })),
  },
  {
    description: 'Platform collection across the namespaces a selector picks.',
    additionalProperties: false,
    ...cel({
      rule: NON_EMPTY_SELECTOR_RULE,
      message:
        'spec.namespaceSelector must have matchLabels or matchExpressions; an empty selector would collect cluster-wide',
      fieldPath: '.namespaceSelector',
      reason: 'FieldValueRequired',
    }),
    ...admission(
      'rejected when the operator runs in tenant mode',
      'the profile namespace must be allowed by the KollectClusterScope `allowedStaticRefNamespaces`',
    ),
  },
);
export type KollectClusterTargetSpec = Static<typeof KollectClusterTargetSpec>;

export const KollectClusterTargetStatus = Type.Object(
  {
    conditions: Type.Optional(Conditions),
    observedGeneration: Type.Optional(observedGeneration),
    ...filterStatusProperties,
  },
  { description: 'Observed state of the cluster target.', additionalProperties: false },
);
export type KollectClusterTargetStatus = Static<typeof KollectClusterTargetStatus>;
