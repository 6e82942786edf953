import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { API_VERSION } from './constants.js';
import { KollectConnectionTestSpec, KollectConnectionTestStatus } from './schema/connection-test.js';
import {
  KollectClusterInventorySpec,
  KollectClusterInventoryStatus,
  KollectInventorySpec,
  KollectInventoryStatus,
} from './schema/inventory.js';
import { KollectProfileSpec, KollectProfileStatus } from './schema/profile.js';
import { KollectClusterScopeSpec, KollectScopeSpec } from './schema/scope.js';
import {
  FamilySinkStatus,
  KollectDatabaseSinkSpec,
  KollectEventSinkSpec,
  KollectSnapshotSinkSpec,
} from './schema/sinks.js';
import {
  KollectClusterTargetSpec,
  KollectClusterTargetStatus,
  KollectTargetSpec,
  KollectTargetStatus,
} from './schema/target.js';

/** The eleven Kollect kinds, in the order the docs list them. */
export const KINDS = [
  'KollectProfile',
  'KollectTarget',
  'KollectClusterTarget',
  'KollectInventory',
  'KollectClusterInventory',
  'KollectSnapshotSink',
  'KollectDatabaseSink',
  'KollectEventSink',
  'KollectScope',
  'KollectClusterScope',
  'KollectConnectionTest',
] as const;
export type KollectKind = (typeof KINDS)[number];

/** True for a string naming one of the Kollect kinds. */
export function isKollectKind(value: unknown): value is KollectKind {
  return typeof value === 'string' && (KINDS as readonly string[]).includes(value);
}

/** A column `kubectl get` prints (CRD `additionalPrinterColumns`). */
export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly jsonPath: string;
  readonly description: string;
  readonly priority?: number;
}

/** Everything the generator, validator and docs need to know about one kind. */
export interface KindDefinition {
  readonly kind: KollectKind;
  readonly plural: string;
  readonly singular: string;
  readonly listKind: string;
  readonly shortNames: readonly string[];
  readonly scope: 'Namespaced' | 'Cluster';
  /** One-paragraph, user-facing description (CRD description and doc page intro). */
  readonly description: string;
  /** Whether a controller reconciles the kind (static kinds are only read). */
  readonly reconciled: boolean;
  readonly spec: TSchema;
  /** Status schema; absent for kinds without status (scopes). */
  readonly status?: TSchema;
  readonly printerColumns: readonly PrinterColumn[];
}

const condition = (
  type: string,
  name = type,
  description = `Status of the ${type} condition.`,
): PrinterColumn => ({
  name,
  type: 'string',
  jsonPath: `.status.conditions[?(@.type=="${type}")].status`,
  description,
});
const age: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since creation.',
};
const sinkColumns: readonly PrinterColumn[] = [
  { name: 'Type', type: 'string', jsonPath: '.spec.type', description: 'Backend type.' },
  condition('ConnectionVerified', 'Verified', 'Result of the last connection probe.'),
  condition('Degraded'),
  { name: 'Endpoint', type: 'string', jsonPath: '.spec.endpoint', description: 'Destination.', priority: 1 },
  age,
];
const inventoryColumns: readonly PrinterColumn[] = [
  condition('Ready'),
  condition('Synced'),
  { name: 'Items', type: 'integer', jsonPath: '.status.itemCount', description: 'Rows in the inventory.' },
  {
    name: 'Last export',
    type: 'date',
    jsonPath: '.status.lastExportTime',
    description: 'Latest successful export over all sinks.',
  },
  age,
];

