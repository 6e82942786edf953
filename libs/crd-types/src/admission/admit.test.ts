import { describe, expect, it } from 'vitest';
import { KINDS, type KollectKind } from '../kinds.js';
import { SAMPLES } from '../samples/index.js';
import { checkObject, errorsOf, warningsOf } from './admit.js';
import type { AdmissionContext, AdmissionReason } from './types.js';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function variant(kind: KollectKind, edit: (d: Doc) => void): Doc {
  const d = structuredClone(SAMPLES[kind]) as Doc;
  edit(d);
  return d;
}

const scope = (spec: Doc) => ({ spec }) as AdmissionContext['scope'];
const clusterScope = (spec: Doc) => ({ spec }) as AdmissionContext['clusterScope'];

interface Case {
  readonly name: string;
  readonly kind: KollectKind;
  readonly edit?: (d: Doc) => void;
  readonly ctx?: AdmissionContext;
  readonly path: string;
  readonly reason: AdmissionReason;
  readonly severity?: 'error' | 'warning';
  readonly message?: RegExp;
}

const secretProfile = (d: Doc) => {
  d.spec.targetGVK = { version: 'v1', kind: 'Secret' };
  d.spec.attributes = [
    { name: 'type', path: '$.type' },
    { name: 'password', path: '$.data.password' },
  ];
  delete d.spec.metrics;
};

