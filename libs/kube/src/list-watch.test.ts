import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from './client.js';
import {
  ListWatch,
  WatchEvent,
  type ListWatchEvent,
  type ListWatchHandler,
  type SyncInfo,
} from './list-watch.js';
import type { KubeObject } from './types.js';

/**
 * A scripted in-process apiserver for the engine's control flow (the real apiserver is exercised
 * in e2e/kube). Lists serve `items` in pages; each watch connection runs the next script.
 */
type WatchScript = (res: http.ServerResponse, socket: Socket, rv: string) => void;

interface Fake {
  client: KubeClient;
  requests: { watch: boolean; rv: string | null; cont: string | null }[];
  close(): Promise<void>;
}

const cm = (uid: string, rv: string): KubeObject => ({
  metadata: { name: `cm-${uid}`, namespace: 'ns', uid, resourceVersion: rv, managedFields: [{}] },
  data: { v: rv },
});
/** A watch line; like the real apiserver, watch objects carry apiVersion and kind. */
const line = (type: string, object: object): string =>
  JSON.stringify({ type, object: { apiVersion: 'v1', kind: 'ConfigMap', ...object } }) + '\n';

const fakes: Fake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function fake(
  items: () => KubeObject[],
  listRv: () => string,
  scripts: WatchScript[],
  pageSize = 2,
): Promise<Fake> {
  const requests: Fake['requests'] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const watch = url.searchParams.get('watch') === '1';
    requests.push({
      watch,
      rv: url.searchParams.get('resourceVersion'),
      cont: url.searchParams.get('continue'),
    });
    res.setHeader('Content-Type', 'application/json');
    if (!watch) {
      const all = items();
      const start = Number(url.searchParams.get('continue') ?? '0');
      const page = all.slice(start, start + pageSize);
      const next = start + pageSize < all.length ? String(start + pageSize) : undefined;
      res.end(
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'ConfigMapList',
          metadata: { resourceVersion: listRv(), ...(next ? { continue: next } : {}) },
          items: page.map((o) => structuredClone(o)),
        }),
      );
      return;
    }
    const script = scripts.shift();
    if (!script) {
      // Idle watch that ends when the test closes the server.
      res.writeHead(200);
      res.flushHeaders();
      return;
    }
    script(res, req.socket, url.searchParams.get('resourceVersion') ?? '');
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
    currentContext: 'c',
  });
  const client = new KubeClient({ kubeConfig: kc });
  const f: Fake = {
    client,
    requests,
    close: async () => {
      client.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  fakes.push(f);
  return f;
}

class Recorder implements ListWatchHandler {
  ops: string[] = [];
  syncs: SyncInfo[] = [];
  progressRv: string | undefined;
  failNext = 0;
  upsert(obj: KubeObject, ctx: { origin: string; uid: string; resourceVersion: string }): void {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('publisher down');
    }
    expect(obj.metadata?.managedFields).toBeUndefined();
    expect(obj.kind).toBe('ConfigMap');
    this.ops.push(`${ctx.origin}:upsert:${ctx.uid}@${ctx.resourceVersion}`);
  }
  delete(_obj: KubeObject, ctx: { origin: string; uid: string; resourceVersion: string }): void {
    this.ops.push(`${ctx.origin}:delete:${ctx.uid}@${ctx.resourceVersion}`);
  }
  synced(info: SyncInfo): void {
    this.syncs.push({ ...info, uids: new Set(info.uids) });
  }
  progress(rv: string): void {
    this.progressRv = rv;
  }
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const fast = { backoff: { initialMs: 10, maxMs: 50 }, relistJitterMs: 0 };

describe('ListWatch', () => {
  it('lists in pages, reports the uid set, then applies watch events in order', async () => {
    const items = [cm('a', '1'), cm('b', '2'), cm('c', '3')];
    const f = await fake(
      () => items,
      () => '10',
      [
        (res) => {
          res.writeHead(200);
          res.write(line('MODIFIED', { kind: 'ConfigMap', ...cm('a', '11') }));
          res.write(line('BOOKMARK', { kind: 'ConfigMap', metadata: { resourceVersion: '12' } }));
          res.write(line('DELETED', cm('b', '13')));
        },
      ],
    );
    const rec = new Recorder();
    const lw = new ListWatch(f.client, rec, {
      gvr: { group: '', version: 'v1', resource: 'configmaps' },
      pageSize: 2,
      ...fast,
    });
    lw.start();
    await until(() => rec.ops.length === 5);
    await lw.stop();
    expect(rec.ops).toEqual([
      'list:upsert:a@1',
      'list:upsert:b@2',
      'list:upsert:c@3',
      'watch:upsert:a@11',
      'watch:delete:b@13',
    ]);
    expect(rec.syncs).toHaveLength(1);
    expect([...rec.syncs[0]!.uids].sort()).toEqual(['a', 'b', 'c']);
    expect(rec.syncs[0]!.pages).toBe(2);
    expect(rec.progressRv).toBe('13');
    const listCalls = f.requests.filter((r) => !r.watch);
    expect(listCalls.map((r) => r.cont)).toEqual([null, '2']);
    expect(f.requests.find((r) => r.watch)?.rv).toBe('10');
  });

  it('resumes from the last seen resourceVersion after a TCP reset, without relisting', async () => {
    const f = await fake(
      () => [cm('a', '1')],
      () => '5',
      [
        (res, socket) => {
          res.writeHead(200);
          res.write(line('MODIFIED', cm('a', '6')));
          setTimeout(() => socket.resetAndDestroy(), 30);
        },
        (res) => {
          res.writeHead(200);
          res.write(line('MODIFIED', cm('a', '7')));
        },
      ],
    );
    const rec = new Recorder();
    const events: ListWatchEvent[] = [];
    const lw = new ListWatch(f.client, rec, {
      gvr: { group: '', version: 'v1', resource: 'configmaps' },
      ...fast,
      onEvent: (e) => events.push(e),
    });
    lw.start();
    await until(() => rec.ops.includes('watch:upsert:a@7'));
    await lw.stop();
    expect(f.requests.filter((r) => !r.watch)).toHaveLength(1);
    expect(f.requests.filter((r) => r.watch).map((r) => r.rv)).toEqual(['5', '6']);
    expect(
      events.map((e) => e.type),
      JSON.stringify(events.map((e) => [e.type, e.error?.message])),
    ).toContain(WatchEvent.NETWORK_ERROR);
    expect(events.at(-1)?.type).toBe(WatchEvent.STOPPED);
  });

  it('relists on an in-stream 410 and hands over the fresh uid set', async () => {
    let items = [cm('a', '1'), cm('b', '2')];
    let rv = '5';
    const f = await fake(
      () => items,
      () => rv,
      [
        (res) => {
          res.writeHead(200);
          // Meanwhile b was deleted and c created, and the history is compacted.
          items = [cm('a', '1'), cm('c', '8')];
          rv = '9';
          res.end(
            line('ERROR', {
              kind: 'Status',
              code: 410,
              reason: 'Expired',
              message: 'too old resource version',
            }),
          );
        },
      ],
    );
    const rec = new Recorder();
    const events: string[] = [];
    const lw = new ListWatch(f.client, rec, {
      gvr: { group: '', version: 'v1', resource: 'configmaps' },
      ...fast,
      onEvent: (e) => events.push(e.type),
    });
    lw.start();
    await until(() => rec.syncs.length === 2 && f.requests.filter((r) => r.watch).length === 2);
    await lw.stop();
    expect(rec.syncs[1]!.reason).toBe('expired');
    expect([...rec.syncs[1]!.uids].sort()).toEqual(['a', 'c']);
    expect(events).toEqual(expect.arrayContaining([WatchEvent.OLD_RESOURCE_VERSION, WatchEvent.RELIST]));
    expect(lw.stats.relists).toBe(1);
    expect(f.requests.filter((r) => r.watch).at(-1)?.rv).toBe('9');
  });

  it('relists when the watch answers HTTP 410', async () => {
    const f = await fake(
      () => [cm('a', '1')],
      () => '5',
      [
        (res) => {
          res.writeHead(410);
          res.end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Gone', message: 'gone' }));
        },
      ],
    );
    const rec = new Recorder();
    const lw = new ListWatch(f.client, rec, {
      gvr: { group: '', version: 'v1', resource: 'configmaps' },
      ...fast,
    });
    lw.start();
    await until(() => rec.syncs.length === 2);
    await lw.stop();
    expect(rec.syncs.map((s) => s.reason)).toEqual(['initial', 'expired']);
  });

  it('fires the stall watchdog on a silent connection and resumes from the same resourceVersion', async () => {
    const f = await fake(
      () => [cm('a', '1')],
      () => '5',
      [
        (res) => {
          res.writeHead(200);
          res.write(line('MODIFIED', cm('a', '6')));
          // then silence, connection left open
        },
        (res) => {
          res.writeHead(200);
          res.write(line('MODIFIED', cm('a', '7')));
        },
      ],
    );
    const rec = new Recorder();
    const events: string[] = [];
    const lw = new ListWatch(f.client, rec, {
      gvr: { group: '', version: 'v1', resource: 'configmaps' },
      stallSeconds: 0.3,
      ...fast,
      onEvent: (e) => events.push(e.type),
    });
    lw.start();
    await until(() => rec.ops.includes('watch:upsert:a@7'));
    await lw.stop();
    expect(events).toContain(WatchEvent.STALL);
    expect(lw.stats.stalls).toBe(1);
    expect(f.requests.filter((r) => r.watch).map((r) => r.rv)).toEqual(['5', '6']);
  });

  it('redelivers an event whose handler failed, after backoff', async () => {
    const f = await fake(
      () => [],
      () => '5',
      [
        (res) => {
          res.writeHead(200);
          res.write(line('ADDED', cm('z', '6')));
        },
        (res) => {
          res.writeHead(200);
          res.write(line('ADDED', cm('z', '6')));
        },
      ],
    );
    const rec = new Recorder();
    const events: string[] = [];
    const lw = new ListWatch(f.client, rec, {
      gvr: { group: '', version: 'v1', resource: 'configmaps' },
      ...fast,
      onEvent: (e) => events.push(e.type),
    });
    rec.failNext = 1;
    lw.start();
    await until(() => rec.ops.includes('watch:upsert:z@6'));
    await lw.stop();
    expect(events).toContain(WatchEvent.HANDLER_ERROR);
    expect(f.requests.filter((r) => r.watch).map((r) => r.rv)).toEqual(['5', '5']);
  });

  it('starts with a watch from a persisted resourceVersion and lists only when it expired', async () => {
    const f = await fake(
      () => [cm('a', '1')],
      () => '50',
      [
        (res) => {
          res.writeHead(200);
          res.write(line('MODIFIED', cm('a', '41')));
        },
      ],
    );
    const rec = new Recorder();
    const lw = new ListWatch(f.client, rec, {
      gvr: { group: '', version: 'v1', resource: 'configmaps' },
      resumeFrom: '40',
      ...fast,
    });
    lw.start();
    await until(() => rec.ops.length === 1);
    await lw.stop();
    expect(f.requests.filter((r) => !r.watch)).toHaveLength(0);
    expect(rec.ops).toEqual(['watch:upsert:a@41']);
    expect(lw.synced).toBe(true);
  });

  it('relists on request while watching, reporting the reason', async () => {
    const f = await fake(
      () => [cm('a', '1')],
      () => '5',
      [],
    );
    const rec = new Recorder();
    const lw = new ListWatch(f.client, rec, {
      gvr: { group: '', version: 'v1', resource: 'configmaps' },
      ...fast,
    });
    lw.start();
    await until(() => lw.state === 'watching');
    lw.requestRelist();
    await until(() => rec.syncs.length === 2);
    await lw.stop();
    expect(rec.syncs.map((s) => s.reason)).toEqual(['initial', 'requested']);
    expect(f.requests.filter((r) => !r.watch)).toHaveLength(2);
  });

  it('gives up after maxConsecutiveFailures and says so', async () => {
    const f = await fake(
      () => [],
      () => '5',
      [],
    );
    await f.close();
    const rec = new Recorder();
    const events: string[] = [];
    const lw = new ListWatch(f.client, rec, {
      gvr: { group: '', version: 'v1', resource: 'configmaps' },
      maxConsecutiveFailures: 3,
      ...fast,
      onEvent: (e) => events.push(e.type),
    });
    lw.start();
    await lw.done;
    expect(events.filter((e) => e === WatchEvent.LIST_ERROR)).toHaveLength(3);
    expect(events.at(-1)).toBe(WatchEvent.GIVE_UP);
    expect(lw.state).toBe('stopped');
  });
});
