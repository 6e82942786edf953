/**
 * The demo scenario as data: namespaces, workloads and Kollect resources. The demo applies it;
 * the e2e suites reuse it so "what the demo shows" is also "what CI proves".
 */

export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [k: string]: unknown;
};

export interface ScenarioOptions {
  teams: string[];
  deploymentsPerTeam: number;
  servicesPerTeam: number;
  ingressesPerTeam: number;
  /** Namespace of the platform profile (default `kollect-system`). */
  systemNamespace?: string;
  /** The namespace opted out by label (default `sandbox`). */
  sandboxNamespace?: string;
  /** The team whose KollectScope denies Ingresses (default `team-c` when it is one of the teams). */
  ingressDeniedTeam?: string;
  /**
   * Include the cluster kinds (platform roll-up; default true). Suites that share the apiserver
   * with others run in tenant mode and leave them out.
   */
  clusterKinds?: boolean;
}

/** The effective namespace names of a scenario. */
export function scenarioNamespaces(opts: ScenarioOptions = DEFAULT_SCENARIO): {
  teams: string[];
  system: string;
  sandbox: string;
  ingressDenied: string | undefined;
} {
  return {
    teams: [...opts.teams],
    system: opts.systemNamespace ?? 'kollect-system',
    sandbox: opts.sandboxNamespace ?? 'sandbox',
    ingressDenied: opts.ingressDeniedTeam ?? (opts.teams.includes('team-c') ? 'team-c' : undefined),
  };
}

export const DEFAULT_SCENARIO: ScenarioOptions = {
  teams: ['team-a', 'team-b', 'team-c'],
  deploymentsPerTeam: 60,
  servicesPerTeam: 30,
  ingressesPerTeam: 10,
};

const IMAGES = [
  'nginx:1.27',
  'envoy:1.30',
  'redis:7.4',
  'postgres:16',
  'ghcr.io/acme/api:2.3.1',
  'ghcr.io/acme/web:5.0.0',
];
const APPS = ['shop', 'billing', 'search'];

/** Namespaces: one per team (tenant label), the system namespace, and one opted out by label. */
export function namespaces(opts: ScenarioOptions = DEFAULT_SCENARIO): KubeObject[] {
  const out: KubeObject[] = opts.teams.map((team) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: team, labels: { 'kollect.dev/tenant': team, team } },
  }));
  const names = scenarioNamespaces(opts);
  out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: names.system } });
  out.push({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: names.sandbox,
      labels: { 'kollect.dev/watch': 'disabled', 'kollect.dev/tenant': names.sandbox },
    },
  });
  return out;
}

/** The i-th deployment of a team; deterministic so tests can predict attributes. */
export function deployment(team: string, i: number): KubeObject {
  const app = APPS[i % APPS.length] as string;
  const name = `${app}-${String(i).padStart(3, '0')}`;
  const containers = [{ name: 'main', image: IMAGES[i % IMAGES.length], ports: [{ containerPort: 8080 }] }];
  if (i % 4 === 0)
    containers.push({ name: 'sidecar', image: 'envoy:1.30', ports: [{ containerPort: 9901 }] });
  const labels: Record<string, string> = { app: name, 'app.kubernetes.io/part-of': app };
  // Every 10th deployment opts out of collection by label (SEED-SPEC §4.5 step 4).
  if (i % 10 === 9) labels['kollect.dev/watch'] = 'disabled';
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: team, labels },
    spec: {
      replicas: (i % 3) + 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers,
        },
      },
    },
  };
}

export function service(team: string, i: number): KubeObject {
  const app = APPS[i % APPS.length] as string;
  const name = `${app}-svc-${String(i).padStart(3, '0')}`;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: team, labels: { 'app.kubernetes.io/part-of': app } },
    spec: {
      selector: { app: `${app}-${String(i).padStart(3, '0')}` },
      ports: [{ name: 'http', port: 80, targetPort: 8080 }],
    },
  };
}

export function ingress(team: string, i: number): KubeObject {
  const name = `web-${String(i).padStart(3, '0')}`;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: team },
    spec: {
      rules: [
        {
          host: `${name}.${team}.example.com`,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: {
                  service: { name: `shop-svc-${String(i).padStart(3, '0')}`, port: { number: 80 } },
                },
              },
            ],
          },
        },
      ],
    },
  };
}

/** All workloads of the scenario (plus a few in the opted-out sandbox namespace). */
export function workloads(opts: ScenarioOptions = DEFAULT_SCENARIO): KubeObject[] {
  const out: KubeObject[] = [];
  for (const team of opts.teams) {
    for (let i = 0; i < opts.deploymentsPerTeam; i++) out.push(deployment(team, i));
    for (let i = 0; i < opts.servicesPerTeam; i++) out.push(service(team, i));
    for (let i = 0; i < opts.ingressesPerTeam; i++) out.push(ingress(team, i));
  }
  const sandbox = scenarioNamespaces(opts).sandbox;
  for (let i = 0; i < 3; i++) out.push(deployment(sandbox, i));
  return out;
}

