/**
 * Bad input never stops the pipeline: a CEL expression failing at runtime on some objects (their
 * previous rows stay, the target is Degraded/ExtractionFailed with a count), an expression over the
 * cost limit, an object larger than the NATS max payload, and a profile whose GVK the apiserver
 * does not serve. Each must show as a status condition and a metric, and later changes must
 * still flow.
 *
 *   npm run testbed -- up nats kube-apiserver
 *   eval "$(npm run -s testbed -- env)"
 *   npx vitest run --project e2e e2e/pipeline/bad-input
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Item } from '@kollect/contracts';
import { hasTestbed } from '../support/testbed.js';
import {
  sleep,
  startWorld,
  teamInventory,
  testDeployment,
  uniqueTag,
  type Condition,
  type World,
} from './harness.js';
import { deploymentImages, ObjectFailure, type OracleProfile } from './oracle.js';

const run = hasTestbed('nats', 'kube-apiserver') ? describe : describe.skip;
const K = 'kollect.dev/v1alpha1';
/** Low enough that a 100×100 comprehension trips it; the scenario's expressions cost < 100. */
const COST_LIMIT = 5000;

const BASE_ATTRIBUTES = [
  { name: 'image', path: '$.spec.template.spec.containers[0].image', type: 'string' },
  { name: 'images', path: '$.spec.template.spec.containers[*].image', type: 'list' },
  { name: 'containerCount', path: 'cel:size(object.spec.template.spec.containers)', type: 'int' },
  { name: 'replicas', path: 'cel:object.spec.replicas', type: 'int' },
  { name: 'labels', path: '$.metadata.labels', type: 'map', optional: true },
];

function profile(
  namespace: string,
  extra: { name: string; path: string; type?: string; optional?: boolean }[],
) {
  return {
    apiVersion: K,
    kind: 'KollectProfile',
    metadata: { name: 'deployment-images', namespace },
    spec: {
      targetGVK: { group: 'apps', version: 'v1', kind: 'Deployment' },
      attributes: [...BASE_ATTRIBUTES, ...extra],
    },
  };
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (last !== undefined) return last;
    await sleep(300);
  }
  throw new Error(`timed out waiting for ${what}`);
}

