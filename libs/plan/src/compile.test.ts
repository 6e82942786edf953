import { partitionOf } from '@kollect/contracts';
import { describe, expect, it } from 'vitest';
import { compilePlan, type CompileResult } from './compile.js';
import type { DesiredStatus } from './status-model.js';
import { targetKey } from './types.js';
import type { ObjectValidator } from './validation.js';
import {
  clusterInventory,
  clusterScope,
  clusterTarget,
  DEPLOYMENT,
  gitSink,
  input,
  inventory,
  NAMESPACE_KIND,
  natsSink,
  NOW,
  ns,
  postgresSink,
  profile,
  scope,
  SERVICE,
  SETTINGS,
  target,
} from './__tests__/fixtures.js';

function statusOf(r: CompileResult, kind: string, namespace: string, name: string): DesiredStatus {
  const s = r.statuses.find(
    (x) => x.subject.kind === kind && x.subject.namespace === namespace && x.subject.name === name,
  );
  if (!s) throw new Error(`no status for ${kind}/${namespace}/${name}`);
  return s;
}
const cond = (s: DesiredStatus, type: string) => s.conditions.find((c) => c.type === type);
const types = (s: DesiredStatus) => s.conditions.map((c) => c.type).sort();

describe('compilePlan — the main pipeline example (SEED-SPEC §3.11)', () => {
  const objects = {
    profiles: [profile('team-a', 'deployment-images')],
    databaseSinks: [postgresSink('team-a', 'portal-postgres')],
    snapshotSinks: [gitSink('team-a', 'audit-git')],
    targets: [
      target('team-a', 'web-deployments', {
        profileRef: 'deployment-images',
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'team-a' } },
        labelSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'shop' } },
      }),
    ],
    inventories: [
      inventory('team-a', 'team-inventory', {
        exportMinInterval: '30s',
        databaseSinkRefs: ['portal-postgres'],
        snapshotSinkRefs: [{ name: 'audit-git', exportMinInterval: '1h' }],
      }),
    ],
  };
  const r = compilePlan(input(objects));

  it('watches deployments in team-a only', () => {
    expect(r.plan.watches).toEqual([
      {
        gvr: { group: 'apps', version: 'v1', resource: 'deployments' },
        gvk: DEPLOYMENT,
        namespaced: true,
        namespaces: ['team-a'],
      },
    ]);
  });

  it('compiles the target with its profile, legacy selector and one feed', () => {
    expect(r.plan.targets).toHaveLength(1);
    const t = r.plan.targets[0]!;
    expect(t).toMatchObject({
      kind: 'KollectTarget',
      namespace: 'team-a',
      name: 'web-deployments',
      profileKey: 'team-a/deployment-images',
      namespaces: ['team-a'],
      rules: [],
      labelSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'shop' } },
      watchMode: 'All',
    });
    const ref = { kind: 'KollectInventory' as const, namespace: 'team-a', name: 'team-inventory' };
    expect(t.feeds).toEqual([{ inventory: ref, partition: partitionOf(ref, 8), namespaces: null }]);
  });

  it('binds postgres at 30s and git at 1h, both at the global byte cap', () => {
    const inv = r.plan.inventories[0]!;
    expect(inv.hold).toBeUndefined();
    expect(inv.targets).toEqual(['KollectTarget/team-a/web-deployments']);
    expect(inv.gvrs).toEqual([{ group: 'apps', version: 'v1', resource: 'deployments' }]);
    const byName = Object.fromEntries(inv.bindings.map((b) => [`${b.sink.family}/${b.sink.name}`, b]));
    expect(byName['database/portal-postgres']).toMatchObject({
      type: 'postgres',
      exportMinIntervalMs: 30_000,
      maxExportBytes: 1_572_864,
    });
    expect(byName['snapshot/audit-git']).toMatchObject({
      type: 'git',
      exportMinIntervalMs: 3_600_000,
      maxExportBytes: 1_572_864,
    });
    expect(r.plan.sinks.map((s) => `${s.ref.family}/${s.ref.name}`)).toEqual([
      'database/portal-postgres',
      'snapshot/audit-git',
    ]);
  });

  it('puts the profile in the plan with a content hash', () => {
    const p = r.plan.profiles['team-a/deployment-images']!;
    expect(p.gvr.resource).toBe('deployments');
    expect(p.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(p.export).toMatchObject({
      mode: 'Attributes',
      as: 'resource',
      include: 'SpecAndStatus',
      dedupeIdentity: true,
    });
  });

  it('reports the target Ready/Synced Collecting with matched and effective namespaces', () => {
    const s = statusOf(r, 'KollectTarget', 'team-a', 'web-deployments');
    expect(cond(s, 'Ready')).toMatchObject({ status: 'True', reason: 'Collecting' });
    expect(cond(s, 'Synced')).toMatchObject({ status: 'True', reason: 'Collecting' });
    expect(cond(s, 'Degraded')).toBeUndefined();
    expect(s.fields).toMatchObject({
      observedGeneration: 1,
      matchedNamespaces: ['team-a'],
      effectiveNamespaces: ['team-a'],
      activeResourceRules: 0,
      extractionFailures: 0,
    });
  });

  it('lists both sink exports on the inventory, waiting for the first export', () => {
    const s = statusOf(r, 'KollectInventory', 'team-a', 'team-inventory');
    expect((s.fields['sinkExports'] as { name: string }[]).map((e) => e.name)).toEqual([
      'database/portal-postgres',
      'snapshot/audit-git',
    ]);
    expect(cond(s, 'Synced')).toMatchObject({ status: 'False', reason: 'Progressing' });
    expect(cond(s, 'SinkReachable')).toMatchObject({ status: 'True', reason: 'SinkResolved' });
  });
});