const cases: Case[] = [
  // profile (§3.3)
  {
    name: 'bare object.… path',
    kind: 'KollectProfile',
    edit: (d) => (d.spec.attributes[0].path = 'object.spec.replicas'),
    path: 'spec.attributes[0].path',
    reason: 'CelPrefixRequired',
    message: /add|cel:object/,
  },
  {
    name: 'CEL that does not compile',
    kind: 'KollectProfile',
    edit: (d) => (d.spec.attributes[2].path = 'cel:size(object.spec'),
    path: 'spec.attributes[2].path',
    reason: 'CelCompileFailed',
  },
  {
    name: 'JSONPath that does not parse',
    kind: 'KollectProfile',
    edit: (d) => (d.spec.attributes[1].path = '$.spec.containers[0'),
    path: 'spec.attributes[1].path',
    reason: 'JSONPathParseFailed',
  },
  {
    name: 'denied helm field',
    kind: 'KollectProfile',
    edit: (d) => (d.spec.attributes[0].path = 'helm:release.manifest'),
    path: 'spec.attributes[0].path',
    reason: 'HelmFieldDenied',
  },
  {
    name: 'JSONPath filter',
    kind: 'KollectProfile',
    edit: (d) => (d.spec.attributes[4].path = '{.status.conditions[?(@.type=="Ready")].status}'),
    path: 'spec.attributes[4].path',
    reason: 'JSONPathFilterDeprecated',
    severity: 'warning',
  },
  {
    name: 'Secret data path without the annotation',
    kind: 'KollectProfile',
    edit: secretProfile,
    path: 'spec.attributes[1].path',
    reason: 'SecretExtractionNotAllowed',
    message: /kollect.dev\/allow-secret-extraction: "true"/,
  },
  {
    name: 'Secret data via CEL without the annotation',
    kind: 'KollectProfile',
    edit: (d) => (secretProfile(d), (d.spec.attributes[1].path = 'cel:object.data.password')),
    path: 'spec.attributes[1].path',
    reason: 'SecretExtractionNotAllowed',
  },
  {
    name: 'Helm config without the annotation',
    kind: 'KollectProfile',
    edit: (d) => (secretProfile(d), (d.spec.attributes[1].path = 'helm:release.config')),
    path: 'spec.attributes[1].path',
    reason: 'SecretExtractionNotAllowed',
  },
  {
    name: 'Resource mode on Secrets without the annotation',
    kind: 'KollectProfile',
    edit: (d) => (secretProfile(d), d.spec.attributes.pop(), (d.spec.export = { mode: 'Resource' })),
    path: 'spec.export.mode',
    reason: 'FullResourceExportNotAllowed',
    message: /allow-full-resource-export/,
  },
  {
    name: 'metric path naming no attribute',
    kind: 'KollectProfile',
    edit: (d) => (d.spec.metrics[0].path = 'cpu'),
    path: 'spec.metrics[0].path',
    reason: 'MetricAttributeUnknown',
  },
  {
    name: 'metric label naming no attribute',
    kind: 'KollectProfile',
    edit: (d) => (d.spec.metrics[0].labels = ['image', 'team']),
    path: 'spec.metrics[0].labels[1]',
    reason: 'MetricAttributeUnknown',
  },
  {
    name: 'wildcard prune path',
    kind: 'KollectProfile',
    edit: (d) =>
      (d.spec.export = { mode: 'Resource', as: 'obj', prune: { jsonPaths: ['.metadata.labels[*]'] } }),
    path: 'spec.export.prune.jsonPaths[0]',
    reason: 'PruneRuleIgnored',
    severity: 'warning',
  },
  {
    name: 'reserved prune CEL',
    kind: 'KollectProfile',
    edit: (d) => (d.spec.export = { mode: 'Resource', as: 'obj', prune: { cel: ['true'] } }),
    path: 'spec.export.prune.cel[0]',
    reason: 'PruneRuleIgnored',
    severity: 'warning',
  },
  {
    name: 'prune path that does not parse',
    kind: 'KollectProfile',
    edit: (d) => (d.spec.export = { mode: 'Resource', as: 'obj', prune: { jsonPaths: ['.a[x'] } }),
    path: 'spec.export.prune.jsonPaths[0]',
    reason: 'JSONPathParseFailed',
  },
  // target (§3.4, §7.2)
  {
    name: 'matchPolicy that does not compile',
    kind: 'KollectTarget',
    edit: (d) =>
      (d.spec.resourceRules = [
        { gvk: { group: 'apps', version: 'v1', kind: 'Deployment' }, matchPolicy: 'object.spec.replicas >' },
      ]),
    path: 'spec.resourceRules[0].matchPolicy',
    reason: 'CelCompileFailed',
  },
  {
    name: 'matchPolicy that is not a bool',
    kind: 'KollectTarget',
    edit: (d) =>
      (d.spec.resourceRules = [
        { gvk: { group: 'apps', version: 'v1', kind: 'Deployment' }, matchPolicy: '"yes"' },
      ]),
    path: 'spec.resourceRules[0].matchPolicy',
    reason: 'CelCompileFailed',
    message: /bool/,
  },
  {
    name: 'rule GVK outside the scope',
    kind: 'KollectTarget',
    edit: (d) => (d.spec.resourceRules = [{ gvk: { version: 'v1', kind: 'Secret' } }]),
    ctx: { scope: scope({ allowedGVKs: [{ group: 'apps', version: 'v1', kind: 'Deployment' }] }) },
    path: 'spec.resourceRules[0].gvk',
    reason: 'ScopeGVKDenied',
  },
  {
    name: 'profile GVK outside the scope',
    kind: 'KollectTarget',
    ctx: {
      scope: scope({ allowedGVKs: [{ version: 'v1', kind: 'ConfigMap' }] }),
      profileGVK: { group: 'apps', version: 'v1', kind: 'Deployment' },
    },
    path: 'spec.profileRef',
    reason: 'ScopeGVKDenied',
  },
  {
    name: 'included namespace outside allowedNamespaces',
    kind: 'KollectTarget',
    edit: (d) => (d.spec.includedNamespaces = ['team-a', 'team-b']),
    ctx: { scope: scope({ allowedNamespaces: ['team-a'] }) },
    path: 'spec.includedNamespaces[1]',
    reason: 'ScopeNamespaceDenied',
  },
  {
    name: 'included namespace inside deniedNamespaces',
    kind: 'KollectTarget',
    edit: (d) => (d.spec.includedNamespaces = ['kube-system']),
    ctx: { scope: scope({ deniedNamespaces: ['kube-system'] }) },
    path: 'spec.includedNamespaces[0]',
    reason: 'ScopeNamespaceDenied',
  },
  // cluster target (§3.5)
  {
    name: 'cluster target in tenant mode',
    kind: 'KollectClusterTarget',
    ctx: { tenantMode: true },
    path: 'kind',
    reason: 'TenantModeForbidden',
  },
  {
    name: 'cluster target profile namespace outside allowedStaticRefNamespaces',
    kind: 'KollectClusterTarget',
    ctx: { clusterScope: clusterScope({ allowedStaticRefNamespaces: ['platform'] }) },
    path: 'spec.profileRef.namespace',
    reason: 'ScopeStaticRefDenied',
  },
  {
    name: 'cluster target rule GVK outside the cluster scope',
    kind: 'KollectClusterTarget',
    ctx: { clusterScope: clusterScope({ allowedGVKs: [{ version: 'v1', kind: 'Pod' }] }) },
    path: 'spec.resourceRules[0].gvk',
    reason: 'ScopeGVKDenied',
  },
  // inventory (§3.1, §3.6)
  {
    name: 'duplicate sink ref names',
    kind: 'KollectInventory',
    edit: (d) => (d.spec.databaseSinkRefs = ['pg', { name: 'pg' }]),
    path: 'spec.databaseSinkRefs[1].name',
    reason: 'DuplicateSinkRef',
  },
  {
    name: 'duplicate plain-string refs',
    kind: 'KollectInventory',
    edit: (d) => (d.spec.eventSinkRefs = ['a', 'a']),
    path: 'spec.eventSinkRefs[1]',
    reason: 'DuplicateSinkRef',
  },
  {
    name: 'namespace on a namespaced inventory ref',
    kind: 'KollectInventory',
    edit: (d) => (d.spec.snapshotSinkRefs[0].namespace = 'team-b'),
    path: 'spec.snapshotSinkRefs[0].namespace',
    reason: 'SinkRefNamespaceForbidden',
  },
  {
    name: '21 refs across the three lists',
    kind: 'KollectInventory',
    edit: (d) => (
      (d.spec.snapshotSinkRefs = Array.from({ length: 10 }, (_, i) => `s${i}`)),
      (d.spec.databaseSinkRefs = Array.from({ length: 10 }, (_, i) => `d${i}`)),
      (d.spec.eventSinkRefs = ['e'])
    ),
    path: 'spec',
    reason: 'TooManySinkRefs',
  },
  {
    name: 'maxExportBytes above the global cap',
    kind: 'KollectInventory',
    edit: (d) => (d.spec.maxExportBytes = 2_000_000),
    path: 'spec.maxExportBytes',
    reason: 'MaxExportBytesExceeded',
  },
  {
    name: 'ref maxExportBytes above a custom cap',
    kind: 'KollectInventory',
    edit: (d) => (d.spec.snapshotSinkRefs[0].maxExportBytes = 600_000),
    ctx: { globalMaxExportBytes: 500_000 },
    path: 'spec.snapshotSinkRefs[0].maxExportBytes',
    reason: 'MaxExportBytesExceeded',
  },
  {
    name: 'interval below the scope floor',
    kind: 'KollectInventory',
    ctx: { scope: scope({ minExportInterval: '1m' }) },
    path: 'spec.exportMinInterval',
    reason: 'ScopeIntervalTooShort',
    message: /at least 1m0s/,
  },
  {
    name: 'ref interval below the scope floor',
    kind: 'KollectInventory',
    edit: (d) => (d.spec.snapshotSinkRefs[0].exportMinInterval = '0s'),
    ctx: { scope: scope({ minExportInterval: '30s' }) },
    path: 'spec.snapshotSinkRefs[0].exportMinInterval',
    reason: 'ScopeIntervalTooShort',
  },
  {
    name: 'sink outside the scope allow-list',
    kind: 'KollectInventory',
    ctx: { scope: scope({ databaseSinkRefs: ['warehouse'] }) },
    path: 'spec.databaseSinkRefs[0]',
    reason: 'ScopeSinkDenied',
  },
  {
    name: 'namespace/name sink ref',
    kind: 'KollectInventory',
    edit: (d) => (d.spec.eventSinkRefs = [{ name: 'ns/evt' }]),
    path: 'spec.eventSinkRefs[0].name',
    reason: 'InvalidSpec',
    message: /not namespace\/name/,
  },
  // cluster inventory (§3.7)
  {
    name: 'cluster inventory in tenant mode',
    kind: 'KollectClusterInventory',
    ctx: { tenantMode: true },
    path: 'kind',
    reason: 'TenantModeForbidden',
  },
  {
    name: 'cluster inventory sink namespace outside the static ref list',
    kind: 'KollectClusterInventory',
    ctx: { clusterScope: clusterScope({ allowedStaticRefNamespaces: ['kollect-system'] }) },
    path: 'spec.databaseSinkRefs[0].namespace',
    reason: 'ScopeStaticRefDenied',
  },
  {
    name: 'cluster inventory default sink namespace outside the static ref list',
    kind: 'KollectClusterInventory',
    edit: (d) => (d.spec.eventSinkRefs = ['evt']),
    ctx: { clusterScope: clusterScope({ allowedStaticRefNamespaces: ['team-a'] }) },
    path: 'spec.sinkNamespace',
    reason: 'ScopeStaticRefDenied',
  },
  {
    name: 'cluster inventory duplicate ref in the same namespace',
    kind: 'KollectClusterInventory',
    edit: (d) => d.spec.databaseSinkRefs.push({ name: 'portal-postgres', namespace: 'team-a' }),
    path: 'spec.databaseSinkRefs[1].name',
    reason: 'DuplicateSinkRef',
  },
  {
    name: 'cluster inventory interval below the cluster scope floor',
    kind: 'KollectClusterInventory',
    edit: (d) => (d.spec.exportMinInterval = '10s'),
    ctx: { clusterScope: clusterScope({ minExportInterval: '1m' }) },
    path: 'spec.exportMinInterval',
    reason: 'ScopeIntervalTooShort',
  },
  // sinks (§3.8)
  {
    name: 'git endpoint on loopback',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.endpoint = 'https://127.0.0.1/repo.git'),
    path: 'spec.endpoint',
    reason: 'EndpointForbidden',
  },
  {
    name: 'git endpoint on file://',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.endpoint = 'file:///srv/repo.git'),
    path: 'spec.endpoint',
    reason: 'EndpointForbidden',
  },
  {
    name: 'object store endpoint on the metadata service',
    kind: 'KollectSnapshotSink',
    edit: (d) => (
      delete d.spec.git,
      (d.spec.type = 's3'),
      (d.spec.endpoint = 'http://169.254.169.254/bucket')
    ),
    path: 'spec.endpoint',
    reason: 'EndpointForbidden',
  },
  {
    name: 'unsafe branch in the endpoint fragment',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.endpoint = 'https://git.example.com/r.git#branch=-x'),
    path: 'spec.endpoint',
    reason: 'InvalidGitRef',
  },
  {
    name: 'secret-like options key',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.options = { region: 'eu', apiToken: 'x' }),
    path: 'spec.options.apiToken',
    reason: 'OptionKeyForbidden',
  },
  {
    name: 'options key with a dot',
    kind: 'KollectDatabaseSink',
    edit: (d) => (d.spec.options = { 'db.password': 'x' }),
    path: 'spec.options["db.password"]',
    reason: 'OptionKeyForbidden',
  },
  {
    name: 'Credentials options key',
    kind: 'KollectEventSink',
    edit: (d) => (d.spec.options = { AWS_Credentials: 'x' }),
    path: 'spec.options.AWS_Credentials',
    reason: 'OptionKeyForbidden',
  },
  {
    name: 'nats url on a private address',
    kind: 'KollectEventSink',
    edit: (d) => (d.spec.nats.url = 'nats://10.0.0.5:4222'),
    path: 'spec.nats.url',
    reason: 'EndpointForbidden',
  },
  {
    name: 'kafka broker on localhost',
    kind: 'KollectEventSink',
    edit: (d) => (
      delete d.spec.nats,
      (d.spec.type = 'kafka'),
      (d.spec.kafka = { brokers: ['kafka.svc:9092', 'localhost:9092'], topic: 'inv' })
    ),
    path: 'spec.kafka.brokers[1]',
    reason: 'EndpointForbidden',
  },
  {
    name: 'sink interval below the scope floor',
    kind: 'KollectDatabaseSink',
    edit: (d) => (d.spec.exportMinInterval = '5s'),
    ctx: { scope: scope({ minExportInterval: '30s' }) },
    path: 'spec.exportMinInterval',
    reason: 'ScopeIntervalTooShort',
  },
  {
    name: 'ForcePush',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.git.pushPolicy = 'ForcePush'),
    path: 'spec.git.pushPolicy',
    reason: 'ForcePushWarning',
    severity: 'warning',
  },
  {
    name: 'insecureSkipVerify',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.tls = { insecureSkipVerify: true }),
    path: 'spec.tls.insecureSkipVerify',
    reason: 'TLSInsecure',
    severity: 'warning',
  },
  {
    name: 'existing provisioning',
    kind: 'KollectDatabaseSink',
    edit: (d) => (d.spec.provisioning.mode = 'existing'),
    path: 'spec.provisioning.mode',
    reason: 'ProvisioningExistingWarning',
    severity: 'warning',
  },
  {
    name: '.json path with yaml format',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.pathTemplate = 'inventory/{namespace}/{name}.json'),
    path: 'spec.pathTemplate',
    reason: 'PathExtensionMismatch',
    severity: 'warning',
  },
  {
    name: 'manifest content',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.layout = { mode: 'perResource', content: 'manifest' }),
    path: 'spec.layout.content',
    reason: 'ManifestContentWarning',
    severity: 'warning',
  },
  {
    name: 'tree layout auto-prune',
    kind: 'KollectSnapshotSink',
    edit: (d) => (d.spec.layout = { mode: 'split' }),
    path: 'spec.layout.mode',
    reason: 'LayoutAutoPruneWarning',
    severity: 'warning',
  },
  {
    name: 'serialization.format overriding objectStore.format',
    kind: 'KollectSnapshotSink',
    edit: (d) => (
      delete d.spec.git,
      (d.spec.type = 's3'),
      (d.spec.endpoint = 's3://b'),
      (d.spec.serialization = { format: 'csv' }),
      (d.spec.objectStore = { format: 'parquet' })
    ),
    path: 'spec.objectStore.format',
    reason: 'FormatPrecedenceWarning',
    severity: 'warning',
  },
  // cluster scope
  {
    name: 'cluster scope in tenant mode',
    kind: 'KollectClusterScope',
    ctx: { tenantMode: true },
    path: 'kind',
    reason: 'TenantModeForbidden',
  },
  // connection test (§3.10) — schema rules surface through checkObject as InvalidSpec
  {
    name: 'connection test with two sink refs',
    kind: 'KollectConnectionTest',
    edit: (d) => (d.spec.sinkRef.eventSinkRef = 'evt'),
    path: 'spec.sinkRef',
    reason: 'InvalidSpec',
    message: /exactly one/,
  },
  // schema errors come first and stop admission
  {
    name: 'schema error',
    kind: 'KollectScope',
    edit: (d) => (d.spec.minExportInterval = 'soon'),
    path: 'spec.minExportInterval',
    reason: 'InvalidSpec',
  },
];

