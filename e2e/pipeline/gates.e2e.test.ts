/**
 * Controller follow-ups through the whole pipeline (controller, watcher, extractor, aggregator as
 * separate processes on the test bed):
 * - Secret data reaches the object stream only for a profile that asks (a `helm:` profile with
 *   `kollect.dev/allow-secret-extraction: "true"`) in its target's namespaces; without the
 *   annotation the profile is refused and the Secret's data never appears on the stream (every
 *   object message is read as it is published);
 * - an object larger than the NATS max payload degrades the targets covering it with its identity
 *   and size (PayloadTooLarge), is counted by the controller, and clears when it shrinks or goes;
 * - a `resourceRules` entry naming a kind other than the profile's collects that kind.
 *
 *   npm run testbed -- up nats kube-apiserver
 *   eval "$(npm run -s testbed -- env)"
 *   npx tsc -b apps/controller apps/watcher apps/extractor apps/aggregator
 *   npx vitest run --project e2e e2e/pipeline/gates
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busNames, connectBus, replaySubject, type Bus } from '@kollect/bus';
import { subjects, type Item, type ObjectMessage } from '@kollect/contracts';
import { hasTestbed, testbedEnv } from '../support/testbed.js';
import { sleep, startWorld, teamInventory, uniqueTag, type Condition, type World } from './harness.js';

const run = hasTestbed('nats', 'kube-apiserver') ? describe : describe.skip;
const K = 'kollect.dev/v1alpha1';
const SECRETS = { group: '', version: 'v1', resource: 'secrets' };
const ALLOW = { 'kollect.dev/allow-secret-extraction': 'true' };

/** A Helm 3 release Secret as Helm writes it: data.release = base64(base64(gzip(release JSON))). */
function helmRelease(namespace: string, marker: string) {
  const release = {
    name: 'shop',
    namespace,
    version: 1,
    info: { status: 'deployed', last_deployed: '2026-01-01T00:00:00Z' },
    chart: { metadata: { name: 'shop', version: '2.4.0', appVersion: '1.2.3' } },
    config: { db: { password: marker } },
  };
  const helmEncoded = gzipSync(Buffer.from(JSON.stringify(release))).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'helm.sh/release.v1',
    metadata: { name: 'sh.helm.release.v1.shop.v1', namespace, labels: { owner: 'helm', name: 'shop' } },
    data: { release: Buffer.from(helmEncoded).toString('base64') },
  };
}

function helmProfile(namespace: string, annotations: Record<string, string> = {}) {
  return {
    apiVersion: K,
    kind: 'KollectProfile',
    metadata: { name: 'helm-releases', namespace, annotations },
    spec: {
      targetGVK: { version: 'v1', kind: 'Secret' },
      attributes: [
        { name: 'release', path: 'helm:release.name' },
        { name: 'chart', path: 'helm:release.chartVersion' },
        { name: 'status', path: 'helm:release.status' },
      ],
    },
  };
}

function target(namespace: string, name: string, spec: Record<string, unknown>) {
  return { apiVersion: K, kind: 'KollectTarget', metadata: { name, namespace }, spec };
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(300);
  }
  throw new Error(`timed out waiting for ${what}`);
}