run('pipeline: bad input is counted, reported, and does not stop anything', () => {
  let w: World;

  beforeAll(async () => {
    w = await startWorld({
      tag: uniqueTag('bi'),
      serviceEnv: { controller: { KOLLECT_CEL_COST_LIMIT: String(COST_LIMIT) } },
    });
    await w.allConverged(120_000);
  });

  afterAll(async () => {
    await w?.cleanup();
  });

  async function degraded(namespace: string, target: string, reasons: string[]): Promise<Condition> {
    return eventually(`${namespace}/${target} Degraded with ${reasons.join('|')}`, async () => {
      const c = await w.condition('KollectTarget', namespace, target, 'Degraded');
      return c && c.status === 'True' && reasons.includes(c.reason) ? c : undefined;
    });
  }

  it('a CEL expression failing on some objects keeps their previous rows and degrades the target with a count', async () => {
    const team = w.ns.teams[0] as string;
    const inv = teamInventory(team);
    const previous = new Map<string, Item>(
      [...w.table(inv)!.rows.values()].map((i) => [`${i.targetNamespace}/${i.targetName}/${i.uid}`, i]),
    );
    // containers[1] exists only on deployments with a sidecar: the others fail (a required attribute)
    await w.applier.apply(
      profile(team, [
        { name: 'sidecar', path: 'cel:object.spec.template.spec.containers[1].image', type: 'string' },
      ]),
    );
    const withSidecar: OracleProfile = {
      ...deploymentImages,
      attributes(o) {
        const cs = (o.spec?.['template'] as { spec: { containers: { image: string }[] } }).spec.containers;
        if (cs.length < 2) throw new ObjectFailure('no containers[1]');
        return { ...deploymentImages.attributes(o), sidecar: cs[1]!.image };
      },
    };
    const target = w.targetsOf(inv).find((t) => t.name === 'web-deployments')!;
    w.overrides.set(`${team}/web-deployments`, { ...target, profile: withSidecar });

    const { failed } = await w.expected(inv, previous);
    expect(failed.length).toBeGreaterThan(0);
    const t = await w.converged(inv, 90_000, previous);
    // the failing objects kept their old rows (no sidecar attribute), the others have it
    for (const f of failed) {
      const row = [...t.rows.values()].find((i) => i.uid === f.uid && i.targetName === 'web-deployments');
      expect(row?.attributes['sidecar']).toBeUndefined();
    }
    const c = await degraded(team, 'web-deployments', ['ExtractionFailed']);
    const st = await eventually('extractionFailures', async () => {
      const s = await w.status('KollectTarget', team, 'web-deployments');
      return s?.['extractionFailures'] === failed.length ? s : undefined;
    });
    expect(st['lastExtractionError']).toBeTruthy();
    expect(c.message).toContain(String(failed.length));
    expect(
      await w.stackOrThrow.metricSum('extractor', 'kollect_extraction_failures_total'),
    ).toBeGreaterThanOrEqual(failed.length);

    // the pipeline keeps moving: a new two-container deployment gets its row with the attribute
    const ok = await w.applier.apply<{ metadata: { uid: string } }>(
      testDeployment(team, 'bi-two', { images: ['a:1', 'b:2'] }),
    );
    const t2 = await w.converged(inv, 60_000, previous);
    expect(
      [...t2.rows.values()].find((i) => i.uid === ok.metadata.uid && i.targetName === 'web-deployments')
        ?.attributes['sidecar'],
    ).toBe('b:2');
  });

  it('an expression over the CEL cost limit fails its objects, degrades the target and counts cost_exceeded', async () => {
    const team = w.ns.teams[1] as string;
    const inv = teamInventory(team);
    const previous = new Map<string, Item>(
      [...w.table(inv)!.rows.values()].map((i) => [`${i.targetNamespace}/${i.targetName}/${i.uid}`, i]),
    );
    const hundred = `[${Array.from({ length: 100 }, (_, i) => i).join(',')}]`;
    await w.applier.apply(
      profile(team, [
        { name: 'heavy', path: `cel:${hundred}.map(x, ${hundred}.map(y, x + y)).size()`, type: 'int' },
      ]),
    );
    const target = w.targetsOf(inv).find((t) => t.name === 'web-deployments')!;
    w.overrides.set(`${team}/web-deployments`, {
      ...target,
      profile: {
        ...deploymentImages,
        attributes: () => {
          throw new ObjectFailure('cost limit');
        },
      },
    });
    const c = await degraded(team, 'web-deployments', ['ExtractionFailed', 'CostLimitExceeded']);
    expect(c.message.toLowerCase()).toContain('cost');
    // every object failed, so every previous row stays as it was
    await w.converged(inv, 60_000, previous);

    // the other targets of the namespace keep moving
    const svc = await w.applier.apply<{ metadata: { uid: string } }>({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'bi-svc', namespace: team },
      spec: { ports: [{ port: 81 }] },
    });
    const t = await w.converged(inv, 60_000, previous);
    expect([...t.rows.values()].some((i) => i.uid === svc.metadata.uid)).toBe(true);
    // CEL evaluations are counted by result (SEED-SPEC §10.1 style, kollect_cel_evaluations_total)
    expect(
      await w.stackOrThrow.metricSum('extractor', 'kollect_cel_evaluations_total', {
        result: 'cost_exceeded',
      }),
    ).toBeGreaterThan(0);
  });

  it('an object larger than the NATS max payload is reported and counted, and the rest keeps flowing', async () => {
    const team = w.ns.teams[2] as string;
    const inv = teamInventory(team);
    const big = testDeployment(team, 'bi-huge');
    const containers = (big['spec'] as { template: { spec: { containers: Record<string, unknown>[] } } })
      .template.spec.containers;
    containers[0]!['env'] = [{ name: 'BLOB', value: 'x'.repeat(1_200_000) }];
    const tooLargeBefore = await w.stackOrThrow.metricSum('watcher', 'kollect_bus_published_total', {
      result: 'payload_too_large',
    });
    await w.applier.apply(big);
    const small = await w.applier.apply<{ metadata: { uid: string } }>(testDeployment(team, 'bi-small'));
    // the huge object cannot be on the bus, so the oracle leaves it out
    const target = w.targetsOf(inv).find((t) => t.name === 'web-deployments')!;
    w.overrides.set(`${team}/web-deployments`, {
      ...target,
      profile: {
        ...deploymentImages,
        attributes: (o) => {
          if (o.metadata.name === 'bi-huge') throw new ObjectFailure('too large for the bus');
          return deploymentImages.attributes(o);
        },
      },
    });
    const t = await w.converged(inv, 60_000);
    expect([...t.rows.values()].some((i) => i.uid === small.metadata.uid)).toBe(true);
    await eventually('payload_too_large counted', async () =>
      (await w.stackOrThrow.metricSum('watcher', 'kollect_bus_published_total', {
        result: 'payload_too_large',
      })) > tooLargeBefore
        ? true
        : undefined,
    );
    const c = await degraded(team, 'web-deployments', ['PayloadTooLarge']);
    expect(c.message).toContain('bi-huge');
  });

  it('a profile whose GVK the apiserver does not serve degrades its target, is counted, and the rest keeps flowing', async () => {
    const team = w.ns.teams[0] as string;
    // Earlier tests already raised the counter (ExtractionFailed is terminal too): compare this
    // label set before and after, and tie the increment to this target by its Warning event.
    const errors = (): Promise<number> =>
      w.stackOrThrow.metricSum('controller', 'kollect_reconcile_errors_total', {
        kind: 'KollectTarget',
        error_class: 'terminal',
      });
    const errorsBefore = await errors();
    await w.applier.apply({
      apiVersion: K,
      kind: 'KollectProfile',
      metadata: { name: 'widgets', namespace: team },
      spec: {
        targetGVK: { group: 'example.kollect.dev', version: 'v1', kind: 'Widget' },
        attributes: [{ name: 'size', path: '$.spec.size' }],
      },
    });
    await w.applier.apply({
      apiVersion: K,
      kind: 'KollectTarget',
      metadata: { name: 'widgets', namespace: team },
      spec: { profileRef: 'widgets', includedNamespaces: [team] },
    });
    const c = await degraded(team, 'widgets', ['InformerRegistrationFailed']);
    expect(c.message).toContain('Widget');
    // The transition into the problem is counted once, with a Warning event on the target.
    await eventually('the Warning event of widgets', async () => {
      const list = await w.kube.request<{
        items: { reason?: string; type?: string; regarding?: { kind?: string; name?: string } }[];
      }>('GET', `/apis/events.k8s.io/v1/namespaces/${team}/events`);
      return list.items.some(
        (e) =>
          e.type === 'Warning' &&
          e.reason === 'InformerRegistrationFailed' &&
          e.regarding?.kind === 'KollectTarget' &&
          e.regarding.name === 'widgets',
      )
        ? true
        : undefined;
    });
    const errorsAfter = await eventually('kollect_reconcile_errors_total raised', async () => {
      const n = await errors();
      return n > errorsBefore ? n : undefined;
    });
    expect(errorsAfter).toBeGreaterThan(errorsBefore);
    // the inventory of the namespace still follows its other targets
    const inv = teamInventory(team);
    const d = await w.applier.apply<{ metadata: { uid: string } }>(
      testDeployment(team, 'bi-after-widgets', { images: ['x:1', 'y:2'] }),
    );
    const t = await eventually('the new deployment exported', async () => {
      const tb = w.table(inv);
      return tb && [...tb.rows.values()].some((i) => i.uid === d.metadata.uid) ? tb : undefined;
    });
    expect(t.problems).toEqual([]);
  });
});