/** Definitions of all kinds, keyed by kind. */
export const KIND_DEFINITIONS: Readonly<Record<KollectKind, KindDefinition>> = {
  KollectProfile: {
    kind: 'KollectProfile',
    plural: 'kollectprofiles',
    singular: 'kollectprofile',
    listKind: 'KollectProfileList',
    shortNames: ['kprof'],
    scope: 'Namespaced',
    reconciled: false,
    description:
      'KollectProfile is the extraction schema: the kind of object to read (`targetGVK`) and the values to keep from each object (`attributes`, as CEL, JSONPath or Helm release fields), or a pruned copy of the whole object (`export.mode: Resource`). Profiles are static: they are validated and read by the targets that reference them.',
    spec: KollectProfileSpec,
    status: KollectProfileStatus,
    printerColumns: [
      {
        name: 'Target kind',
        type: 'string',
        jsonPath: '.spec.targetGVK.kind',
        description: 'Kind the profile reads.',
      },
      {
        name: 'Mode',
        type: 'string',
        jsonPath: '.spec.export.mode',
        description: 'Export mode (Attributes unless set).',
      },
      age,
    ],
  },
  KollectTarget: {
    kind: 'KollectTarget',
    plural: 'kollecttargets',
    singular: 'kollecttarget',
    listKind: 'KollectTargetList',
    shortNames: ['ktgt'],
    scope: 'Namespaced',
    reconciled: true,
    description:
      'KollectTarget binds a profile of the same namespace to selectors and drives collection: which namespaces (selector, include/exclude lists) and which resources (resource rules or the legacy label selector and names). Its rows belong to the KollectInventory of its own namespace.',
    spec: KollectTargetSpec,
    status: KollectTargetStatus,
    printerColumns: [
      { name: 'Profile', type: 'string', jsonPath: '.spec.profileRef', description: 'Profile in use.' },
      condition('Ready'),
      condition('Synced'),
      {
        name: 'Failures',
        type: 'integer',
        jsonPath: '.status.extractionFailures',
        description: 'Objects failing extraction.',
        priority: 1,
      },
      age,
    ],
  },
  KollectClusterTarget: {
    kind: 'KollectClusterTarget',
    plural: 'kollectclustertargets',
    singular: 'kollectclustertarget',
    listKind: 'KollectClusterTargetList',
    shortNames: ['kctgt'],
    scope: 'Cluster',
    reconciled: true,
    description:
      'KollectClusterTarget is platform collection across namespaces: a profile referenced by name and namespace, applied in every namespace a mandatory, non-empty namespace selector picks. Rejected when the operator runs in tenant mode.',
    spec: KollectClusterTargetSpec,
    status: KollectClusterTargetStatus,
    printerColumns: [
      { name: 'Profile', type: 'string', jsonPath: '.spec.profileRef.name', description: 'Profile in use.' },
      condition('Ready'),
      condition('Synced'),
      age,
    ],
  },
  KollectInventory: {
    kind: 'KollectInventory',
    plural: 'kollectinventories',
    singular: 'kollectinventory',
    listKind: 'KollectInventoryList',
    shortNames: ['kinv'],
    scope: 'Namespaced',
    reconciled: true,
    description:
      'KollectInventory aggregates the rows of every target in its namespace and exports them, debounced, to the bound snapshot, database and event sinks of the same namespace. Each export whose content changed is a new export generation.',
    spec: KollectInventorySpec,
    status: KollectInventoryStatus,
    printerColumns: inventoryColumns,
  },
  KollectClusterInventory: {
    kind: 'KollectClusterInventory',
    plural: 'kollectclusterinventories',
    singular: 'kollectclusterinventory',
    listKind: 'KollectClusterInventoryList',
    shortNames: ['kcinv'],
    scope: 'Cluster',
    reconciled: true,
    description:
      'KollectClusterInventory rolls up cluster targets across the namespaces a mandatory, non-empty selector picks, and exports to sinks in any namespace (by default `kollect-system`). Rejected when the operator runs in tenant mode.',
    spec: KollectClusterInventorySpec,
    status: KollectClusterInventoryStatus,
    printerColumns: [
      ...inventoryColumns.slice(0, 3),
      {
        name: 'Targets',
        type: 'integer',
        jsonPath: '.status.targetCount',
        description: 'Cluster targets included.',
        priority: 1,
      },
      ...inventoryColumns.slice(3),
    ],
  },
  KollectSnapshotSink: {
    kind: 'KollectSnapshotSink',
    plural: 'kollectsnapshotsinks',
    singular: 'kollectsnapshotsink',
    listKind: 'KollectSnapshotSinkList',
    shortNames: ['ksnap'],
    scope: 'Namespaced',
    reconciled: true,
    description:
      'KollectSnapshotSink is a snapshot store: a Git or GitLab repository (history is the audit trail) or an S3/GCS bucket. Its controller only probes the connection and renders previews; inventories do the exporting.',
    spec: KollectSnapshotSinkSpec,
    status: FamilySinkStatus,
    printerColumns: sinkColumns,
  },
  KollectDatabaseSink: {
    kind: 'KollectDatabaseSink',
    plural: 'kollectdatabasesinks',
    singular: 'kollectdatabasesink',
    listKind: 'KollectDatabaseSinkList',
    shortNames: ['kdb'],
    scope: 'Namespaced',
    reconciled: true,
    description:
      'KollectDatabaseSink is a relational or document store (PostgreSQL, MongoDB, BigQuery) holding one row per item, partitioned by cluster. Its controller only probes the connection and renders previews.',
    spec: KollectDatabaseSinkSpec,
    status: FamilySinkStatus,
    printerColumns: sinkColumns,
  },
  KollectEventSink: {
    kind: 'KollectEventSink',
    plural: 'kollecteventsinks',
    singular: 'kollecteventsink',
    listKind: 'KollectEventSinkList',
    shortNames: ['kevt'],
    scope: 'Namespaced',
    reconciled: true,
    description:
      'KollectEventSink is an event stream (Kafka, NATS JetStream) receiving row changes or whole snapshots. Its controller only probes the connection and renders previews.',
    spec: KollectEventSinkSpec,
    status: FamilySinkStatus,
    printerColumns: sinkColumns,
  },
  KollectScope: {
    kind: 'KollectScope',
    plural: 'kollectscopes',
    singular: 'kollectscope',
    listKind: 'KollectScopeList',
    shortNames: ['kscope'],
    scope: 'Namespaced',
    reconciled: false,
    description:
      'KollectScope is the tenancy ceiling of one namespace: which kinds its targets may collect, from which namespaces, which sinks its inventories may bind and how often they may export. It has no status; violations show on the targets and inventories it constrains.',
    spec: KollectScopeSpec,
    printerColumns: [
      {
        name: 'Min interval',
        type: 'string',
        jsonPath: '.spec.minExportInterval',
        description: 'Export interval floor.',
      },
      age,
    ],
  },
  KollectClusterScope: {
    kind: 'KollectClusterScope',
    plural: 'kollectclusterscopes',
    singular: 'kollectclusterscope',
    listKind: 'KollectClusterScopeList',
    shortNames: ['kcscope'],
    scope: 'Cluster',
    reconciled: false,
    description:
      'KollectClusterScope is the platform ceiling for cluster targets and cluster inventories, with the same fields as KollectScope plus `allowedStaticRefNamespaces` for the namespaces cluster kinds may reference.',
    spec: KollectClusterScopeSpec,
    printerColumns: [
      {
        name: 'Min interval',
        type: 'string',
        jsonPath: '.spec.minExportInterval',
        description: 'Export interval floor.',
      },
      age,
    ],
  },
  KollectConnectionTest: {
    kind: 'KollectConnectionTest',
    plural: 'kollectconnectiontests',
    singular: 'kollectconnectiontest',
    listKind: 'KollectConnectionTestList',
    shortNames: ['kconntest'],
    scope: 'Namespaced',
    reconciled: true,
    description:
      'KollectConnectionTest is a one-shot, audited probe of one sink, with the same code and credentials as an export. It probes once per generation and deletes itself after `ttlSecondsAfterFinished`.',
    spec: KollectConnectionTestSpec,
    status: KollectConnectionTestStatus,
    printerColumns: [
      { name: 'Sink', type: 'string', jsonPath: '.spec.sinkRef', description: 'The sink under test.' },
      condition('ConnectionVerified', 'Verified', 'Result of the probe.'),
      {
        name: 'Latency',
        type: 'integer',
        jsonPath: '.status.latencyMs',
        description: 'Probe duration in milliseconds.',
        priority: 1,
      },
      age,
    ],
  },
};