run('pipeline: Secret data gate, oversized objects, rules on another kind', () => {
  let w: World;
  let watchBus: Bus;
  /** Every object message published on the world's bus, as published. */
  const seen: ObjectMessage[] = [];
  let teamA: string;
  let teamB: string;
  const marker = `pw-${Math.random().toString(36).slice(2)}`;

  beforeAll(async () => {
    const tag = uniqueTag('gt');
    w = await startWorld({
      tag,
      noStack: true,
      scenario: { deploymentsPerTeam: 2, servicesPerTeam: 1, ingressesPerTeam: 1 },
      extra: ({ ns }) => {
        const [a, b] = ns.teams as [string, string];
        return [
          helmRelease(a, marker),
          helmRelease(b, marker),
          helmProfile(a, ALLOW),
          target(a, 'releases', { profileRef: 'helm-releases', includedNamespaces: [a] }),
          // B asks without the annotation, and also watches its Secrets' metadata only.
          helmProfile(b),
          target(b, 'releases', { profileRef: 'helm-releases', includedNamespaces: [b] }),
          {
            apiVersion: K,
            kind: 'KollectProfile',
            metadata: { name: 'secret-types', namespace: b },
            spec: {
              targetGVK: { version: 'v1', kind: 'Secret' },
              attributes: [{ name: 'type', path: '$.type' }],
            },
          },
          target(b, 'secret-types', { profileRef: 'secret-types', includedNamespaces: [b] }),
        ];
      },
    });
    [teamA, teamB] = w.ns.teams as [string, string];
    // Subscribe before the watcher starts: every object message, not only what the log keeps.
    watchBus = await connectBus({ servers: testbedEnv.natsUrl, name: 'e2e-gates' });
    const sub = watchBus.nc.subscribe(busNames(w.prefix).subject(`kollect.obj.${w.cluster}.>`));
    void (async () => {
      for await (const m of sub) seen.push(m.json<ObjectMessage>());
    })();
    await w.startStack();
  }, 240_000);

  afterAll(async () => {
    await w?.cleanup();
    await watchBus?.close();
  });

  const rowsOf = (namespace: string, targetName: string): Item[] =>
    [...(w.table(teamInventory(namespace))?.rows.values() ?? [])].filter((i) => i.targetName === targetName);
  const condition = (namespace: string, name: string, type: string): Promise<Condition | undefined> =>
    w.condition('KollectTarget', namespace, name, type);
  const secretMessages = (namespace: string) =>
    seen.filter((m) => m.gvr.resource === 'secrets' && m.namespace === namespace && m.op === 'upsert');

  it('publishes a helm release Secret with its data only for the annotated profile, and extracts its rows', async () => {
    const rows = await eventually('the release row in team A', async () => {
      const r = rowsOf(teamA, 'releases');
      return r.length > 0 ? r : undefined;
    });
    expect(rows.map((i) => i.attributes)).toEqual([{ release: 'shop', chart: '2.4.0', status: 'deployed' }]);
    expect(rows[0]).toMatchObject({ kind: 'Secret', name: 'sh.helm.release.v1.shop.v1' });
    // The release's config (with its password) was never asked for: it is nowhere in the rows.
    expect(JSON.stringify([...w.table(teamInventory(teamA))!.rows.values()])).not.toContain(marker);
    expect(secretMessages(teamA).some((m) => m.object?.['data'] !== undefined)).toBe(true);
  });

  it('refuses the profile without the annotation, and its Secret data never reaches the object stream', async () => {
    const c = await eventually('B releases Degraded', async () => {
      const d = await condition(teamB, 'releases', 'Degraded');
      return d?.status === 'True' ? d : undefined;
    });
    expect(c.reason).toBe('SecretDataNotAllowed');
    expect(c.message).toContain('kollect.dev/allow-secret-extraction');
    // B's Secrets are watched (the metadata target), stripped.
    await eventually('B secret types collected', async () =>
      rowsOf(teamB, 'secret-types').length > 0 ? true : undefined,
    );
    const inB = secretMessages(teamB);
    expect(inB.length).toBeGreaterThan(0);
    expect(
      inB.filter((m) => m.object?.['data'] !== undefined || m.object?.['stringData'] !== undefined),
    ).toEqual([]);
    // …and so does what the stream keeps.
    const log = await replayLog();
    const logged = log.filter((m) => m.namespace === teamB);
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.some((m) => m.object?.['data'] !== undefined)).toBe(false);
    expect(rowsOf(teamB, 'releases')).toEqual([]);
  });

  it('opens the gate for B once its profile carries the annotation', async () => {
    const before = secretMessages(teamB).length;
    await w.applier.apply(helmProfile(teamB, ALLOW));
    const rows = await eventually(
      'the release row in team B',
      async () => {
        const r = rowsOf(teamB, 'releases');
        return r.length > 0 ? r : undefined;
      },
      90_000,
    );
    expect(rows[0]!.attributes).toEqual({ release: 'shop', chart: '2.4.0', status: 'deployed' });
    // The object log and the controller's status write run beside the rows, not before them: wait
    // for each instead of reading them the moment the row shows up.
    await eventually('a Secret message with data in team B', async () =>
      secretMessages(teamB)
        .slice(before)
        .some((m) => m.object?.['data'] !== undefined)
        ? true
        : undefined,
    );
    await eventually('team B releases Ready', async () =>
      (await condition(teamB, 'releases', 'Ready'))?.status === 'True' ? true : undefined,
    );
  });

  it('degrades the target covering an object too large for the bus, names it with its size, counts it, and clears', async () => {
    await w.applier.applyAll([
      {
        apiVersion: K,
        kind: 'KollectProfile',
        metadata: { name: 'configs', namespace: teamA },
        spec: {
          targetGVK: { version: 'v1', kind: 'ConfigMap' },
          attributes: [{ name: 'keys', path: 'cel:object.data.size()', optional: true }],
        },
      },
      target(teamA, 'configs', {
        profileRef: 'configs',
        includedNamespaces: [teamA],
        labelSelector: { matchLabels: { 'kollect-e2e': 'big' } },
      }),
    ]);
    await eventually('configs collecting', async () =>
      (await condition(teamA, 'configs', 'Ready'))?.status === 'True' ? true : undefined,
    );
    const cm = (name: string, blob: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: teamA, labels: { 'kollect-e2e': 'big' } },
      data: { blob },
    });
    const huge = await w.applier.apply<{ metadata: { uid: string } }>(cm('huge', 'x'.repeat(1_048_000)));
    const c = await eventually('PayloadTooLarge', async () => {
      const d = await condition(teamA, 'configs', 'Degraded');
      return d?.status === 'True' && d.reason === 'PayloadTooLarge' ? d : undefined;
    });
    expect(c.message).toMatch(new RegExp(`${teamA}/huge \\(\\d{7} bytes\\)`));
    expect(await condition(teamA, 'configs', 'Ready')).toBeUndefined();
    const gauge = (): Promise<number> =>
      w.stackOrThrow.metricSum('controller', 'kollect_objects_oversized', { resource: 'configmaps' });
    expect(await gauge()).toBe(1);
    // The other targets of the namespace are not concerned.
    expect((await condition(teamA, 'releases', 'Degraded'))?.status).not.toBe('True');

    // It shrinks: the condition clears and its row arrives.
    await w.applier.mergePatch(cm('huge', ''), { data: { blob: 'small' } });
    await eventually('cleared after the shrink', async () =>
      (await condition(teamA, 'configs', 'Ready'))?.status === 'True' ? true : undefined,
    );
    await eventually('the shrunk object collected', async () =>
      rowsOf(teamA, 'configs').some((i) => i.uid === huge.metadata.uid) ? true : undefined,
    );
    expect(await gauge()).toBe(0);

    // Another one, deleted while oversized: cleared too.
    await w.applier.apply(cm('huge2', 'y'.repeat(1_048_000)));
    await eventually('PayloadTooLarge again', async () =>
      (await condition(teamA, 'configs', 'Degraded'))?.reason === 'PayloadTooLarge' ? true : undefined,
    );
    await w.applier.delete(cm('huge2', ''));
    await eventually('cleared after the delete', async () =>
      (await condition(teamA, 'configs', 'Ready'))?.status === 'True' ? true : undefined,
    );
    expect(await gauge()).toBe(0);
  });

  it('collects a kind named by a resource rule other than the profile kind, with the profile GVK on its rows', async () => {
    await w.applier.applyAll([
      {
        apiVersion: K,
        kind: 'KollectProfile',
        metadata: { name: 'kinds', namespace: teamB },
        spec: {
          targetGVK: { group: 'apps', version: 'v1', kind: 'Deployment' },
          attributes: [
            { name: 'kind', path: 'cel:object.kind' },
            { name: 'labels', path: '$.metadata.labels', optional: true },
          ],
        },
      },
      target(teamB, 'rule-configmaps', {
        profileRef: 'kinds',
        includedNamespaces: [teamB],
        resourceRules: [
          { gvk: { version: 'v1', kind: 'ConfigMap' }, matchLabels: { 'kollect-e2e': 'rule' } },
        ],
      }),
    ]);
    const ruled = await w.applier.apply<{ metadata: { uid: string } }>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'ruled', namespace: teamB, labels: { 'kollect-e2e': 'rule' } },
      data: { a: '1' },
    });
    await w.applier.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'unruled', namespace: teamB },
      data: { a: '1' },
    });
    const rows = await eventually(
      'the ConfigMap row',
      async () => {
        const r = rowsOf(teamB, 'rule-configmaps');
        return r.length > 0 ? r : undefined;
      },
      90_000,
    );
    expect(rows.map((i) => [i.uid, i.group, i.kind, i.attributes['kind']])).toEqual([
      [ruled.metadata.uid, 'apps', 'Deployment', 'ConfigMap'],
    ]);
    // The profile's own kind is not collected by a target whose rules name another. Proof that a
    // Deployment was extracted under this plan: touch one and wait for its web-deployments row.
    const touched = `t${Date.now().toString(36)}`;
    const shop = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'shop-000', namespace: teamB },
    };
    await w.applier.mergePatch(shop, { metadata: { labels: { 'kollect-e2e-touch': touched } } });
    await eventually('the touched deployment extracted', async () =>
      rowsOf(teamB, 'web-deployments').some(
        (i) =>
          i.name === 'shop-000' &&
          (i.attributes['labels'] as Record<string, string> | undefined)?.['kollect-e2e-touch'] === touched,
      )
        ? true
        : undefined,
    );
    expect(rowsOf(teamB, 'rule-configmaps').map((i) => i.attributes['kind'])).toEqual(['ConfigMap']);
    await w.applier.delete({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'ruled', namespace: teamB },
    });
    await eventually('the row removed', async () =>
      rowsOf(teamB, 'rule-configmaps').length === 0 ? true : undefined,
    );
  });

  /** Every Secret message the object stream still holds. */
  async function replayLog(): Promise<ObjectMessage[]> {
    const names = busNames(w.prefix);
    const out: ObjectMessage[] = [];
    await replaySubject(
      watchBus,
      names.streams.objects,
      names.subject(subjects.objectsOfGvr(w.cluster, SECRETS)),
      (m) => void out.push(m.json<ObjectMessage>()),
    );
    return out;
  }
});
