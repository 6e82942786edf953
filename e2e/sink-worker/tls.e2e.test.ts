/**
 * The snapshot sink worker process over TLS: the real sink-snapshot app exports to the bed's git
 * remote through its HTTPS front (certificate signed by the bed CA), the CA coming from a Secret in
 * the real kube-apiserver via `tls.caSecretRef`. One sink trusts the bed CA; the other's CA Secret
 * holds an unrelated CA, which must fail terminal with the remedy and push nothing — until the
 * Secret is rotated to the right CA, when the worker rebuilds the sink and exports the generation
 * it could not export before.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SinkStatusReport } from '@kollect/contracts';
import { KubeClient } from '@kollect/kube';
import type { CompiledPlan } from '@kollect/plan';
import { InventoryModel, makeItems } from '@kollect/sink-testing';
import { busHarness, waitFor, type BusHarness } from '../bus/harness.js';
import type { ServiceProcess } from '../pipeline/support.js';
import { createRepo } from '../sinks/git-helpers.js';
import { hasTestbed, testbedEnv, uniqueName } from '../support/testbed.js';
import {
  collectSinkReports,
  logLines as workerLogLines,
  namespaceWithSecrets,
  publishPlan,
  publishSnapshot,
  serveFullSnapshots,
  startWorker,
  workerPlan,
} from './support.js';

/** Names what to set; every TLS verification failure must say it. */
const REMEDY = /set tls\.caBundle or tls\.caSecretRef/;