describe('compilePlan — which targets feed which inventory (SEED-SPEC §6.3, §15.5)', () => {
  it('a target without a namespace selector collects from every namespace (plan: null)', () => {
    const r = compilePlan(
      input({ profiles: [profile('team-a', 'p')], targets: [target('team-a', 't', { profileRef: 'p' })] }),
    );
    expect(r.plan.targets[0]!.namespaces).toBeNull();
    expect(r.plan.watches[0]!.namespaces).toBeNull();
    const s = statusOf(r, 'KollectTarget', 'team-a', 't');
    expect(s.fields['matchedNamespaces']).toEqual([
      'kollect-system',
      'kube-system',
      'team-a',
      'team-b',
      'team-c',
    ]);
  });

  it('a namespaced inventory takes every target of its namespace, and two inventories get the same targets', () => {
    const r = compilePlan(
      input({
        profiles: [profile('team-a', 'p'), profile('team-b', 'p')],
        targets: [
          target('team-a', 't1', { profileRef: 'p' }),
          target('team-a', 't2', { profileRef: 'p' }),
          target('team-b', 'other', { profileRef: 'p' }),
        ],
        inventories: [inventory('team-a', 'inv1'), inventory('team-a', 'inv2')],
      }),
    );
    for (const inv of r.plan.inventories)
      expect(inv.targets).toEqual(['KollectTarget/team-a/t1', 'KollectTarget/team-a/t2']);
    const t1 = r.plan.targets.find((t) => t.name === 't1')!;
    expect(t1.feeds.map((f) => f.inventory.name)).toEqual(['inv1', 'inv2']);
    expect(r.plan.targets.find((t) => t.name === 'other')!.feeds).toEqual([]);
  });

  it('a watch takes the union of namespaces every target of the GVR needs', () => {
    const r = compilePlan(
      input({
        profiles: [profile('team-a', 'p'), profile('team-b', 'p')],
        targets: [
          target('team-a', 't', { profileRef: 'p', includedNamespaces: ['team-a'] }),
          target('team-b', 't', { profileRef: 'p', includedNamespaces: ['team-b'] }),
        ],
      }),
    );
    expect(r.plan.watches).toHaveLength(1);
    expect(r.plan.watches[0]!.namespaces).toEqual(['team-a', 'team-b']);
  });

  it('cluster-scoped kinds are watched cluster-wide whatever the target namespaces', () => {
    const r = compilePlan(
      input({
        profiles: [profile('team-a', 'nsp', NAMESPACE_KIND)],
        targets: [target('team-a', 't', { profileRef: 'nsp', includedNamespaces: ['team-a'] })],
      }),
    );
    expect(r.plan.watches[0]).toMatchObject({ namespaced: false, namespaces: null });
    // The extractor's gate treats cluster-scoped objects as namespace "default" (SEED-SPEC §4.5).
    expect(r.plan.targets[0]!.namespaces).toEqual(['team-a']);
  });

  it('resource rules compile with their own GVR, resolved namespace selector and CEL policy', () => {
    const r = compilePlan(
      input({
        profiles: [profile('team-a', 'p')],
        targets: [
          target('team-a', 't', {
            profileRef: 'p',
            resourceRules: [
              {
                gvk: { group: 'apps', version: 'v1', kind: 'Deployment' },
                namespaceSelector: { matchLabels: { team: 'b' } },
                matchLabels: { app: 'web' },
                matchPolicy: 'object.spec.replicas > 1',
              },
              { gvk: { version: 'v1', kind: 'Service' } },
            ],
          }),
        ],
      }),
    );
    const t = r.plan.targets[0]!;
    expect(t.rules).toEqual([
      {
        gvr: { group: 'apps', version: 'v1', resource: 'deployments' },
        gvk: DEPLOYMENT,
        namespaces: ['team-b'],
        labelSelector: { matchLabels: { app: 'web' } },
        matchPolicy: 'object.spec.replicas > 1',
      },
      { gvr: { group: '', version: 'v1', resource: 'services' }, gvk: SERVICE, namespaces: null },
    ]);
    expect(t.labelSelector).toBeUndefined();
    // Watches are ordered by GVR string ("/v1/services" sorts before "apps/v1/deployments").
    expect(r.plan.watches.map((w) => [w.gvr.resource, w.namespaces])).toEqual([
      ['services', null],
      ['deployments', ['team-b']],
    ]);
    expect(statusOf(r, 'KollectTarget', 'team-a', 't').fields['activeResourceRules']).toBe(2);
  });
});

describe('compilePlan — namespace intent and effective set (SEED-SPEC §4.5 step 2)', () => {
  const cases: {
    name: string;
    spec: Record<string, unknown>;
    settings?: Partial<typeof SETTINGS>;
    scope?: Record<string, unknown>;
    matched: string[];
    effective: string[] | null;
  }[] = [
    {
      name: 'selector picks labelled namespaces',
      spec: { namespaceSelector: { matchLabels: { tier: 'app' } } },
      matched: ['team-a', 'team-b', 'team-c'],
      effective: ['team-a', 'team-b', 'team-c'],
    },
    {
      name: 'includedNamespaces is ANDed with the selector',
      spec: {
        namespaceSelector: { matchLabels: { tier: 'app' } },
        includedNamespaces: ['team-a', 'kube-system'],
      },
      matched: ['team-a'],
      effective: ['team-a'],
    },
    {
      name: 'excludedNamespaces and namespaceExcludeSelector remove namespaces',
      spec: { excludedNamespaces: ['team-a'], namespaceExcludeSelector: { matchLabels: { tier: 'system' } } },
      matched: ['team-b', 'team-c'],
      effective: ['team-b', 'team-c'],
    },
    {
      name: 'matchExpressions NotIn matches namespaces without the key',
      spec: {
        namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['a', 'b'] }] },
      },
      matched: ['kollect-system', 'kube-system', 'team-c'],
      effective: ['kollect-system', 'kube-system', 'team-c'],
    },
    {
      name: 'Helm defaultIncludedNamespaces apply when the target lists none',
      spec: {},
      settings: { defaultIncludedNamespaces: ['team-b'] },
      matched: ['team-b'],
      effective: ['team-b'],
    },
    {
      name: 'the target list wins over Helm defaultIncludedNamespaces',
      spec: { includedNamespaces: ['team-a'] },
      settings: { defaultIncludedNamespaces: ['team-b'] },
      matched: ['team-a'],
      effective: ['team-a'],
    },
    {
      name: 'Helm defaultExcludedNamespaces are always excluded',
      spec: {},
      settings: { defaultExcludedNamespaces: ['kube-system', 'kollect-system'] },
      matched: ['team-a', 'team-b', 'team-c'],
      effective: ['team-a', 'team-b', 'team-c'],
    },
    {
      name: 'a selector that matches nothing collects nothing (fix: orig collected everything)',
      spec: { namespaceSelector: { matchLabels: { team: 'nobody' } } },
      matched: [],
      effective: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = compilePlan(
        input(
          {
            profiles: [profile('team-a', 'p')],
            targets: [target('team-a', 't', { profileRef: 'p', ...c.spec })],
          },
          { settings: { ...SETTINGS, ...c.settings } },
        ),
      );
      const s = statusOf(r, 'KollectTarget', 'team-a', 't');
      expect(s.fields['matchedNamespaces']).toEqual(c.matched);
      expect(r.plan.targets[0]!.namespaces).toEqual(c.effective);
    });
  }

  it('the operator boundary (--watch-namespaces) confines every target and every watch', () => {
    const r = compilePlan(
      input(
        { profiles: [profile('team-a', 'p')], targets: [target('team-a', 't', { profileRef: 'p' })] },
        { settings: { ...SETTINGS, watchNamespaces: ['team-a', 'team-x'] } },
      ),
    );
    expect(r.plan.targets[0]!.namespaces).toEqual(['team-a', 'team-x']);
    expect(r.plan.watches[0]!.namespaces).toEqual(['team-a', 'team-x']);
  });

  it('the scope ceiling intersects the intent with allowedNamespaces (effective) when the intent lies inside it', () => {
    const r = compilePlan(
      input({
        profiles: [profile('team-a', 'p')],
        scopes: [scope('team-a', 'ceiling', { allowedNamespaces: ['team-a', 'team-b'] })],
        targets: [target('team-a', 't', { profileRef: 'p', includedNamespaces: ['team-a'] })],
      }),
    );
    expect(r.plan.targets[0]!.namespaces).toEqual(['team-a']);
  });
});

