import { describe, expect, it } from 'vitest';
import { CelEngine } from '@kollect/cel';
import type { CompiledPlan, CompiledProfile, CompiledTarget } from '@kollect/plan';
import {
  DEPLOYMENTS,
  NODES,
  SECRETS,
  SHOP_RELEASE,
  deployment,
  deploymentImagesProfile,
  dig,
  feed,
  helmReleaseSecret,
  objectMessage,
  plan,
  webTarget,
} from './__fixtures__/objects.js';
import { compileExtraction } from './compile.js';
import { ObjectView, rowsForObject } from './extract.js';
import { matchesLabelSelector } from '@kollect/plan';

function compile(p: CompiledPlan, engine = new CelEngine()) {
  return compileExtraction(p, { engine });
}

function upsertOf(p: CompiledPlan, obj: Record<string, unknown>, seq = 42) {
  return rowsForObject(compile(p), objectMessage(obj), seq);
}

function profileWith(
  attributes: CompiledProfile['attributes'],
  over: Partial<CompiledProfile> = {},
): CompiledProfile {
  return deploymentImagesProfile({ attributes, ...over });
}

describe('the SEED-SPEC §3.11 Deployment-images walkthrough', () => {
  it('turns a Deployment into one upsert row per feed with the seed item shape', () => {
    const r = upsertOf(plan(), deployment());
    expect(r.failures).toEqual([]);
    expect(r.rows).toHaveLength(1);
    const row = r.rows[0]!;
    expect(row).toMatchObject({
      schemaVersion: 'kollect.dev/bus/v1',
      op: 'upsert',
      cluster: 'prod-west',
      inventory: { kind: 'KollectInventory', namespace: 'team-a', name: 'team-inventory' },
      key: {
        targetNamespace: 'team-a',
        targetName: 'web-deployments',
        uid: '8f3c1a52-6a57-4d38-9f38-0e6c2b4f5d11',
      },
      sourceSeq: 42,
      planGeneration: 7,
    });
    expect(row.item).toEqual({
      targetNamespace: 'team-a',
      targetName: 'web-deployments',
      namespace: 'team-a',
      name: 'web-api',
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      uid: '8f3c1a52-6a57-4d38-9f38-0e6c2b4f5d11',
      attributes: {
        image: 'ghcr.io/acme/api:1.2.3',
        images: ['ghcr.io/acme/api:1.2.3', 'envoyproxy/envoy:v1.30.1'],
        containerCount: 2,
        labels: { app: 'web-api', 'app.kubernetes.io/part-of': 'shop', 'app.kubernetes.io/name': 'web-api' },
      },
    });
  });

  it('clears a recorded failure of the target on success', () => {
    const r = upsertOf(plan(), deployment());
    expect(r.cleared).toEqual([
      {
        targetKey: 'KollectTarget/team-a/web-deployments',
        target: { kind: 'KollectTarget', namespace: 'team-a', name: 'web-deployments' },
        uid: '8f3c1a52-6a57-4d38-9f38-0e6c2b4f5d11',
      },
    ]);
  });

  it('gives images as a scalar for a single-container Deployment (cardinality is value-dependent)', () => {
    const r = upsertOf(plan(), deployment({ containers: [{ name: 'only', image: 'nginx:1.27' }] }));
    expect(r.rows[0]!.item!.attributes['images']).toBe('nginx:1.27');
  });

  it('upserts to every feed and rows are JSON-serialisable', () => {
    const p = plan({ targets: [webTarget({ feeds: [feed('team-inventory'), feed('audit', 'team-a', 5)] })] });
    const r = upsertOf(p, deployment());
    expect(r.rows.map((x) => [x.op, x.inventory.name, (x as { partition?: number }).partition])).toEqual([
      ['upsert', 'team-inventory', undefined],
      ['upsert', 'audit', undefined],
    ]);
    expect(JSON.parse(JSON.stringify(r.rows))).toEqual(r.rows);
  });
});