/** Object metadata as far as Kollect reads it; other fields pass through. */
export const ObjectMeta = Type.Object(
  {
    name: Type.Optional(Type.String({ description: 'Object name.', minLength: 1, maxLength: 253 })),
    generateName: Type.Optional(Type.String({ maxLength: 253 })),
    namespace: Type.Optional(Type.String({ maxLength: 63 })),
    uid: Type.Optional(Type.String()),
    resourceVersion: Type.Optional(Type.String()),
    generation: Type.Optional(Type.Integer()),
    creationTimestamp: Type.Optional(Type.String()),
    deletionTimestamp: Type.Optional(Type.String()),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
    finalizers: Type.Optional(Type.Array(Type.String())),
  },
  { description: 'Standard object metadata.', additionalProperties: true },
);
export type ObjectMeta = Static<typeof ObjectMeta>;

/** The whole-object schema of a kind: apiVersion, kind, metadata, spec and (if any) status. */
export function objectSchema(def: KindDefinition): TSchema {
  return Type.Object(
    {
      apiVersion: Type.Literal(API_VERSION, { description: `Always \`${API_VERSION}\`.` }),
      kind: Type.Literal(def.kind, { description: `Always \`${def.kind}\`.` }),
      metadata: ObjectMeta,
      spec: def.spec,
      ...(def.status ? { status: Type.Optional(def.status) } : {}),
    },
    { description: def.description, additionalProperties: false },
  );
}

