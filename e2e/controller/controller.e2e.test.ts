/**
 * The controller against the real test bed (kube-apiserver + NATS): CRs in, plan in KV and CR
 * status out; scope denial; worker reports turned into status; finalizers on delete.
 *
 *   npm run testbed -- up nats kube-apiserver
 *   eval "$(npm run -s testbed -- env)"
 *   npx vitest run --project e2e e2e/controller
 */
import { connectBus, encodeJson, type Bus } from '@kollect/bus';
import {
  BUS_SCHEMA_VERSION,
  subjects,
  type AggregatorStatusReport,
  type ExtractionStatusReport,
  type SinkStatusReport,
} from '@kollect/contracts';
import type { KubeClient, KubeObject } from '@kollect/kube';
import type { CompiledPlan } from '@kollect/plan';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testbedEnv } from '../support/testbed.js';
import {
  adminClient,
  applyCrds,
  conditionOf,
  create,
  createNamespace,
  deleteTopology,
  eventually,
  get,
  mergePatch,
  readPlan,
  remove,
  startReplica,
  type Replica,
  tryGet,
  uniqueName,
  uniquePrefix,
} from './harness.js';

let kube: KubeClient;
let replica: Replica;
let bus: Bus;
const prefix = uniquePrefix('ctl');
const cluster = uniqueName('c');
const nsA = uniqueName('team-a');
const nsB = uniqueName('team-b');
const leaseNs = uniqueName('lease');

const deploymentProfile = {
  targetGVK: { group: 'apps', version: 'v1', kind: 'Deployment' },
  attributes: [
    { name: 'image', path: '$.spec.template.spec.containers[0].image', type: 'string' },
    { name: 'containerCount', path: 'cel:size(object.spec.template.spec.containers)', type: 'int' },
  ],
};

async function plan(): Promise<CompiledPlan | undefined> {
  return readPlan(bus, prefix, cluster);
}

async function publish(source: 'sink' | 'aggregator' | 'extractor', body: unknown): Promise<void> {
  await bus.js.publish(`${prefix}.${subjects.status(source, cluster)}`, encodeJson(body));
}

beforeAll(async () => {
  kube = adminClient();
  await applyCrds(kube);
  await createNamespace(kube, nsA, { team: 'a' });
  await createNamespace(kube, nsB, { team: 'b' });
  await createNamespace(kube, leaseNs);
  bus = await connectBus({ servers: testbedEnv.natsUrl, name: 'e2e-controller' });
  replica = await startReplica(
    { prefix, cluster, leaseNamespace: leaseNs, watchNamespaces: [nsA, nsB] },
    'solo',
  );
  await eventually('controller leads', () => (replica.leading() ? true : undefined));
});

afterAll(async () => {
  expect(await replica?.stop()).toBe(0);
  if (bus) {
    await deleteTopology(bus, prefix);
    await bus.close();
  }
  kube?.close();
});

