/* Builders for plan tests: small, explicit CR objects (no defaults hidden in magic). */
import type {
  KollectClusterInventory,
  KollectClusterScope,
  KollectClusterTarget,
  KollectDatabaseSink,
  KollectEventSink,
  KollectInventory,
  KollectProfile,
  KollectScope,
  KollectSnapshotSink,
  KollectTarget,
} from '@kollect/crd-types';
import type {
  CompileInput,
  CompileSettings,
  DiscoveredKind,
  KollectObjects,
  NamespaceInfo,
} from '../input.js';
import { emptyObjects } from '../input.js';
import type { Gvk } from '../types.js';

const API = 'kollect.dev/v1alpha1' as const;
let uidCounter = 0;
const uid = (): string => `uid-${++uidCounter}`;

type Meta = {
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
  finalizers?: string[];
  creationTimestamp?: string;
};

function md(name: string, namespace: string | undefined, m: Meta = {}) {
  return {
    name,
    ...(namespace !== undefined ? { namespace } : {}),
    uid: uid(),
    generation: m.generation ?? 1,
    creationTimestamp: m.creationTimestamp ?? '2026-01-01T00:00:00Z',
    ...(m.labels ? { labels: m.labels } : {}),
    ...(m.annotations ? { annotations: m.annotations } : {}),
    ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
    ...(m.finalizers ? { finalizers: m.finalizers } : {}),
  };
}

export const DEPLOYMENT: Gvk = { group: 'apps', version: 'v1', kind: 'Deployment' };
export const SERVICE: Gvk = { group: '', version: 'v1', kind: 'Service' };
export const NAMESPACE_KIND: Gvk = { group: '', version: 'v1', kind: 'Namespace' };

export function profile(
  namespace: string,
  name: string,
  gvk: Gvk = DEPLOYMENT,
  spec: Partial<KollectProfile['spec']> = {},
  m: Meta = {},
): KollectProfile {
  return {
    apiVersion: API,
    kind: 'KollectProfile',
    metadata: md(name, namespace, m),
    spec: {
      targetGVK: { ...(gvk.group ? { group: gvk.group } : {}), version: gvk.version, kind: gvk.kind },
      attributes: [{ name: 'image', path: '$.spec.template.spec.containers[0].image' }],
      ...spec,
    },
  };
}

export function target(
  namespace: string,
  name: string,
  spec: Partial<KollectTarget['spec']> & { profileRef: string },
  m: Meta = {},
): KollectTarget {
  return { apiVersion: API, kind: 'KollectTarget', metadata: md(name, namespace, m), spec: { ...spec } };
}

export function clusterTarget(
  name: string,
  spec: Partial<KollectClusterTarget['spec']> & Pick<KollectClusterTarget['spec'], 'profileRef'>,
  m: Meta = {},
): KollectClusterTarget {
  return {
    apiVersion: API,
    kind: 'KollectClusterTarget',
    metadata: md(name, undefined, m),
    spec: { namespaceSelector: { matchLabels: { tier: 'app' } }, ...spec },
  };
}

export function inventory(
  namespace: string,
  name: string,
  spec: KollectInventory['spec'] = {},
  m: Meta = {},
): KollectInventory {
  return { apiVersion: API, kind: 'KollectInventory', metadata: md(name, namespace, m), spec: { ...spec } };
}

export function clusterInventory(
  name: string,
  spec: Partial<KollectClusterInventory['spec']> = {},
  m: Meta = {},
): KollectClusterInventory {
  return {
    apiVersion: API,
    kind: 'KollectClusterInventory',
    metadata: md(name, undefined, m),
    spec: { namespaceSelector: { matchLabels: { tier: 'app' } }, ...spec },
  };
}

export function gitSink(
  namespace: string,
  name: string,
  spec: Record<string, unknown> = {},
  status?: KollectSnapshotSink['status'],
): KollectSnapshotSink {
  return {
    apiVersion: API,
    kind: 'KollectSnapshotSink',
    metadata: md(name, namespace),
    spec: {
      type: 'git',
      endpoint: 'https://git.example.com/inv.git',
      git: {},
      ...spec,
    } as KollectSnapshotSink['spec'],
    ...(status ? { status } : {}),
  };
}

export function postgresSink(
  namespace: string,
  name: string,
  spec: Record<string, unknown> = {},
): KollectDatabaseSink {
  return {
    apiVersion: API,
    kind: 'KollectDatabaseSink',
    metadata: md(name, namespace),
    spec: {
      type: 'postgres',
      postgres: { databaseRef: { name: 'dsn' }, table: 'inventory_items' },
      ...spec,
    } as KollectDatabaseSink['spec'],
  };
}

export function natsSink(namespace: string, name: string, mode: 'changes' | 'snapshot'): KollectEventSink {
  return {
    apiVersion: API,
    kind: 'KollectEventSink',
    metadata: md(name, namespace),
    spec: {
      type: 'nats',
      endpoint: 'nats://nats.example.com:4222',
      nats: { subject: 'inv', mode },
    } as KollectEventSink['spec'],
  };
}

export function scope(namespace: string, name: string, spec: KollectScope['spec']): KollectScope {
  return { apiVersion: API, kind: 'KollectScope', metadata: md(name, namespace), spec };
}

export function clusterScope(name: string, spec: KollectClusterScope['spec']): KollectClusterScope {
  return { apiVersion: API, kind: 'KollectClusterScope', metadata: md(name, undefined), spec };
}

export function ns(
  name: string,
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
): NamespaceInfo {
  return { name, labels: { 'kubernetes.io/metadata.name': name, ...labels }, annotations };
}

const SERVED: Record<string, DiscoveredKind> = {
  'apps/v1/Deployment': { gvr: { group: 'apps', version: 'v1', resource: 'deployments' }, namespaced: true },
  '/v1/Service': { gvr: { group: '', version: 'v1', resource: 'services' }, namespaced: true },
  '/v1/Secret': { gvr: { group: '', version: 'v1', resource: 'secrets' }, namespaced: true },
  '/v1/ConfigMap': { gvr: { group: '', version: 'v1', resource: 'configmaps' }, namespaced: true },
  '/v1/Namespace': { gvr: { group: '', version: 'v1', resource: 'namespaces' }, namespaced: false },
  'networking.k8s.io/v1/Ingress': {
    gvr: { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses' },
    namespaced: true,
  },
};

export const discovery = (gvk: Gvk): DiscoveredKind | undefined =>
  SERVED[`${gvk.group}/${gvk.version}/${gvk.kind}`];

export const SETTINGS: CompileSettings = {
  cluster: 'prod-west',
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
};

export const NOW = new Date('2026-02-01T12:00:00Z');

export const NAMESPACES: NamespaceInfo[] = [
  ns('team-a', { team: 'a', tier: 'app' }),
  ns('team-b', { team: 'b', tier: 'app' }),
  ns('team-c', { team: 'c', tier: 'app', 'kollect.dev/watch': 'disabled' }),
  ns('kube-system', { tier: 'system' }),
  ns('kollect-system', { tier: 'system' }),
];

/** Build a compile input from a partial object set. */
export function input(objects: Partial<KollectObjects>, over: Partial<CompileInput> = {}): CompileInput {
  return {
    objects: { ...emptyObjects(), ...objects },
    namespaces: NAMESPACES,
    discovery,
    settings: SETTINGS,
    now: NOW,
    ...over,
  };
}
