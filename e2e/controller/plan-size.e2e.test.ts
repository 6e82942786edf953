/**
 * A plan larger than one KV value is never published: against its own nats-server with a small
 * `max_payload` (so a few CRs suffice), the controller keeps the published plan in force, marks
 * exactly the CRs whose change is not running `Degraded/PlanTooLarge`, counts it, keeps the
 * finalizers of targets deleted meanwhile, and publishes again as soon as the plan fits.
 *
 *   npm run testbed -- up nats kube-apiserver
 *   eval "$(npm run -s testbed -- env)"
 *   npx vitest run --project e2e e2e/controller/plan-size
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBus, type Bus } from '@kollect/bus';
import type { KubeClient } from '@kollect/kube';
import { binPath } from '@kollect/testbed';
import { hasTestbed } from '../support/testbed.js';
import {
  adminClient,
  applyCrds,
  conditionOf,
  create,
  createNamespace,
  eventually,
  get,
  mergePatch,
  readPlan,
  remove,
  startReplica,
  tryGet,
  uniqueName,
  uniquePrefix,
  type Replica,
} from './harness.js';

const run = hasTestbed('nats', 'kube-apiserver') ? describe : describe.skip;
/** Small enough that ~20 targets do not fit (the plan stays plain JSON below 64 KiB). */
const MAX_PAYLOAD = 8192;
const EXTRA = 20;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