describe('compilePlan — interval and size precedence (SEED-SPEC §6.2, §15.9)', () => {
  const cases: {
    name: string;
    ref?: string;
    sink?: string;
    inv?: string;
    floor?: string;
    expectMs: number;
  }[] = [
    { name: 'inventory default is 30s', expectMs: 30_000 },
    { name: 'inventory value when no override', inv: '5m', expectMs: 300_000 },
    { name: 'sink beats inventory', sink: '2m', inv: '5m', expectMs: 120_000 },
    { name: 'ref beats sink and inventory', ref: '10s', sink: '2m', inv: '5m', expectMs: 10_000 },
    { name: '0s on the ref means only on change', ref: '0s', inv: '5m', expectMs: 0 },
    { name: 'the scope floor clamps up', ref: '10s', floor: '1m', expectMs: 60_000 },
    { name: 'the scope floor also replaces 0', ref: '0s', floor: '1m', expectMs: 60_000 },
    { name: 'values above the floor stay', ref: '1h', floor: '1m', expectMs: 3_600_000 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = compilePlan(
        input({
          databaseSinks: [postgresSink('team-a', 'db', c.sink ? { exportMinInterval: c.sink } : {})],
          scopes: c.floor ? [scope('team-a', 's', { minExportInterval: c.floor })] : [],
          inventories: [
            inventory('team-a', 'inv', {
              ...(c.inv ? { exportMinInterval: c.inv } : {}),
              databaseSinkRefs: [c.ref ? { name: 'db', exportMinInterval: c.ref } : 'db'],
            }),
          ],
        }),
      );
      expect(r.plan.inventories[0]!.bindings[0]!.exportMinIntervalMs).toBe(c.expectMs);
    });
  }

  it('maxExportBytes: the ref replaces the inventory value (even when larger); no ref → inventory → global cap', () => {
    const r = compilePlan(
      input({
        databaseSinks: [postgresSink('team-a', 'a'), postgresSink('team-a', 'b')],
        snapshotSinks: [gitSink('team-a', 'c')],
        inventories: [
          inventory('team-a', 'inv', {
            maxExportBytes: 100_000,
            databaseSinkRefs: [{ name: 'a', maxExportBytes: 500_000 }, 'b'],
          }),
          inventory('team-a', 'capped', { snapshotSinkRefs: ['c'] }),
        ],
      }),
    );
    const m = Object.fromEntries(
      r.plan.inventories.flatMap((i) => i.bindings.map((b) => [b.sink.name, b.maxExportBytes])),
    );
    expect(m).toEqual({ a: 500_000, b: 100_000, c: 1_572_864 });
  });

  it('a ref above the global cap is invalid (admission re-run at reconcile) and holds the inventory', () => {
    const r = compilePlan(
      input({
        databaseSinks: [postgresSink('team-a', 'a')],
        inventories: [
          inventory('team-a', 'inv', { databaseSinkRefs: [{ name: 'a', maxExportBytes: 9_999_999 }] }),
        ],
      }),
    );
    expect(r.plan.inventories[0]!.hold?.reason).toBe('InvalidSpec');
    expect(cond(statusOf(r, 'KollectInventory', 'team-a', 'inv'), 'Degraded')?.message).toContain(
      'databaseSinkRefs[0].maxExportBytes',
    );
  });

  it('a cluster inventory has no spec-level maxExportBytes: refs get the global cap unless they override', () => {
    const r = compilePlan(
      input({
        databaseSinks: [postgresSink('kollect-system', 'a'), postgresSink('kollect-system', 'b')],
        clusterInventories: [
          clusterInventory('fleet', { databaseSinkRefs: [{ name: 'a', maxExportBytes: 1000 }, 'b'] }),
        ],
      }),
    );
    const m = Object.fromEntries(r.plan.inventories[0]!.bindings.map((b) => [b.sink.name, b.maxExportBytes]));
    expect(m).toEqual({ a: 1000, b: 1_572_864 });
  });
});