describe('optional and required attributes (SEED-SPEC §4.2, §15.4)', () => {
  it('omits an optional attribute whose value is absent or fails, and stores null for a missing required one', () => {
    const p = plan({
      profiles: [
        profileWith([
          { name: 'paused', path: '$.spec.paused', optional: false },
          { name: 'pausedOpt', path: '$.spec.paused', optional: true },
          { name: 'celNullRequired', path: 'cel:null', optional: false },
          { name: 'badIndexOpt', path: '$.spec.template.spec.containers[5].image', optional: true },
          { name: 'celErrorOpt', path: 'cel:object.spec.paused', optional: true },
        ]),
      ],
    });
    const r = upsertOf(p, deployment());
    expect(r.failures).toEqual([]);
    expect(r.rows[0]!.item!.attributes).toEqual({ paused: null, celNullRequired: null });
  });

  it('fails the whole object on an error in a required attribute: no row, a failure record', () => {
    const p = plan({
      profiles: [
        profileWith([
          { name: 'image', path: '$.spec.template.spec.containers[0].image', optional: false },
          { name: 'sidecar', path: '$.spec.template.spec.containers[1].image', optional: false },
        ]),
      ],
    });
    const r = upsertOf(p, deployment({ containers: [{ name: 'only', image: 'nginx' }] }));
    expect(r.rows).toEqual([]);
    expect(r.failures).toEqual([
      expect.objectContaining({
        targetKey: 'KollectTarget/team-a/web-deployments',
        target: { kind: 'KollectTarget', namespace: 'team-a', name: 'web-deployments' },
        profileKey: 'team-a/deployment-images',
        uid: '8f3c1a52-6a57-4d38-9f38-0e6c2b4f5d11',
        namespace: 'team-a',
        name: 'web-api',
        attribute: 'sidecar',
        outcome: 'error',
        code: 'KOLLECT_ERR_EXTRACT_JSONPATH',
        errorClass: 'terminal',
        reason: 'ExtractionFailed',
      }),
    ]);
    expect(r.cleared).toEqual([]);
    expect(r.failures[0]!.message).toMatch(/out of bounds/);
  });

  it('never coerces by type: an int-typed attribute holding a string stays a string', () => {
    const p = plan({
      profiles: [profileWith([{ name: 'n', path: '$.metadata.name', optional: false, type: 'int' }])],
    });
    expect(upsertOf(p, deployment()).rows[0]!.item!.attributes['n']).toBe('web-api');
  });
});

describe('CEL attributes', () => {
  it('does integer arithmetic on JSON numbers', () => {
    const p = plan({
      profiles: [profileWith([{ name: 'next', path: 'cel:object.spec.replicas + 1', optional: false }])],
    });
    expect(upsertOf(p, deployment()).rows[0]!.item!.attributes['next']).toBe(4);
  });

  it('fails only the objects on which a required expression errors at runtime', () => {
    const p = plan({
      profiles: [
        profileWith([
          { name: 'strategy', path: 'cel:object.spec.strategy.rollingUpdate.maxSurge', optional: false },
        ]),
      ],
    });
    const x = compile(p);
    const ok = rowsForObject(x, objectMessage(deployment({ name: 'a', uid: 'u-a' })), 1);
    const recreate = deployment({ name: 'b', uid: 'u-b' });
    (recreate['spec'] as Record<string, unknown>)['strategy'] = { type: 'Recreate' };
    const bad = rowsForObject(x, objectMessage(recreate), 2);
    expect(ok.rows[0]!.item!.attributes['strategy']).toBe('25%');
    expect(bad.rows).toEqual([]);
    expect(bad.failures).toEqual([
      expect.objectContaining({
        uid: 'u-b',
        attribute: 'strategy',
        outcome: 'error',
        code: 'KOLLECT_ERR_CEL_EVAL',
      }),
    ]);
    expect(bad.failures[0]!.message).toMatch(/No such key: rollingUpdate/);
    expect(x.engine.counters).toMatchObject({ success: 1, error: 1 });
  });

  it('fails an object whose expression exceeds the cost limit, and reports it as cost_exceeded', () => {
    const p = plan({
      settings: { ...plan().settings, celCostLimit: 2_000 },
      profiles: [
        profileWith([
          {
            name: 'pairs',
            path: 'cel:object.spec.template.spec.containers.map(a, object.spec.template.spec.containers.map(b, a.name + b.name)).size()',
            optional: false,
          },
        ]),
      ],
    });
    const many = Array.from({ length: 60 }, (_, i) => ({ name: `c${i}`, image: 'x' }));
    const r = upsertOf(p, deployment({ containers: many }));
    expect(r.rows).toEqual([]);
    expect(r.failures[0]).toMatchObject({
      attribute: 'pairs',
      outcome: 'cost_exceeded',
      reason: 'CostLimitExceeded',
      code: 'KOLLECT_ERR_CEL_COST_EXCEEDED',
    });
    const small = upsertOf(p, deployment());
    expect(small.rows[0]!.item!.attributes['pairs']).toBe(2);
  });

  it('redacts sensitive keys inside CEL results too', () => {
    const p = plan({
      profiles: [
        profileWith([
          { name: 'env', path: 'cel:object.spec.template.spec.containers[0].env', optional: false },
        ]),
      ],
    });
    const env = upsertOf(p, deployment()).rows[0]!.item!.attributes['env'] as Record<string, unknown>[];
    expect(env[1]).toEqual({ name: 'DB_PASSWORD', valueFrom: { redacted: true, reason: 'sensitive-key' } });
    expect(env[2]!['valueFrom']).toEqual({ configMapKeyRef: { name: 'features', key: 'x' } });
  });

  it('surfaces a profile path that does not compile as an issue, and fails required attributes at runtime', () => {
    const p = plan({
      profiles: [
        profileWith([
          { name: 'bad', path: 'cel:object.spec.(', optional: false },
          { name: 'bare', path: 'spec.replicas', optional: true },
        ]),
      ],
    });
    const x = compile(p);
    expect(x.issues.map((i) => [i.severity, i.field, i.code])).toEqual([
      ['error', 'spec.attributes[0].path', 'KOLLECT_ERR_EXTRACT_PATH_INVALID'],
      ['error', 'spec.attributes[1].path', 'KOLLECT_ERR_EXTRACT_PATH_INVALID'],
    ]);
    const r = rowsForObject(x, objectMessage(deployment()), 1);
    expect(r.failures[0]).toMatchObject({ attribute: 'bad', code: 'KOLLECT_ERR_EXTRACT_PATH_INVALID' });
  });
});