run('controller: a plan too large for one KV value', () => {
  let kube: KubeClient;
  let nats: ChildProcess;
  let natsUrl: string;
  let dir: string;
  let bus: Bus;
  let replica: Replica;
  const prefix = uniquePrefix('psz');
  const cluster = uniqueName('c');
  const ns = uniqueName('plan-size');
  const leaseNs = uniqueName('lease');
  const extra = Array.from({ length: EXTRA }, (_, i) => `extra-${String(i).padStart(2, '0')}`);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kollect-plan-size-'));
    const port = await freePort();
    natsUrl = `nats://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'nats.conf'),
      [
        `listen: 127.0.0.1:${port}`,
        `max_payload: ${MAX_PAYLOAD}`,
        'jetstream {',
        `  store_dir: ${JSON.stringify(join(dir, 'js'))}`,
        '  max_memory_store: 64MB',
        '  max_file_store: 256MB',
        '}',
      ].join('\n'),
    );
    nats = spawn(binPath('nats-server'), ['-c', join(dir, 'nats.conf')], { stdio: 'ignore' });
    bus = await eventually('private nats-server up', async () =>
      connectBus({ servers: natsUrl, name: 'e2e-plan-size' }).catch(() => undefined),
    );
    kube = adminClient();
    await applyCrds(kube);
    await createNamespace(kube, ns);
    await createNamespace(kube, leaseNs);
    replica = await startReplica(
      {
        prefix,
        cluster,
        leaseNamespace: leaseNs,
        watchNamespaces: [ns],
        extra: { KOLLECT_NATS_URL: natsUrl, KOLLECT_RESYNC_INTERVAL: '2s' },
      },
      'plan-size',
    );
    await eventually('controller leads', () => (replica.leading() ? true : undefined));
  }, 180_000);

  afterAll(async () => {
    await replica?.stop();
    await bus?.close();
    nats?.kill('SIGTERM');
    const objects: [Parameters<typeof remove>[1], string][] = [
      ...['t0', ...extra].map((n): [Parameters<typeof remove>[1], string] => ['KollectTarget', n]),
      ['KollectInventory', 'inv'],
      ['KollectProfile', 'p'],
    ];
    for (const [kind, name] of objects) {
      await mergePatch(kube, kind, ns, name, { metadata: { finalizers: null } }).catch(() => undefined);
      await remove(kube, kind, ns, name).catch(() => undefined);
    }
    for (const n of [ns, leaseNs])
      await kube?.request('DELETE', `/api/v1/namespaces/${n}`).catch(() => undefined);
    kube?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const metric = async (name: string, label: string): Promise<number> => {
    const port = replica.logs.find((l) => l['msg'] === 'controller started')?.['port'] as number;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(name) && l.includes(label));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  const target = (name: string) => ({
    profileRef: 'p',
    includedNamespaces: [ns],
    labelSelector: { matchLabels: { 'kollect.dev/e2e-target': name } },
  });

  it('publishes a plan that fits', async () => {
    await create(kube, 'KollectProfile', ns, 'p', {
      targetGVK: { group: 'apps', version: 'v1', kind: 'Deployment' },
      attributes: [{ name: 'image', path: '$.spec.template.spec.containers[0].image' }],
    });
    await create(kube, 'KollectTarget', ns, 't0', target('t0'));
    await create(kube, 'KollectInventory', ns, 'inv', {});
    // The inventory is created after the target: a plan compiled in between has t0 and no inventory.
    const p = await eventually('a plan with t0 and inv', async () => {
      const v = await readPlan(bus, prefix, cluster);
      return v?.targets.some((t) => t.name === 't0') && v.inventories.length > 0 ? v : undefined;
    });
    expect(p.inventories.map((i) => i.ref.name)).toEqual(['inv']);
    await eventually('t0 Ready', async () =>
      conditionOf(await get(kube, 'KollectTarget', ns, 't0'), 'Ready')?.status === 'True' ? true : undefined,
    );
  });

  it('keeps the published plan, degrades exactly the CRs whose change is not running, and counts it', async () => {
    // Created one by one: the first few still fit and are published, the rest cannot be.
    for (const name of extra) await create(kube, 'KollectTarget', ns, name, target(name));
    const last = extra[extra.length - 1]!;
    const c = await eventually('PlanTooLarge on the last target', async () => {
      const d = conditionOf(await get(kube, 'KollectTarget', ns, last), 'Degraded');
      return d?.reason === 'PlanTooLarge' ? d : undefined;
    });
    expect(c.status).toBe('True');
    expect(c.message).toMatch(/over the \d+-byte limit of one KV value/);
    expect(c.message).toContain('max_payload');
    const stored = (await readPlan(bus, prefix, cluster))!;
    expect(c.message).toContain(`plan generation ${stored.generation}`);
    expect(stored.targets.some((t) => t.name === last)).toBe(false);
    // Exactly the targets the running plan lacks are degraded; those it runs say they collect.
    const running = new Set(stored.targets.map((t) => t.name));
    expect(running.has('t0')).toBe(true);
    await eventually('every status written', async () => {
      for (const name of ['t0', ...extra]) {
        const o = await get(kube, 'KollectTarget', ns, name);
        const degraded = conditionOf(o, 'Degraded')?.reason === 'PlanTooLarge';
        const ready = conditionOf(o, 'Ready')?.status === 'True';
        if (running.has(name) ? degraded || !ready : !degraded || ready) return undefined;
      }
      return true;
    });
    // the inventory's target list changed too
    await eventually('PlanTooLarge on the inventory', async () =>
      conditionOf(await get(kube, 'KollectInventory', ns, 'inv'), 'Degraded')?.reason === 'PlanTooLarge'
        ? true
        : undefined,
    );
    // Nothing more is written: the next compile (a resync) is refused too — wait until the
    // refusal counter moves, so the controller demonstrably tried again — and the stored plan is
    // still the same generation.
    const refused = await metric('kollect_plan_publish_failures_total', 'reason="too_large"');
    expect(refused).toBeGreaterThan(0);
    await eventually('another refused publication', async () =>
      (await metric('kollect_plan_publish_failures_total', 'reason="too_large"')) > refused
        ? true
        : undefined,
    );
    expect((await readPlan(bus, prefix, cluster))?.generation).toBe(stored.generation);
    expect(await metric('kollect_plan_bytes', 'encoding="stored"')).toBeGreaterThan(
      await metric('kollect_plan_max_bytes', ''),
    );
    expect(
      replica.logs.some((l) => l['msg'] === 'plan too large to publish; keeping the previous plan'),
    ).toBe(true);
  });

  it('keeps the finalizer of a target deleted meanwhile, and publishes once the plan fits again', async () => {
    // A target the running plan still holds: removing its finalizer now would orphan its rows.
    const running = (await readPlan(bus, prefix, cluster))!.targets.map((t) => t.name);
    const held = extra.find((n) => running.includes(n)) ?? 't0';
    const pending = extra[extra.length - 1]!;
    const planBytes = async (): Promise<string | undefined> =>
      /the compiled plan is (\d+) bytes/.exec(
        conditionOf(await get(kube, 'KollectTarget', ns, pending), 'Degraded')?.message ?? '',
      )?.[1];
    const bytesBefore = await planBytes();
    expect(bytesBefore).toBeDefined();
    await remove(kube, 'KollectTarget', ns, held);
    // Proof that the controller processed the delete: the plan it compiled without the target is
    // smaller, and a pending target's PlanTooLarge message names the new size. That status is
    // written after the finalizer pass of the same reconcile, so by now a finalizer would be gone.
    await eventually('a reconcile that saw the delete', async () => {
      const b = await planBytes();
      return b !== undefined && b !== bytesBefore ? true : undefined;
    });
    const still = await tryGet(kube, 'KollectTarget', ns, held);
    expect(still?.metadata?.['deletionTimestamp']).toBeDefined();
    expect(still?.metadata?.['finalizers']).toContain('kollect.dev/target-cleanup');

    for (const name of extra.filter((n) => n !== held)) await remove(kube, 'KollectTarget', ns, name);
    const remaining = held === 't0' ? [] : ['t0'];
    const p = await eventually('a new plan without the deleted targets', async () => {
      const v = await readPlan(bus, prefix, cluster);
      return v && v.targets.every((t) => remaining.includes(t.name)) ? v : undefined;
    });
    expect(p.targets.map((t) => t.name)).toEqual(remaining);
    await eventually('the deleted targets gone (finalizers removed)', async () => {
      for (const name of [held, ...extra])
        if (await tryGet(kube, 'KollectTarget', ns, name)) return undefined;
      return true;
    });
    await eventually('the inventory recovered', async () =>
      conditionOf(await get(kube, 'KollectInventory', ns, 'inv'), 'Degraded') === undefined
        ? true
        : undefined,
    );
  });
});
