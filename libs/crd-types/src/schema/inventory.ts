import { Type, type Static, type TProperties } from '@sinclair/typebox';
import {
  DEFAULT_EXPORT_MIN_INTERVAL,
  DEFAULT_GLOBAL_MAX_EXPORT_BYTES,
  DEFAULT_SINK_NAMESPACE,
  MAX_SINK_REFS,
} from '../constants.js';
import {
  ClusterObjectReference,
  Conditions,
  ExportInterval,
  InventorySinkRefList,
  LabelSelector,
  NamespaceName,
  NamespaceSet,
  NON_EMPTY_SELECTOR_RULE,
  ObjectName,
} from './common.js';
import { admission, cel, StringEnum } from './keywords.js';

const sinkRefProperties = {
  snapshotSinkRefs: Type.Optional(InventorySinkRefList('snapshot', 'KollectSnapshotSink')),
  databaseSinkRefs: Type.Optional(InventorySinkRefList('database', 'KollectDatabaseSink')),
  eventSinkRefs: Type.Optional(InventorySinkRefList('event', 'KollectEventSink')),
} satisfies TProperties;

const intervalDescription =
  'Minimum time between two exports of an identical payload to a sink. A changed payload (checksum) or spec (generation) always exports at once; `0s` means export only on change. Refs and sinks may override it; the scope `minExportInterval` is a floor.';

export const InventorySinkExportStatus = Type.Object(
  {
    name: Type.String({
      description: 'The binding as `<family>/<sinkName>`, e.g. `database/warehouse`.',
      minLength: 1,
      maxLength: 300,
    }),
    namespace: Type.Optional(Type.String({ description: 'Namespace the sink resolved in.', maxLength: 63 })),
    lastExportTime: Type.Optional(
      Type.String({ description: 'When this sink last accepted an export.', format: 'date-time' }),
    ),
    lastChecksum: Type.Optional(
      Type.String({ description: 'Checksum of the last export this sink accepted.', maxLength: 128 }),
    ),
    exportGeneration: Type.Optional(
      Type.Integer({ description: 'Export generation this sink last applied.', minimum: 0, format: 'int64' }),
    ),
    conditions: Type.Optional(Conditions),
  },
  { description: 'Export state of one sink binding.', additionalProperties: false },
);
export type InventorySinkExportStatus = Static<typeof InventorySinkExportStatus>;

const sinkExports = Type.Array(InventorySinkExportStatus, {
  description: 'Per-sink export state, keyed by `<family>/<sinkName>`.',
  maxItems: MAX_SINK_REFS,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['name'],
});

const inventoryStatusProperties = {
  conditions: Type.Optional(Conditions),
  observedGeneration: Type.Optional(
    Type.Integer({
      description: 'Most recent generation observed by the controller.',
      minimum: 0,
      format: 'int64',
    }),
  ),
  itemCount: Type.Optional(
    Type.Integer({ description: 'Rows in the inventory at the last reconcile.', minimum: 0 }),
  ),
  exportGeneration: Type.Optional(
    Type.Integer({
      description: 'Current export generation (+1 on every export whose checksum changed).',
      minimum: 0,
      format: 'int64',
    }),
  ),
  lastExportTime: Type.Optional(
    Type.String({ description: 'Latest successful export over all sinks.', format: 'date-time' }),
  ),
  sinkExports: Type.Optional(sinkExports),
} satisfies TProperties;

export const HTTPEndpointConfig = Type.Object(
  {
    enabled: Type.Optional(
      Type.Boolean({
        description: 'Reserved; the read API is switched on by the operator, not per inventory.',
      }),
    ),
    port: Type.Optional(
      Type.Integer({
        description: 'Reserved listen port.',
        minimum: 1,
        maximum: 65535,
        default: 8082,
        format: 'int32',
      }),
    ),
  },
  {
    description:
      'Reserved and ignored (kept for compatibility): the HTTP read API is an operator-wide feature.',
    additionalProperties: false,
  },
);

export const KollectInventorySpec = Type.Object(
  {
    ...sinkRefProperties,
    exportMinInterval: Type.Optional(ExportInterval(intervalDescription, DEFAULT_EXPORT_MIN_INTERVAL)),
    maxExportBytes: Type.Optional(
      Type.Integer({
        description: `Byte ceiling of one export part; larger payloads are split. Must not exceed the operator global cap (default ${DEFAULT_GLOBAL_MAX_EXPORT_BYTES} = 1.5 MiB).`,
        minimum: 1,
        format: 'int64',
        ...admission('must not exceed the operator global cap'),
      }),
    ),
    suspend: Type.Optional(
      Type.Boolean({
        description: 'Stop exporting; the inventory reports `Degraded` with reason `Suspended`.',
      }),
    ),
    httpEndpoint: Type.Optional(HTTPEndpointConfig),
  },
  {
    description: 'Aggregates the rows of every target in this namespace and exports them to the bound sinks.',
    additionalProperties: false,
    ...admission(
      'sink refs resolve in this namespace: `namespace` is forbidden on refs',
      'intervals must be at least the namespace KollectScope `minExportInterval`',
    ),
  },
);
export type KollectInventorySpec = Static<typeof KollectInventorySpec>;