describe('helm:release attributes', () => {
  const helmProfile = profileWith(
    [
      { name: 'chart', path: 'helm:release.chartName', optional: false },
      { name: 'chartVersion', path: 'helm:release.chartVersion', optional: false },
      { name: 'revision', path: 'helm:release.revision', optional: false },
      { name: 'values', path: 'helm:release.config', optional: false },
      { name: 'notes', path: 'helm:release.info.notes', optional: false },
    ],
    { key: 'team-a/helm', name: 'helm', gvk: { group: '', version: 'v1', kind: 'Secret' }, gvr: SECRETS },
  );
  const helmPlan = plan({
    profiles: [helmProfile],
    targets: [
      webTarget({
        name: 'releases',
        profileKey: 'team-a/helm',
        labelSelector: { matchLabels: { owner: 'helm' } },
      }),
    ],
  });

  it('decodes a gzipped release Secret and reads aliases; config is redacted; missing is null', () => {
    const r = rowsForObject(
      compile(helmPlan),
      objectMessage(helmReleaseSecret(SHOP_RELEASE), { gvr: SECRETS }),
      9,
    );
    expect(r.failures).toEqual([]);
    expect(r.rows[0]!.item).toMatchObject({
      group: '',
      version: 'v1',
      kind: 'Secret',
      name: 'sh.helm.release.v1.shop.v3',
    });
    expect(r.rows[0]!.item!.attributes).toEqual({
      chart: 'shop',
      chartVersion: '2.4.0',
      revision: 3,
      values: {
        replicaCount: 3,
        image: { tag: '1.2.3' },
        db: { password: { redacted: true, reason: 'sensitive-key' } },
      },
      notes: null,
    });
  });

  it('decodes the release once per object, however many helm attributes read it', () => {
    const view = new ObjectView(helmReleaseSecret(SHOP_RELEASE), 'team-a');
    expect(view.helm).toBe(view.helm);
  });

  it('fails a Secret that is not a Helm release', () => {
    const notHelm = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'x', namespace: 'team-a', uid: 'u', labels: { owner: 'helm' } },
      data: {},
    };
    const r = rowsForObject(compile(helmPlan), objectMessage(notHelm, { gvr: SECRETS }), 9);
    expect(r.rows).toEqual([]);
    expect(r.failures[0]).toMatchObject({ attribute: 'chart', code: 'KOLLECT_ERR_EXTRACT_HELM' });
  });
});

