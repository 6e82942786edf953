import { gzipSync } from 'node:zlib';
import { BUS_SCHEMA_VERSION, type Gvr, type ObjectMessage } from '@kollect/contracts';
import {
  type CompiledPlan,
  type CompiledProfile,
  type CompiledTarget,
  type TargetFeed,
  PLAN_SCHEMA_VERSION,
} from '@kollect/plan';

export const DEPLOYMENTS: Gvr = { group: 'apps', version: 'v1', resource: 'deployments' };
export const SECRETS: Gvr = { group: '', version: 'v1', resource: 'secrets' };
export const NODES: Gvr = { group: '', version: 'v1', resource: 'nodes' };

/** A realistic apps/v1 Deployment as the watcher publishes it (managedFields stripped). */
export function deployment(
  overrides: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    replicas?: number;
    containers?: Record<string, unknown>[];
  } = {},
): Record<string, unknown> {
  const name = overrides.name ?? 'web-api';
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: overrides.namespace ?? 'team-a',
      uid: overrides.uid ?? '8f3c1a52-6a57-4d38-9f38-0e6c2b4f5d11',
      resourceVersion: '48213',
      generation: 4,
      creationTimestamp: '2024-05-01T10:00:00Z',
      labels: overrides.labels ?? {
        app: name,
        'app.kubernetes.io/part-of': 'shop',
        'app.kubernetes.io/name': name,
      },
      annotations: {
        'deployment.kubernetes.io/revision': '4',
        'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"apps/v1"}',
      },
    },
    spec: {
      replicas: overrides.replicas ?? 3,
      revisionHistoryLimit: 10,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          serviceAccountName: name,
          containers: overrides.containers ?? [
            {
              name: 'api',
              image: 'ghcr.io/acme/api:1.2.3',
              ports: [{ containerPort: 8080, protocol: 'TCP' }],
              env: [
                { name: 'LOG_LEVEL', value: 'info' },
                { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
                { name: 'FEATURE', valueFrom: { configMapKeyRef: { name: 'features', key: 'x' } } },
              ],
              resources: {
                limits: { cpu: '500m', memory: '256Mi' },
                requests: { cpu: '100m', memory: '128Mi' },
              },
            },
            {
              name: 'envoy',
              image: 'envoyproxy/envoy:v1.30.1',
              resources: { limits: { cpu: '1', memory: '1Gi' } },
            },
          ],
        },
      },
    },
    status: {
      observedGeneration: 4,
      replicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      conditions: [
        { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
      ],
    },
  };
}

export function objectMessage(
  object: Record<string, unknown> | undefined,
  opts: { gvr?: Gvr; op?: 'upsert' | 'delete'; namespace?: string; name?: string; uid?: string } = {},
): ObjectMessage {
  const md = (object?.['metadata'] ?? {}) as {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
  };
  return {
    schemaVersion: BUS_SCHEMA_VERSION,
    op: opts.op ?? 'upsert',
    cluster: 'prod-west',
    gvr: opts.gvr ?? DEPLOYMENTS,
    kind: String(object?.['kind'] ?? 'Deployment'),
    namespace: opts.namespace ?? md.namespace ?? '',
    name: opts.name ?? md.name ?? '',
    uid: opts.uid ?? md.uid ?? '',
    resourceVersion: md.resourceVersion ?? '1',
    origin: 'watch',
    ...(opts.op === 'delete' || object === undefined ? {} : { object }),
  };
}

