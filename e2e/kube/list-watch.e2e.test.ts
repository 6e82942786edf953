/**
 * The list/watch engine against the test bed's real kube-apiserver (+etcd): paging, events,
 * stripping, resume after a cut connection, the stall watchdog on a silent connection, 410 after
 * an apiserver restart (relist + the right vanished-uid set), bookmarks, and discovery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Discovery,
  GvkNotServed,
  LAST_APPLIED_ANNOTATION,
  ListWatch,
  WatchEvent,
  listPages,
  type KubeClient,
  type KubeObject,
  type ListWatchEvent,
  type ListWatchHandler,
  type ListWatchOptions,
  type SyncInfo,
} from '@kollect/kube';
import { requireTestbed, testbed } from '../support/testbed.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import {
  adminClient,
  apiserverAddress,
  createConfigMap,
  createConfigMaps,
  createNamespace,
  deleteConfigMap,
  deleteNamespace,
  patchConfigMap,
  until,
} from '../support/kube.js';

const configmaps = { group: '', version: 'v1', resource: 'configmaps' };

/** Records what a ListWatch hands over: live objects by uid (name@rv), syncs, events. */
class Recorder implements ListWatchHandler {
  live = new Map<string, { name: string; rv: string; obj: KubeObject }>();
  deleted: string[] = [];
  syncs: SyncInfo[] = [];
  events: ListWatchEvent[] = [];
  upsert(obj: KubeObject, ctx: { uid: string; resourceVersion: string }): void {
    this.live.set(ctx.uid, { name: obj.metadata?.name ?? '', rv: ctx.resourceVersion, obj });
  }
  delete(obj: KubeObject, ctx: { uid: string }): void {
    this.live.delete(ctx.uid);
    this.deleted.push(obj.metadata?.name ?? '');
  }
  synced(info: SyncInfo): void {
    this.syncs.push({ ...info, uids: new Set(info.uids) });
  }
  names(): string[] {
    return [...this.live.values()].map((v) => v.name).sort();
  }
  count(type: string): number {
    return this.events.filter((e) => e.type === type).length;
  }
}

function start(
  client: KubeClient,
  rec: Recorder,
  opts: Omit<ListWatchOptions, 'gvr'> & { gvr?: ListWatchOptions['gvr'] },
): ListWatch {
  const lw = new ListWatch(client, rec, {
    gvr: configmaps,
    kind: 'ConfigMap',
    backoff: { initialMs: 100, maxMs: 1000 },
    relistJitterMs: 100,
    ...opts,
    onEvent: (e) => rec.events.push(e),
  });
  lw.start();
  return lw;
}