describe('compilePlan — KollectScope enforcement (SEED-SPEC §7.2, §15.8)', () => {
  const base = () => ({
    profiles: [profile('team-a', 'p')],
    targets: [target('team-a', 't', { profileRef: 'p', includedNamespaces: ['team-a'] })],
  });

  const cases: { name: string; scopes: ReturnType<typeof scope>[]; reason?: string }[] = [
    {
      name: 'a scope with only empty lists restricts nothing',
      scopes: [scope('team-a', 's', { allowedGVKs: [], allowedNamespaces: [], deniedNamespaces: [] })],
    },
    {
      name: 'an allowed GVK matches case-insensitively',
      scopes: [scope('team-a', 's', { allowedGVKs: [{ group: 'APPS', version: 'V1', kind: 'deployment' }] })],
    },
    {
      name: 'a GVK outside allowedGVKs is denied',
      scopes: [scope('team-a', 's', { allowedGVKs: [{ version: 'v1', kind: 'Service' }] })],
      reason: 'ScopeGVKDenied',
    },
    {
      name: 'an intent namespace in deniedNamespaces is denied',
      scopes: [scope('team-a', 's', { deniedNamespaces: ['team-a'] })],
      reason: 'ScopeNamespaceDenied',
    },
    {
      name: 'an intent namespace outside allowedNamespaces is denied',
      scopes: [scope('team-a', 's', { allowedNamespaces: ['team-b'] })],
      reason: 'ScopeNamespaceDenied',
    },
    {
      name: 'the smallest scope name wins (a permissive "a" beats a denying "b")',
      scopes: [
        scope('team-a', 'b-strict', { allowedGVKs: [{ version: 'v1', kind: 'Service' }] }),
        scope('team-a', 'a-open', {}),
      ],
    },
    {
      name: 'the smallest scope name wins (a denying "a" beats a permissive "b")',
      scopes: [
        scope('team-a', 'b-open', {}),
        scope('team-a', 'a-strict', { allowedGVKs: [{ version: 'v1', kind: 'Service' }] }),
      ],
      reason: 'ScopeGVKDenied',
    },
    {
      name: 'a scope in another namespace does not apply',
      scopes: [scope('team-b', 's', { allowedGVKs: [{ version: 'v1', kind: 'Service' }] })],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = compilePlan(input({ ...base(), scopes: c.scopes }));
      const s = statusOf(r, 'KollectTarget', 'team-a', 't');
      if (c.reason) {
        expect(r.plan.targets).toEqual([]);
        expect(r.plan.watches).toEqual([]);
        expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason: c.reason });
        // When Degraded is set, Ready and Synced are removed (not False).
        expect(cond(s, 'Ready')).toBeUndefined();
        expect(cond(s, 'Synced')).toBeUndefined();
      } else {
        expect(r.plan.targets.map((t) => t.name)).toEqual(['t']);
        expect(cond(s, 'Ready')).toMatchObject({ status: 'True', reason: 'Collecting' });
      }
    });
  }

  it('a nil-selector target under a ceiling with deniedNamespaces is denied (intent = every namespace)', () => {
    const r = compilePlan(
      input({
        profiles: [profile('team-a', 'p')],
        targets: [target('team-a', 't', { profileRef: 'p' })],
        scopes: [scope('team-a', 's', { deniedNamespaces: ['kube-system'] })],
      }),
    );
    expect(cond(statusOf(r, 'KollectTarget', 'team-a', 't'), 'Degraded')?.reason).toBe(
      'ScopeNamespaceDenied',
    );
    expect(r.plan.targets).toEqual([]);
  });

  it('an intent that matches nothing is checked as the target namespace itself', () => {
    const objects = (allowed: string[]) => ({
      profiles: [profile('team-a', 'p')],
      targets: [
        target('team-a', 't', { profileRef: 'p', namespaceSelector: { matchLabels: { team: 'nobody' } } }),
      ],
      scopes: [scope('team-a', 's', { allowedNamespaces: allowed })],
    });
    expect(
      cond(statusOf(compilePlan(input(objects(['team-b']))), 'KollectTarget', 'team-a', 't'), 'Degraded')
        ?.reason,
    ).toBe('ScopeNamespaceDenied');
    expect(
      cond(statusOf(compilePlan(input(objects(['team-a']))), 'KollectTarget', 'team-a', 't'), 'Degraded'),
    ).toBeUndefined();
  });

  it('with resource rules, the rule GVKs are checked against allowedGVKs', () => {
    const r = compilePlan(
      input({
        profiles: [profile('team-a', 'p')],
        targets: [
          target('team-a', 't', {
            profileRef: 'p',
            includedNamespaces: ['team-a'],
            resourceRules: [{ gvk: { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress' } }],
          }),
        ],
        scopes: [
          scope('team-a', 's', { allowedGVKs: [{ group: 'apps', version: 'v1', kind: 'Deployment' }] }),
        ],
      }),
    );
    expect(cond(statusOf(r, 'KollectTarget', 'team-a', 't'), 'Degraded')).toMatchObject({
      reason: 'ScopeGVKDenied',
    });
  });

  it('a sink ref outside a non-empty family allow-list holds the inventory with ScopeSinkDenied', () => {
    const r = compilePlan(
      input({
        databaseSinks: [postgresSink('team-a', 'db')],
        snapshotSinks: [gitSink('team-a', 'git')],
        scopes: [scope('team-a', 's', { databaseSinkRefs: ['other-db'] })],
        inventories: [inventory('team-a', 'inv', { databaseSinkRefs: ['db'], snapshotSinkRefs: ['git'] })],
      }),
    );
    const inv = r.plan.inventories[0]!;
    expect(inv.hold?.reason).toBe('ScopeSinkDenied');
    // The denied binding is not in the plan at all; the allowed one stays (the hold stops exports).
    expect(inv.bindings.map((b) => b.sink.name)).toEqual(['git']);
    const s = statusOf(r, 'KollectInventory', 'team-a', 'inv');
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'ScopeSinkDenied' });
    expect(cond(s, 'Degraded')?.message).toContain(
      'database sink ref "db" is not in KollectScope "s" databaseSinkRefs',
    );
    expect(cond(s, 'Ready')).toBeUndefined();
  });

  it('an empty family allow-list allows every sink of that family', () => {
    const r = compilePlan(
      input({
        databaseSinks: [postgresSink('team-a', 'db')],
        scopes: [scope('team-a', 's', { snapshotSinkRefs: ['only-git'] })],
        inventories: [inventory('team-a', 'inv', { databaseSinkRefs: ['db'] })],
      }),
    );
    expect(r.plan.inventories[0]!.hold).toBeUndefined();
  });

  it('the cluster scope limits profile namespaces of cluster targets (ProfileForbidden)', () => {
    const r = compilePlan(
      input({
        profiles: [profile('team-a', 'p')],
        clusterTargets: [clusterTarget('ct', { profileRef: { name: 'p', namespace: 'team-a' } })],
        clusterScopes: [clusterScope('platform', { allowedStaticRefNamespaces: ['kollect-system'] })],
      }),
    );
    expect(r.plan.targets).toEqual([]);
    expect(cond(statusOf(r, 'KollectClusterTarget', '', 'ct'), 'Degraded')).toMatchObject({
      reason: 'ProfileForbidden',
    });
  });

  it('the cluster scope limits sink namespaces of cluster inventories (ScopeSinkDenied)', () => {
    const r = compilePlan(
      input({
        databaseSinks: [postgresSink('team-a', 'db')],
        clusterInventories: [
          clusterInventory('fleet', { databaseSinkRefs: [{ name: 'db', namespace: 'team-a' }] }),
        ],
        clusterScopes: [clusterScope('platform', { allowedStaticRefNamespaces: ['kollect-system'] })],
      }),
    );
    expect(r.plan.inventories[0]!.hold?.reason).toBe('ScopeSinkDenied');
  });

  it('the cluster scope floor applies to cluster inventories', () => {
    const r = compilePlan(
      input({
        databaseSinks: [postgresSink('kollect-system', 'db')],
        clusterInventories: [
          clusterInventory('fleet', { exportMinInterval: '0s', databaseSinkRefs: ['db'] }),
        ],
        clusterScopes: [clusterScope('platform', { minExportInterval: '2m' })],
      }),
    );
    expect(r.plan.inventories[0]!.bindings[0]!.exportMinIntervalMs).toBe(120_000);
    expect(r.plan.inventories[0]!.exportMinIntervalMs).toBe(120_000);
  });
});

