/**
 * Cluster kinds end to end (SEED-SPEC §3.5, §3.7, §6.3, §7.2): the controller out of tenant mode,
 * KollectClusterTargets over the suite's namespaces feeding KollectClusterInventories — rows per
 * workload namespace, `keepAll` against `byResourceUID` over two targets on the same objects,
 * `namespaces` ∩ `namespaceSelector`, namespace shards, a KollectClusterScope denial, and cluster
 * rows kept out of the namespaced inventories of the same namespaces. Expected rows come from the
 * oracle (plain TypeScript over the apiserver's objects).
 *
 * Sharing the apiserver: cluster-scoped objects are global, so every name here starts with the
 * suite's unique tag, and every selector includes a namespace label only this run's namespaces
 * carry. The controller still *sees* other cluster objects on the bed (the demo's, leftovers of
 * other runs) and writes their status while it runs; it never collects for them (their profiles
 * live outside its namespaces). Everything cluster-scoped this suite creates is deleted in afterAll.
 *
 *   npm run testbed -- up nats kube-apiserver
 *   eval "$(npm run -s testbed -- env)"
 *   npx vitest run --project e2e e2e/pipeline/cluster
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumItems, type InventoryRef, type Item } from '@kollect/contracts';
import type { Manifest } from '@kollect/stack';
import { hasTestbed } from '../support/testbed.js';
import {
  startWorld,
  testDeployment,
  teamInventory,
  uniqueTag,
  type Condition,
  type World,
} from './harness.js';
import {
  deploymentImages,
  selectNamespaces,
  stable,
  type ApiObject,
  type OracleProfile,
  type OracleTarget,
} from './oracle.js';
import { waitFor } from './support.js';

const run = hasTestbed('nats', 'kube-apiserver') ? describe : describe.skip;
const K = 'kollect.dev/v1alpha1';
/** Namespace labels only this run's namespaces carry (the value is the run's tag). */
const SUITE_LABEL = 'e2e.kollect.dev/cluster-suite';
const TIER_LABEL = 'e2e.kollect.dev/tier';

function containers(o: ApiObject): { image?: string }[] {
  return (
    (o.spec?.['template'] as { spec?: { containers?: { image?: string }[] } } | undefined)?.spec
      ?.containers ?? []
  );
}

/** `images: cel:…containers.map(c, c.image)` (a CEL list, also with one element), `team: cel:object.metadata.namespace`. */
const imagesProfile: OracleProfile = {
  name: 'ck-images',
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  attributes: (o) => ({ images: containers(o).map((c) => c.image), team: o.metadata.namespace }),
};

/** `replicas: cel:object.spec.replicas` (the apiserver defaults it to 1). */
const replicasProfile: OracleProfile = {
  name: 'ck-replicas',
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  attributes: (o) => ({ replicas: (o.spec?.['replicas'] as number | undefined) ?? 1 }),
};

/**
 * A name that sorts before every other KollectClusterScope (the smallest name wins cluster-wide,
 * SEED-SPEC §3.9): `0-` and a stamp that *decreases* with time, so a newer run also sorts before
 * a leftover of an older one.
 */
function firstScopeName(tag: string): string {
  const stamp = (36 ** 9 - Date.now()).toString(36).padStart(9, '0');
  return `0-${stamp}-${tag}`;
}

