/**
 * Plan size: how large the compiled plan gets with the number of Kollect CRs, as JSON and as
 * stored in KV (gzip above 64 KiB), and how long a compile takes. Each namespace holds the SEED-SPEC
 * §3.11 shape: a profile, two targets (one with a resource rule), an inventory bound to a Git and
 * a Postgres sink — 7 CRs.
 *
 *   npm run -w @kollect/bench plan [-- --crs 2500,10000,25000]
 *
 * Prints numbers only; nothing here asserts.
 */
import { encodePlan } from '@kollect/bus';
import { compilePlan, type CompileInput, type DiscoveredKind, type Gvk } from '@kollect/plan';

type Objects = CompileInput['objects'];
type KollectProfile = Objects['profiles'][number];
type KollectTarget = Objects['targets'][number];
type KollectInventory = Objects['inventories'][number];
type KollectSnapshotSink = Objects['snapshotSinks'][number];
type KollectDatabaseSink = Objects['databaseSinks'][number];

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const SIZES = arg('crs', '2500,10000,25000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const CRS_PER_NAMESPACE = 7;
const API = 'kollect.dev/v1alpha1';

const SERVED: Record<string, DiscoveredKind> = {
  'apps/v1/Deployment': { gvr: { group: 'apps', version: 'v1', resource: 'deployments' }, namespaced: true },
  '/v1/Service': { gvr: { group: '', version: 'v1', resource: 'services' }, namespaced: true },
};

function input(namespaces: number): CompileInput {
  const meta = (name: string, namespace: string, i: number) => ({
    name,
    namespace,
    uid: `${namespace}-${name}-0000-4000-8000-${String(i).padStart(12, '0')}`,
    generation: 1,
    creationTimestamp: '2026-01-01T00:00:00Z',
  });
  const objects = {
    profiles: [] as KollectProfile[],
    targets: [] as KollectTarget[],
    clusterTargets: [],
    inventories: [] as KollectInventory[],
    clusterInventories: [],
    snapshotSinks: [] as KollectSnapshotSink[],
    databaseSinks: [] as KollectDatabaseSink[],
    eventSinks: [],
    scopes: [],
    clusterScopes: [],
  } satisfies Objects;
  const ns = Array.from({ length: namespaces }, (_, i) => `team-${String(i).padStart(5, '0')}`);
  ns.forEach((n, i) => {
    objects.profiles.push({
      apiVersion: API,
      kind: 'KollectProfile',
      metadata: meta('deployment-images', n, i),
      spec: {
        targetGVK: { group: 'apps', version: 'v1', kind: 'Deployment' },
        attributes: [
          { name: 'image', path: '$.spec.template.spec.containers[0].image', type: 'string' },
          { name: 'images', path: 'cel:object.spec.template.spec.containers.map(c, c.image)', type: 'list' },
          { name: 'replicas', path: '$.spec.replicas', type: 'int', optional: true },
        ],
      },
    });
    objects.targets.push(
      {
        apiVersion: API,
        kind: 'KollectTarget',
        metadata: meta('web-deployments', n, i),
        spec: {
          profileRef: 'deployment-images',
          includedNamespaces: [n],
          labelSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'shop' } },
        },
      },
      {
        apiVersion: API,
        kind: 'KollectTarget',
        metadata: meta('services', n, i),
        spec: {
          profileRef: 'deployment-images',
          includedNamespaces: [n],
          resourceRules: [{ gvk: { version: 'v1', kind: 'Service' }, matchLabels: { tier: 'web' } }],
        },
      },
    );
    objects.inventories.push({
      apiVersion: API,
      kind: 'KollectInventory',
      metadata: meta('team-inventory', n, i),
      spec: { exportMinInterval: '30s', databaseSinkRefs: ['portal'], snapshotSinkRefs: ['audit'] },
    });
    objects.snapshotSinks.push({
      apiVersion: API,
      kind: 'KollectSnapshotSink',
      metadata: meta('audit', n, i),
      spec: { type: 'git', endpoint: `https://git.example.com/${n}/inventory.git`, git: {} },
    } as never);
    objects.databaseSinks.push({
      apiVersion: API,
      kind: 'KollectDatabaseSink',
      metadata: meta('portal', n, i),
      spec: { type: 'postgres', postgres: { databaseRef: { name: 'dsn' }, table: 'inventory_items' } },
    } as never);
  });
  return {
    objects,
    namespaces: ns.map((name) => ({
      name,
      labels: { 'kubernetes.io/metadata.name': name },
      annotations: {},
    })),
    discovery: (g: Gvk) => SERVED[`${g.group}/${g.version}/${g.kind}`],
    settings: {
      cluster: 'prod',
      partitions: 8,
      maxExportBytes: 1_572_864,
      scrubKeys: [],
      defaultIncludedNamespaces: [],
      defaultExcludedNamespaces: [],
      tenantMode: false,
      allowPrivateEndpoints: false,
      watchNamespaces: [],
      celCostLimit: 1_000_000,
      celTimeoutMs: 100,
    },
    now: new Date('2026-02-01T00:00:00Z'),
  };
}

console.log('crs\tnamespaces\tcompile_ms\tjson_bytes\tstored_bytes\tratio\tbytes_per_cr(json)');
for (const crs of SIZES) {
  const namespaces = Math.ceil(crs / CRS_PER_NAMESPACE);
  const inp = input(namespaces);
  const t0 = performance.now();
  const { plan } = compilePlan(inp);
  const ms = performance.now() - t0;
  const enc = encodePlan(plan);
  console.log(
    [
      namespaces * CRS_PER_NAMESPACE,
      namespaces,
      ms.toFixed(0),
      enc.jsonBytes,
      enc.data.length,
      (enc.jsonBytes / enc.data.length).toFixed(1),
      Math.round(enc.jsonBytes / (namespaces * CRS_PER_NAMESPACE)),
    ].join('\t'),
  );
}