describe('controller: CRs → plan in KV and status (SEED-SPEC §3.4, §3.6)', () => {
  it('Profile + Target + Inventory produce a plan with the expected watch, target and inventory', async () => {
    await create(kube, 'KollectProfile', nsA, 'deployment-images', deploymentProfile);
    await create(kube, 'KollectDatabaseSink', nsA, 'portal-postgres', {
      type: 'postgres',
      connectionTest: false,
      postgres: { databaseRef: { name: 'inventory-dsn' }, table: 'inventory_items' },
    });
    await create(kube, 'KollectTarget', nsA, 'web-deployments', {
      profileRef: 'deployment-images',
      namespaceSelector: { matchLabels: { team: 'a' } },
      labelSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'shop' } },
    });
    await create(kube, 'KollectInventory', nsA, 'team-inventory', {
      exportMinInterval: '45s',
      databaseSinkRefs: ['portal-postgres'],
    });

    const p = await eventually('a plan with the target and the inventory', async () => {
      const v = await plan();
      return v &&
        v.targets.some((t) => t.name === 'web-deployments') &&
        v.inventories.some((i) => i.ref.name === 'team-inventory')
        ? v
        : undefined;
    });
    expect(p.watches).toEqual([
      {
        gvr: { group: 'apps', version: 'v1', resource: 'deployments' },
        gvk: { group: 'apps', version: 'v1', kind: 'Deployment' },
        namespaced: true,
        namespaces: [nsA],
      },
    ]);
    const t = p.targets.find((x) => x.name === 'web-deployments')!;
    expect(t).toMatchObject({
      kind: 'KollectTarget',
      namespace: nsA,
      profileKey: `${nsA}/deployment-images`,
      namespaces: [nsA],
      labelSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'shop' } },
    });
    expect(t.feeds.map((f) => f.inventory)).toEqual([
      { kind: 'KollectInventory', namespace: nsA, name: 'team-inventory' },
    ]);
    const inv = p.inventories.find((x) => x.ref.name === 'team-inventory')!;
    expect(inv.targets).toEqual([`KollectTarget/${nsA}/web-deployments`]);
    expect(inv.bindings).toEqual([
      {
        sink: { family: 'database', namespace: nsA, name: 'portal-postgres' },
        type: 'postgres',
        exportMinIntervalMs: 45_000,
        maxExportBytes: 1_572_864,
      },
    ]);
    expect(p.profiles[`${nsA}/deployment-images`]?.gvr).toEqual({
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
    });
    expect(p.sinks.map((s) => s.ref.name)).toEqual(['portal-postgres']);
  });

  it('writes conditions with observedGeneration and the filter status, and adds the cleanup finalizers', async () => {
    const target = await eventually('target status', async () => {
      const o = await get(kube, 'KollectTarget', nsA, 'web-deployments');
      return conditionOf(o, 'Ready') ? o : undefined;
    });
    expect(conditionOf(target, 'Ready')).toMatchObject({
      status: 'True',
      reason: 'Collecting',
      observedGeneration: 1,
    });
    expect(conditionOf(target, 'Synced')).toMatchObject({ status: 'True', reason: 'Collecting' });
    expect(conditionOf(target, 'Degraded')).toBeUndefined();
    expect(target['status']).toMatchObject({
      observedGeneration: 1,
      matchedNamespaces: [nsA],
      effectiveNamespaces: [nsA],
      activeResourceRules: 0,
    });
    expect(target.metadata?.['finalizers']).toContain('kollect.dev/target-cleanup');

    const inv = await eventually('inventory status', async () => {
      const o = await get(kube, 'KollectInventory', nsA, 'team-inventory');
      return conditionOf(o, 'SinkReachable') ? o : undefined;
    });
    expect(conditionOf(inv, 'SinkReachable')).toMatchObject({ status: 'True', reason: 'SinkResolved' });
    expect(conditionOf(inv, 'Synced')).toMatchObject({ status: 'False', reason: 'Progressing' });
    expect((inv['status'] as { sinkExports?: { name: string }[] }).sinkExports?.map((e) => e.name)).toEqual([
      'database/portal-postgres',
    ]);
    expect(inv.metadata?.['finalizers']).toContain('kollect.dev/inventory-cleanup');
  });

  it('a spec change bumps observedGeneration and the plan generation', async () => {
    const before = (await plan())!.generation;
    await mergePatch(kube, 'KollectInventory', nsA, 'team-inventory', { spec: { exportMinInterval: '2m' } });
    const p = await eventually('plan with the new interval', async () => {
      const v = await plan();
      return v?.inventories.find((i) => i.ref.name === 'team-inventory')?.bindings[0]?.exportMinIntervalMs ===
        120_000
        ? v
        : undefined;
    });
    expect(p.generation).toBeGreaterThan(before);
    await eventually('observedGeneration 2', async () => {
      const o = await get(kube, 'KollectInventory', nsA, 'team-inventory');
      return (o['status'] as { observedGeneration?: number }).observedGeneration === 2 &&
        conditionOf(o, 'Synced')?.observedGeneration === 2
        ? true
        : undefined;
    });
  });

  it('turns sink and aggregator reports into sinkExports, itemCount and Ready/Synced', async () => {
    const inventory = { kind: 'KollectInventory' as const, namespace: nsA, name: 'team-inventory' };
    const agg: AggregatorStatusReport = {
      schemaVersion: BUS_SCHEMA_VERSION,
      cluster,
      inventory,
      planGeneration: 1,
      itemCount: 3,
      exportGeneration: 1,
      checksum: 'ab'.repeat(32),
      lastExportedAt: new Date().toISOString(),
      gateOpen: true,
      at: new Date().toISOString(),
    };
    const sink: SinkStatusReport = {
      schemaVersion: BUS_SCHEMA_VERSION,
      cluster,
      inventory,
      sink: { family: 'database', namespace: nsA, name: 'portal-postgres' },
      sinkType: 'postgres',
      exportGeneration: 1,
      checksum: 'ab'.repeat(32),
      itemCount: 3,
      outcome: 'exported',
      at: '2026-02-01T12:00:00Z',
    };
    await publish('aggregator', agg);
    await publish('sink', sink);
    const inv = await eventually('exported status', async () => {
      const o = await get(kube, 'KollectInventory', nsA, 'team-inventory');
      return conditionOf(o, 'Synced')?.reason === 'Exported' ? o : undefined;
    });
    expect(conditionOf(inv, 'Ready')).toMatchObject({ status: 'True', reason: 'Exported' });
    expect(conditionOf(inv, 'SinkReachable')).toMatchObject({ status: 'True', reason: 'ExportSucceeded' });
    expect(inv['status']).toMatchObject({
      itemCount: 3,
      exportGeneration: 1,
      lastExportTime: '2026-02-01T12:00:00Z',
    });
    const entry = (inv['status'] as { sinkExports: Record<string, unknown>[] }).sinkExports[0]!;
    expect(entry).toMatchObject({
      name: 'database/portal-postgres',
      namespace: nsA,
      lastChecksum: 'ab'.repeat(32),
      exportGeneration: 1,
    });

    // A failure of the only sink degrades the inventory (Ready/Synced removed) and emits a Warning event.
    await publish('sink', {
      ...sink,
      exportGeneration: 2,
      outcome: 'failed',
      errorClass: 'terminal',
      reason: 'AuthFailed',
      message: 'password authentication failed',
    });
    const failed = await eventually('degraded', async () => {
      const o = await get(kube, 'KollectInventory', nsA, 'team-inventory');
      return conditionOf(o, 'Degraded')?.reason === 'ExportTerminal' ? o : undefined;
    });
    expect(conditionOf(failed, 'Ready')).toBeUndefined();
    expect(conditionOf(failed, 'Synced')).toBeUndefined();
    const events = await eventually('ExportTerminal event', async () => {
      const list = await kube.request<{
        items: { reason: string; type: string; regarding: { name: string } }[];
      }>('GET', `/apis/events.k8s.io/v1/namespaces/${nsA}/events`);
      const mine = list.items.filter((e) => e.regarding.name === 'team-inventory');
      return mine.some((e) => e.reason === 'ExportTerminal') ? mine : undefined;
    });
    expect(events.every((e) => e.type === 'Warning' || e.type === 'Normal')).toBe(true);
  });

  it('extractor failures degrade the target with ExtractionFailed and a count, and clear again', async () => {
    const report = (failed: ExtractionStatusReport['failed'], cleared: string[]): ExtractionStatusReport => ({
      schemaVersion: BUS_SCHEMA_VERSION,
      cluster,
      target: { kind: 'KollectTarget', namespace: nsA, name: 'web-deployments' },
      planGeneration: 1,
      failed,
      cleared,
      at: new Date().toISOString(),
    });
    await publish(
      'extractor',
      report(
        [
          {
            uid: 'u-1',
            namespace: nsA,
            name: 'api',
            reason: 'ExtractionFailed',
            message: 'attribute containerCount: no such key: spec',
          },
        ],
        [],
      ),
    );
    const t = await eventually('ExtractionFailed', async () => {
      const o = await get(kube, 'KollectTarget', nsA, 'web-deployments');
      return conditionOf(o, 'Degraded')?.reason === 'ExtractionFailed' ? o : undefined;
    });
    expect(t['status']).toMatchObject({
      extractionFailures: 1,
      lastExtractionError: `${nsA}/api: attribute containerCount: no such key: spec`,
    });
    await publish('extractor', report([], ['u-1']));
    await eventually('recovered', async () => {
      const o = await get(kube, 'KollectTarget', nsA, 'web-deployments');
      return conditionOf(o, 'Ready')?.reason === 'Collecting' &&
        (o['status'] as { extractionFailures?: number }).extractionFailures === 0
        ? true
        : undefined;
    });
  });
});