run('pipeline: cluster targets and cluster inventories (controller out of tenant mode)', () => {
  let w: World;
  let tag: string;
  let teamA: string;
  let teamB: string;
  let teamC: string;
  let scopeName: string;
  /** Every cluster-scoped object the suite created, for afterAll. */
  const created: { kind: string; name: string }[] = [];
  const names = {
    images: '',
    replicas: '',
    keep: '',
    uid: '',
    front: '',
    denied: '',
  };
  const clusterRef = (name: string): InventoryRef => ({
    kind: 'KollectClusterInventory',
    namespace: '',
    name,
  });
  const clusterTarget = (name: string, profile: { namespace: string; name: string }) => ({
    apiVersion: K,
    kind: 'KollectClusterTarget',
    metadata: { name },
    spec: { profileRef: profile, namespaceSelector: { matchLabels: { [SUITE_LABEL]: tag } } },
  });
  const clusterInventory = (name: string, spec: Record<string, unknown>) => ({
    apiVersion: K,
    kind: 'KollectClusterInventory',
    metadata: { name },
    spec: { namespaceSelector: { matchLabels: { [SUITE_LABEL]: tag } }, ...spec },
  });
  async function createCluster(m: Manifest): Promise<void> {
    created.push({ kind: m.kind, name: m.metadata.name });
    await w.applier.apply(m);
  }
  async function eventually<T>(
    what: string,
    fn: () => Promise<T | undefined>,
    timeoutMs = 60_000,
  ): Promise<T> {
    let v: T | undefined;
    if (await waitFor(async () => (v = await fn()) !== undefined, timeoutMs, 300)) return v as T;
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
  const condition = (kind: string, name: string, type: string): Promise<Condition | undefined> =>
    w.condition(kind, '', name, type);

  /** The oracle's view of a cluster target over the suite namespaces (effective namespaces from the labels). */
  async function oracleTarget(name: string, profile: OracleProfile): Promise<OracleTarget> {
    const metas = await w.namespaceMeta();
    return {
      kind: 'KollectClusterTarget',
      namespace: '',
      name,
      profile,
      namespaces: selectNamespaces(metas, { matchLabels: { [SUITE_LABEL]: tag } }),
    };
  }

  beforeAll(async () => {
    tag = uniqueTag('ck');
    for (const k of Object.keys(names) as (keyof typeof names)[]) names[k] = `${tag}-${k}`;
    scopeName = firstScopeName(tag);
    w = await startWorld({
      tag,
      noStack: true,
      tenantMode: false,
      scenario: { deploymentsPerTeam: 6, servicesPerTeam: 2, ingressesPerTeam: 1 },
    });
    [teamA, teamB, teamC] = w.ns.teams as [string, string, string];
    // The suite's own namespace labels: every selector below names SUITE_LABEL=<tag>. The opted-out
    // sandbox carries it too (its namespace label must keep it out of the cluster rows as well).
    const tiers: Record<string, string> = { [teamA]: 'front', [teamB]: 'front', [teamC]: 'back' };
    for (const ns of [teamA, teamB, teamC, w.ns.sandbox])
      await w.applier.mergePatch(
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
        { metadata: { labels: { [SUITE_LABEL]: tag, ...(tiers[ns] ? { [TIER_LABEL]: tiers[ns] } : {}) } } },
      );

    // The suite's KollectClusterScope, open (every list empty = no restriction, SEED-SPEC §3.9) and
    // named to sort first, so a leftover cluster scope on the shared bed (e.g. a sample restricting
    // allowedStaticRefNamespaces) cannot decide this suite's outcome. It restricts nothing, so
    // while it exists it only lifts other cluster scopes' limits for any non-tenant controller on
    // the bed (CI runs e2e files one at a time); the denial test narrows it for that test only.
    const existing = await w.applier.list<ApiObject>(K, 'KollectClusterScope');
    const before = existing.map((s) => s.metadata.name).filter((n) => n <= scopeName);
    if (before.length)
      throw new Error(
        `KollectClusterScope ${before.join(', ')} sorts before this suite's scope ${scopeName} and would apply instead; delete it (a leftover) and rerun`,
      );
    await createCluster({
      apiVersion: K,
      kind: 'KollectClusterScope',
      metadata: { name: scopeName },
      spec: {},
    });

    const sys = w.ns.system;
    await w.applier.applyAll([
      {
        apiVersion: K,
        kind: 'KollectProfile',
        metadata: { name: 'ck-images', namespace: sys },
        spec: {
          targetGVK: { group: 'apps', version: 'v1', kind: 'Deployment' },
          attributes: [
            {
              name: 'images',
              path: 'cel:object.spec.template.spec.containers.map(c, c.image)',
              type: 'list',
            },
            { name: 'team', path: 'cel:object.metadata.namespace', type: 'string' },
          ],
        },
      },
      {
        apiVersion: K,
        kind: 'KollectProfile',
        metadata: { name: 'ck-replicas', namespace: sys },
        spec: {
          targetGVK: { group: 'apps', version: 'v1', kind: 'Deployment' },
          attributes: [{ name: 'replicas', path: 'cel:object.spec.replicas', type: 'int' }],
        },
      },
    ]);
    await createCluster(clusterTarget(names.images, { namespace: sys, name: 'ck-images' }));
    await createCluster(clusterTarget(names.replicas, { namespace: sys, name: 'ck-replicas' }));
    await createCluster(clusterInventory(names.keep, { targetRefs: [names.images, names.replicas] }));
    await createCluster(
      clusterInventory(names.uid, { targetRefs: [names.images, names.replicas], dedupe: 'byResourceUID' }),
    );
    // `namespaces` ∩ `namespaceSelector`: [a, c] ∩ tier=front (a, b) = [a].
    await createCluster(
      clusterInventory(names.front, {
        targetRefs: [names.images],
        namespaces: [teamA, teamC],
        namespaceSelector: { matchLabels: { [SUITE_LABEL]: tag, [TIER_LABEL]: 'front' } },
      }),
    );

    const images = await oracleTarget(names.images, imagesProfile);
    const replicas = await oracleTarget(names.replicas, replicasProfile);
    const metas = await w.namespaceMeta();
    const all = selectNamespaces(metas, { matchLabels: { [SUITE_LABEL]: tag } });
    w.clusterInventories.set(names.keep, { targets: [images, replicas], namespaces: all, dedupe: 'keepAll' });
    w.clusterInventories.set(names.uid, {
      targets: [images, replicas],
      namespaces: all,
      dedupe: 'byResourceUID',
    });
    w.clusterInventories.set(names.front, {
      targets: [images],
      namespaces: selectNamespaces(metas, { matchLabels: { [SUITE_LABEL]: tag, [TIER_LABEL]: 'front' } }, [
        teamA,
        teamC,
      ]),
      dedupe: 'keepAll',
    });
    await w.startStack({ tenantMode: false });
  }, 240_000);

  afterAll(async () => {
    if (!w) return;
    await w.stopStack().catch(() => undefined);
    // Cluster-scoped objects outlive the namespaces: delete each (finalizers cleared, no controller runs now).
    for (const { kind, name } of created.reverse())
      await w.applier.forceDelete({ apiVersion: K, kind, metadata: { name } }).catch(() => undefined);
    await w.cleanup();
  });

  it('a cluster target over the suite namespaces feeds a keepAll roll-up: one row per target and object, targetNamespace = the workload namespace', async () => {
    const t = await w.converged(clusterRef(names.keep), 120_000);
    const rows = [...t.rows.values()];
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.targetNamespace).toBe(r.namespace);
    expect(new Set(rows.map((r) => r.targetName))).toEqual(new Set([names.images, names.replicas]));
    // every team namespace is there, the opted-out sandbox (labelled like the others) is not
    expect(new Set(rows.map((r) => r.namespace))).toEqual(new Set([teamA, teamB, teamC]));

    // the cluster targets say where they collect; the inventory counts its targets and shards
    const st = await w.status('KollectClusterTarget', '', names.images);
    expect(st?.['effectiveNamespaces']).toEqual([teamA, teamB, teamC, w.ns.sandbox].sort());
    expect(await condition('KollectClusterTarget', names.images, 'Ready')).toMatchObject({
      status: 'True',
      reason: 'Collecting',
    });
    const shardsWanted = [teamA, teamB, teamC].sort().map((ns) => {
      const inNs = rows.filter((r) => r.namespace === ns);
      return { namespace: ns, itemCount: inNs.length, targetCount: 2, checksum: checksumItems(inNs) };
    });
    let status: Record<string, unknown> | undefined;
    await waitFor(
      async () => {
        status = await w.status('KollectClusterInventory', '', names.keep);
        return stable(status?.['namespaceShards']) === stable(shardsWanted);
      },
      60_000,
      300,
    );
    expect(status?.['namespaceShards']).toEqual(shardsWanted);
    const inv = status;
    expect(inv).toMatchObject({ targetCount: 2, namespaceShardCount: 3, itemCount: rows.length });
  });

  it('byResourceUID collapses the two targets over the same objects to one row per object; keepAll keeps both', async () => {
    const keep = await w.converged(clusterRef(names.keep), 90_000);
    const uid = await w.converged(clusterRef(names.uid), 90_000);
    const objects = new Set([...keep.rows.values()].map((r) => `${r.namespace}/${r.uid}`));
    expect(keep.rows.size).toBe(objects.size * 2);
    expect(uid.rows.size).toBe(objects.size);
    // the later target in the inventory's (name) order wins every object
    expect(new Set([...uid.rows.values()].map((r) => r.targetName))).toEqual(
      new Set([[names.images, names.replicas].sort()[1]]),
    );
  });

  it('namespaces ∩ namespaceSelector: only the namespace in both', async () => {
    const t = await w.converged(clusterRef(names.front), 90_000);
    expect(t.rows.size).toBeGreaterThan(0);
    expect(new Set([...t.rows.values()].map((r) => r.namespace))).toEqual(new Set([teamA]));
  });

  it('changes flow into every roll-up, deletes included', async () => {
    const rollups = [names.keep, names.uid, names.front];
    const before = new Map(rollups.map((n) => [n, w.table(clusterRef(n))?.exportGeneration ?? 0]));
    const made = await w.applier.apply<{ metadata: { uid: string } }>(
      testDeployment(teamB, 'ck-new', { images: ['nginx:1', 'envoy:2'], replicas: 3 }),
    );
    await w.applier.delete(testDeployment(teamA, 'shop-000'));
    for (const name of rollups) {
      const t = await w.converged(clusterRef(name), 90_000);
      expect(t.exportGeneration, name).toBeGreaterThan(before.get(name) ?? 0);
      expect(t.problems, name).toEqual([]);
    }
    const keep = w.table(clusterRef(names.keep))!;
    expect(
      [...keep.rows.values()].filter((r) => r.uid === made.metadata.uid).map((r) => r.attributes),
    ).toEqual(expect.arrayContaining([{ images: ['nginx:1', 'envoy:2'], team: teamB }, { replicas: 3 }]));
    expect(keep.deletes.some((d) => d.key.targetNamespace === teamA)).toBe(true);
  });

  it('cluster rows never appear in the namespaced inventories of the same namespaces', async () => {
    await w.allConverged(90_000);
    const clusterTargets = new Set([names.images, names.replicas, names.denied]);
    for (const team of w.ns.teams) {
      const t = w.table(teamInventory(team))!;
      expect(t.rows.size).toBeGreaterThan(0);
      const leaked: Item[] = [...t.everUpserted.values()].filter((i) => clusterTargets.has(i.targetName));
      expect(leaked).toEqual([]);
    }
  });

  it('a KollectClusterScope that forbids the profile namespace degrades the cluster target (ProfileForbidden) and its inventory gets no rows; lifting it collects', async () => {
    const scopeObj = { apiVersion: K, kind: 'KollectClusterScope', metadata: { name: scopeName } };
    // Restrict only what this test uses: allow every namespace any cluster object on the bed
    // references for its profile or sinks (and the default sink namespace), but not teamB, which
    // only the target below references. Other runs' and the demo's cluster objects stay allowed.
    const allowed = new Set<string>(['kollect-system', w.ns.system]);
    type Ref = { namespace?: string };
    for (const t of await w.applier.list<{ spec?: { profileRef?: Ref } }>(K, 'KollectClusterTarget'))
      if (t.spec?.profileRef?.namespace) allowed.add(t.spec.profileRef.namespace);
    for (const i of await w.applier.list<{ spec?: Record<string, unknown> }>(K, 'KollectClusterInventory')) {
      const spec = i.spec ?? {};
      const refNs = (spec['profileRef'] as Ref | undefined)?.namespace;
      if (refNs) allowed.add(refNs);
      if (typeof spec['sinkNamespace'] === 'string') allowed.add(spec['sinkNamespace']);
      for (const f of ['snapshotSinkRefs', 'databaseSinkRefs', 'eventSinkRefs'])
        for (const r of (spec[f] as (Ref | string)[] | undefined) ?? [])
          if (typeof r === 'object' && r.namespace) allowed.add(r.namespace);
    }
    allowed.delete(teamB);
    await w.applier.mergePatch(scopeObj, { spec: { allowedStaticRefNamespaces: [...allowed].sort() } });
    try {
      await createCluster(clusterTarget(names.denied, { namespace: teamB, name: 'deployment-images' }));
      await createCluster(clusterInventory(names.denied, { targetRefs: [names.denied] }));
      const c = await eventually('the denied cluster target Degraded', async () => {
        const d = await condition('KollectClusterTarget', names.denied, 'Degraded');
        return d?.status === 'True' ? d : undefined;
      });
      expect(c.reason).toBe('ProfileForbidden');
      expect(c.message).toContain(`"${teamB}"`);
      expect(c.message).toContain(scopeName);
      expect(await condition('KollectClusterTarget', names.denied, 'Ready')).toBeUndefined();
      const inv = await eventually('the inventory of the denied target Degraded', async () => {
        const d = await condition('KollectClusterInventory', names.denied, 'Degraded');
        return d?.status === 'True' ? d : undefined;
      });
      expect(inv.reason).toBe('TargetDegraded');
      // The data plane runs the plan with the inventory (its aggregator reports it, with no rows).
      await eventually('the aggregator reports the inventory', async () => {
        const s = await w.status('KollectClusterInventory', '', names.denied);
        return s?.['itemCount'] === 0 ? true : undefined;
      });
      expect(w.table(clusterRef(names.denied))?.everUpserted.size ?? 0).toBe(0);
      // the suite's other cluster targets reference an allowed namespace and keep collecting
      expect((await condition('KollectClusterTarget', names.images, 'Ready'))?.status).toBe('True');
    } finally {
      // Back to open right after the test: the restriction must not outlive it.
      await w.applier.mergePatch(scopeObj, { spec: { allowedStaticRefNamespaces: null } });
    }
    const denied = await oracleTarget(names.denied, deploymentImages);
    const metas = await w.namespaceMeta();
    w.clusterInventories.set(names.denied, {
      targets: [denied],
      namespaces: selectNamespaces(metas, { matchLabels: { [SUITE_LABEL]: tag } }),
      dedupe: 'keepAll',
    });
    const t = await w.converged(clusterRef(names.denied), 90_000);
    expect(t.rows.size).toBeGreaterThan(0);
    expect(await condition('KollectClusterTarget', names.denied, 'Ready')).toMatchObject({ status: 'True' });
  });
});
