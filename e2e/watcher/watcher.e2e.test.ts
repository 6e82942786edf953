/**
 * The watcher service as a process against the real apiserver and NATS: the object log mirrors
 * create/update/delete (stripped, tombstoned), Secret data stays out, oversized objects are
 * reported and skipped, a SIGKILL mid-stream loses nothing and tombstones nothing that exists,
 * and objects deleted while the watcher is down are tombstoned after it comes back — through a
 * resumed watch, and through a relist when no resume point survives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADERS, subjects, type ObjectMessage } from '@kollect/contracts';
import { resumeKeyOf, desiredScopes } from '@kollect/mirror';
import type { KubeClient, KubeObject } from '@kollect/kube';
import { requireTestbed } from '../support/testbed.js';
import {
  adminClient,
  createConfigMap,
  createConfigMaps,
  createNamespace,
  deleteConfigMap,
  deleteNamespace,
  patchConfigMap,
  until,
} from '../support/kube.js';
import { Harness, configmapsIn, secretsIn } from './harness.js';

const CM = { group: '', version: 'v1', resource: 'configmaps' };
const SECRETS = { group: '', version: 'v1', resource: 'secrets' };

/** uid -> resourceVersion of every ConfigMap in the namespace, straight from the apiserver. */
async function truth(c: KubeClient, ns: string): Promise<Map<string, string>> {
  const list = await c.request<{ items: KubeObject[] }>('GET', `/api/v1/namespaces/${ns}/configmaps`);
  return new Map(list.items.map((o) => [o.metadata!.uid!, o.metadata!.resourceVersion!]));
}

/** The log's live objects (not tombstoned): uid -> resourceVersion. */
function live(log: Map<string, ObjectMessage>, ns: string): Map<string, string> {
  return new Map(
    [...log.values()]
      .filter((m) => m.op === 'upsert' && m.namespace === ns)
      .map((m) => [m.uid, m.resourceVersion]),
  );
}

async function logMatchesApiserver(h: Harness, c: KubeClient, ns: string): Promise<boolean> {
  const [want, got] = await Promise.all([truth(c, ns), h.log(CM).then((l) => live(l, ns))]);
  if (want.size !== got.size) return false;
  for (const [uid, rv] of want) if (got.get(uid) !== rv) return false;
  return true;
}