interface KollectObject<K extends KollectKind, Spec, Status = never> {
  apiVersion: typeof API_VERSION;
  kind: K;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
}

export type KollectProfile = KollectObject<'KollectProfile', KollectProfileSpec, KollectProfileStatus>;
export type KollectTarget = KollectObject<'KollectTarget', KollectTargetSpec, KollectTargetStatus>;
export type KollectClusterTarget = KollectObject<
  'KollectClusterTarget',
  KollectClusterTargetSpec,
  KollectClusterTargetStatus
>;
export type KollectInventory = KollectObject<
  'KollectInventory',
  KollectInventorySpec,
  KollectInventoryStatus
>;
export type KollectClusterInventory = KollectObject<
  'KollectClusterInventory',
  KollectClusterInventorySpec,
  KollectClusterInventoryStatus
>;
export type KollectSnapshotSink = KollectObject<
  'KollectSnapshotSink',
  KollectSnapshotSinkSpec,
  FamilySinkStatus
>;
export type KollectDatabaseSink = KollectObject<
  'KollectDatabaseSink',
  KollectDatabaseSinkSpec,
  FamilySinkStatus
>;
export type KollectEventSink = KollectObject<'KollectEventSink', KollectEventSinkSpec, FamilySinkStatus>;
export type KollectScope = KollectObject<'KollectScope', KollectScopeSpec>;
export type KollectClusterScope = KollectObject<'KollectClusterScope', KollectClusterScopeSpec>;
export type KollectConnectionTest = KollectObject<
  'KollectConnectionTest',
  KollectConnectionTestSpec,
  KollectConnectionTestStatus
>;

/** Maps each kind name to its object type. */
export interface KollectObjectByKind {
  KollectProfile: KollectProfile;
  KollectTarget: KollectTarget;
  KollectClusterTarget: KollectClusterTarget;
  KollectInventory: KollectInventory;
  KollectClusterInventory: KollectClusterInventory;
  KollectSnapshotSink: KollectSnapshotSink;
  KollectDatabaseSink: KollectDatabaseSink;
  KollectEventSink: KollectEventSink;
  KollectScope: KollectScope;
  KollectClusterScope: KollectClusterScope;
  KollectConnectionTest: KollectConnectionTest;
}
/** Any Kollect object. */
export type AnyKollectObject = KollectObjectByKind[KollectKind];
