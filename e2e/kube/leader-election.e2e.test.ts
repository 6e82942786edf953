/**
 * Lease leader election between two electors against the real apiserver: one leads at a time,
 * a released lease is taken over at once, and a leader that can no longer renew steps down
 * before a successor (which waits out the lease) takes over.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderElector, type KubeClient } from '@kollect/kube';
import { requireTestbed, uniqueName } from '../support/testbed.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { adminClient, apiserverAddress, until } from '../support/kube.js';

interface Timeline {
  log: { who: string; what: 'start' | 'stop'; at: number }[];
}

interface Timings {
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
}

/** Short timings: the expiry test waits a lease out. */
const FAST: Timings = { leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.5 };
/** The elector's retry jitter (`jitterUp(retryPeriod, 0.2)` in @kollect/kube's lease.ts). */
const RETRY_JITTER = 0.2;

function elector(
  client: KubeClient,
  name: string,
  who: string,
  t: Timeline,
  timings: Timings = FAST,
): LeaderElector {
  return new LeaderElector(client, {
    namespace: 'default',
    name,
    identity: who,
    ...timings,
    onStartedLeading: () => t.log.push({ who, what: 'start', at: Date.now() }),
    onStoppedLeading: () => t.log.push({ who, what: 'stop', at: Date.now() }),
  });
}

/** No two leaders at once: replaying start/stop, at most one holder at any moment. */
function neverTwoLeaders(t: Timeline): boolean {
  const leading = new Set<string>();
  for (const e of [...t.log].sort((a, b) => a.at - b.at)) {
    if (e.what === 'start') {
      if (leading.size > 0) return false;
      leading.add(e.who);
    } else leading.delete(e.who);
  }
  return true;
}

describe('Lease leader election (real apiserver)', () => {
  let client: KubeClient;
  const cleanup: (() => Promise<void> | void)[] = [];

  beforeAll(() => {
    requireTestbed('kube-apiserver');
    client = adminClient();
  });

  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
    client?.close();
  });

  it('hands over at once when the leader releases the lease', async () => {
    const lease = uniqueName('lease-release');
    const t: Timeline = { log: [] };
    // A long lease against a short retry period, so "took the released lease" and "waited the
    // lease out" are seconds apart, whatever the load on the machine.
    const timings: Timings = { leaseDurationSeconds: 12, renewDeadlineSeconds: 8, retryPeriodSeconds: 0.5 };
    const a = elector(client, lease, 'a', t, timings);
    const b = elector(client, lease, 'b', t, timings);
    cleanup.push(
      () => a.stop(),
      () => b.stop(),
    );
    a.start();
    await a.waitForLeadership(AbortSignal.timeout(10_000));
    b.start();
    // b has campaigned (it read the Lease and saw a holding it) and stays a follower.
    await until(() => b.observedLeader === 'a', 10_000, 'b to observe a as the leader');
    expect(b.isLeader).toBe(false);

    const released = Date.now();
    await a.stop();
    await b.waitForLeadership(AbortSignal.timeout(30_000));
    // Without the release, b takes over only once the lease expires: at the earliest
    // leaseDuration after the last renewal it saw, which is at most one renew period (a) plus one
    // jittered retry period (b's poll) before the release. Anything faster proves the release
    // was used; the margin over the expected ~retryPeriod is several seconds for a loaded machine.
    const expiryAtTheEarliest =
      (timings.leaseDurationSeconds - timings.retryPeriodSeconds * (2 + RETRY_JITTER)) * 1000;
    expect(Date.now() - released).toBeLessThan(expiryAtTheEarliest);
    expect(a.isLeader).toBe(false);
    const lr = await client.request<{ spec: { holderIdentity: string; leaseTransitions: number } }>(
      'GET',
      `/apis/coordination.k8s.io/v1/namespaces/default/leases/${lease}`,
    );
    expect(lr.spec.holderIdentity).toBe('b');
    expect(lr.spec.leaseTransitions).toBe(1);
    expect(neverTwoLeaders(t)).toBe(true);
    await b.stop();
  });

  it('a leader cut off from the apiserver steps down; the other takes over after the lease expires', async () => {
    const lease = uniqueName('lease-dies');
    const t: Timeline = { log: [] };
    const { host, port } = apiserverAddress();
    const proxy = await TcpProxy.start(host, port);
    const doomedClient = adminClient(proxy.port);
    cleanup.push(async () => {
      doomedClient.close();
      await proxy.close();
    });
    const doomed = elector(doomedClient, lease, 'doomed', t);
    const heir = elector(client, lease, 'heir', t);
    cleanup.push(
      () => doomed.stop(),
      () => heir.stop(),
    );
    doomed.start();
    await doomed.waitForLeadership(AbortSignal.timeout(10_000));
    heir.start();
    await until(() => heir.observedLeader === 'doomed', 10_000, 'the heir to observe the leader');
    expect(heir.isLeader).toBe(false);

    // The leader loses the apiserver (network partition / hung process): no release.
    proxy.refuse(true);
    proxy.cut();
    await heir.waitForLeadership(AbortSignal.timeout(15_000));
    await until(() => !doomed.isLeader, 5000, 'the cut-off leader to step down');
    const stop = t.log.find((e) => e.who === 'doomed' && e.what === 'stop')!;
    const start = t.log.find((e) => e.who === 'heir' && e.what === 'start')!;
    expect(stop.at).toBeLessThan(start.at);
    expect(neverTwoLeaders(t)).toBe(true);
    await heir.stop();
    await doomed.stop();
  });
});