describe('Resource export mode', () => {
  it('stores the pruned, scrubbed object under export.as next to curated attributes', () => {
    const p = plan({
      profiles: [
        deploymentImagesProfile({
          attributes: [{ name: 'image', path: '$.spec.template.spec.containers[0].image', optional: false }],
          export: {
            mode: 'Resource',
            as: 'manifest',
            include: 'SpecOnly',
            dedupeIdentity: true,
            prune: {
              defaults: true,
              jsonPointers: ['/spec/template/spec/containers/1'],
              jsonPaths: ['$.spec.strategy'],
              scrubKeys: ['maxSurge'],
            },
          },
        }),
      ],
    });
    const attrs = upsertOf(p, deployment()).rows[0]!.item!.attributes;
    expect(attrs['image']).toBe('ghcr.io/acme/api:1.2.3');
    expect(Object.keys(attrs['manifest'] as object)).toEqual(['apiVersion', 'kind', 'spec']);
    expect(dig(attrs, 'manifest.spec.template.spec.containers.1')).toBeNull();
    expect(dig(attrs, 'manifest.spec.strategy')).toBeUndefined();
    expect(dig(attrs, 'manifest.spec.template.spec.containers.0.env.1.valueFrom')).toEqual({
      redacted: true,
      reason: 'sensitive-key',
    });
  });
});