describe('kube list/watch engine (real apiserver)', () => {
  let client: KubeClient;
  const namespaces: string[] = [];
  const stops: (() => Promise<void>)[] = [];

  beforeAll(() => {
    requireTestbed('kube-apiserver');
    client = adminClient();
  });

  afterAll(async () => {
    for (const s of stops.splice(0)) await s().catch(() => undefined);
    for (const ns of namespaces) await deleteNamespace(client, ns);
    client?.close();
  });

  const ns = async (prefix: string): Promise<string> => {
    const n = await createNamespace(client, prefix);
    namespaces.push(n);
    return n;
  };

  it('lists many ConfigMaps in pages of a small limit, one consistent resourceVersion, each object once', async () => {
    const n = await ns('paged');
    await createConfigMaps(client, n, 230);
    const uids = new Set<string>();
    const rvs = new Set<string>();
    let pages = 0;
    let maxPage = 0;
    for await (const page of listPages(client, configmaps, { namespace: n, limit: 25 })) {
      pages++;
      maxPage = Math.max(maxPage, page.items.length);
      rvs.add(page.resourceVersion);
      expect(page.kind).toBe('ConfigMap');
      for (const item of page.items) uids.add(item.metadata!.uid!);
    }
    // kube-root-ca.crt is not created without a controller-manager, so exactly ours.
    expect(uids.size).toBe(230);
    expect(pages).toBe(Math.ceil(230 / 25));
    expect(maxPage).toBeLessThanOrEqual(25);
    expect(rvs.size).toBe(1);
  });

  it('sees create, update and delete, stripped and with apiVersion/kind filled in', async () => {
    const n = await ns('events');
    await createConfigMap(
      client,
      n,
      'before',
      { a: '1' },
      { annotations: { [LAST_APPLIED_ANNOTATION]: '{"huge":"copy"}', keep: 'yes' } },
    );
    const rec = new Recorder();
    const lw = start(client, rec, { namespace: n });
    stops.push(() => lw.stop());
    await until(() => rec.syncs.length === 1 && lw.state === 'watching', 15_000, 'initial sync');
    const listed = [...rec.live.values()][0]!.obj;
    expect(listed.apiVersion).toBe('v1');
    expect(listed.kind).toBe('ConfigMap');
    expect(listed.metadata?.managedFields).toBeUndefined();
    expect(listed.metadata?.annotations).toEqual({ keep: 'yes' });

    await createConfigMap(client, n, 'during');
    await until(() => rec.names().includes('during'), 15_000, 'ADDED');
    await patchConfigMap(client, n, 'during', { v: '2' });
    await until(
      () =>
        [...rec.live.values()].some(
          (v) => v.name === 'during' && (v.obj['data'] as Record<string, string>)['v'] === '2',
        ),
      15_000,
      'MODIFIED',
    );
    await deleteConfigMap(client, n, 'during');
    await until(() => rec.deleted.includes('during'), 15_000, 'DELETED');
    expect(rec.names()).toEqual(['before']);
    expect(rec.count(WatchEvent.ADDED)).toBe(1);
    expect(rec.count(WatchEvent.MODIFIED)).toBe(1);
    expect(rec.count(WatchEvent.DELETED)).toBe(1);
    expect(lw.stats.lists).toBe(1);
    await lw.stop();
  });

  it('resumes from the last resourceVersion after the connection is cut, without relisting or losing events', async () => {
    const n = await ns('cut');
    await createConfigMaps(client, n, 3);
    const { host, port } = apiserverAddress();
    const proxy = await TcpProxy.start(host, port);
    const viaProxy = adminClient(proxy.port);
    stops.push(async () => {
      viaProxy.close();
      await proxy.close();
    });
    const rec = new Recorder();
    const lw = start(viaProxy, rec, { namespace: n });
    stops.push(() => lw.stop());
    await until(() => lw.state === 'watching', 15_000, 'watching');
    const rvBefore = lw.resourceVersion;

    // Cut the link and keep it down while the cluster changes.
    proxy.refuse(true);
    proxy.cut();
    await until(() => rec.count(WatchEvent.NETWORK_ERROR) >= 1, 15_000, 'NETWORK_ERROR');
    await createConfigMap(client, n, 'while-cut');
    await deleteConfigMap(client, n, 'cm-0');
    proxy.refuse(false);

    await until(
      () => rec.names().includes('while-cut') && rec.deleted.includes('cm-0'),
      30_000,
      'events missed during the cut',
    );
    expect(lw.stats.lists).toBe(1);
    expect(rec.count(WatchEvent.RELIST)).toBe(0);
    const connects = rec.events.filter((e) => e.type === WatchEvent.CONNECT);
    expect(connects.length).toBeGreaterThanOrEqual(2);
    expect(connects.at(-1)?.resourceVersion).toBe(rvBefore);
    expect(rec.names()).toEqual(['cm-1', 'cm-2', 'while-cut']);
    await lw.stop();
  });

  it('fires the stall watchdog on a silent connection and resumes the watch from the same point', async () => {
    const n = await ns('stall');
    const { host, port } = apiserverAddress();
    const proxy = await TcpProxy.start(host, port);
    const viaProxy = adminClient(proxy.port);
    stops.push(async () => {
      viaProxy.close();
      await proxy.close();
    });
    const rec = new Recorder();
    const lw = start(viaProxy, rec, { namespace: n, stallSeconds: 2 });
    stops.push(() => lw.stop());
    await until(() => lw.state === 'watching', 15_000, 'watching');
    proxy.silence(); // half-open: the socket stays up, nothing arrives
    await createConfigMap(client, n, 'during-stall');
    await until(() => rec.count(WatchEvent.STALL) >= 1, 15_000, 'STALL');
    await until(() => rec.names().includes('during-stall'), 15_000, 'event after the stall');
    expect(lw.stats.stalls).toBeGreaterThanOrEqual(1);
    expect(lw.stats.lists).toBe(1);
    await lw.stop();
  });

  it('advances the resume point with bookmarks while its own objects are quiet', async () => {
    const n = await ns('bookmark');
    const other = await ns('bookmark-noise');
    const rec = new Recorder();
    // A short server timeout: the apiserver sends a bookmark shortly before it ends a watch.
    const lw = start(client, rec, { namespace: n, watchTimeoutSeconds: 20 });
    stops.push(() => lw.stop());
    await until(() => lw.state === 'watching', 15_000, 'watching');
    const listRv = Number(lw.resourceVersion);
    await createConfigMap(client, other, 'noise'); // moves the global resourceVersion
    await until(
      () => rec.count(WatchEvent.BOOKMARK) >= 1 && Number(lw.resourceVersion) > listRv,
      90_000,
      'a bookmark past the list RV',
    );
    expect(rec.count(WatchEvent.ADDED)).toBe(0);
    const bm = rec.events.find((e) => e.type === WatchEvent.BOOKMARK && Number(e.resourceVersion) > listRv);
    expect(bm).toBeDefined();
    await lw.stop();
  }, 120_000);

  it('resolves kinds through discovery and refuses a kind nobody serves', async () => {
    const d = new Discovery(client);
    expect(await d.resolve({ group: 'apps', version: 'v1', kind: 'Deployment' })).toMatchObject({
      gvr: { group: 'apps', version: 'v1', resource: 'deployments' },
      namespaced: true,
    });
    expect(
      (await d.resolve({ group: 'networking.k8s.io', version: 'v1', kind: 'IngressClass' })).namespaced,
    ).toBe(false);
    await expect(d.resolve({ group: 'example.invalid', version: 'v1', kind: 'Nope' })).rejects.toSatisfy(
      (e) => GvkNotServed.is(e),
    );
    await expect(d.resolve({ group: 'apps', version: 'v1', kind: 'Nope' })).rejects.toSatisfy((e) =>
      GvkNotServed.is(e),
    );
  });

  /**
   * A 410 for real: with the apiserver's watch cache on, etcd compaction alone does not expire a
   * watch (measured: old-RV watches and paged continues are served from the cache after a
   * compaction), but an apiserver restart rebuilds the cache at etcd's current revision, so a
   * watch resuming from before the changes made meanwhile gets "too old resource version".
   */
  it('relists after a 410 and hands over exactly the uids that exist (apiserver restart)', async () => {
    const n = await ns('gone');
    await createConfigMaps(client, n, 5);
    const { host, port } = apiserverAddress();
    const proxy = await TcpProxy.start(host, port);
    const viaProxy = adminClient(proxy.port);
    stops.push(async () => {
      viaProxy.close();
      await proxy.close();
    });
    const rec = new Recorder();
    const lw = start(viaProxy, rec, { namespace: n, backoff: { initialMs: 200, maxMs: 2000 } });
    stops.push(() => lw.stop());
    await until(() => lw.state === 'watching', 15_000, 'watching');
    const before = new Set(rec.syncs[0]!.uids);
    expect(before.size).toBe(5);

    // Keep our watcher away while objects change, then restart the apiserver.
    proxy.refuse(true);
    proxy.cut();
    await deleteConfigMap(client, n, 'cm-1');
    await deleteConfigMap(client, n, 'cm-3');
    const added = await createConfigMap(client, n, 'new-one');
    await testbed.restart('kube-apiserver');
    proxy.refuse(false);

    await until(() => rec.syncs.length >= 2, 90_000, 'a relist after the restart');
    const relist = rec.syncs.at(-1)!;
    expect(relist.reason).toBe('expired');
    expect(rec.count(WatchEvent.OLD_RESOURCE_VERSION)).toBeGreaterThanOrEqual(1);
    const vanished = [...before].filter((u) => !relist.uids.has(u));
    expect(vanished.map((u) => rec.live.get(u)?.name).sort()).toEqual(['cm-1', 'cm-3']);
    expect(relist.uids.has(added.metadata!.uid!)).toBe(true);
    expect(relist.uids.size).toBe(4);
    await lw.stop();
  }, 180_000);
});