const K = 'kollect.dev/v1alpha1';

/**
 * Kollect resources: per team the Deployment-images walkthrough of SEED-SPEC §3.11 (profile,
 * target, inventory), services and ingresses profiles, a scope that denies Ingresses to team-c,
 * and a platform roll-up (cluster target + cluster inventory) across the tenants.
 */
export function kollectResources(opts: ScenarioOptions = DEFAULT_SCENARIO): KubeObject[] {
  const out: KubeObject[] = [];
  for (const team of opts.teams) {
    out.push({
      apiVersion: K,
      kind: 'KollectProfile',
      metadata: { name: 'deployment-images', namespace: team },
      spec: {
        targetGVK: { group: 'apps', version: 'v1', kind: 'Deployment' },
        attributes: [
          { name: 'image', path: '$.spec.template.spec.containers[0].image', type: 'string' },
          { name: 'images', path: '$.spec.template.spec.containers[*].image', type: 'list' },
          { name: 'containerCount', path: 'cel:size(object.spec.template.spec.containers)', type: 'int' },
          { name: 'replicas', path: 'cel:object.spec.replicas', type: 'int' },
          { name: 'labels', path: '$.metadata.labels', type: 'map', optional: true },
        ],
      },
    });
    out.push({
      apiVersion: K,
      kind: 'KollectProfile',
      metadata: { name: 'service-ports', namespace: team },
      spec: {
        targetGVK: { group: '', version: 'v1', kind: 'Service' },
        attributes: [
          { name: 'ports', path: 'cel:object.spec.ports.map(p, p.port)', type: 'list' },
          { name: 'selector', path: '$.spec.selector', type: 'map', optional: true },
        ],
      },
    });
    out.push({
      apiVersion: K,
      kind: 'KollectProfile',
      metadata: { name: 'ingress-hosts', namespace: team },
      spec: {
        targetGVK: { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' },
        attributes: [{ name: 'hosts', path: '$.spec.rules[*].host', type: 'list' }],
      },
    });
    out.push({
      apiVersion: K,
      kind: 'KollectTarget',
      metadata: { name: 'web-deployments', namespace: team },
      spec: {
        profileRef: 'deployment-images',
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': team } },
        labelSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'shop' } },
      },
    });
    out.push({
      apiVersion: K,
      kind: 'KollectTarget',
      metadata: { name: 'services', namespace: team },
      spec: { profileRef: 'service-ports', includedNamespaces: [team] },
    });
    out.push({
      apiVersion: K,
      kind: 'KollectTarget',
      metadata: { name: 'ingresses', namespace: team },
      spec: { profileRef: 'ingress-hosts', includedNamespaces: [team] },
    });
    out.push({
      apiVersion: K,
      kind: 'KollectInventory',
      metadata: { name: 'team-inventory', namespace: team },
      spec: { exportMinInterval: '30s' },
    });
  }
  const names = scenarioNamespaces(opts);
  // team-c may not collect Ingresses: its ingresses target is hard-degraded (ScopeGVKDenied).
  const denied = names.ingressDenied;
  if (denied !== undefined) {
    out.push({
      apiVersion: K,
      kind: 'KollectScope',
      metadata: { name: 'tenant-ceiling', namespace: denied },
      spec: {
        allowedGVKs: [
          { group: 'apps', version: 'v1', kind: 'Deployment' },
          { group: '', version: 'v1', kind: 'Service' },
        ],
        allowedNamespaces: [denied],
      },
    });
  }
  if (opts.clusterKinds === false) return out;
  out.push({
    apiVersion: K,
    kind: 'KollectProfile',
    metadata: { name: 'platform-images', namespace: names.system },
    spec: {
      targetGVK: { group: 'apps', version: 'v1', kind: 'Deployment' },
      attributes: [
        { name: 'images', path: 'cel:object.spec.template.spec.containers.map(c, c.image)', type: 'list' },
        { name: 'team', path: 'cel:object.metadata.namespace', type: 'string' },
      ],
    },
  });
  out.push({
    apiVersion: K,
    kind: 'KollectClusterTarget',
    metadata: { name: 'all-deployments' },
    spec: {
      profileRef: { name: 'platform-images', namespace: names.system },
      namespaceSelector: { matchExpressions: [{ key: 'kollect.dev/tenant', operator: 'Exists' }] },
    },
  });
  out.push({
    apiVersion: K,
    kind: 'KollectClusterInventory',
    metadata: { name: 'platform-images' },
    spec: {
      targetRefs: ['all-deployments'],
      namespaceSelector: { matchExpressions: [{ key: 'kollect.dev/tenant', operator: 'Exists' }] },
      exportMinInterval: '30s',
    },
  });
  return out;
}