describe('compilePlan — references, suspend, discovery (SEED-SPEC §3.4, §3.6, §9.4)', () => {
  it('a suspended target is not in the plan and reports Degraded Suspended', () => {
    const r = compilePlan(
      input({
        profiles: [profile('team-a', 'p')],
        targets: [target('team-a', 't', { profileRef: 'p', suspend: true })],
        inventories: [inventory('team-a', 'inv')],
      }),
    );
    expect(r.plan.targets).toEqual([]);
    expect(r.plan.inventories[0]!.targets).toEqual([]);
    expect(cond(statusOf(r, 'KollectTarget', 'team-a', 't'), 'Degraded')).toMatchObject({
      reason: 'Suspended',
    });
  });

  it('a suspended inventory stays in the plan with a hold, keeping its targets', () => {
    const r = compilePlan(
      input({
        profiles: [profile('team-a', 'p')],
        targets: [target('team-a', 't', { profileRef: 'p' })],
        inventories: [inventory('team-a', 'inv', { suspend: true })],
      }),
    );
    expect(r.plan.inventories[0]!.hold).toMatchObject({ reason: 'Suspended' });
    expect(r.plan.inventories[0]!.targets).toEqual(['KollectTarget/team-a/t']);
    expect(types(statusOf(r, 'KollectInventory', 'team-a', 'inv'))).toEqual(['Degraded', 'SinkReachable']);
  });

  it('a profile in another namespace is not found (profileRef resolves in the target namespace)', () => {
    const r = compilePlan(
      input({ profiles: [profile('team-b', 'p')], targets: [target('team-a', 't', { profileRef: 'p' })] }),
    );
    expect(r.plan.targets).toEqual([]);
    expect(cond(statusOf(r, 'KollectTarget', 'team-a', 't'), 'Degraded')).toMatchObject({
      reason: 'ProfileNotFound',
    });
  });

  it('a profile whose GVK is not served degrades the target (InformerRegistrationFailed) and stays out of the plan', () => {
    const r = compilePlan(
      input({
        profiles: [profile('team-a', 'p', { group: 'example.com', version: 'v1', kind: 'Widget' })],
        targets: [target('team-a', 't', { profileRef: 'p' })],
      }),
    );
    expect(r.plan.targets).toEqual([]);
    expect(r.plan.profiles).toEqual({});
    expect(cond(statusOf(r, 'KollectTarget', 'team-a', 't'), 'Degraded')).toMatchObject({
      reason: 'InformerRegistrationFailed',
    });
    expect(cond(statusOf(r, 'KollectProfile', 'team-a', 'p'), 'Degraded')).toMatchObject({
      reason: 'InformerRegistrationFailed',
    });
  });

  it('a missing sink holds the inventory with SinkNotFound; sink refs resolve per family in the inventory namespace', () => {
    const r = compilePlan(
      input({
        snapshotSinks: [gitSink('team-a', 'shared-name')],
        databaseSinks: [postgresSink('team-b', 'db')],
        inventories: [inventory('team-a', 'inv', { databaseSinkRefs: ['shared-name', 'db'] })],
      }),
    );
    expect(r.plan.inventories[0]!.hold?.reason).toBe('SinkNotFound');
    expect(cond(statusOf(r, 'KollectInventory', 'team-a', 'inv'), 'Degraded')?.message).toContain(
      'KollectDatabaseSink "shared-name" not found in namespace "team-a"',
    );
  });

  it('cluster inventory refs resolve in `namespace`, else `sinkNamespace`, else kollect-system', () => {
    const r = compilePlan(
      input({
        databaseSinks: [
          postgresSink('kollect-system', 'a'),
          postgresSink('platform', 'b'),
          postgresSink('team-b', 'c'),
        ],
        clusterInventories: [
          clusterInventory('x', { databaseSinkRefs: ['a'] }),
          clusterInventory('y', {
            sinkNamespace: 'platform',
            databaseSinkRefs: ['b', { name: 'c', namespace: 'team-b' }],
          }),
        ],
      }),
    );
    const refs = (name: string) =>
      r.plan.inventories
        .find((i) => i.ref.name === name)!
        .bindings.map((b) => `${b.sink.namespace}/${b.sink.name}`);
    expect(refs('x')).toEqual(['kollect-system/a']);
    expect(refs('y')).toEqual(['platform/b', 'team-b/c']);
  });

  it('an invalid object (schema/admission re-run because webhooks may be off) degrades with InvalidSpec', () => {
    const validator: ObjectValidator = (kind, obj) =>
      kind === 'KollectTarget' && (obj.metadata.name ?? '') === 'bad'
        ? { ok: false, errors: ['spec.resourceRules[0].matchPolicy: does not compile'] }
        : { ok: true, errors: [], value: obj };
    const r = compilePlan(
      input({
        profiles: [profile('team-a', 'p')],
        targets: [
          target('team-a', 'bad', { profileRef: 'p' }),
          target('team-a', 'good', { profileRef: 'p' }),
        ],
      }),
      { validator },
    );
    expect(r.plan.targets.map((t) => t.name)).toEqual(['good']);
    expect(cond(statusOf(r, 'KollectTarget', 'team-a', 'bad'), 'Degraded')).toMatchObject({
      reason: 'InvalidSpec',
      message: 'invalid spec: spec.resourceRules[0].matchPolicy: does not compile',
    });
  });

  it('an invalid profile degrades its targets with ProfileInvalid', () => {
    const validator: ObjectValidator = (kind, obj) =>
      kind === 'KollectProfile'
        ? { ok: false, errors: ['spec.attributes[0].path: object.x needs the cel: prefix'] }
        : { ok: true, errors: [], value: obj };
    const r = compilePlan(
      input({ profiles: [profile('team-a', 'p')], targets: [target('team-a', 't', { profileRef: 'p' })] }),
      { validator },
    );
    expect(cond(statusOf(r, 'KollectTarget', 'team-a', 't'), 'Degraded')).toMatchObject({
      reason: 'ProfileInvalid',
    });
    expect(cond(statusOf(r, 'KollectProfile', 'team-a', 'p'), 'Degraded')).toMatchObject({
      reason: 'InvalidSpec',
    });
  });

  it('the crd-types admission rules run at reconcile: a bare object.… path makes the profile invalid (SEED-SPEC §15.15)', () => {
    const r = compilePlan(
      input({
        profiles: [
          profile('team-a', 'p', DEPLOYMENT, {
            attributes: [{ name: 'replicas', path: 'object.spec.replicas' }],
          }),
        ],
        targets: [target('team-a', 't', { profileRef: 'p' })],
      }),
    );
    expect(r.plan.targets).toEqual([]);
    const s = statusOf(r, 'KollectTarget', 'team-a', 't');
    expect(cond(s, 'Degraded')).toMatchObject({ reason: 'ProfileInvalid' });
    expect(cond(s, 'Degraded')?.message).toContain('spec.attributes[0].path');
  });

  it('the SSRF guard rejects a loopback sink endpoint unless private endpoints are allowed (test beds)', () => {
    const objects = {
      snapshotSinks: [gitSink('team-a', 'git', { endpoint: 'http://127.0.0.1:9418/repo.git' })],
      inventories: [inventory('team-a', 'inv', { snapshotSinkRefs: ['git'] })],
    };
    expect(compilePlan(input(objects)).plan.inventories[0]!.hold?.reason).toBe('SinkInvalid');
    const allowed = compilePlan(input(objects, { settings: { ...SETTINGS, allowPrivateEndpoints: true } }));
    expect(allowed.plan.inventories[0]!.hold).toBeUndefined();
    expect(allowed.plan.sinks[0]!.spec['endpoint']).toBe('http://127.0.0.1:9418/repo.git');
  });

  it('tenant mode rejects cluster kinds at runtime', () => {
    const r = compilePlan(
      input(
        {
          profiles: [profile('team-a', 'p')],
          clusterTargets: [clusterTarget('ct', { profileRef: { name: 'p', namespace: 'team-a' } })],
          clusterInventories: [clusterInventory('fleet')],
        },
        { settings: { ...SETTINGS, tenantMode: true } },
      ),
    );
    expect(r.plan.targets).toEqual([]);
    expect(r.plan.inventories[0]!.hold?.reason).toBe('TenantModeForbidden');
    expect(cond(statusOf(r, 'KollectClusterTarget', '', 'ct'), 'Degraded')?.reason).toBe(
      'TenantModeForbidden',
    );
  });
});