describe('target matching (SEED-SPEC §4.5)', () => {
  const rowsFor = (
    p: CompiledPlan,
    obj: Record<string, unknown>,
    opts: Parameters<typeof objectMessage>[1] = {},
  ) => rowsForObject(compile(p), objectMessage(obj, opts), 5);
  const ops = (r: ReturnType<typeof rowsFor>) => r.rows.map((x) => x.op);

  it('deletes from the feeds when the object stops matching (label changed)', () => {
    const r = rowsFor(
      plan(),
      deployment({ labels: { app: 'web-api', 'app.kubernetes.io/part-of': 'other' } }),
    );
    expect(ops(r)).toEqual(['delete']);
    expect(r.rows[0]).toMatchObject({ key: { targetNamespace: 'team-a', targetName: 'web-deployments' } });
    expect(r.rows[0]!.item).toBeUndefined();
  });

  it('gates on the target namespaces', () => {
    expect(ops(rowsFor(plan(), deployment({ namespace: 'team-b' })))).toEqual(['delete']);
    const quiet = rowsForObject(compile(plan()), objectMessage(deployment({ namespace: 'team-b' })), 5, {
      namespaceMissDeletes: false,
    });
    expect(quiet.rows).toEqual([]);
  });

  it('filters by names on the legacy path', () => {
    const p = plan({ targets: [webTarget({ names: ['other'] })] });
    expect(ops(rowsFor(p, deployment()))).toEqual(['delete']);
    const q = plan({ targets: [webTarget({ names: ['web-api'] })] });
    expect(ops(rowsFor(q, deployment()))).toEqual(['upsert']);
  });

  it.each([
    ['a resource labelled disabled is skipped', { 'kollect.dev/watch': 'disabled' }, {}, 'All', 'delete'],
    [
      'a resource labelled enabled is collected in a disabled namespace',
      { 'kollect.dev/watch': 'enabled' },
      { 'team-a': 'disabled' },
      'All',
      'upsert',
    ],
    ['a disabled namespace is skipped', {}, { 'team-a': 'disabled' }, 'All', 'delete'],
    ['OptIn skips an unmarked namespace', {}, {}, 'OptIn', 'delete'],
    ['OptIn collects in an enabled namespace', {}, { 'team-a': 'enabled' }, 'OptIn', 'upsert'],
    ['OptIn collects a resource labelled enabled', { 'kollect.dev/watch': 'enabled' }, {}, 'OptIn', 'upsert'],
    ['All collects an unmarked namespace', {}, {}, 'All', 'upsert'],
  ] as const)('watch labels: %s', (_what, extraLabels, namespaceWatch, watchMode, want) => {
    const p = plan({ namespaceWatch, targets: [webTarget({ watchMode })] });
    const labels = { app: 'web-api', 'app.kubernetes.io/part-of': 'shop', ...extraLabels };
    expect(ops(rowsFor(p, deployment({ labels })))).toEqual([want]);
  });

  it('resourceRules are an OR-union with label selectors and CEL matchPolicy; the legacy labelSelector is ignored', () => {
    const rules: CompiledTarget['rules'] = [
      { gvr: DEPLOYMENTS, gvk: { group: 'apps', version: 'v1', kind: 'Deployment' }, namespaces: ['team-x'] },
      {
        gvr: DEPLOYMENTS,
        gvk: { group: 'apps', version: 'v1', kind: 'Deployment' },
        namespaces: null,
        labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web-api', 'db'] }] },
        matchPolicy: 'object.spec.replicas >= 2',
      },
    ];
    const p = plan({ targets: [webTarget({ rules, labelSelector: { matchLabels: { never: 'x' } } })] });
    expect(ops(rowsFor(p, deployment()))).toEqual(['upsert']);
    expect(ops(rowsFor(p, deployment({ replicas: 1 })))).toEqual(['delete']);
    expect(ops(rowsFor(p, deployment({ labels: { app: 'other' } })))).toEqual(['delete']);
  });

  describe('a resourceRules GVR other than the profile GVR (SEED-SPEC §4.5 step 3)', () => {
    const SERVICES = { group: '', version: 'v1', resource: 'services' };
    const SERVICE_GVK = { group: '', version: 'v1', kind: 'Service' };
    const service = (labels: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web-svc', namespace: 'team-a', uid: 'svc-uid-1', resourceVersion: '9', labels },
      spec: { ports: [{ port: 80 }] },
    });
    const rules: CompiledTarget['rules'] = [
      { gvr: SERVICES, gvk: SERVICE_GVK, namespaces: null, labelSelector: { matchLabels: { tier: 'web' } } },
    ];
    const profiles = [
      profileWith([
        { name: 'kind', path: 'cel:object.kind', optional: false },
        { name: 'labels', path: '$.metadata.labels', optional: true },
      ]),
    ];
    const p = plan({ profiles, targets: [webTarget({ rules })] });

    it('collects objects of the rule GVR with the profile attributes; items carry the profile GVK', () => {
      const r = rowsFor(p, service({ tier: 'web' }), { gvr: SERVICES });
      expect(r.failures).toEqual([]);
      expect(ops(r)).toEqual(['upsert']);
      expect(r.rows[0]!.item).toMatchObject({
        name: 'web-svc',
        uid: 'svc-uid-1',
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        attributes: { kind: 'Service', labels: { tier: 'web' } },
      });
    });

    it('applies the rule selector to those objects and deletes when they stop matching or vanish', () => {
      expect(ops(rowsFor(p, service({ tier: 'db' }), { gvr: SERVICES }))).toEqual(['delete']);
      const tomb = rowsFor(p, service({ tier: 'web' }), { gvr: SERVICES, op: 'delete' });
      expect(tomb.rows.map((x) => [x.op, x.key.uid])).toEqual([['delete', 'svc-uid-1']]);
    });

    it('no longer collects the profile GVR unless a rule names it', () => {
      expect(compile(p).targetsByGvr.get('apps/v1/deployments')).toBeUndefined();
      expect(rowsFor(p, deployment()).rows).toEqual([]);
      const both = plan({
        profiles,
        targets: [
          webTarget({
            rules: [
              ...rules,
              {
                gvr: DEPLOYMENTS,
                gvk: { group: 'apps', version: 'v1', kind: 'Deployment' },
                namespaces: null,
              },
            ],
          }),
        ],
      });
      expect(ops(rowsFor(both, deployment()))).toEqual(['upsert']);
      expect(ops(rowsFor(both, service({ tier: 'web' }), { gvr: SERVICES }))).toEqual(['upsert']);
    });

    it('indexes a target once per GVR however many rules name it, and reports no compile issue', () => {
      const x = compile(plan({ targets: [webTarget({ rules: [...rules, ...rules] })] }));
      expect(x.issues).toEqual([]);
      expect(x.targetsByGvr.get('/v1/services')).toHaveLength(1);
    });
  });

  it('counts a matchPolicy runtime error as no match and reports it', () => {
    const rules: CompiledTarget['rules'] = [
      {
        gvr: DEPLOYMENTS,
        gvk: { group: 'apps', version: 'v1', kind: 'Deployment' },
        namespaces: null,
        matchPolicy: 'object.spec.paused == false',
      },
    ];
    const r = rowsFor(plan({ targets: [webTarget({ rules })] }), deployment());
    expect(ops(r)).toEqual(['delete']);
    expect(r.policyErrors).toEqual([
      expect.objectContaining({
        targetKey: 'KollectTarget/team-a/web-deployments',
        rule: 0,
        outcome: 'error',
      }),
    ]);
    expect(r.cleared.map((c) => c.uid)).toEqual(['8f3c1a52-6a57-4d38-9f38-0e6c2b4f5d11']);
  });

  it('counts a matchPolicy that returns a non-bool at runtime as no match', () => {
    const rules: CompiledTarget['rules'] = [
      {
        gvr: DEPLOYMENTS,
        gvk: { group: 'apps', version: 'v1', kind: 'Deployment' },
        namespaces: null,
        matchPolicy: 'object.spec.replicas',
      },
    ];
    const r = rowsFor(plan({ targets: [webTarget({ rules })] }), deployment());
    expect(ops(r)).toEqual(['delete']);
    expect(r.policyErrors[0]).toMatchObject({ code: 'KOLLECT_ERR_CEL_RESULT' });
  });

  it('reports a matchPolicy that does not compile, and its rule matches nothing', () => {
    const rules: CompiledTarget['rules'] = [
      {
        gvr: DEPLOYMENTS,
        gvk: { group: 'apps', version: 'v1', kind: 'Deployment' },
        namespaces: null,
        matchPolicy: 'size(object.metadata.labels)',
      },
    ];
    const x = compile(plan({ targets: [webTarget({ rules })] }));
    expect(x.issues).toEqual([
      expect.objectContaining({ scope: 'target', field: 'spec.resourceRules[0].matchPolicy' }),
    ]);
    expect(rowsForObject(x, objectMessage(deployment()), 1).rows.map((r) => r.op)).toEqual(['delete']);
  });

  it('treats a cluster-scoped object as namespace default for the gate and keeps namespace "" in the item', () => {
    const nodeProfile = deploymentImagesProfile({
      key: 'team-a/nodes',
      gvk: { group: '', version: 'v1', kind: 'Node' },
      gvr: NODES,
      namespaced: false,
      attributes: [{ name: 'os', path: '$.status.nodeInfo.osImage', optional: false }],
    });
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-1', uid: 'n-1', labels: {} },
      status: { nodeInfo: { osImage: 'Debian 12' } },
    };
    const inDefault = plan({
      profiles: [nodeProfile],
      targets: [webTarget({ profileKey: 'team-a/nodes', namespaces: ['default'], labelSelector: undefined })],
    });
    const r = rowsFor(inDefault, node, { gvr: NODES });
    expect(r.rows[0]!.item).toMatchObject({
      namespace: '',
      name: 'node-1',
      kind: 'Node',
      group: '',
      attributes: { os: 'Debian 12' },
    });
    const notDefault = plan({
      profiles: [nodeProfile],
      targets: [webTarget({ profileKey: 'team-a/nodes', namespaces: ['team-a'], labelSelector: undefined })],
    });
    expect(ops(rowsFor(notDefault, node, { gvr: NODES }))).toEqual(['delete']);
  });

  it('cluster targets key rows by the object namespace and respect feed namespaces', () => {
    const clusterTarget = webTarget({
      kind: 'KollectClusterTarget',
      namespace: '',
      name: 'fleet-deployments',
      namespaces: ['team-a', 'team-b'],
      labelSelector: undefined,
      feeds: [feed('fleet', '', 0, ['team-b']), feed('everything', '', 1, null)],
    });
    const r = rowsFor(plan({ targets: [clusterTarget] }), deployment());
    expect(r.rows.map((x) => [x.inventory.name, x.op, x.key.targetNamespace])).toEqual([
      ['fleet', 'delete', 'team-a'],
      ['everything', 'upsert', 'team-a'],
    ]);
    expect(r.rows[1]!.item).toMatchObject({ targetNamespace: 'team-a', targetName: 'fleet-deployments' });
  });

  it('sends deletes to every feed of every target on the GVR for a tombstone', () => {
    const p = plan({
      targets: [webTarget(), webTarget({ name: 'second', feeds: [feed('a'), feed('b')] })],
    });
    const r = rowsForObject(
      compile(p),
      objectMessage(undefined, { op: 'delete', namespace: 'team-a', name: 'web-api', uid: 'u-1' }),
      77,
    );
    expect(r.rows.map((x) => [x.key.targetName, x.inventory.name, x.op, x.sourceSeq])).toEqual([
      ['web-deployments', 'team-inventory', 'delete', 77],
      ['second', 'a', 'delete', 77],
      ['second', 'b', 'delete', 77],
    ]);
  });

  it('ignores objects of a GVR no target extracts', () => {
    expect(
      rowsFor(plan(), { kind: 'Secret', metadata: { name: 'x', uid: 'u' } }, { gvr: SECRETS }).rows,
    ).toEqual([]);
  });
});

