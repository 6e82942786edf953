/**
 * The pipeline end to end (controller, watcher, 2 extractors, 2 aggregators as separate processes)
 * on the demo scenario: what the apiserver holds becomes rows and snapshot diffs on the public
 * subjects; what must not be collected never appears; a profile change re-extracts from the
 * object log without a single LIST call to the apiserver.
 *
 *   npm run testbed -- up nats kube-apiserver
 *   eval "$(npm run -s testbed -- env)"
 *   npx vitest run --project e2e e2e/pipeline/lifecycle
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowKeyOf, rowKeyString, type Item } from '@kollect/contracts';
import { deployment } from '@kollect/demo';
import { hasTestbed } from '../support/testbed.js';
import {
  startWorld,
  teamInventory,
  testDeployment,
  uniqueTag,
  type AuditMark,
  type World,
} from './harness.js';
import { deploymentImages, type OracleProfile } from './oracle.js';

const run = hasTestbed('nats', 'kube-apiserver') ? describe : describe.skip;
const K = 'kollect.dev/v1alpha1';

run('pipeline: rows and snapshot diffs follow the apiserver', () => {
  let w: World;
  let listMarkBeforeStart: AuditMark | undefined;

  beforeAll(async () => {
    const tag = uniqueTag('lc');
    w = await startWorld({
      tag,
      noStack: true,
      // A target in team-a that also names the opted-out sandbox namespace: the namespace label
      // must keep the sandbox out even though the target asks for it.
      extra: ({ ns }) => [
        {
          apiVersion: K,
          kind: 'KollectTarget',
          metadata: { name: 'everything', namespace: ns.teams[0] as string },
          spec: { profileRef: 'deployment-images', includedNamespaces: [ns.teams[0] as string, ns.sandbox] },
        },
      ],
    });
    const a = w.ns.teams[0] as string;
    w.extraTargets.set(`KollectInventory/${a}/team-inventory`, [
      { namespace: a, name: 'everything', profile: deploymentImages, namespaces: [a, w.ns.sandbox] },
    ]);
    listMarkBeforeStart = w.audit.mark();
    await w.startStack();
  });

  afterAll(async () => {
    await w?.cleanup();
  });

  it('the first export of every team inventory equals the rows computed from the apiserver', async () => {
    await w.allConverged(120_000);
    for (const team of w.ns.teams) {
      const t = w.table(teamInventory(team))!;
      expect(t.exportGeneration).toBeGreaterThanOrEqual(1);
      expect(t.rows.size).toBeGreaterThan(0);
    }
    // The audit log is where the zero-LIST proof below looks: it must see the watcher's initial lists.
    await w.auditCaughtUp(listMarkBeforeStart!);
    expect(w.audit.watcherLists(listMarkBeforeStart!, 'deployments', w.ns.all).length).toBeGreaterThan(0);
  });

  it('a created, updated and deleted deployment shows up as an upsert, an update and a delete diff', async () => {
    const team = w.ns.teams[0] as string;
    const inv = teamInventory(team);
    const before = w.table(inv)!.exportGeneration;
    const created = await w.applier.apply<{ metadata: { uid: string } }>(
      testDeployment(team, 'lc-new', { images: ['nginx:1.0'] }),
    );
    const uid = created.metadata.uid;
    let t = await w.converged(inv);
    const rows = [...t.rows.values()].filter((i) => i.uid === uid);
    // the web-deployments target and the `everything` target both collect it
    expect(rows.map((r) => r.targetName).sort()).toEqual(['everything', 'web-deployments']);
    expect(rows[0]!.attributes['image']).toBe('nginx:1.0');
    expect(t.exportGeneration).toBeGreaterThan(before);

    await w.applier.apply(testDeployment(team, 'lc-new', { images: ['nginx:2.0', 'envoy:1.30'] }));
    t = await w.converged(inv);
    const updated = [...t.rows.values()].find((i) => i.uid === uid && i.targetName === 'web-deployments')!;
    expect(updated.attributes).toMatchObject({
      image: 'nginx:2.0',
      images: ['nginx:2.0', 'envoy:1.30'],
      containerCount: 2,
    });

    await w.applier.delete(testDeployment(team, 'lc-new'));
    t = await w.converged(inv);
    expect([...t.rows.values()].some((i) => i.uid === uid)).toBe(false);
    expect(
      t.deletes
        .filter((d) => d.key.uid === uid)
        .map((d) => d.key.targetName)
        .sort(),
    ).toEqual(['everything', 'web-deployments']);
  });

  it('objects outside the selectors, opted out by label or namespace, or denied by scope never appear', async () => {
    await w.allConverged();
    const ever: Item[] = [];
    for (const team of w.ns.teams) ever.push(...w.table(teamInventory(team))!.everUpserted.values());
    expect(ever.length).toBeGreaterThan(0);
    // opted out by the object's own label (every 10th deployment of the scenario)
    const optedOut = new Set(
      w.ns.teams.flatMap((team) => [9, 19, 29].map((i) => `${team}/${deployment(team, i).metadata.name}`)),
    );
    expect(ever.filter((i) => optedOut.has(`${i.namespace}/${i.name}`))).toEqual([]);
    // the sandbox namespace is opted out by its label, though a target names it
    expect(ever.filter((i) => i.namespace === w.ns.sandbox)).toEqual([]);
    // outside web-deployments' label selector (part-of != shop)
    expect(
      ever.filter(
        (i) => i.targetName === 'web-deployments' && !i.name.startsWith('shop-') && !i.name.startsWith('lc-'),
      ),
    ).toEqual([]);
    // team-c's scope denies Ingresses
    expect(ever.filter((i) => i.namespace === w.ns.ingressDenied && i.kind === 'Ingress')).toEqual([]);
    const denied = await w.condition('KollectTarget', w.ns.ingressDenied!, 'ingresses', 'Degraded');
    expect(denied).toMatchObject({ status: 'True', reason: 'ScopeGVKDenied' });
  });

  it('a deployment that opts out by label leaves the inventory, and comes back when it opts in again', async () => {
    const team = w.ns.teams[1] as string;
    const inv = teamInventory(team);
    const d = deployment(team, 3); // shop-003, collected
    const obj = await w.applier.get<{ metadata: { uid: string } }>(d);
    const uid = obj!.metadata.uid;
    expect([...w.table(inv)!.rows.values()].some((i) => i.uid === uid)).toBe(true);
    await w.applier.mergePatch(d, { metadata: { labels: { 'kollect.dev/watch': 'disabled' } } });
    let t = await w.converged(inv);
    expect([...t.rows.values()].some((i) => i.uid === uid)).toBe(false);
    expect(t.deletes.some((x) => x.key.uid === uid)).toBe(true);
    await w.applier.mergePatch(d, { metadata: { labels: { 'kollect.dev/watch': null } } });
    t = await w.converged(inv);
    expect([...t.rows.values()].some((i) => i.uid === uid)).toBe(true);
  });

  it('a profile change re-extracts every affected row from the object log with zero LIST calls to the apiserver', async () => {
    const team = w.ns.teams[1] as string;
    const inv = teamInventory(team);
    await w.converged(inv);
    const before = new Map([...w.table(inv)!.rows].map(([k, v]) => [k, v] as const));
    const mark = w.audit.mark();

    await w.applier.apply({
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
          {
            name: 'firstPort',
            path: 'cel:object.spec.template.spec.containers[0].ports[0].containerPort',
            type: 'int',
          },
        ],
      },
    });
    const withPort: OracleProfile = {
      ...deploymentImages,
      attributes: (o) => ({
        ...deploymentImages.attributes(o),
        firstPort:
          (o.spec?.['template'] as { spec: { containers: { ports?: { containerPort: number }[] }[] } }).spec
            .containers[0]?.ports?.[0]?.containerPort ?? null,
      }),
    };
    const target = w.targetsOf(inv).find((t) => t.name === 'web-deployments')!;
    w.overrides.set(`${team}/web-deployments`, { ...target, profile: withPort });

    const t = await w.converged(inv, 90_000);
    const changed = [...t.rows.values()].filter((i) => i.targetName === 'web-deployments');
    expect(changed.length).toBeGreaterThan(0);
    for (const i of changed) {
      expect(i.attributes['firstPort']).toBe(8080);
      expect(
        before.has(
          rowKeyString({ targetNamespace: i.targetNamespace, targetName: i.targetName, uid: i.uid }),
        ),
      ).toBe(true);
    }
    // rows of the other targets were not touched
    for (const i of t.rows.values())
      if (i.targetName !== 'web-deployments') expect(before.get(rowKeyString(rowKeyOf(i)))).toEqual(i);

    // Read the log once it holds every request made until now (it is written as responses complete).
    await w.auditCaughtUp(mark);
    const lists = w.audit.watcherLists(mark, 'deployments', w.ns.all);
    expect(lists.map((e) => e.requestURI)).toEqual([]);
  });
});