describe('compilePlan — cluster targets and cluster inventories (SEED-SPEC §3.5, §3.7, §6.3)', () => {
  const profiles = [profile('kollect-system', 'p')];
  const ref = { name: 'p', namespace: 'kollect-system' };

  it('a cluster target collects in the namespaces its selector picks and feeds only cluster inventories that select it', () => {
    const r = compilePlan(
      input({
        profiles,
        clusterTargets: [
          clusterTarget('apps', { profileRef: ref }, { labels: { fleet: 'yes' } }),
          clusterTarget('other', { profileRef: ref }),
        ],
        clusterInventories: [
          clusterInventory('by-ref', { targetRefs: ['apps'] }),
          clusterInventory('by-selector', { targetSelector: { matchLabels: { fleet: 'yes' } } }),
          clusterInventory('all'),
          clusterInventory('narrow', { namespaces: ['team-b', 'kube-system'] }),
        ],
        inventories: [inventory('team-a', 'local')],
      }),
    );
    const apps = r.plan.targets.find((t) => t.name === 'apps')!;
    expect(apps).toMatchObject({
      kind: 'KollectClusterTarget',
      namespace: '',
      namespaces: ['team-a', 'team-b', 'team-c'],
    });
    expect(apps.feeds.map((f) => [f.inventory.name, f.namespaces])).toEqual([
      ['all', ['team-a', 'team-b', 'team-c']],
      ['by-ref', ['team-a', 'team-b', 'team-c']],
      ['by-selector', ['team-a', 'team-b', 'team-c']],
      ['narrow', ['team-b']],
    ]);
    // rec (SEED-SPEC §6.3): cluster rows never leak into a namespaced inventory.
    expect(r.plan.inventories.find((i) => i.ref.name === 'local')!.targets).toEqual([]);
    const byRef = r.plan.inventories.find((i) => i.ref.name === 'by-ref')!;
    expect(byRef.targets).toEqual([targetKey({ kind: 'KollectClusterTarget', namespace: '', name: 'apps' })]);
    expect(statusOf(r, 'KollectClusterInventory', '', 'all').fields['targetCount']).toBe(2);
  });

  it('targets whose namespaces do not intersect the inventory namespaces are left out', () => {
    const r = compilePlan(
      input({
        profiles,
        clusterTargets: [clusterTarget('ct', { profileRef: ref, includedNamespaces: ['team-a'] })],
        clusterInventories: [
          clusterInventory('inv', { namespaces: ['team-b'] }, { creationTimestamp: '2026-02-01T11:59:00Z' }),
        ],
      }),
    );
    expect(r.plan.inventories[0]!.targets).toEqual([]);
    const s = statusOf(r, 'KollectClusterInventory', '', 'inv');
    expect(cond(s, 'Synced')).toMatchObject({ status: 'False', reason: 'Progressing' });
    expect(cond(s, 'Degraded')).toBeUndefined();
  });

  it('NoTargets degrades only after the 5 minute bootstrap window', () => {
    const young = compilePlan(
      input({
        clusterInventories: [
          clusterInventory(
            'inv',
            {},
            { creationTimestamp: new Date(NOW.getTime() - 4 * 60_000).toISOString() },
          ),
        ],
      }),
    );
    const old = compilePlan(
      input({
        clusterInventories: [
          clusterInventory(
            'inv',
            {},
            { creationTimestamp: new Date(NOW.getTime() - 6 * 60_000).toISOString() },
          ),
        ],
      }),
    );
    expect(cond(statusOf(young, 'KollectClusterInventory', '', 'inv'), 'Degraded')).toBeUndefined();
    expect(cond(statusOf(old, 'KollectClusterInventory', '', 'inv'), 'Degraded')).toMatchObject({
      reason: 'NoTargets',
    });
    expect(old.plan.inventories[0]!.hold).toBeUndefined();
  });

  it('a selected cluster target that is not collecting degrades the inventory with TargetDegraded', () => {
    const r = compilePlan(
      input({
        profiles,
        clusterTargets: [
          clusterTarget('broken', { profileRef: { name: 'missing', namespace: 'kollect-system' } }),
        ],
        clusterInventories: [clusterInventory('inv')],
      }),
    );
    expect(cond(statusOf(r, 'KollectClusterInventory', '', 'inv'), 'Degraded')).toMatchObject({
      reason: 'TargetDegraded',
    });
  });

  it('dedupe is carried from the spec (default keepAll)', () => {
    const r = compilePlan(
      input({
        clusterInventories: [clusterInventory('a'), clusterInventory('b', { dedupe: 'byResourceUID' })],
      }),
    );
    expect(r.plan.inventories.map((i) => i.dedupe)).toEqual(['keepAll', 'byResourceUID']);
  });
});