describe('controller: KollectScope denial (SEED-SPEC §7.2)', () => {
  it('a GVK outside the scope degrades the target with ScopeGVKDenied, emits a Warning, and keeps it out of the plan', async () => {
    await create(kube, 'KollectScope', nsB, 'tenant', { allowedGVKs: [{ version: 'v1', kind: 'Service' }] });
    await create(kube, 'KollectProfile', nsB, 'deployments', deploymentProfile);
    await create(kube, 'KollectTarget', nsB, 'denied', {
      profileRef: 'deployments',
      namespaceSelector: { matchLabels: { team: 'b' } },
    });
    const t = await eventually('Degraded', async () => {
      const o = await get(kube, 'KollectTarget', nsB, 'denied');
      return conditionOf(o, 'Degraded') ? o : undefined;
    });
    expect(conditionOf(t, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'ScopeGVKDenied',
      observedGeneration: 1,
    });
    expect(conditionOf(t, 'Degraded')?.message).toContain('apps/v1/Deployment');
    expect(conditionOf(t, 'Ready')).toBeUndefined();
    expect(conditionOf(t, 'Synced')).toBeUndefined();
    const p = (await plan())!;
    expect(p.targets.some((x) => x.namespace === nsB)).toBe(false);
    await eventually('ScopeGVKDenied event', async () => {
      const list = await kube.request<{
        items: { reason: string; type: string; regarding: { name: string } }[];
      }>('GET', `/apis/events.k8s.io/v1/namespaces/${nsB}/events`);
      return list.items.some(
        (e) => e.regarding.name === 'denied' && e.reason === 'ScopeGVKDenied' && e.type === 'Warning',
      )
        ? true
        : undefined;
    });
  });

  it('an inventory binding a sink outside the allow-list is held with ScopeSinkDenied', async () => {
    await mergePatch(kube, 'KollectScope', nsB, 'tenant', { spec: { databaseSinkRefs: ['approved-db'] } });
    await create(kube, 'KollectDatabaseSink', nsB, 'other-db', {
      type: 'postgres',
      postgres: { databaseRef: { name: 'dsn' }, table: 't' },
    });
    await create(kube, 'KollectInventory', nsB, 'inv', { databaseSinkRefs: ['other-db'] });
    const inv = await eventually('ScopeSinkDenied', async () => {
      const o = await get(kube, 'KollectInventory', nsB, 'inv');
      return conditionOf(o, 'Degraded')?.reason === 'ScopeSinkDenied' ? o : undefined;
    });
    expect(conditionOf(inv, 'Ready')).toBeUndefined();
    const p = await eventually('plan hold', async () => {
      const v = await plan();
      return v?.inventories.find((i) => i.ref.namespace === nsB && i.ref.name === 'inv')?.hold
        ? v
        : undefined;
    });
    const held = p.inventories.find((i) => i.ref.namespace === nsB)!;
    expect(held.hold?.reason).toBe('ScopeSinkDenied');
    expect(held.bindings).toEqual([]);
  });
});