describe('robustness: rowsForObject never throws', () => {
  const x = compileExtraction(plan(), { engine: new CelEngine() });

  it.each([
    ['an upsert without an object', objectMessage(undefined, { uid: 'u', namespace: 'team-a' })],
    [
      'an object that is an array',
      { ...objectMessage(deployment()), object: [] as unknown as Record<string, unknown> },
    ],
    ['a message without uid', objectMessage(deployment(), { uid: '' })],
  ])('%s becomes a failure record', (_what, msg) => {
    const r = rowsForObject(x, msg, 1);
    expect(r.rows).toEqual([]);
    expect(r.failures[0]).toMatchObject({
      outcome: 'invalid_object',
      code: 'KOLLECT_ERR_EXTRACT_INVALID_OBJECT',
    });
  });

  it('survives a pathologically deep object', () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 200_000; i++) deep = { d: deep };
    const obj = deployment();
    (obj['spec'] as Record<string, unknown>)['deep'] = deep;
    const r = rowsForObject(x, objectMessage(obj), 1);
    expect(r.rows.length + r.failures.length).toBeGreaterThan(0);
  });

  it('handles junk labels and metadata', () => {
    const obj = deployment();
    (obj['metadata'] as Record<string, unknown>)['labels'] = 'not-a-map';
    expect(() => rowsForObject(x, objectMessage(obj), 1)).not.toThrow();
  });
});

