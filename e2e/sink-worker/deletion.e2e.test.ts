/**
 * The final export of a deleted inventory never reaches Git, whatever plan the snapshot worker
 * holds (CONTRACT.md "Deletes and empty inventories": relational rows are removed, Git/S3 history
 * is left). The real sink-snapshot process, the real git remote, Secrets from the real apiserver;
 * the test plays the controller (the plan in KV) and the aggregator (snapshot messages, full
 * snapshots on request), so it can force the orderings that the live pipeline only hits by chance:
 *
 * - the worker's plan still binds the git sink when the final export arrives (its plan watch lags
 *   behind the aggregator's);
 * - the worker was down while the inventory was deleted and, restarted without any materialised
 *   state, works through the stream: the older diff it finds there needs a full snapshot, and the
 *   aggregator's full snapshot is by then the final, empty generation.
 *
 *   npm run testbed -- up nats kube-apiserver git
 *   eval "$(npm run -s testbed -- env)"
 *   npx vitest run --project e2e e2e/sink-worker/deletion
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FINAL_INVENTORY_DELETED,
  inventoryKey,
  type InventoryRef,
  type SinkStatusReport,
  type SnapshotMessage,
} from '@kollect/contracts';
import { KubeClient } from '@kollect/kube';
import type { CompiledPlan } from '@kollect/plan';
import { InventoryModel, makeItems } from '@kollect/sink-testing';
import { busHarness, waitFor, type BusHarness } from '../bus/harness.js';
import { hasTestbed, testbedEnv, uniqueName } from '../support/testbed.js';
import { createRepo } from '../sinks/git-helpers.js';
import type { ServiceProcess } from '../pipeline/support.js';
import {
  collectSinkReports,
  namespaceWithSecrets,
  publishPlan,
  publishSnapshot,
  serveFullSnapshots,
  startWorker,
  workerPlan,
} from './support.js';
describe.runIf(hasTestbed('nats', 'kube-apiserver', 'git'))(
  'sink-snapshot worker: the final export of a deleted inventory',
  () => {
    let h: BusHarness;
    let kube: KubeClient;
    let svc: ServiceProcess | undefined;
    let repoUrl: string;
    const workDir = mkdtempSync(join(tmpdir(), 'kollect-worker-del-'));
    const ns = uniqueName('del');
    const cluster = 'e2e-del';
    const web: InventoryRef = { kind: 'KollectInventory', namespace: ns, name: 'web' };
    const api: InventoryRef = { kind: 'KollectInventory', namespace: ns, name: 'api' };
    const models = new Map<string, InventoryModel>([
      [inventoryKey(web), new InventoryModel(web, cluster)],
      [inventoryKey(api), new InventoryModel(api, cluster)],
    ]);
    const model = (inv: InventoryRef): InventoryModel => models.get(inventoryKey(inv))!;
    /** The final generation of each deleted inventory (the aggregator's `finalExportGeneration`). */
    const finalGen = new Map<string, number>();
    let reports: SinkStatusReport[] = [];
    const fullRequests = new Map<string, number>();

    /** The plan as the worker sees it: both inventories still bound to the git sink. */
    const plan = (): CompiledPlan =>
      workerPlan({
        cluster,
        namespace: ns,
        inventories: [web, api].map((ref) => ({ ref, sinks: ['audit'] })),
        sinks: [
          {
            family: 'snapshot',
            name: 'audit',
            type: 'git',
            spec: { endpoint: repoUrl, git: {}, secretRef: { name: 'git-creds' } },
          },
        ],
      });

    /** Generation `g` of an inventory as the aggregator publishes it (final once deleted). */
    function message(inv: InventoryRef, g: number, kind: 'diff' | 'full' = 'diff'): SnapshotMessage {
      const m = model(inv).message(g, kind);
      return finalGen.get(inventoryKey(inv)) === g ? { ...m, final: FINAL_INVENTORY_DELETED } : m;
    }

    const publish = (inv: InventoryRef, g: number): Promise<void> =>
      publishSnapshot(h, message(inv, g), `${cluster}/${inventoryKey(inv)}/${g}`);

    /** The inventory is deleted: the aggregator's one last, empty generation. */
    function deleteInventory(inv: InventoryRef): number {
      const g = model(inv).push([]);
      finalGen.set(inventoryKey(inv), g);
      return g;
    }

    const gitDir = (): string => `${testbedEnv.gitRoot}/${repoUrl.split('/git/')[1]}`;
    const git = (...args: string[]): string =>
      execFileSync('git', ['--git-dir', gitDir(), ...args], { encoding: 'utf8' });
    const doc = (inv: InventoryRef): string => git('show', `main:inventory/${ns}/${inv.name}.yaml`);
    const commits = (): number => Number(git('rev-list', '--count', 'main').trim());
    const reported = (inv: InventoryRef, g: number, outcome: SinkStatusReport['outcome']): boolean =>
      reports.some(
        (r) =>
          inventoryKey(r.inventory) === inventoryKey(inv) &&
          r.exportGeneration === g &&
          r.outcome === outcome,
      );

    beforeAll(async () => {
      h = await busHarness('sinkdel');
      repoUrl = await createRepo(uniqueName('worker-del'));
      kube = new KubeClient({ kubeconfigPath: testbedEnv.kubeconfig });
      await namespaceWithSecrets(kube, ns, {
        'git-creds': { username: testbedEnv.gitUsername, password: testbedEnv.gitPassword },
      });
      // The aggregator's side of full-snapshot requests: the current generation, final once the
      // inventory was deleted (as apps/aggregator serves it).
      for (const inv of [web, api])
        await serveFullSnapshots(
          h,
          cluster,
          inv,
          () => message(inv, model(inv).current, 'full'),
          () => fullRequests.set(inventoryKey(inv), (fullRequests.get(inventoryKey(inv)) ?? 0) + 1),
        );
      reports = collectSinkReports(h, cluster);
      await publishPlan(h, plan());
      svc = await startWorker(h, 'sink-snapshot', workDir);
      // Both inventories in Git: the state that must survive their deletion.
      model(web).push(makeItems(4, { prefix: 'web', namespace: ns }));
      model(api).push(makeItems(3, { prefix: 'api', namespace: ns }));
      await publish(web, 1);
      await publish(api, 1);
      expect(await waitFor(() => reported(web, 1, 'exported') && reported(api, 1, 'exported'), 60_000)).toBe(
        true,
      );
    }, 180_000);

    afterAll(async () => {
      await svc?.stop();
      await kube?.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => {});
      await h?.cleanup();
    });

    it('arriving while the worker’s plan still binds the git sink, it is acknowledged as retained and Git is untouched', async () => {
      const before = { head: git('rev-parse', 'main').trim(), doc: doc(web), commits: commits() };
      expect(before.doc).toContain('name: web-3');
      const g = deleteInventory(web);
      await publish(web, g);
      expect(await waitFor(() => reported(web, g, 'retained'), 60_000)).toBe(true);
      const r = reports.find(
        (x) => inventoryKey(x.inventory) === inventoryKey(web) && x.outcome === 'retained',
      )!;
      expect(r).toMatchObject({ sinkType: 'git', reason: 'InventoryDeleted', itemCount: 0 });
      expect(r.errorClass).toBeUndefined();
      // Acknowledged, not retried: the sink's durable has nothing pending.
      const drained = async (): Promise<boolean> => {
        const ci = await h.bus.jsm.consumers.info(h.names.streams.snapshots, `sink-snapshot-${ns}-audit`);
        return ci.num_ack_pending + ci.num_pending === 0;
      };
      expect(await waitFor(drained, 30_000)).toBe(true);
      expect(git('rev-parse', 'main').trim()).toBe(before.head);
      expect(commits()).toBe(before.commits);
      expect(doc(web)).toBe(before.doc);
    });

    it('a worker that was down during the deletion catches up without wiping Git, though the full snapshot it must fetch is the final one', async () => {
      await svc!.stop();
      svc = undefined;
      const before = { head: git('rev-parse', 'main').trim(), doc: doc(api), commits: commits() };
      // While the worker is down: one more export of the inventory, then its deletion.
      model(api).push(
        makeItems(5, { prefix: 'api', namespace: ns, image: (i) => `registry.example/v2:${i}` }),
      );
      await publish(api, 2);
      const g = deleteInventory(api);
      await publish(api, g);
      const fetchedBefore = fullRequests.get(inventoryKey(api)) ?? 0;
      // Restarted without materialised state, with the plan it had: diff 2 cannot go on top of
      // Git's generation 1 without the rows of 1, so the worker asks for the full snapshot — and
      // the aggregator's current generation is the final, empty one.
      svc = await startWorker(h, 'sink-snapshot', workDir);
      expect(
        await waitFor(
          () =>
            reports.filter((x) => x.outcome === 'retained' && inventoryKey(x.inventory) === inventoryKey(api))
              .length >= 2,
          60_000,
        ),
      ).toBe(true);
      expect(fullRequests.get(inventoryKey(api)) ?? 0).toBeGreaterThan(fetchedBefore);
      expect(reported(api, g, 'retained')).toBe(true);
      expect(
        reports.some((x) => inventoryKey(x.inventory) === inventoryKey(api) && x.outcome === 'failed'),
      ).toBe(false);
      expect(git('rev-parse', 'main').trim()).toBe(before.head);
      expect(commits()).toBe(before.commits);
      expect(doc(api)).toBe(before.doc);
      expect(doc(web)).toContain('name: web-3');
    });
  },
);