/** The SEED-SPEC §3.11 profile. */
export function deploymentImagesProfile(over: Partial<CompiledProfile> = {}): CompiledProfile {
  return {
    key: 'team-a/deployment-images',
    namespace: 'team-a',
    name: 'deployment-images',
    uid: 'p-1',
    generation: 1,
    gvk: { group: 'apps', version: 'v1', kind: 'Deployment' },
    gvr: DEPLOYMENTS,
    namespaced: true,
    attributes: [
      { name: 'image', path: '$.spec.template.spec.containers[0].image', optional: false, type: 'string' },
      { name: 'images', path: '$.spec.template.spec.containers[*].image', optional: false, type: 'list' },
      {
        name: 'containerCount',
        path: 'cel:size(object.spec.template.spec.containers)',
        optional: false,
        type: 'int',
      },
      { name: 'labels', path: '$.metadata.labels', optional: true, type: 'map' },
    ],
    export: {
      mode: 'Attributes',
      as: 'resource',
      include: 'SpecAndStatus',
      dedupeIdentity: true,
      prune: { defaults: true, jsonPointers: [], jsonPaths: [], scrubKeys: [] },
    },
    metrics: [],
    hash: 'h1',
    ...over,
  };
}

export function feed(
  name: string,
  namespace = 'team-a',
  partition = 3,
  namespaces: string[] | null = null,
): TargetFeed {
  return {
    inventory:
      namespace === ''
        ? { kind: 'KollectClusterInventory', namespace: '', name }
        : { kind: 'KollectInventory', namespace, name },
    partition,
    namespaces,
  };
}

/** The SEED-SPEC §3.11 target (namespace selector resolved to team-a, labelSelector part-of=shop). */
export function webTarget(over: Partial<CompiledTarget> = {}): CompiledTarget {
  return {
    kind: 'KollectTarget',
    namespace: 'team-a',
    name: 'web-deployments',
    uid: 't-1',
    generation: 1,
    profileKey: 'team-a/deployment-images',
    namespaces: ['team-a'],
    rules: [],
    labelSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'shop' } },
    watchMode: 'All',
    feeds: [feed('team-inventory')],
    ...over,
  };
}

export function plan(
  over: Omit<Partial<CompiledPlan>, 'profiles'> & { profiles?: CompiledProfile[] } = {},
): CompiledPlan {
  const { profiles, ...rest } = over;
  const list = profiles ?? [deploymentImagesProfile()];
  return {
    schemaVersion: PLAN_SCHEMA_VERSION,
    generation: 7,
    compiledAt: '2024-05-01T10:00:00Z',
    settings: {
      cluster: 'prod-west',
      partitions: 8,
      maxExportBytes: 1_572_864,
      scrubKeys: [],
      celCostLimit: 1_000_000,
      celTimeoutMs: 1000,
    },
    watches: [],
    targets: [webTarget()],
    inventories: [],
    sinks: [],
    namespaceWatch: {},
    ...rest,
    profiles: Object.fromEntries(list.map((p) => [p.key, p])),
  };
}

/** A Helm 3 release Secret whose payload is base64(gzip(JSON)), as Helm writes it. */
export function helmReleaseSecret(release: unknown, opts: { gzip?: boolean } = {}): Record<string, unknown> {
  const json = Buffer.from(JSON.stringify(release), 'utf8');
  const payload = opts.gzip === false ? json : gzipSync(json);
  const helmEncoded = payload.toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'helm.sh/release.v1',
    metadata: {
      name: 'sh.helm.release.v1.shop.v3',
      namespace: 'team-a',
      uid: 'helm-uid-3',
      labels: { owner: 'helm', name: 'shop', status: 'deployed', version: '3' },
    },
    data: { release: Buffer.from(helmEncoded, 'utf8').toString('base64') },
  };
}

export const SHOP_RELEASE = {
  name: 'shop',
  namespace: 'team-a',
  version: 3,
  info: { status: 'deployed', last_deployed: '2024-05-01T09:59:00Z', description: 'Upgrade complete' },
  chart: {
    metadata: { name: 'shop', version: '2.4.0', appVersion: '1.2.3' },
    templates: [{ name: 'templates/deployment.yaml', data: 'YXBpVmVyc2lvbg==' }],
    values: { image: { tag: 'latest' } },
  },
  config: { replicaCount: 3, image: { tag: '1.2.3' }, db: { password: 'hunter2' } },
  manifest: '---\napiVersion: v1\nkind: Secret\n',
};

/** Read a dotted path (`a.b.0.c`) from JSON data in tests. */
export function dig(v: unknown, path: string): unknown {
  let cur = v;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}
