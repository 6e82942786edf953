/**
 * Two controller replicas on the real test bed: only the Lease holder acts (publishes plans,
 * writes status); when it stops, the other takes over and continues the plan generation.
 */
import { connectBus, type Bus } from '@kollect/bus';
import type { KubeClient } from '@kollect/kube';
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
  sleep,
  startReplica,
  type Replica,
  uniqueName,
  uniquePrefix,
} from './harness.js';

let kube: KubeClient;
let bus: Bus;
const prefix = uniquePrefix('lead');
const cluster = uniqueName('c');
const ns = uniqueName('team');
const leaseNs = uniqueName('lease');
const replicas: Replica[] = [];

beforeAll(async () => {
  kube = adminClient();
  await applyCrds(kube);
  await createNamespace(kube, ns);
  await createNamespace(kube, leaseNs);
  bus = await connectBus({ servers: testbedEnv.natsUrl, name: 'e2e-leader' });
  const env = { prefix, cluster, leaseNamespace: leaseNs, watchNamespaces: [ns] };
  replicas.push(...(await Promise.all(['replica-a', 'replica-b'].map((name) => startReplica(env, name)))));
});

afterAll(async () => {
  for (const r of replicas) await r.stop().catch(() => undefined);
  if (bus) {
    await deleteTopology(bus, prefix);
    await bus.close();
  }
  kube?.close();
});

describe('controller leader election (Lease)', () => {
  it('exactly one replica leads, and only the leader publishes plans and writes status', async () => {
    const leader = await eventually('a leader', () => replicas.find((r) => r.leading()));
    const follower = replicas.find((r) => r !== leader)!;
    await create(kube, 'KollectProfile', ns, 'p', {
      targetGVK: { group: 'apps', version: 'v1', kind: 'Deployment' },
      attributes: [{ name: 'image', path: '$.spec.template.spec.containers[0].image' }],
    });
    await create(kube, 'KollectTarget', ns, 't', { profileRef: 'p' });
    await eventually('plan with the target', async () =>
      (await readPlan(bus, prefix, cluster))?.targets.some((t) => t.name === 't') ? true : undefined,
    );
    await eventually('target status', async () =>
      conditionOf(await get(kube, 'KollectTarget', ns, 't'), 'Ready') ? true : undefined,
    );
    // Sample for a while: never two leaders, and the follower never publishes.
    for (let i = 0; i < 20; i++) {
      expect(replicas.filter((r) => r.leading()).length).toBe(1);
      await sleep(100);
    }
    expect(leader.published().length).toBeGreaterThan(0);
    expect(follower.published()).toEqual([]);
    // The follower wrote nothing either: every status write and finalizer is logged by the actor.
    expect(follower.logs.filter((l) => l['msg'] === 'finalizer')).toEqual([]);
    expect(leader.logs.filter((l) => l['msg'] === 'finalizer').length).toBeGreaterThan(0);
    const lease = await kube.request<{ spec: { holderIdentity: string } }>(
      'GET',
      `/apis/coordination.k8s.io/v1/namespaces/${leaseNs}/leases/kollect-controller`,
    );
    expect(lease.spec.holderIdentity).toBe(leader.identity());
  });

  it('when the leader stops, the other replica takes over and continues the plan generation', async () => {
    const leader = replicas.find((r) => r.leading())!;
    const follower = replicas.find((r) => r !== leader)!;
    const before = (await readPlan(bus, prefix, cluster))!.generation;
    expect(await leader.stop()).toBe(0);
    await eventually('the follower leads', () => (follower.leading() ? true : undefined), 15_000);
    await mergePatch(kube, 'KollectTarget', ns, 't', { spec: { includedNamespaces: [ns] } });
    const p = await eventually('plan from the new leader', async () => {
      const v = await readPlan(bus, prefix, cluster);
      return v && v.generation > before && v.targets[0]?.namespaces?.length === 1 ? v : undefined;
    });
    expect(p.generation).toBe(before + 1);
    // The log line may trail the KV write by a moment.
    await eventually('publication logged', () =>
      follower.published().at(-1) === p.generation ? true : undefined,
    );
    await eventually('status written by the new leader', async () => {
      const o = await get(kube, 'KollectTarget', ns, 't');
      return (o['status'] as { observedGeneration?: number }).observedGeneration === 2 ? true : undefined;
    });
  });

  it('a crashed leader (SIGKILL, Lease not released) is replaced once the Lease expires', async () => {
    const leader = replicas.find((r) => r.leading())!;
    const standby = await startReplica(
      { prefix, cluster, leaseNamespace: leaseNs, watchNamespaces: [ns] },
      'replica-c',
    );
    replicas.push(standby);
    // It campaigned and found the Lease held by the leader: from then on it only waits.
    await eventually('the standby observes the leader', () =>
      standby.logs.some((l) => l['msg'] === 'observed leader' && l['leader'] === leader.identity())
        ? true
        : undefined,
    );
    expect(standby.leading()).toBe(false);
    const before = (await readPlan(bus, prefix, cluster))!.generation;
    await leader.kill();
    await eventually('the standby leads', () => (standby.leading() ? true : undefined), 20_000);
    await mergePatch(kube, 'KollectTarget', ns, 't', { spec: { watchMode: 'OptIn' } });
    const p = await eventually('plan from the standby', async () => {
      const v = await readPlan(bus, prefix, cluster);
      return v && v.targets[0]?.watchMode === 'OptIn' ? v : undefined;
    });
    expect(p.generation).toBe(before + 1);
    // The log line may trail the KV write by a moment.
    await eventually('publication logged', () =>
      standby.published().at(-1) === p.generation ? true : undefined,
    );
  });
});