describe.runIf(hasTestbed('nats', 'kube-apiserver', 'git', 'tls'))('sink-snapshot worker over TLS', () => {
  let h: BusHarness;
  let kube: KubeClient;
  let svc: ServiceProcess;
  /** Repository names on the remote: `trusted` gets the bed CA, `untrusted` the wrong CA at first. */
  const repos = {
    trusted: uniqueName('tls-ok'),
    untrusted: uniqueName('tls-bad'),
    inline: uniqueName('tls-inline'),
  };
  const ns = uniqueName('tlsw');
  const cluster = 'e2e-tls';
  const inv = { kind: 'KollectInventory' as const, namespace: ns, name: 'web' };
  const model = new InventoryModel(inv, cluster);
  let reports: SinkStatusReport[] = [];

  const caPem = () => readFileSync(testbedEnv.caFile, 'utf8');
  const wrongCaPem = () => readFileSync(testbedEnv.wrongCaFile, 'utf8');

  const gitSinkSpec = (repo: string, caSecret: string) => ({
    endpoint: `${testbedEnv.gitHttpsUrl}/${repo}.git`,
    git: {},
    secretRef: { name: 'git-creds' },
    tls: { caSecretRef: { name: caSecret } },
  });

  /**
   * `inlineFixed`: the `inline` sink's spec is edited (generation 2) to carry the bed CA in
   * tls.caBundle instead of the wrong one.
   */
  const plan = (inlineFixed = false): CompiledPlan =>
    workerPlan({
      cluster,
      namespace: ns,
      generation: inlineFixed ? 2 : 1,
      inventories: [{ ref: inv, sinks: ['trusted', 'untrusted', 'inline'] }],
      sinks: [
        { family: 'snapshot', name: 'trusted', type: 'git', spec: gitSinkSpec(repos.trusted, 'ca-bed') },
        {
          family: 'snapshot',
          name: 'untrusted',
          type: 'git',
          spec: gitSinkSpec(repos.untrusted, 'ca-other'),
        },
        {
          family: 'snapshot',
          name: 'inline',
          type: 'git',
          generation: inlineFixed ? 2 : 1,
          spec: {
            endpoint: `${testbedEnv.gitHttpsUrl}/${repos.inline}.git`,
            git: {},
            secretRef: { name: 'git-creds' },
            tls: { caBundle: inlineFixed ? caPem() : wrongCaPem() },
          },
        },
      ],
    });

  const reportOf = (sink: string, gen: number, outcome: SinkStatusReport['outcome']) =>
    reports.find((r) => r.sink.name === sink && r.exportGeneration === gen && r.outcome === outcome);

  /** Refs of a bare repository on the remote, read from its directory (not through the sink). */
  function refs(repo: string): string {
    return execFileSync('git', ['--git-dir', `${testbedEnv.gitRoot}/${repo}.git`, 'for-each-ref'], {
      encoding: 'utf8',
    }).trim();
  }

  function gitShow(repo: string, path: string): string {
    return execFileSync('git', ['--git-dir', `${testbedEnv.gitRoot}/${repo}.git`, 'show', `main:${path}`], {
      encoding: 'utf8',
    });
  }

  const logLines = (from: number) => workerLogLines(svc, from);

  beforeAll(async () => {
    h = await busHarness('sinktls');
    await createRepo(repos.trusted);
    await createRepo(repos.untrusted);
    await createRepo(repos.inline);
    kube = new KubeClient({ kubeconfigPath: testbedEnv.kubeconfig });
    await namespaceWithSecrets(kube, ns, {
      'git-creds': { username: testbedEnv.gitUsername, password: testbedEnv.gitPassword },
      'ca-bed': { 'ca.crt': caPem() },
      'ca-other': { 'ca.crt': wrongCaPem() },
    });
    await serveFullSnapshots(h, cluster, inv, () => model.message(model.current, 'full'));
    reports = collectSinkReports(h, cluster);
    await publishPlan(h, plan());
    svc = await startWorker(h, 'sink-snapshot');
  });

  afterAll(async () => {
    await svc?.stop();
    await kube?.request('DELETE', `/api/v1/namespaces/${ns}`).catch(() => {});
    await h?.cleanup();
  });

  it('with the bed CA from tls.caSecretRef the export lands over HTTPS and is reported exported', async () => {
    model.push(makeItems(4));
    await publishSnapshot(h, model.message(1), `${cluster}/1`);
    expect(await waitFor(() => reportOf('trusted', 1, 'exported') !== undefined, 60_000)).toBe(true);
    expect(reportOf('trusted', 1, 'exported')).toMatchObject({
      sinkType: 'git',
      itemCount: 4,
      checksum: model.checksum(1),
    });
    expect(gitShow(repos.trusted, `inventory/${ns}/web.yaml`)).toContain('name: app-3');
  });

  it('with the wrong CA in the Secret the export fails terminal with the remedy and nothing is pushed', async () => {
    expect(await waitFor(() => reportOf('untrusted', 1, 'failed') !== undefined, 60_000)).toBe(true);
    const r = reportOf('untrusted', 1, 'failed')!;
    expect(r.errorClass).toBe('terminal');
    expect(r.message).toMatch(REMEDY);
    expect(r.message).not.toContain(testbedEnv.gitPassword);
    expect(r.message).not.toContain('-----BEGIN');
    expect(reports.some((x) => x.sink.name === 'untrusted' && x.outcome === 'exported')).toBe(false);
    expect(refs(repos.untrusted)).toBe('');
  });

  it('rotating the CA Secret to the bed CA rebuilds the sink and exports the generation that failed', async () => {
    const seen = svc.logs.length;
    await kube.request('PATCH', `/api/v1/namespaces/${ns}/secrets/ca-other`, {
      body: { stringData: { 'ca.crt': caPem() } },
      contentType: 'application/merge-patch+json',
    });
    // the Secret watch rebuilds the untrusted sink, and it connects with the new CA
    expect(
      await waitFor(() => {
        const lines = logLines(seen);
        const i = lines.findIndex((l) => l.msg === 'rebuilding sink' && l.why === 'secret changed');
        return i >= 0 && lines.slice(i + 1).some((l) => l.msg === 'sink connected');
      }, 60_000),
    ).toBe(true);
    // no new generation is published: the one that failed is exported by the rebuild
    expect(
      await waitFor(() => reportOf('untrusted', 1, 'exported') !== undefined, 60_000),
      svc.logs.slice(seen).join('\n'),
    ).toBe(true);
    expect(reportOf('untrusted', 1, 'exported')).toMatchObject({ itemCount: 4, checksum: model.checksum(1) });
    expect(gitShow(repos.untrusted, `inventory/${ns}/web.yaml`)).toContain('name: app-3');
  });

  it('a sink whose spec carries the wrong CA fails terminal; the spec edit that fixes it exports the generation that failed', async () => {
    expect(await waitFor(() => reportOf('inline', 1, 'failed') !== undefined, 60_000)).toBe(true);
    expect(reportOf('inline', 1, 'failed')).toMatchObject({ errorClass: 'terminal' });
    expect(reportOf('inline', 1, 'failed')!.message).toMatch(REMEDY);
    expect(refs(repos.inline)).toBe('');
    const seen = svc.logs.length;
    // The controller publishes the edited sink (generation 2): the worker replaces the sink's host,
    // and the new host exports what the old one parked — no new generation is published.
    await publishPlan(h, plan(true));
    expect(
      await waitFor(() => reportOf('inline', 1, 'exported') !== undefined, 60_000),
      svc.logs.slice(seen).join('\n'),
    ).toBe(true);
    expect(logLines(seen).some((l) => l.msg === 'exporting parked snapshot')).toBe(true);
    expect(reportOf('inline', 1, 'exported')).toMatchObject({ itemCount: 4, checksum: model.checksum(1) });
    expect(gitShow(repos.inline, `inventory/${ns}/web.yaml`)).toContain('name: app-3');
  });
});
