import type { KollectKind, KollectObjectByKind } from '../kinds.js';
import type { SchemaErrorReason } from '../validate.js';
import { SAMPLES } from './index.js';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One schema-invalid variant of a sample, with the exact field path the error must name. */
export interface SchemaInvalidCase {
  /** What is wrong, phrased so that "rejects a <name>" reads as a sentence. */
  readonly name: string;
  readonly kind: KollectKind;
  /** Turns a copy of the kind's sample into the invalid document. */
  readonly edit: (d: Doc) => void;
  /** Field path of the expected error (format: see formatPath). */
  readonly path: string;
  readonly reason?: SchemaErrorReason;
  readonly message?: RegExp;
  /**
   * The apiserver cannot catch this one (string-or-object sink ref entries are preserved as
   * written); only Kollect's validate() does.
   */
  readonly kollectOnly?: true;
}

/**
 * Schema-invalid documents per kind. The unit tests assert that validate() reports each at its
 * path; the e2e suite asserts that the apiserver rejects the same documents (except
 * `kollectOnly` ones), so schema and validator cannot drift apart.
 */
export const SCHEMA_INVALID_CASES: readonly SchemaInvalidCase[] = [
  // KollectProfile
  {
    name: 'profile without targetGVK.kind',
    kind: 'KollectProfile',
    edit: (d) => delete d.spec.targetGVK.kind,
    path: 'spec.targetGVK.kind',
    reason: 'FieldValueRequired',
  },
  {
    name: 'profile with an empty attribute path',
    kind: 'KollectProfile',
    edit: (d) => (d.spec.attributes[1].path = ''),
    path: 'spec.attributes[1].path',
    reason: 'FieldValueRequired',
  },
  {
    name: 'profile with duplicate attribute names',
    kind: 'KollectProfile',
    edit: (d) => (d.spec.attributes[2].name = 'image'),
    path: 'spec.attributes[2].name',
    reason: 'FieldValueDuplicate',
  },
  {
    name: 'profile without attributes in Attributes mode',
    kind: 'KollectProfile',
    edit: (d) => (delete d.spec.attributes, delete d.spec.metrics),
    path: 'spec.attributes',
    reason: 'FieldValueRequired',
    message: /unless spec.export.mode is Resource/,
  },
  {
    name: 'profile with an unknown export mode',
    kind: 'KollectProfile',
    edit: (d) => (d.spec.export = { mode: 'Everything' }),
    path: 'spec.export.mode',
    reason: 'FieldValueNotSupported',
    message: /supported values: "Attributes", "Resource"/,
  },
  {
    name: 'profile whose export.as collides with an attribute',
    kind: 'KollectProfile',
    edit: (d) => (d.spec.export = { mode: 'Resource', as: 'image' }),
    path: 'spec.export.as',
    reason: 'FieldValueDuplicate',
  },
  {
    name: 'profile with a bad JSON pointer',
    kind: 'KollectProfile',
    edit: (d) => (d.spec.export = { mode: 'Resource', prune: { jsonPointers: ['/metadata/~2x'] } }),
    path: 'spec.export.prune.jsonPointers[0]',
    reason: 'FieldValueInvalid',
  },
  {
    name: 'profile metric with six labels',
    kind: 'KollectProfile',
    edit: (d) => (d.spec.metrics[0].labels = ['a', 'b', 'c', 'd', 'e', 'f']),
    path: 'spec.metrics[0].labels',
    reason: 'FieldValueTooMany',
  },
  {
    name: 'profile with an unknown spec field',
    kind: 'KollectProfile',
    edit: (d) => (d.spec.attrs = []),
    path: 'spec.attrs',
    reason: 'FieldValueUnknown',
  },
  // KollectTarget
  {
    name: 'target without profileRef',
    kind: 'KollectTarget',
    edit: (d) => delete d.spec.profileRef,
    path: 'spec.profileRef',
    reason: 'FieldValueRequired',
  },
  {
    name: 'target with a namespace/name profileRef',
    kind: 'KollectTarget',
    edit: (d) => (d.spec.profileRef = 'team-b/images'),
    path: 'spec.profileRef',
    reason: 'FieldValueInvalid',
    message: /not namespace\/name/,
  },
  {
    name: 'target with an unknown watchMode',
    kind: 'KollectTarget',
    edit: (d) => (d.spec.watchMode = 'Sometimes'),
    path: 'spec.watchMode',
    reason: 'FieldValueNotSupported',
  },
  {
    name: 'target with duplicate includedNamespaces',
    kind: 'KollectTarget',
    edit: (d) => (d.spec.includedNamespaces = ['a', 'b', 'a']),
    path: 'spec.includedNamespaces[2]',
    reason: 'FieldValueDuplicate',
  },
  {
    name: 'target with an empty includedNamespaces entry',
    kind: 'KollectTarget',
    edit: (d) => (d.spec.includedNamespaces = ['']),
    path: 'spec.includedNamespaces[0]',
    reason: 'FieldValueRequired',
  },
  {
    name: 'target rule without gvk.version',
    kind: 'KollectTarget',
    edit: (d) => (d.spec.resourceRules = [{ gvk: { kind: 'Pod' } }]),
    path: 'spec.resourceRules[0].gvk.version',
    reason: 'FieldValueRequired',
  },
  {
    name: 'target selector with a bad operator',
    kind: 'KollectTarget',
    edit: (d) => (d.spec.namespaceSelector = { matchExpressions: [{ key: 'a', operator: 'Like' }] }),
    path: 'spec.namespaceSelector.matchExpressions[0].operator',
    reason: 'FieldValueNotSupported',
  },
  {
    name: 'target with suspend as a string',
    kind: 'KollectTarget',
    edit: (d) => (d.spec.suspend = 'yes'),
    path: 'spec.suspend',
    reason: 'FieldValueTypeInvalid',
  },
  // KollectClusterTarget
  {
    name: 'cluster target profileRef without namespace',
    kind: 'KollectClusterTarget',
    edit: (d) => delete d.spec.profileRef.namespace,
    path: 'spec.profileRef.namespace',
    reason: 'FieldValueRequired',
  },
  {
    name: 'cluster target without namespaceSelector',
    kind: 'KollectClusterTarget',
    edit: (d) => delete d.spec.namespaceSelector,
    path: 'spec.namespaceSelector',
    reason: 'FieldValueRequired',
  },
  {
    name: 'cluster target with an empty namespaceSelector',
    kind: 'KollectClusterTarget',
    edit: (d) => (d.spec.namespaceSelector = {}),
    path: 'spec.namespaceSelector',
    reason: 'FieldValueRequired',
    message: /cluster-wide/,
  },
  {
    name: 'cluster target with an invalid namespace name',
    kind: 'KollectClusterTarget',
    edit: (d) => (d.spec.profileRef.namespace = 'Team_A'),
    path: 'spec.profileRef.namespace',
    reason: 'FieldValueInvalid',
    message: /DNS-1123 label/,
  },
  // KollectInventory
  {
    name: 'inventory with an interval over 24h',
    kind: 'KollectInventory',
    edit: (d) => (d.spec.exportMinInterval = '25h'),
    path: 'spec.exportMinInterval',
    reason: 'FieldValueInvalid',
    message: /between 0s and 24h/,
  },
  {
    name: 'inventory with a malformed interval',
    kind: 'KollectInventory',
    edit: (d) => (d.spec.exportMinInterval = 'ten minutes'),
    path: 'spec.exportMinInterval',
    reason: 'FieldValueInvalid',
    message: /Go syntax/,
  },
  {
    name: 'inventory with a negative interval',
    kind: 'KollectInventory',
    edit: (d) => (d.spec.exportMinInterval = '-5s'),
    path: 'spec.exportMinInterval',
    reason: 'FieldValueInvalid',
  },
  {
    name: 'inventory with maxExportBytes 0',
    kind: 'KollectInventory',
    edit: (d) => (d.spec.maxExportBytes = 0),
    path: 'spec.maxExportBytes',
    reason: 'FieldValueInvalid',
  },
  {
    name: 'inventory ref that is a number',
    kind: 'KollectInventory',
    edit: (d) => (d.spec.databaseSinkRefs = [42]),
    path: 'spec.databaseSinkRefs[0]',
    reason: 'FieldValueTypeInvalid',
    message: /a string or an object/,
    kollectOnly: true,
  },
  {
    name: 'inventory ref object without name',
    kind: 'KollectInventory',
    edit: (d) => (d.spec.snapshotSinkRefs = [{ exportMinInterval: '1h' }]),
    path: 'spec.snapshotSinkRefs[0].name',
    reason: 'FieldValueRequired',
    kollectOnly: true,
  },
  {
    name: 'inventory ref with a bad interval',
    kind: 'KollectInventory',
    edit: (d) => (d.spec.snapshotSinkRefs[0].exportMinInterval = '2d'),
    path: 'spec.snapshotSinkRefs[0].exportMinInterval',
    reason: 'FieldValueInvalid',
    kollectOnly: true,
  },
  {
    name: 'inventory with 21 event refs',
    kind: 'KollectInventory',
    edit: (d) => (d.spec.eventSinkRefs = Array.from({ length: 21 }, (_, i) => `s${i}`)),
    path: 'spec.eventSinkRefs',
    reason: 'FieldValueTooMany',
  },
  {
    name: 'inventory httpEndpoint port out of range',
    kind: 'KollectInventory',
    edit: (d) => (d.spec.httpEndpoint = { port: 70000 }),
    path: 'spec.httpEndpoint.port',
    reason: 'FieldValueInvalid',
  },
  // KollectClusterInventory
  {
    name: 'cluster inventory with an empty namespaceSelector',
    kind: 'KollectClusterInventory',
    edit: (d) => (d.spec.namespaceSelector = { matchLabels: {} }),
    path: 'spec.namespaceSelector',
    reason: 'FieldValueRequired',
  },
  {
    name: 'cluster inventory with an unknown dedupe mode',
    kind: 'KollectClusterInventory',
    edit: (d) => (d.spec.dedupe = 'byName'),
    path: 'spec.dedupe',
    reason: 'FieldValueNotSupported',
  },
  {
    name: 'cluster inventory with a profileRef lacking namespace',
    kind: 'KollectClusterInventory',
    edit: (d) => (d.spec.profileRef = { name: 'p' }),
    path: 'spec.profileRef.namespace',
    reason: 'FieldValueRequired',
  },
  {
    name: 'cluster inventory with duplicate namespaces',
    kind: 'KollectClusterInventory',
    edit: (d) => (d.spec.namespaces = ['a', 'a']),
    path: 'spec.namespaces[1]',
    reason: 'FieldValueDuplicate',
  },
  // KollectSnapshotSink
  {
    name: 'git sink without the git block',
    kind: 'KollectSnapshotSink',
    edit: (d) => delete d.spec.git,
    path: 'spec.git',
    reason: 'FieldValueRequired',
    message: /git: \{\}/,
  },
  {
    name: 'git sink with an objectStore block',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.objectStore = { format: 'json' }),
    path: 'spec.objectStore',
    reason: 'FieldValueForbidden',
  },
  {
    name: 's3 sink with a git block',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.type = 's3'),
    path: 'spec.git',
    reason: 'FieldValueForbidden',
  },
  {
    name: 's3 sink with a layout',
    kind: 'KollectSnapshotSink',
    edit: (d) => (delete d.spec.git, (d.spec.type = 's3'), (d.spec.layout = { mode: 'document' })),
    path: 'spec.layout',
    reason: 'FieldValueForbidden',
  },
  {
    name: 'git sink with parquet',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.serialization = { format: 'parquet' }),
    path: 'spec.serialization.format',
    reason: 'FieldValueInvalid',
  },
  {
    name: 'sink with an unadmitted type',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.type = 'azureblob'),
    path: 'spec.type',
    reason: 'FieldValueNotSupported',
  },
  {
    name: 'pathTemplate without {name}',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.pathTemplate = 'inventory/{namespace}.yaml'),
    path: 'spec.pathTemplate',
    reason: 'FieldValueInvalid',
    message: /\{namespace\} and \{name\}/,
  },
  {
    name: 'pathTemplate with traversal',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.pathTemplate = '../{namespace}/{name}'),
    path: 'spec.pathTemplate',
    reason: 'FieldValueInvalid',
    message: /\.\./,
  },
  {
    name: 'pathTemplate with an unknown placeholder',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.pathTemplate = '{namespace}/{name}/{uid}'),
    path: 'spec.pathTemplate',
    reason: 'FieldValueInvalid',
    message: /placeholders/,
  },
  {
    name: 'git branch with ..',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.git.branch = 'main..x'),
    path: 'spec.git.branch',
    reason: 'FieldValueInvalid',
  },
  {
    name: 'git branch with refs/ prefix',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.git.branch = 'refs/heads/main'),
    path: 'spec.git.branch',
    reason: 'FieldValueInvalid',
  },
  {
    name: 'git branch starting with -',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.git.branch = '-main'),
    path: 'spec.git.branch',
    reason: 'FieldValueInvalid',
  },
  {
    name: 'git branch ending with .lock',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.git.branch = 'main.lock'),
    path: 'spec.git.branch',
    reason: 'FieldValueInvalid',
  },
  {
    name: 'git cloneDepth 0',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.git.cloneDepth = 0),
    path: 'spec.git.cloneDepth',
    reason: 'FieldValueInvalid',
  },
  {
    name: 'TLS with both caBundle and caSecretRef',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.tls = { caBundle: 'QUJD', caSecretRef: { name: 'ca' } }),
    path: 'spec.tls.caSecretRef',
    reason: 'FieldValueForbidden',
  },
  {
    name: 'caBundle over 64 KiB',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.tls = { caBundle: Buffer.alloc(64 * 1024 + 3).toString('base64') }),
    path: 'spec.tls.caBundle',
    reason: 'FieldValueTooLong',
  },
  {
    name: 'caBundle that is not base64',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.tls = { caBundle: '-----BEGIN CERTIFICATE-----' }),
    path: 'spec.tls.caBundle',
    reason: 'FieldValueInvalid',
  },
  {
    name: 'layout.pathTemplate without a per-row id',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.layout = { mode: 'perResource', pathTemplate: '{cluster}/{kind}{extension}' }),
    path: 'spec.layout.pathTemplate',
    reason: 'FieldValueInvalid',
    message: /sourceName/,
  },
  {
    name: 'gitlab merge_request without targetBranch',
    kind: 'KollectSnapshotSink',
    edit: (d) => (
      delete d.spec.git,
      (d.spec.type = 'gitlab'),
      (d.spec.gitlab = { mergeRequest: { mode: 'merge_request' } })
    ),
    path: 'spec.gitlab.mergeRequest.targetBranch',
    reason: 'FieldValueRequired',
  },
  // KollectDatabaseSink
  {
    name: 'postgres sink without the postgres block',
    kind: 'KollectDatabaseSink',
    edit: (d) => delete d.spec.postgres,
    path: 'spec.postgres',
    reason: 'FieldValueRequired',
  },
  {
    name: 'postgres sink without table',
    kind: 'KollectDatabaseSink',
    edit: (d) => delete d.spec.postgres.table,
    path: 'spec.postgres.table',
    reason: 'FieldValueRequired',
  },
  {
    name: 'postgres sink with a mongodb block',
    kind: 'KollectDatabaseSink',
    edit: (d) => (d.spec.mongodb = { databaseRef: { name: 'm' }, database: 'd', collection: 'c' }),
    path: 'spec.mongodb',
    reason: 'FieldValueForbidden',
  },
  {
    name: 'database sink with yaml format',
    kind: 'KollectDatabaseSink',
    edit: (d) => (d.spec.serialization = { format: 'yaml' }),
    path: 'spec.serialization.format',
    reason: 'FieldValueInvalid',
  },
  {
    name: 'mongodb sink without collection',
    kind: 'KollectDatabaseSink',
    edit: (d) => (
      delete d.spec.postgres,
      (d.spec.type = 'mongodb'),
      (d.spec.mongodb = { databaseRef: { name: 'm' }, database: 'inv' })
    ),
    path: 'spec.mongodb.collection',
    reason: 'FieldValueRequired',
  },
  {
    name: 'bigquery sink without dataset',
    kind: 'KollectDatabaseSink',
    edit: (d) => (
      delete d.spec.postgres,
      (d.spec.type = 'bigquery'),
      (d.spec.bigquery = { project: 'p', table: 't' })
    ),
    path: 'spec.bigquery.dataset',
    reason: 'FieldValueRequired',
  },
  {
    name: 'database sink with provisioning mode create',
    kind: 'KollectDatabaseSink',
    edit: (d) => (d.spec.provisioning.mode = 'create'),
    path: 'spec.provisioning.mode',
    reason: 'FieldValueNotSupported',
  },
  // KollectEventSink
  {
    name: 'nats sink without subject',
    kind: 'KollectEventSink',
    edit: (d) => delete d.spec.nats.subject,
    path: 'spec.nats.subject',
    reason: 'FieldValueRequired',
  },
  {
    name: 'kafka sink without the kafka block',
    kind: 'KollectEventSink',
    edit: (d) => (delete d.spec.nats, (d.spec.type = 'kafka')),
    path: 'spec.kafka',
    reason: 'FieldValueRequired',
  },
  {
    name: 'kafka sink with no brokers',
    kind: 'KollectEventSink',
    edit: (d) => (delete d.spec.nats, (d.spec.type = 'kafka'), (d.spec.kafka = { brokers: [], topic: 't' })),
    path: 'spec.kafka.brokers',
    reason: 'FieldValueRequired',
  },
  {
    name: 'nats sink with a kafka block',
    kind: 'KollectEventSink',
    edit: (d) => (d.spec.kafka = { brokers: ['k:9092'], topic: 't' }),
    path: 'spec.kafka',
    reason: 'FieldValueForbidden',
  },
  {
    name: 'event sink with a layout',
    kind: 'KollectEventSink',
    edit: (d) => (d.spec.layout = {}),
    path: 'spec.layout',
    reason: 'FieldValueForbidden',
  },
  {
    name: 'nats subject with a wildcard',
    kind: 'KollectEventSink',
    edit: (d) => (d.spec.nats.subject = 'inventory.>'),
    path: 'spec.nats.subject',
    reason: 'FieldValueInvalid',
  },
  // KollectScope
  {
    name: 'scope GVK without kind',
    kind: 'KollectScope',
    edit: (d) => (d.spec.allowedGVKs = [{ version: 'v1' }]),
    path: 'spec.allowedGVKs[0].kind',
    reason: 'FieldValueRequired',
  },
  {
    name: 'scope with duplicate denied namespaces',
    kind: 'KollectScope',
    edit: (d) => (d.spec.deniedNamespaces = ['x', 'x']),
    path: 'spec.deniedNamespaces[1]',
    reason: 'FieldValueDuplicate',
  },
  {
    name: 'scope with minExportInterval 48h',
    kind: 'KollectScope',
    edit: (d) => (d.spec.minExportInterval = '48h'),
    path: 'spec.minExportInterval',
    reason: 'FieldValueInvalid',
  },
  {
    name: 'scope with the dropped sinkRefs field',
    kind: 'KollectScope',
    edit: (d) => (d.spec.sinkRefs = ['a']),
    path: 'spec.sinkRefs',
    reason: 'FieldValueUnknown',
  },
  {
    name: 'scope with an empty sink allow-list entry',
    kind: 'KollectScope',
    edit: (d) => (d.spec.eventSinkRefs = ['']),
    path: 'spec.eventSinkRefs[0]',
    reason: 'FieldValueRequired',
  },
  // KollectClusterScope
  {
    name: 'cluster scope with an invalid static ref namespace',
    kind: 'KollectClusterScope',
    edit: (d) => (d.spec.allowedStaticRefNamespaces = ['Not OK']),
    path: 'spec.allowedStaticRefNamespaces[0]',
    reason: 'FieldValueInvalid',
  },
  {
    name: 'cluster scope with duplicate allowed namespaces',
    kind: 'KollectClusterScope',
    edit: (d) => (d.spec.allowedNamespaces = ['a', 'b', 'b']),
    path: 'spec.allowedNamespaces[2]',
    reason: 'FieldValueDuplicate',
  },
  {
    name: 'cluster scope without spec',
    kind: 'KollectClusterScope',
    edit: (d) => delete d.spec,
    path: 'spec',
    reason: 'FieldValueRequired',
  },
  // KollectConnectionTest
  {
    name: 'connection test naming two sinks',
    kind: 'KollectConnectionTest',
    edit: (d) => (d.spec.sinkRef.databaseSinkRef = 'pg'),
    path: 'spec.sinkRef',
    reason: 'FieldValueInvalid',
    message: /exactly one/,
  },
  {
    name: 'connection test naming no sink',
    kind: 'KollectConnectionTest',
    edit: (d) => (d.spec.sinkRef = {}),
    path: 'spec.sinkRef',
    reason: 'FieldValueInvalid',
    message: /exactly one/,
  },
  {
    name: 'connection test with a negative TTL',
    kind: 'KollectConnectionTest',
    edit: (d) => (d.spec.ttlSecondsAfterFinished = -1),
    path: 'spec.ttlSecondsAfterFinished',
    reason: 'FieldValueInvalid',
  },
  {
    name: 'connection test without sinkRef',
    kind: 'KollectConnectionTest',
    edit: (d) => delete d.spec.sinkRef,
    path: 'spec.sinkRef',
    reason: 'FieldValueRequired',
  },
];

/** The invalid document of a case: a fresh copy of the kind's sample with the case's edit applied. */
export function invalidDocument(c: SchemaInvalidCase): KollectObjectByKind[KollectKind] {
  const d = structuredClone(SAMPLES[c.kind]) as Doc;
  c.edit(d);
  return d as KollectObjectByKind[KollectKind];
}