describe('controller: finalizers on delete (SEED-SPEC §6.4)', () => {
  it('a deleted target leaves the plan first, then loses its finalizer', async () => {
    await remove(kube, 'KollectTarget', nsA, 'web-deployments');
    await eventually('target gone', async () =>
      (await tryGet(kube, 'KollectTarget', nsA, 'web-deployments')) === undefined ? true : undefined,
    );
    const p = (await plan())!;
    expect(p.targets.some((t) => t.name === 'web-deployments')).toBe(false);
    expect(p.inventories.find((i) => i.ref.name === 'team-inventory')?.targets).toEqual([]);
  });

  it('a deleted inventory waits for the final empty export on its relational sinks', async () => {
    await remove(kube, 'KollectInventory', nsA, 'team-inventory');
    const p = await eventually('deleting in the plan', async () => {
      const v = await plan();
      return v?.inventories.find((i) => i.ref.name === 'team-inventory')?.deleting ? v : undefined;
    });
    const inv = p.inventories.find((i) => i.ref.name === 'team-inventory')!;
    expect(inv.bindings.map((b) => b.sink.family)).toEqual(['database']);
    // Without the aggregator's final export the finalizer stays. The status says what the cleanup
    // waits for; the finalizer pass asks the same cleanup progress, so once the controller says
    // "waiting for the aggregator" it has seen the deletion and decided to keep the finalizer.
    const still = await eventually('CleanupInProgress waiting for the aggregator', async () => {
      const o = await tryGet(kube, 'KollectInventory', nsA, 'team-inventory');
      const c = conditionOf(o, 'Synced');
      return c?.reason === 'CleanupInProgress' && c.message.includes('waiting for the aggregator')
        ? (o as KubeObject)
        : undefined;
    });
    expect(still.metadata?.['finalizers']).toContain('kollect.dev/inventory-cleanup');

    const inventory = { kind: 'KollectInventory' as const, namespace: nsA, name: 'team-inventory' };
    await publish('aggregator', {
      schemaVersion: BUS_SCHEMA_VERSION,
      cluster,
      inventory,
      planGeneration: p.generation,
      itemCount: 0,
      exportGeneration: 3,
      checksum: 'cd'.repeat(32),
      gateOpen: true,
      finalExportGeneration: 3,
      at: new Date().toISOString(),
    } satisfies AggregatorStatusReport);
    // The controller took the report (the cleanup now waits for the relational sink), and the
    // finalizer stays until that sink applied the final export.
    const waitingForSink = await eventually('CleanupInProgress waiting for the sink', async () => {
      const o = await tryGet(kube, 'KollectInventory', nsA, 'team-inventory');
      return conditionOf(o, 'Synced')?.message.includes(
        'waiting for relational sinks to apply export generation 3',
      )
        ? (o as KubeObject)
        : undefined;
    });
    expect(waitingForSink.metadata?.['finalizers']).toContain('kollect.dev/inventory-cleanup');
    await publish('sink', {
      schemaVersion: BUS_SCHEMA_VERSION,
      cluster,
      inventory,
      sink: { family: 'database', namespace: nsA, name: 'portal-postgres' },
      sinkType: 'postgres',
      exportGeneration: 3,
      checksum: 'cd'.repeat(32),
      itemCount: 0,
      outcome: 'exported',
      at: new Date().toISOString(),
    } satisfies SinkStatusReport);
    await eventually('inventory gone', async () =>
      (await tryGet(kube, 'KollectInventory', nsA, 'team-inventory')) === undefined ? true : undefined,
    );
    await eventually('inventory out of the plan', async () =>
      (await plan())?.inventories.some((i) => i.ref.name === 'team-inventory') ? undefined : true,
    );
  });
});
