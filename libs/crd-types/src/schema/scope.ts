import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { ExportInterval, GroupVersionKind, NamespaceSet, NameSet } from './common.js';
import { admission } from './keywords.js';

const ceilingProperties = {
  allowedGVKs: Type.Optional(
    Type.Array(GroupVersionKind, {
      description: 'Kinds targets may collect (matched case-insensitively). Empty means no restriction.',
      maxItems: 256,
      'x-kubernetes-list-type': 'atomic',
    }),
  ),
  allowedNamespaces: Type.Optional(
    NamespaceSet('Workload namespaces targets may collect from. Empty means no restriction.'),
  ),
  deniedNamespaces: Type.Optional(
    NamespaceSet('Workload namespaces that are never collected, whatever a target asks.'),
  ),
  minExportInterval: Type.Optional(
    ExportInterval(
      'Floor for every export interval of inventories and sinks under this scope; shorter intervals are rejected at admission and clamped up at runtime.',
    ),
  ),
  snapshotSinkRefs: Type.Optional(
    NameSet('KollectSnapshotSinks inventories may bind. Empty means no restriction.'),
  ),
  databaseSinkRefs: Type.Optional(
    NameSet('KollectDatabaseSinks inventories may bind. Empty means no restriction.'),
  ),
  eventSinkRefs: Type.Optional(
    NameSet('KollectEventSinks inventories may bind. Empty means no restriction.'),
  ),
} satisfies TProperties;

const scopeAdmission = admission(
  'when several scopes exist, the one with the lexicographically smallest name applies',
  'violations degrade the target or inventory (`ScopeGVKDenied`, `ScopeNamespaceDenied`, `ScopeSinkDenied`): no collection, no export',
);

export const KollectScopeSpec = Type.Object(ceilingProperties, {
  description:
    'Tenancy ceiling for the targets, inventories and sinks of this namespace. Every empty list means "no restriction".',
  additionalProperties: false,
  ...scopeAdmission,
});
export type KollectScopeSpec = Static<typeof KollectScopeSpec>;

export const KollectClusterScopeSpec = Type.Object(
  {
    ...ceilingProperties,
    allowedStaticRefNamespaces: Type.Optional(
      NamespaceSet(
        'Namespaces cluster kinds may reference for profiles and sinks. Empty means no restriction.',
      ),
    ),
  },
  {
    description:
      'Platform ceiling for cluster targets and cluster inventories. Every empty list means "no restriction".',
    additionalProperties: false,
    ...scopeAdmission,
  },
);
export type KollectClusterScopeSpec = Static<typeof KollectClusterScopeSpec>;
