import { API_VERSION } from '../constants.js';
import type { KollectKind, KollectObjectByKind } from '../kinds.js';

/**
 * One valid, realistic object of every kind, modelled on the seed's main pipeline example
 * (Deployment images → Postgres every 30s + Git every 1h). Tests, the test bed smoke test,
 * the demo and the reference docs use these; every one passes `checkObject()`.
 */
export const SAMPLES: { readonly [K in KollectKind]: KollectObjectByKind[K] } = {
  KollectProfile: {
    apiVersion: API_VERSION,
    kind: 'KollectProfile',
    metadata: { name: 'deployment-images', namespace: 'team-a' },
    spec: {
      targetGVK: { group: 'apps', version: 'v1', kind: 'Deployment' },
      attributes: [
        { name: 'image', path: '$.spec.template.spec.containers[0].image', type: 'string' },
        { name: 'images', path: '$.spec.template.spec.containers[*].image', type: 'list' },
        { name: 'containerCount', path: 'cel:size(object.spec.template.spec.containers)', type: 'int' },
        { name: 'replicas', path: '{.spec.replicas}', type: 'int', optional: true },
        { name: 'labels', path: '$.metadata.labels', type: 'map', optional: true },
      ],
      metrics: [{ name: 'replicas_total', path: 'replicas', labels: ['image'] }],
    },
  },
  KollectTarget: {
    apiVersion: API_VERSION,
    kind: 'KollectTarget',
    metadata: { name: 'web-deployments', namespace: 'team-a' },
    spec: {
      profileRef: 'deployment-images',
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'team-a' } },
      labelSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'shop' } },
    },
  },
  KollectClusterTarget: {
    apiVersion: API_VERSION,
    kind: 'KollectClusterTarget',
    metadata: { name: 'all-team-deployments' },
    spec: {
      profileRef: { name: 'deployment-images', namespace: 'team-a' },
      namespaceSelector: { matchExpressions: [{ key: 'kollect.dev/tenant', operator: 'Exists' }] },
      excludedNamespaces: ['kube-system'],
      resourceRules: [
        {
          gvk: { group: 'apps', version: 'v1', kind: 'Deployment' },
          matchPolicy: 'object.spec.replicas > 0',
        },
      ],
    },
  },
  KollectInventory: {
    apiVersion: API_VERSION,
    kind: 'KollectInventory',
    metadata: { name: 'team-inventory', namespace: 'team-a' },
    spec: {
      exportMinInterval: '30s',
      databaseSinkRefs: ['portal-postgres'],
      snapshotSinkRefs: [{ name: 'audit-git', exportMinInterval: '1h' }],
      eventSinkRefs: ['changes-nats'],
    },
  },
  KollectClusterInventory: {
    apiVersion: API_VERSION,
    kind: 'KollectClusterInventory',
    metadata: { name: 'platform-rollup' },
    spec: {
      targetRefs: ['all-team-deployments'],
      namespaceSelector: { matchExpressions: [{ key: 'kollect.dev/tenant', operator: 'Exists' }] },
      sinkNamespace: 'kollect-system',
      exportMinInterval: '5m',
      databaseSinkRefs: [{ name: 'portal-postgres', namespace: 'team-a' }],
      dedupe: 'byResourceUID',
    },
  },
  KollectSnapshotSink: {
    apiVersion: API_VERSION,
    kind: 'KollectSnapshotSink',
    metadata: { name: 'audit-git', namespace: 'team-a' },
    spec: {
      type: 'git',
      endpoint: 'https://git.example.com/platform/inventory.git',
      cluster: 'prod-west',
      connectionTest: false,
      secretRef: { name: 'git-push-credentials' },
      pathTemplate: 'clusters/{cluster}/inventory/{namespace}/{name}{extension}',
      git: { branch: 'main', pushPolicy: 'Commit' },
    },
  },
  KollectDatabaseSink: {
    apiVersion: API_VERSION,
    kind: 'KollectDatabaseSink',
    metadata: { name: 'portal-postgres', namespace: 'team-a' },
    spec: {
      type: 'postgres',
      cluster: 'prod-west',
      connectionTest: false,
      provisioning: { mode: 'ensure' },
      postgres: {
        databaseRef: { name: 'inventory-postgres-dsn', namespace: 'kollect-system' },
        schema: 'public',
        table: 'inventory_items',
      },
    },
  },
  KollectEventSink: {
    apiVersion: API_VERSION,
    kind: 'KollectEventSink',
    metadata: { name: 'changes-nats', namespace: 'team-a' },
    spec: {
      type: 'nats',
      cluster: 'prod-west',
      connectionTest: false,
      nats: { url: 'nats://nats.kollect-system.svc:4222', subject: 'inventory.team-a', mode: 'changes' },
    },
  },
  KollectScope: {
    apiVersion: API_VERSION,
    kind: 'KollectScope',
    metadata: { name: 'team-a', namespace: 'team-a' },
    spec: {
      allowedGVKs: [{ group: 'apps', version: 'v1', kind: 'Deployment' }],
      allowedNamespaces: ['team-a'],
      minExportInterval: '30s',
      snapshotSinkRefs: ['audit-git'],
    },
  },
  KollectClusterScope: {
    apiVersion: API_VERSION,
    kind: 'KollectClusterScope',
    metadata: { name: 'platform' },
    spec: {
      deniedNamespaces: ['kube-system'],
      minExportInterval: '1m',
      allowedStaticRefNamespaces: ['team-a', 'kollect-system'],
    },
  },
  KollectConnectionTest: {
    apiVersion: API_VERSION,
    kind: 'KollectConnectionTest',
    metadata: { name: 'probe-audit-git', namespace: 'team-a' },
    spec: { sinkRef: { snapshotSinkRef: 'audit-git' }, ttlSecondsAfterFinished: 600 },
  },
};

/** A deep copy of the sample of one kind, safe to modify. */
export function sample<K extends KollectKind>(kind: K): KollectObjectByKind[K] {
  return structuredClone(SAMPLES[kind]);
}

/**
 * All samples in an order that can be applied to a cluster (scopes and profiles before the
 * objects that reference them), as deep copies.
 */
export function sampleDocuments(): KollectObjectByKind[KollectKind][] {
  const order: KollectKind[] = [
    'KollectClusterScope',
    'KollectScope',
    'KollectProfile',
    'KollectSnapshotSink',
    'KollectDatabaseSink',
    'KollectEventSink',
    'KollectTarget',
    'KollectClusterTarget',
    'KollectInventory',
    'KollectClusterInventory',
    'KollectConnectionTest',
  ];
  return order.map((k) => structuredClone(SAMPLES[k]));
}