describe('checkObject', () => {
  it.each(KINDS)('accepts the %s sample with no errors', (kind) => {
    const r = checkObject(kind, SAMPLES[kind]);
    expect(errorsOf(r.issues)).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it.each(KINDS)('accepts the %s sample under the sample scopes', (kind) => {
    const r = checkObject(kind, SAMPLES[kind], {
      scope: SAMPLES.KollectScope,
      clusterScope: SAMPLES.KollectClusterScope,
      profileGVK: SAMPLES.KollectProfile.spec.targetGVK,
    });
    expect(errorsOf(r.issues)).toEqual([]);
  });

  it.each(cases.map((c) => [c.name, c] as const))('flags %s', (_, c) => {
    const doc = c.edit ? variant(c.kind, c.edit) : structuredClone(SAMPLES[c.kind]);
    const r = checkObject(c.kind, doc, c.ctx);
    const hit = r.issues.find((i) => i.path === c.path && i.reason === c.reason);
    expect(hit, `issues were ${JSON.stringify(r.issues)}`).toBeDefined();
    expect(hit?.severity).toBe(c.severity ?? 'error');
    expect(r.ok).toBe((c.severity ?? 'error') === 'warning' ? errorsOf(r.issues).length === 0 : false);
    if (c.message) expect(hit?.message).toMatch(c.message);
  });

  it('accepts Secret data paths and Resource mode with the opt-in annotations', () => {
    const doc = variant('KollectProfile', (d) => {
      secretProfile(d);
      d.spec.export = { mode: 'Resource', as: 'secret' };
      d.metadata.annotations = {
        'kollect.dev/allow-secret-extraction': 'true',
        'kollect.dev/allow-full-resource-export': 'true',
      };
    });
    expect(errorsOf(checkObject('KollectProfile', doc).issues)).toEqual([]);
  });

  it('allows the test bed loopback endpoints with allowPrivateEndpoints', () => {
    const doc = variant('KollectEventSink', (d) => (d.spec.nats.url = 'nats://127.0.0.1:4222'));
    expect(checkObject('KollectEventSink', doc).ok).toBe(false);
    expect(checkObject('KollectEventSink', doc, { allowPrivateEndpoints: true }).ok).toBe(true);
  });

  it('returns the defaulted object', () => {
    const r = checkObject(
      'KollectConnectionTest',
      variant('KollectConnectionTest', (d) => delete d.spec.ttlSecondsAfterFinished),
    );
    expect(r.value?.spec.ttlSecondsAfterFinished).toBe(300);
  });

  it('warns git sinks that yaml is their default format', () => {
    expect(
      warningsOf(checkObject('KollectSnapshotSink', SAMPLES.KollectSnapshotSink).issues).map((i) => i.reason),
    ).toContain('DefaultFormatWarning');
  });

  it('every message says what to do or why', () => {
    for (const c of cases) {
      const doc = c.edit ? variant(c.kind, c.edit) : structuredClone(SAMPLES[c.kind]);
      for (const i of checkObject(c.kind, doc, c.ctx).issues)
        expect(i.message.length, `${c.name}: ${i.message}`).toBeGreaterThan(15);
    }
  });
});