describe('plan compilation', () => {
  it('reuses compiled profiles whose hash did not change', () => {
    const engine = new CelEngine();
    const a = compileExtraction(plan(), { engine });
    const b = compileExtraction(plan({ generation: 8 }), { previous: a });
    expect(b.profiles.get('team-a/deployment-images')).toBe(a.profiles.get('team-a/deployment-images'));
    const c = compileExtraction(plan({ profiles: [deploymentImagesProfile({ hash: 'h2' })] }), {
      previous: a,
    });
    expect(c.profiles.get('team-a/deployment-images')).not.toBe(a.profiles.get('team-a/deployment-images'));
  });

  it('reports a target whose profile is missing, and warns about filter paths', () => {
    const p = plan({
      profiles: [
        profileWith([
          { name: 'x', path: '$.spec.template.spec.containers[?(@.name=="api")].image', optional: false },
        ]),
      ],
      targets: [webTarget(), webTarget({ name: 'orphan', profileKey: 'team-a/nope' })],
    });
    const x = compile(p);
    expect(x.issues.map((i) => [i.severity, i.scope, i.key])).toEqual([
      ['warning', 'profile', 'team-a/deployment-images'],
      ['error', 'target', 'KollectTarget/team-a/orphan'],
    ]);
    expect(x.targetsByGvr.get('apps/v1/deployments')).toHaveLength(1);
  });

  it('takes CEL limits from the plan settings', () => {
    const x = compile(plan({ settings: { ...plan().settings, celCostLimit: 123, celTimeoutMs: 45 } }));
    expect(x.limits).toEqual({ costLimit: 123, timeoutMs: 45 });
  });
});

describe('label selectors (the @kollect/plan function extraction uses)', () => {
  const labels = { app: 'web', tier: 'front' };
  it.each([
    [undefined, true],
    [{}, true],
    [{ matchLabels: { app: 'web' } }, true],
    [{ matchLabels: { app: 'db' } }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['front', 'back'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn' as const, values: ['front'] }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'NotIn' as const, values: ['a'] }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'Exists' as const }] }, true],
    [{ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' as const }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'In' as const, values: ['a'] }] }, false],
    [
      { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'zone', operator: 'Exists' as const }] },
      false,
    ],
  ])('%j → %s', (selector, want) => {
    expect(matchesLabelSelector(selector, labels)).toBe(want);
  });
});