describe('compilePlan — plan identity, deletion and watch labels', () => {
  const objects = () => ({
    profiles: [profile('team-a', 'p')],
    targets: [target('team-a', 't', { profileRef: 'p' })],
    inventories: [inventory('team-a', 'inv')],
  });

  it('generation starts at 1, stays when nothing changed, and increases on a change', () => {
    const o = objects();
    const first = compilePlan(input(o));
    expect(first.plan.generation).toBe(1);
    expect(first.changed).toBe(true);
    const again = compilePlan(input(o, { previous: first.plan, now: new Date(NOW.getTime() + 60_000) }));
    expect(again.changed).toBe(false);
    expect(again.plan).toEqual(first.plan);
    // Also across a JSON round trip (the previous plan comes from KV).
    const fromKv = JSON.parse(JSON.stringify(first.plan));
    expect(compilePlan(input(o, { previous: fromKv })).changed).toBe(false);
    const changed = compilePlan(
      input(
        { ...o, inventories: [inventory('team-a', 'inv', { exportMinInterval: '1m' })] },
        { previous: first.plan },
      ),
    );
    expect(changed.changed).toBe(true);
    expect(changed.plan.generation).toBe(2);
  });

  it('the profile hash changes with extraction-relevant content only', () => {
    const hash = (p: ReturnType<typeof profile>, scrubKeys: string[] = []) =>
      compilePlan(
        input(
          { profiles: [p], targets: [target('team-a', 't', { profileRef: 'p' })] },
          { settings: { ...SETTINGS, scrubKeys } },
        ),
      ).plan.profiles['team-a/p']!.hash;
    const h0 = hash(profile('team-a', 'p'));
    expect(hash(profile('team-a', 'p', DEPLOYMENT, {}, { generation: 7 }))).toBe(h0);
    expect(hash(profile('team-a', 'p', DEPLOYMENT, { metrics: [{ name: 'm', path: 'image' }] }))).toBe(h0);
    expect(
      hash(
        profile('team-a', 'p', DEPLOYMENT, {
          attributes: [{ name: 'image', path: '$.spec.template.spec.containers[1].image' }],
        }),
      ),
    ).not.toBe(h0);
    expect(hash(profile('team-a', 'p'), ['myKey'])).not.toBe(h0);
  });

  it('an inventory being deleted (with its finalizer) stays as `deleting` with relational bindings only', () => {
    const r = compilePlan(
      input({
        ...objects(),
        databaseSinks: [postgresSink('team-a', 'db')],
        snapshotSinks: [gitSink('team-a', 'git')],
        inventories: [
          inventory(
            'team-a',
            'inv',
            { databaseSinkRefs: ['db'], snapshotSinkRefs: ['git'] },
            { deletionTimestamp: '2026-02-01T11:00:00Z', finalizers: ['kollect.dev/inventory-cleanup'] },
          ),
          inventory('team-a', 'gone', {}, { deletionTimestamp: '2026-02-01T11:00:00Z' }),
        ],
      }),
    );
    expect(r.plan.inventories).toHaveLength(1);
    const inv = r.plan.inventories[0]!;
    expect(inv).toMatchObject({ deleting: true, targets: [], gvrs: [] });
    expect(inv.hold).toBeUndefined();
    expect(inv.bindings.map((b) => b.sink.family)).toEqual(['database']);
    expect(r.plan.targets[0]!.feeds).toEqual([]);
  });

  it('a target being deleted leaves the plan at once', () => {
    const r = compilePlan(
      input({
        ...objects(),
        targets: [
          target(
            'team-a',
            't',
            { profileRef: 'p' },
            { deletionTimestamp: '2026-02-01T11:00:00Z', finalizers: ['kollect.dev/target-cleanup'] },
          ),
        ],
      }),
    );
    expect(r.plan.targets).toEqual([]);
    expect(r.plan.inventories[0]!.targets).toEqual([]);
  });

  it('namespace watch state comes from the kollect.dev/watch label or the namespace-watch annotation; disabled wins', () => {
    const r = compilePlan(
      input(
        {},
        {
          namespaces: [
            ns('a', { 'kollect.dev/watch': 'enabled' }),
            ns('b', {}, { 'kollect.dev/namespace-watch': 'disabled' }),
            ns('c', { 'kollect.dev/watch': 'enabled' }, { 'kollect.dev/namespace-watch': 'disabled' }),
            ns('d'),
          ],
        },
      ),
    );
    expect(r.plan.namespaceWatch).toEqual({ a: 'enabled', b: 'disabled', c: 'disabled' });
  });
});

