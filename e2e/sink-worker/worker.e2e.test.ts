/**
 * The snapshot sink worker end to end on the test bed: plan from KV, Secrets from the real
 * kube-apiserver, snapshot messages on JetStream, a full snapshot requested over the bus when a
 * generation is missing, the inventory landing in the real git remote, and status reports.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSnapshotMessage, planSnapshotPublication } from '@kollect/aggregate';
import { encodeJson, JsonKv, PLAN_KEY, publishBytes, putPlan } from '@kollect/bus';
import { subjects, type SinkStatusReport } from '@kollect/contracts';
import { KubeClient } from '@kollect/kube';
import { PLAN_SCHEMA_VERSION, type CompiledPlan } from '@kollect/plan';
import { InventoryModel, makeItems } from '@kollect/sink-testing';
import { busHarness, waitFor, type BusHarness } from '../bus/harness.js';
import { hasTestbed, testbedEnv, uniqueName } from '../support/testbed.js';
import { createRepo } from '../sinks/git-helpers.js';
import { startService, waitForLog, type ServiceProcess } from '../pipeline/support.js';

describe.runIf(hasTestbed('nats', 'kube-apiserver', 'git'))('sink-snapshot worker', () => {
  let h: BusHarness;
  let kube: KubeClient;
  let svc: ServiceProcess;
  let repoUrl: string;
  const ns = uniqueName('team');
  const cluster = 'e2e-east';
  const inv = { kind: 'KollectInventory' as const, namespace: ns, name: 'web' };
  const model = new InventoryModel(inv, cluster);
  const reports: SinkStatusReport[] = [];
  let fullRequests = 0;

  function plan(generation: number): CompiledPlan {
    return {
      schemaVersion: PLAN_SCHEMA_VERSION,
      generation,
      compiledAt: new Date().toISOString(),
      settings: {
        cluster,
        partitions: 1,
        maxExportBytes: 1_572_864,
        scrubKeys: [],
        celCostLimit: 1000,
        celTimeoutMs: 100,
      },
      watches: [],
      profiles: {},
      targets: [],
      inventories: [
        {
          ref: inv,
          uid: 'inv-uid',
          generation: 1,
          partition: 0,
          targets: [],
          dedupe: 'keepAll',
          gvrs: [],
          exportMinIntervalMs: 0,
          bindings: [
            {
              sink: { family: 'snapshot', namespace: ns, name: 'audit' },
              type: 'git',
              exportMinIntervalMs: 0,
              maxExportBytes: 1_572_864,
            },
          ],
        },
      ],
      sinks: [
        {
          ref: { family: 'snapshot', namespace: ns, name: 'audit' },
          uid: 'sink-uid',
          generation: 1,
          type: 'git',
          spec: { type: 'git', endpoint: repoUrl, git: {}, secretRef: { name: 'git-creds' } },
        },
      ],
      namespaceWatch: {},
    } as CompiledPlan;
  }

  async function publish(g: number): Promise<void> {
    const msg = model.message(g);
    await publishBytes(h.bus, h.names.subject(subjects.snapshot(cluster, inv)), encodeSnapshotMessage(msg), {
      msgId: `${cluster}/${g}`,
    });
  }

  /**
   * True once the worker logged, after log line `from`, a rebuild of the sink for `why` followed by
   * the outcome of that rebuild (`sink connected` or `sink not connected`).
   */
  function rebuiltAfter(from: number, why: string): boolean {
    const lines = svc.logs.slice(from).map((l) => {
      try {
        return JSON.parse(l) as { msg?: string; why?: string };
      } catch {
        return {};
      }
    });
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
    await kube.request('POST', '/api/v1/namespaces', {
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    });
    await kube.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'git-creds' },
        stringData: { username: testbedEnv.gitUsername, password: testbedEnv.gitPassword },
      },
    });
    // The aggregator's side of full-snapshot requests, from the reference model.
    const store = await h.bus.objm.open(h.names.buckets.full);
    h.bus.nc.subscribe(h.names.subject(subjects.fullSnapshotRequest(cluster, inv)), {
      callback: (_e, m) => {
        fullRequests++;
        const pub = planSnapshotPublication(model.message(model.current, 'full'), {
          maxInlineBytes: 0,
          bucket: h.names.buckets.full,
        });
        void store
          .putBlob({ name: pub.object!.name }, pub.object!.data)
          .then(() => m.respond(encodeJson({ ok: true, snapshot: pub.message })));
      },
    });
    h.bus.nc.subscribe(h.names.subject(subjects.status('sink', cluster)), {
      callback: (_e, m) => {
        reports.push(JSON.parse(new TextDecoder().decode(m.data)) as SinkStatusReport);
      },
    });
    await putPlan(await JsonKv.open(h.bus, h.names.buckets.plan), PLAN_KEY, plan(1), {
      schemaVersion: PLAN_SCHEMA_VERSION,
    });
    svc = await startService('sink-snapshot', {
      KOLLECT_NATS_URL: testbedEnv.natsUrl,
      KOLLECT_BUS_PREFIX: h.names.prefix,
      KUBECONFIG: testbedEnv.kubeconfig,
      KOLLECT_ALLOW_PRIVATE_ENDPOINTS: 'true',
      KOLLECT_SINK_PROBER: 'false',
      KOLLECT_SINK_WORK_DIR: mkdtempSync(join(tmpdir(), 'kollect-worker-')),
      KOLLECT_LOG_LEVEL: 'info',
    });
    expect(await waitForLog(svc, /snapshot sink worker started/, 60_000)).toBe(true);
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