export const KollectInventoryStatus = Type.Object(inventoryStatusProperties, {
  description: 'Observed export state.',
  additionalProperties: false,
});
export type KollectInventoryStatus = Static<typeof KollectInventoryStatus>;

export const KollectClusterInventorySpec = Type.Object(
  {
    profileRef: Type.Optional(
      ClusterObjectReference(
        'Optional KollectProfile by name and namespace (namespace required when set). Currently only validated.',
      ),
    ),
    targetRefs: Type.Optional(
      Type.Array(ObjectName('Name of a KollectClusterTarget.'), {
        description:
          'KollectClusterTargets to aggregate. Empty means every cluster target matching `targetSelector` (or all of them).',
        maxItems: 256,
        'x-kubernetes-list-type': 'set',
      }),
    ),
    targetSelector: Type.Optional(
      LabelSelector('Selects KollectClusterTargets by label when `targetRefs` is empty.'),
    ),
    namespaces: Type.Optional(
      NamespaceSet('Explicit namespaces that may contribute; intersected with `namespaceSelector`.'),
    ),
    namespaceSelector: LabelSelector(
      'Selects the contributing namespaces. Required and non-empty: an empty selector would roll up cluster-wide.',
    ),
    ...sinkRefProperties,
    sinkNamespace: Type.Optional(
      NamespaceName('Namespace in which sink refs without their own `namespace` resolve.', {
        default: DEFAULT_SINK_NAMESPACE,
      }),
    ),
    exportMinInterval: Type.Optional(ExportInterval(intervalDescription, DEFAULT_EXPORT_MIN_INTERVAL)),
    dedupe: Type.Optional(
      StringEnum(['keepAll', 'byResourceUID'], {
        description:
          '`keepAll` keeps one row per (target, object); `byResourceUID` keeps one row per object when several targets collect it.',
        default: 'keepAll',
      }),
    ),
    suspend: Type.Optional(Type.Boolean({ description: 'Stop exporting.' })),
  },
  {
    description:
      'Platform roll-up of cluster targets across namespaces. There is no spec-level `maxExportBytes`: each ref gets the global cap unless it overrides it.',
    additionalProperties: false,
    ...cel({
      rule: NON_EMPTY_SELECTOR_RULE,
      message:
        'spec.namespaceSelector must have matchLabels or matchExpressions; an empty selector would roll up cluster-wide',
      fieldPath: '.namespaceSelector',
      reason: 'FieldValueRequired',
    }),
    ...admission(
      'rejected when the operator runs in tenant mode',
      'profile and sink ref namespaces must be allowed by the KollectClusterScope `allowedStaticRefNamespaces`',
      'intervals must be at least the KollectClusterScope `minExportInterval`',
    ),
  },
);
export type KollectClusterInventorySpec = Static<typeof KollectClusterInventorySpec>;

export const InventoryNamespaceShardStatus = Type.Object(
  {
    namespace: Type.String({ description: 'Namespace of the shard.', minLength: 1, maxLength: 63 }),
    itemCount: Type.Optional(Type.Integer({ description: 'Rows in this shard after dedupe.', minimum: 0 })),
    targetCount: Type.Optional(Type.Integer({ description: 'Targets that contributed rows.', minimum: 0 })),
    checksum: Type.Optional(Type.String({ description: 'Checksum of the shard rows.', maxLength: 128 })),
  },
  { description: 'One namespace contributing to the roll-up.', additionalProperties: false },
);

export const KollectClusterInventoryStatus = Type.Object(
  {
    ...inventoryStatusProperties,
    targetCount: Type.Optional(
      Type.Integer({ description: 'Cluster targets included in the last roll-up.', minimum: 0 }),
    ),
    namespaceShardCount: Type.Optional(
      Type.Integer({ description: 'Namespaces composed into the last roll-up.', minimum: 0 }),
    ),
    namespaceShards: Type.Optional(
      Type.Array(InventoryNamespaceShardStatus, {
        description: 'Per-namespace shard summary.',
        maxItems: 10000,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['namespace'],
      }),
    ),
  },
  { description: 'Observed roll-up and export state.', additionalProperties: false },
);
export type KollectClusterInventoryStatus = Static<typeof KollectClusterInventoryStatus>;
