/**
 * The snapshot sink worker end to end on the test bed: plan from KV, Secrets from the real
 * kube-apiserver, snapshot messages on JetStream, a full snapshot requested over the bus when a
 * generation is missing, the inventory landing in the real git remote, and status reports.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSnapshotMessage } from '@kollect/aggregate';
import { publishBytes } from '@kollect/bus';
import { subjects, type SinkStatusReport } from '@kollect/contracts';
import { KubeClient } from '@kollect/kube';
import type { CompiledPlan } from '@kollect/plan';
import { InventoryModel, makeItems } from '@kollect/sink-testing';
import { busHarness, waitFor, type BusHarness } from '../bus/harness.js';
import { hasTestbed, testbedEnv, uniqueName } from '../support/testbed.js';
import { createRepo } from '../sinks/git-helpers.js';
import type { ServiceProcess } from '../pipeline/support.js';
import {
  collectSinkReports,
  logLines,
  namespaceWithSecrets,
  publishPlan,
  publishSnapshot,
  serveFullSnapshots,
  startWorker,
  workerPlan,
} from './support.js';
describe.runIf(hasTestbed('nats', 'kube-apiserver', 'git'))('sink-snapshot worker', () => {
  let h: BusHarness;
  let kube: KubeClient;
  let svc: ServiceProcess;
  let repoUrl: string;
  const ns = uniqueName('team');
  const cluster = 'e2e-east';
  const inv = { kind: 'KollectInventory' as const, namespace: ns, name: 'web' };
  const model = new InventoryModel(inv, cluster);
  let reports: SinkStatusReport[] = [];
  let fullRequests = 0;

  const plan = (): CompiledPlan =>
    workerPlan({
      cluster,
      namespace: ns,
      inventories: [{ ref: inv, sinks: ['audit'] }],
      sinks: [
        {
          family: 'snapshot',
          name: 'audit',
          type: 'git',
          spec: { endpoint: repoUrl, git: {}, secretRef: { name: 'git-creds' } },
        },
      ],
    });

  const publish = (g: number): Promise<void> => publishSnapshot(h, model.message(g), `${cluster}/${g}`);

  /**
   * True once the worker logged, after log line `from`, a rebuild of the sink for `why` followed by
   * the outcome of that rebuild (`sink connected` or `sink not connected`).
   */
  function rebuiltAfter(from: number, why: string): boolean {
    const lines = logLines(svc, from);
    const start = lines.findIndex((l) => l.msg === 'rebuilding sink' && l.why === why);
    return (
      start >= 0 &&
      lines.slice(start + 1).some((l) => l.msg === 'sink connected' || l.msg === 'sink not connected')
    );
  }

  function gitShow(path: string): string {
    const dir = `${testbedEnv.gitRoot}/${repoUrl.split('/git/')[1]}`;
    return execFileSync('git', ['--git-dir', dir, 'show', `main:${path}`], { encoding: 'utf8' });
  }

  function gitLog(): string[] {
    const dir = `${testbedEnv.gitRoot}/${repoUrl.split('/git/')[1]}`;
    return execFileSync('git', ['--git-dir', dir, 'log', '--format=%s', 'main'], { encoding: 'utf8' })
      .trim()
      .split('\n');
  }

  beforeAll(async () => {
    h = await busHarness('sinkw');
    repoUrl = await createRepo(uniqueName('worker'));
    kube = new KubeClient({ kubeconfigPath: testbedEnv.kubeconfig });
    await namespaceWithSecrets(kube, ns, {
      'git-creds': { username: testbedEnv.gitUsername, password: testbedEnv.gitPassword },
    });
    await serveFullSnapshots(
      h,
      cluster,
      inv,
      () => model.message(model.current, 'full'),
      () => fullRequests++,
    );
    reports = collectSinkReports(h, cluster);
    await publishPlan(h, plan());
    svc = await startWorker(h, 'sink-snapshot');
  });

  afterAll(async () => {
    await svc?.stop();
    await kube?.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => {});
    await h?.cleanup();
  });

  it('exports a generation into the git remote with the seed subject and reports it', async () => {
    model.push(makeItems(4));
    await publish(1);
    expect(
      await waitFor(() => reports.some((r) => r.exportGeneration === 1 && r.outcome === 'exported'), 60_000),
    ).toBe(true);
    expect(gitLog()).toEqual([
      `chore(${cluster}/${ns}/web): export 4 items @ ${model.checksum(1).slice(0, 12)}`,
    ]);
    expect(gitShow(`inventory/${ns}/web.yaml`)).toContain('name: app-3');
    const r = reports.find((x) => x.exportGeneration === 1)!;
    expect(r).toMatchObject({
      sink: { family: 'snapshot', namespace: ns, name: 'audit' },
      sinkType: 'git',
      itemCount: 4,
      checksum: model.checksum(1),
    });
  });

  it('a missing generation makes the worker fetch the full snapshot over the bus and converge', async () => {
    model.push(makeItems(6));
    model.push(makeItems(3)); // generation 2 is never published
    await publish(3);
    expect(
      await waitFor(() => reports.some((r) => r.exportGeneration === 3 && r.outcome === 'exported'), 60_000),
    ).toBe(true);
    expect(fullRequests).toBeGreaterThanOrEqual(1);
    expect(gitShow(`inventory/${ns}/web.yaml`)).not.toContain('name: app-3');
    expect(gitLog()).toHaveLength(2);
  });

  it('a redelivered generation changes nothing', async () => {
    const before = reports.length;
    await publishBytes(
      h.bus,
      h.names.subject(subjects.snapshot(cluster, inv)),
      encodeSnapshotMessage(model.message(3)),
      { msgId: `${cluster}/3-again` },
    );
    expect(await waitFor(() => reports.length > before, 30_000)).toBe(true);
    expect(reports.at(-1)).toMatchObject({ exportGeneration: 3, outcome: 'unchanged' });
    expect(gitLog()).toHaveLength(2);
  });

  it('a rotated Secret with a wrong password turns exports into terminal, scrubbed failures', async () => {
    const seen = svc.logs.length;
    await kube.request('PATCH', `/api/v1/namespaces/${ns}/secrets/git-creds`, {
      body: { stringData: { password: 'rotated-but-wrong' } },
      contentType: 'application/merge-patch+json',
    });
    // The Secret watch saw the rotation and the sink was rebuilt with the new credentials (a
    // generation published before that would still be exported with the old password).
    expect(await waitFor(() => rebuiltAfter(seen, 'secret changed'), 60_000)).toBe(true);
    model.push(makeItems(7));
    await publish(4);
    expect(
      await waitFor(() => reports.some((r) => r.exportGeneration === 4 && r.outcome === 'failed'), 60_000),
    ).toBe(true);
    const r = reports.find((x) => x.exportGeneration === 4 && x.outcome === 'failed')!;
    expect(r.errorClass).toBe('terminal');
    expect(r.message).not.toContain('rotated-but-wrong');
    expect(gitLog()).toHaveLength(2);
  });
});
