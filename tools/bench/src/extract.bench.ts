/**
 * Extraction micro-benchmark: objects/s through `rowsForObject` for the SEED-SPEC §3.11
 * Deployment-images profile over generated Deployments, against a baseline measured in the same
 * run (`JSON.parse(JSON.stringify(obj))` per object, the floor cost of touching an object once).
 *
 *   npm run -w @kollect/bench extract [-- --objects 10000 --rounds 5]
 *
 * Prints numbers only; nothing here asserts timing.
 */
import { CelEngine } from '@kollect/cel';
import { BUS_SCHEMA_VERSION, type ObjectMessage } from '@kollect/contracts';
import { compileExtraction, rowsForObject } from '@kollect/extract';
import {
  type CompiledPlan,
  type CompiledProfile,
  type CompiledTarget,
  PLAN_SCHEMA_VERSION,
} from '@kollect/plan';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const OBJECTS = arg('objects', 10_000);
const ROUNDS = arg('rounds', 5);
const GVR = { group: 'apps', version: 'v1', resource: 'deployments' };
const TEAMS = ['team-a', 'team-b', 'team-c'];

function makeDeployment(i: number): Record<string, unknown> {
  const ns = TEAMS[i % TEAMS.length] as string;
  const name = `svc-${i}`;
  const containers = Array.from({ length: 1 + (i % 3) }, (_, c) => ({
    name: c === 0 ? 'app' : `sidecar-${c}`,
    image: c === 0 ? `ghcr.io/acme/${name}:1.${i % 17}.${i % 5}` : `envoyproxy/envoy:v1.${28 + c}.0`,
    ports: [{ containerPort: 8080 + c, protocol: 'TCP' }],
    env: [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
    ],
    resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
  }));
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: ns,
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resourceVersion: String(100_000 + i),
      generation: 3,
      creationTimestamp: '2024-05-01T10:00:00Z',
      labels: { app: name, 'app.kubernetes.io/part-of': i % 4 === 0 ? 'other' : 'shop', team: ns },
      annotations: { 'deployment.kubernetes.io/revision': '3' },
    },
    spec: {
      replicas: 1 + (i % 5),
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: { metadata: { labels: { app: name } }, spec: { serviceAccountName: name, containers } },
    },
    status: {
      observedGeneration: 3,
      replicas: 1 + (i % 5),
      readyReplicas: 1 + (i % 5),
      conditions: [
        { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
      ],
    },
  };
}

const profile: CompiledProfile = {
  key: 'team-a/deployment-images',
  namespace: 'team-a',
  name: 'deployment-images',
  uid: 'p',
  generation: 1,
  gvk: { group: 'apps', version: 'v1', kind: 'Deployment' },
  gvr: GVR,
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
  hash: 'bench',
};

/** One §3.11-style target per team namespace, each feeding its team inventory. */
const targets: CompiledTarget[] = TEAMS.map((ns) => ({
  kind: 'KollectTarget',
  namespace: ns,
  name: 'web-deployments',
  uid: `t-${ns}`,
  generation: 1,
  profileKey: profile.key,
  namespaces: [ns],
  rules: [],
  labelSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'shop' } },
  watchMode: 'All',
  feeds: [
    {
      inventory: { kind: 'KollectInventory', namespace: ns, name: 'team-inventory' },
      partition: 0,
      namespaces: null,
    },
  ],
}));

const plan: CompiledPlan = {
  schemaVersion: PLAN_SCHEMA_VERSION,
  generation: 1,
  compiledAt: new Date().toISOString(),
  settings: {
    cluster: 'bench',
    partitions: 8,
    maxExportBytes: 1_572_864,
    scrubKeys: [],
    celCostLimit: 1_000_000,
    celTimeoutMs: 100,
  },
  watches: [],
  profiles: { [profile.key]: profile },
  targets,
  inventories: [],
  sinks: [],
  namespaceWatch: {},
};

function message(object: Record<string, unknown>): ObjectMessage {
  const md = object['metadata'] as { name: string; namespace: string; uid: string; resourceVersion: string };
  return {
    schemaVersion: BUS_SCHEMA_VERSION,
    op: 'upsert',
    cluster: 'bench',
    gvr: GVR,
    kind: 'Deployment',
    namespace: md.namespace,
    name: md.name,
    uid: md.uid,
    resourceVersion: md.resourceVersion,
    origin: 'watch',
    object,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Run `fn` over every object `ROUNDS` times (after one warm-up round); objects/s, median round. */
function measure(label: string, fn: (i: number) => unknown): number {
  let sink = 0;
  for (let i = 0; i < OBJECTS; i++) if (fn(i)) sink++;
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < OBJECTS; i++) if (fn(i)) sink++;
    rates.push(OBJECTS / ((performance.now() - t0) / 1000));
  }
  const rate = median(rates);
  console.log(
    `${label.padEnd(58)} ${Math.round(rate).toLocaleString('en-US').padStart(10)} objects/s  (sink ${sink % 7})`,
  );
  return rate;
}

const objects = Array.from({ length: OBJECTS }, (_, i) => makeDeployment(i));
const messages = objects.map(message);
const wire = messages.map((m) => JSON.stringify(m));
const engine = new CelEngine();
const x = compileExtraction(plan, { engine });
let rows = 0;

console.log(
  `node ${process.version}, ${OBJECTS} Deployments (1-3 containers, ~${Math.round(wire.reduce((n, w) => n + w.length, 0) / OBJECTS)} bytes each), ${targets.length} targets, median of ${ROUNDS} rounds`,
);
const baseline = measure('baseline: JSON.parse(JSON.stringify(obj))', (i) =>
  JSON.parse(JSON.stringify(objects[i])),
);
const extract = measure('rowsForObject (§3.11 profile, 3 targets)', (i) => {
  const r = rowsForObject(x, messages[i] as ObjectMessage, i);
  rows += r.rows.length;
  return r.rows.length;
});
measure(
  'rowsForObject, namespaceMissDeletes: false',
  (i) => rowsForObject(x, messages[i] as ObjectMessage, i, { namespaceMissDeletes: false }).rows.length,
);
const e2e = measure('JSON.parse(msg) + rowsForObject + JSON.stringify(rows)', (i) => {
  const r = rowsForObject(x, JSON.parse(wire[i] as string) as ObjectMessage, i);
  return r.rows.map((row) => JSON.stringify(row)).length;
});
console.log(
  `rowsForObject / baseline: ${(extract / baseline).toFixed(2)}x; with parse+serialise: ${(e2e / baseline).toFixed(2)}x`,
);
console.log(
  `rows per object: ${(rows / (OBJECTS * (ROUNDS + 1))).toFixed(2)}; CEL outcomes: ${JSON.stringify(engine.counters)}`,
);