describe('compilePlan — status details', () => {
  it('ExportShardWarning is only possible with a size-limited sink (event sink in snapshot mode)', () => {
    const r = compilePlan(
      input({
        eventSinks: [natsSink('team-a', 'changes', 'changes'), natsSink('team-a', 'snap', 'snapshot')],
        inventories: [
          inventory('team-a', 'rows', { eventSinkRefs: ['changes'] }),
          inventory('team-a', 'whole', { eventSinkRefs: ['snap'] }),
        ],
      }),
    );
    expect(r.inventoryBases.get('KollectInventory/team-a/rows')!.sizeLimited).toBe(false);
    expect(r.inventoryBases.get('KollectInventory/team-a/whole')!.sizeLimited).toBe(true);
  });

  it('a sink whose probe failed shows as SinkReachable=False/SinkUnreachable without holding the inventory', () => {
    const r = compilePlan(
      input({
        snapshotSinks: [
          gitSink(
            'team-a',
            'git',
            {},
            {
              conditions: [
                {
                  type: 'ConnectionVerified',
                  status: 'False',
                  reason: 'ConnectionTestFailed',
                  message: 'dial tcp: refused',
                  lastTransitionTime: '2026-01-01T00:00:00Z',
                },
              ],
            },
          ),
        ],
        inventories: [inventory('team-a', 'inv', { snapshotSinkRefs: ['git'] })],
      }),
    );
    expect(r.plan.inventories[0]!.hold).toBeUndefined();
    expect(cond(statusOf(r, 'KollectInventory', 'team-a', 'inv'), 'SinkReachable')).toMatchObject({
      status: 'False',
      reason: 'SinkUnreachable',
      message: 'snapshot/git: dial tcp: refused',
    });
  });

  it('targets report the sinks of their namespace in SinkReachable without being degraded by them', () => {
    const r = compilePlan(
      input({
        profiles: [profile('team-a', 'p')],
        targets: [target('team-a', 't', { profileRef: 'p' })],
        inventories: [inventory('team-a', 'inv', { databaseSinkRefs: ['nope'] })],
      }),
    );
    const s = statusOf(r, 'KollectTarget', 'team-a', 't');
    expect(cond(s, 'SinkReachable')).toMatchObject({ status: 'False', reason: 'SinkNotFound' });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'True' });
    expect(r.plan.targets).toHaveLength(1);
  });

  it('sinks with tls.insecureSkipVerify get TLSInsecure=True', () => {
    const r = compilePlan(
      input({ snapshotSinks: [gitSink('team-a', 'git', { tls: { insecureSkipVerify: true } })] }),
    );
    expect(cond(statusOf(r, 'KollectSnapshotSink', 'team-a', 'git'), 'TLSInsecure')).toMatchObject({
      status: 'True',
    });
  });
});

describe('an inventory without sink refs (SEED-SPEC §3.6)', () => {
  it('is Synced=True/NoExport, SinkReachable=True/NoSinksConfigured and Ready without Degraded, before and after the aggregator exports', async () => {
    const { inventoryStatusFrom } = await import('./runtime-status.js');
    const r = compilePlan(
      input({
        profiles: [profile('team-a', 'deployment-images')],
        targets: [target('team-a', 'web', { profileRef: 'deployment-images' })],
        inventories: [inventory('team-a', 'plain', {})],
      }),
    );
    const basis = r.inventoryBases.get('KollectInventory/team-a/plain')!;
    const ref = { kind: 'KollectInventory' as const, namespace: 'team-a', name: 'plain' };
    for (const aggregator of [
      undefined,
      {
        schemaVersion: 'kollect.dev/bus/v1' as const,
        cluster: SETTINGS.cluster,
        inventory: ref,
        planGeneration: r.plan.generation,
        itemCount: 7,
        exportGeneration: 3,
        checksum: 'ab'.repeat(32),
        gateOpen: true,
        at: NOW.toISOString(),
      },
    ]) {
      const s = inventoryStatusFrom(basis, new Map(), aggregator);
      expect(cond(s, 'Synced')).toMatchObject({ status: 'True', reason: 'NoExport' });
      expect(cond(s, 'SinkReachable')).toMatchObject({ status: 'True', reason: 'NoSinksConfigured' });
      expect(cond(s, 'Ready')?.status).toBe('True');
      expect(cond(s, 'Degraded')).toBeUndefined();
      expect(s.fields['sinkExports']).toEqual([]);
    }
  });
});

describe('memoizeValidator', () => {
  it('re-validates an object only when what validation reads changed (not on status writes)', async () => {
    const { memoizeValidator } = await import('./validation.js');
    let calls = 0;
    const v = memoizeValidator((_kind, obj) => {
      calls++;
      return { ok: true, errors: [], value: obj };
    });
    const ctx = { tenantMode: false, allowPrivateEndpoints: false, maxExportBytes: 1 };
    const t = target('team-a', 't', { profileRef: 'p' });
    v('KollectTarget', t, ctx);
    v('KollectTarget', { ...t, status: { observedGeneration: 1 } }, ctx);
    expect(calls).toBe(1);
    v('KollectTarget', { ...t, spec: { profileRef: 'q' }, metadata: { ...t.metadata, generation: 2 } }, ctx);
    expect(calls).toBe(2);
    v('KollectTarget', { ...t, metadata: { ...t.metadata, annotations: { a: 'b' } } }, ctx);
    expect(calls).toBe(3);
  });
});