describe('watcher service (real apiserver + NATS)', () => {
  const h = new Harness();
  let kube: KubeClient;
  const namespaces: string[] = [];

  beforeAll(async () => {
    requireTestbed('kube-apiserver', 'nats');
    kube = adminClient();
    await h.setup();
  });

  afterAll(async () => {
    await h.teardown();
    for (const ns of namespaces) await deleteNamespace(kube, ns);
    kube?.close();
  });

  const ns = async (prefix: string): Promise<string> => {
    const n = await createNamespace(kube, prefix);
    namespaces.push(n);
    return n;
  };

  it('mirrors create, update and delete into the object log, stripped, with tombstones and a sync state', async () => {
    const n = await ns('wmirror');
    await createConfigMap(
      kube,
      n,
      'pre',
      { a: '1' },
      { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
    );
    await kube.request('POST', `/api/v1/namespaces/${n}/secrets`, {
      body: { metadata: { name: 'creds' }, stringData: { password: 'hunter2' } },
    });
    await h.putWatches([configmapsIn([n]), secretsIn([n])]);
    const proc = h.start();
    await until(async () => (await h.syncState(CM, n))?.state === 'synced', 30_000, 'configmaps synced');
    await until(async () => (await h.syncState(SECRETS, n))?.state === 'synced', 30_000, 'secrets synced');

    const sync = (await h.syncState(CM, n))!;
    expect(sync.objects).toBe(1);
    expect(sync.objectSeq).toBeGreaterThan(0);
    expect(sync.resourceVersion).toMatch(/^\d+$/);

    const secret = [...(await h.log(SECRETS)).values()].find((m) => m.name === 'creds')!;
    expect(secret.object?.['kind']).toBe('Secret');
    expect(secret.object?.['data']).toBeUndefined();
    expect(JSON.stringify(secret)).not.toContain('hunter2');

    const created = await createConfigMap(kube, n, 'web', { v: '1' });
    const uid = created.metadata!.uid!;
    await until(async () => (await h.log(CM)).get(uid)?.op === 'upsert', 15_000, 'upsert in the log');
    const up = (await h.log(CM)).get(uid)!;
    expect(up).toMatchObject({
      op: 'upsert',
      cluster: h.cluster,
      kind: 'ConfigMap',
      namespace: n,
      name: 'web',
      origin: 'watch',
    });
    expect((up.object?.['metadata'] as Record<string, unknown>)['managedFields']).toBeUndefined();

    const patched = await patchConfigMap(kube, n, 'web', { v: '2' });
    await until(
      async () => (await h.log(CM)).get(uid)?.resourceVersion === patched.metadata!.resourceVersion,
      15_000,
      'update in the log',
    );

    await deleteConfigMap(kube, n, 'web');
    await until(async () => (await h.log(CM)).get(uid)?.op === 'delete', 15_000, 'tombstone in the log');
    const tomb = (await h.log(CM)).get(uid)!;
    expect(tomb.object).toBeUndefined();
    expect(tomb.name).toBe('web');

    // The last-applied annotation never reaches the bus.
    const pre = [...(await h.log(CM)).values()].find((m) => m.name === 'pre')!;
    expect(JSON.stringify(pre.object)).not.toContain('last-applied-configuration');
    // Identity headers let the log be scanned without bodies.
    const raw = await h.bus.jsm.streams.getMessage(h.names.streams.objects, {
      last_by_subj: h.names.subject(subjects.object(h.cluster, CM, uid)),
    });
    expect(raw?.header.get(HEADERS.objectOp)).toBe('delete');

    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  it('skips and reports an object larger than the NATS max payload and keeps going', async () => {
    const n = await ns('woversize');
    await h.putWatches([configmapsIn([n])]);
    const proc = h.start();
    await until(async () => (await h.syncState(CM, n))?.state === 'synced', 30_000, 'synced');
    const status: unknown[] = [];
    const sub = h.bus.nc.subscribe(h.names.subject(subjects.status('watcher', h.cluster)));
    void (async () => {
      for await (const m of sub) status.push(m.json());
    })();
    const big = await createConfigMap(kube, n, 'huge', { blob: 'x'.repeat(1_048_000) });
    const small = await createConfigMap(kube, n, 'after');
    await until(async () => (await h.log(CM)).has(small.metadata!.uid!), 15_000, 'the next object');
    expect((await h.log(CM)).has(big.metadata!.uid!)).toBe(false);
    await until(
      async () => ((await h.syncState(CM, n))?.oversized?.count ?? 0) >= 1,
      15_000,
      'oversized reported',
    );
    const st = (await h.syncState(CM, n))!;
    expect(st.oversized?.last).toMatchObject({ name: 'huge', namespace: n, uid: big.metadata!.uid });
    await until(
      () => status.some((s) => (s as { oversized?: { count: number } }).oversized?.count === 1),
      10_000,
      'status report',
    );
    expect(proc.output.some((l) => l.includes('not published') && !l.includes('xxxxxxxx'))).toBe(true);
    expect(st.oversized).toMatchObject({ current: 1, objects: [{ name: 'huge', uid: big.metadata!.uid }] });

    // Oversized *now* follows the objects: a second one adds, a shrink and a delete clear.
    const big2 = await createConfigMap(kube, n, 'huge2', { blob: 'y'.repeat(1_048_000) });
    await until(async () => (await h.syncState(CM, n))?.oversized?.current === 2, 15_000, 'two oversized');
    const shrunk = await patchConfigMap(kube, n, 'huge', { blob: 'small now' });
    await until(
      async () =>
        (await h.log(CM)).get(big.metadata!.uid!)?.resourceVersion === shrunk.metadata!.resourceVersion,
      15_000,
      'the shrunk version in the log',
    );
    await until(async () => (await h.syncState(CM, n))?.oversized?.current === 1, 15_000, 'shrink clears');
    expect((await h.syncState(CM, n))!.oversized?.objects?.map((o) => o.uid)).toEqual([big2.metadata!.uid]);
    await deleteConfigMap(kube, n, 'huge2');
    await until(async () => (await h.syncState(CM, n))?.oversized?.current === 0, 15_000, 'delete clears');
    expect((await h.syncState(CM, n))!.oversized).toMatchObject({ count: 2, objects: [] });
    await until(
      () => status.some((s) => (s as { oversized?: { current?: number } }).oversized?.current === 0),
      10_000,
      'the cleared state reported',
    );
    sub.unsubscribe();
    proc.child.kill('SIGTERM');
    await proc.exited;
  });

  it('publishes Secret data only in the namespaces the plan names, and rewrites the log when that changes', async () => {
    const a = await ns('wsda');
    const b = await ns('wsdb');
    for (const n of [a, b]) {
      await kube.request('POST', `/api/v1/namespaces/${n}/secrets`, {
        body: { metadata: { name: 'creds' }, stringData: { password: `pw-${n}` } },
      });
    }
    const spec = (data: string[]) => ({ ...secretsIn([a, b]), secretDataNamespaces: data });
    await h.putWatches([spec([a])]);
    // Threshold 1: one cluster-wide scope filtered to both namespaces, data kept only in `a`.
    const proc = h.start({ KOLLECT_WATCH_NAMESPACE_THRESHOLD: '1' });
    const secretOf = async (n: string) =>
      [...(await h.log(SECRETS)).values()].find((m) => m.namespace === n && m.name === 'creds');
    await until(
      async () => (await secretOf(a)) !== undefined && (await secretOf(b)) !== undefined,
      30_000,
      'listed',
    );
    expect((await secretOf(a))!.object?.['data']).toMatchObject({ password: expect.any(String) });
    expect((await secretOf(b))!.object?.['data']).toBeUndefined();
    // Nothing ever published carried b's data.
    expect(h.seen.some((m) => m.namespace === b && m.object?.['data'] !== undefined)).toBe(false);

    // Permission withdrawn (well inside the duplicate window): the relist replaces the logged version.
    await h.putWatches([spec([])]);
    try {
      await until(
        async () => (await secretOf(a))?.object?.['data'] === undefined,
        30_000,
        'data removed from the log',
      );
    } catch (e) {
      console.log(proc.output.join('\n'));
      console.log(JSON.stringify(await secretOf(a)));
      throw e;
    }
    expect((await secretOf(a))!.op).toBe('upsert');
    proc.child.kill('SIGTERM');
    await proc.exited;
  });

  it('reports a GVR the apiserver does not serve as failed/NotFound and keeps the other scopes going', async () => {
    const n = await ns('wmissing');
    const widgets = { group: 'example.invalid', version: 'v1', resource: 'widgets' };
    await h.putWatches([
      {
        gvr: widgets,
        gvk: { group: 'example.invalid', version: 'v1', kind: 'Widget' },
        namespaced: true,
        namespaces: null,
      },
      configmapsIn([n]),
    ]);
    const proc = h.start();
    await until(async () => (await h.syncState(widgets, null))?.state === 'failed', 30_000, 'failed state');
    const st = (await h.syncState(widgets, null))!;
    expect(st.reason).toBe('NotFound');
    expect(st.message).toContain('/apis/example.invalid/v1/widgets');
    await until(
      async () => (await h.syncState(CM, n))?.state === 'synced',
      30_000,
      'the healthy scope synced',
    );
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  it('loses nothing and tombstones nothing that exists when SIGKILLed mid-stream and restarted', async () => {
    const n = await ns('wkill');
    await createConfigMaps(kube, n, 50, { prefix: 'base' });
    await h.putWatches([configmapsIn([n])]);
    const first = h.start();
    await until(async () => (await h.syncState(CM, n))?.state === 'synced', 30_000, 'synced');
    const seenBefore = h.seen.length;

    // Write continuously; kill the watcher in the middle of it.
    const writing = createConfigMaps(kube, n, 150, { prefix: 'burst', parallel: 4 });
    await until(() => h.seen.length >= seenBefore + 40, 30_000, 'burst under way');
    first.child.kill('SIGKILL');
    await first.exited;
    await writing;
    await deleteConfigMap(kube, n, 'base-7'); // a real delete while no watcher runs
    const second = h.start();

    await until(() => logMatchesApiserver(h, kube, n), 60_000, 'the log to equal the apiserver');
    const existing = await truth(kube, n);
    const wrongTombstones = h.seen.filter(
      (m) => m.namespace === n && m.op === 'delete' && existing.has(m.uid),
    );
    expect(wrongTombstones).toEqual([]);
    expect(existing.size).toBe(199);
    const log = await h.log(CM);
    expect([...log.values()].find((m) => m.name === 'base-7')?.op).toBe('delete');
    second.child.kill('SIGTERM');
    await second.exited;
  }, 120_000);

  it('tombstones what was deleted while the watcher was down: by resumed watch, and by relist without a resume point', async () => {
    const n = await ns('wdown');
    await createConfigMaps(kube, n, 6, { prefix: 'obj' });
    await h.putWatches([configmapsIn([n])]);
    let proc = h.start();
    await until(async () => (await h.syncState(CM, n))?.state === 'synced', 30_000, 'synced');
    const scope = desiredScopes([configmapsIn([n])])[0]!;
    await until(
      async () => (await h.state.get(resumeKeyOf(h.cluster, scope))) !== null,
      10_000,
      'a resume point',
    );
    proc.child.kill('SIGTERM');
    await proc.exited;

    // Down: delete two, create one. The resume point is recent, so the watch resumes.
    await deleteConfigMap(kube, n, 'obj-0');
    await deleteConfigMap(kube, n, 'obj-1');
    await createConfigMap(kube, n, 'obj-new');
    const seenFrom = h.seen.length;
    proc = h.start();
    await until(() => logMatchesApiserver(h, kube, n), 30_000, 'the log to equal the apiserver (resumed)');
    const resumed = h.seen.slice(seenFrom).filter((m) => m.namespace === n && m.op === 'delete');
    expect(resumed.map((m) => [m.name, m.origin]).sort()).toEqual([
      ['obj-0', 'watch'],
      ['obj-1', 'watch'],
    ]);
    expect(proc.output.some((l) => l.includes('resuming watch'))).toBe(true);
    proc.child.kill('SIGTERM');
    await proc.exited;

    // Down again, and the resume point is lost: the relist must find what vanished.
    await h.state.delete(resumeKeyOf(h.cluster, scope));
    await deleteConfigMap(kube, n, 'obj-2');
    const seenFrom2 = h.seen.length;
    proc = h.start();
    await until(
      () => logMatchesApiserver(h, kube, n),
      30_000,
      'the log to equal the apiserver (relisted)',
    ).catch(async (e: unknown) => {
      const [want, got] = await Promise.all([truth(kube, n), h.log(CM).then((l) => live(l, n))]);
      console.log('WANT', JSON.stringify([...want]), 'GOT', JSON.stringify([...got]));
      const all = await h.log(CM);
      console.log(
        'LOG',
        JSON.stringify(
          [...all.values()]
            .filter((m) => m.namespace === n)
            .map((m) => [m.name, m.op, m.resourceVersion, m.origin]),
        ),
      );
      throw e;
    });
    const relisted = h.seen.slice(seenFrom2).filter((m) => m.namespace === n && m.op === 'delete');
    expect(relisted.map((m) => [m.name, m.origin])).toEqual([['obj-2', 'relist-vanished']]);
    proc.child.kill('SIGTERM');
    await proc.exited;
  }, 120_000);
});
