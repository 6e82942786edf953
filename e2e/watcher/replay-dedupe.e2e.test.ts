/**
 * The replay guard of a resumed watch. A restarted watcher replays the events after its last
 * checkpoint; the previous process may have published some of them already. If an object's older
 * version was published outside the stream's duplicate window and its newer one inside, plain
 * `uid:rv` msgIds would store the older again and drop the newer, leaving the log stale. Here
 * the duplicate window is shortened to 20 s to make that timing deterministic (the restart, lease
 * takeover included, takes 5-10 s here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredScopes, resumeKeyOf } from '@kollect/mirror';
import type { KubeClient } from '@kollect/kube';
import { requireTestbed } from '../support/testbed.js';
import {
  adminClient,
  createConfigMap,
  createNamespace,
  deleteNamespace,
  patchConfigMap,
  until,
} from '../support/kube.js';
import { Harness, configmapsIn } from './harness.js';

const CM = { group: '', version: 'v1', resource: 'configmaps' };

describe('watcher resume with a short duplicate window', () => {
  const h = new Harness();
  let kube: KubeClient;
  let ns = '';

  beforeAll(async () => {
    requireTestbed('kube-apiserver', 'nats');
    kube = adminClient();
    await h.setup({ objects: { duplicateWindowMs: 20_000 } });
    ns = await createNamespace(kube, 'wreplay');
  });

  afterAll(async () => {
    await h.teardown();
    await deleteNamespace(kube, ns);
    kube?.close();
  });

  it('ends at the newest version when the older replayed version fell out of the window and the newer did not', async () => {
    const x = await createConfigMap(kube, ns, 'x', { v: '1' });
    const uid = x.metadata!.uid!;
    await h.putWatches([configmapsIn([ns])]);
    // The topology is the test's (short window); the only checkpoint is the one after the list.
    const env = { KOLLECT_ENSURE_TOPOLOGY: 'false', KOLLECT_CHECKPOINT_INTERVAL: '1h' };
    const first = h.start(env);
    await until(async () => (await h.syncState(CM, ns))?.state === 'synced', 30_000, 'synced');
    const scope = desiredScopes([configmapsIn([ns])])[0]!;
    await until(
      async () => (await h.state.get(resumeKeyOf(h.cluster, scope))) !== null,
      10_000,
      'resume point',
    );

    const v2 = await patchConfigMap(kube, ns, 'x', { v: '2' });
    await until(
      async () => (await h.log(CM)).get(uid)?.resourceVersion === v2.metadata!.resourceVersion,
      10_000,
      'v2 logged',
    );
    await new Promise((r) => setTimeout(r, 22_000)); // v2's msgId leaves the 20 s window
    const v3 = await patchConfigMap(kube, ns, 'x', { v: '3' });
    await until(
      async () => (await h.log(CM)).get(uid)?.resourceVersion === v3.metadata!.resourceVersion,
      10_000,
      'v3 logged',
    );
    first.child.kill('SIGKILL');
    await first.exited;

    // Restart at once: the replay resends v2 (outside the window) and v3 (inside it).
    const second = h.start(env);
    const killedAt = Date.now();
    await until(() => second.output.some((l) => l.includes('resuming watch')), 20_000, 'resumed');
    // Only meaningful if v3 was replayed inside its window.
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    await new Promise((r) => setTimeout(r, 2000));
    const last = (await h.log(CM)).get(uid)!;
    expect(last.resourceVersion).toBe(v3.metadata!.resourceVersion);
    expect((last.object?.['data'] as Record<string, string>)['v']).toBe('3');
    second.child.kill('SIGTERM');
    await second.exited;
  }, 120_000);
});
