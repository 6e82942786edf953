/**
 * The whole pipeline into Git: controller, watcher, extractors, aggregators and the snapshot sink
 * worker as separate processes, the demo scenario on the real kube-apiserver, and two Git sinks
 * on the test bed's git server bound to one team's inventory (a `document` file and a
 * `perResource` tree). One commit per material change with the seed's subject; an object update
 * changes exactly its file (tree) or its lines (document); deleting the object removes its file.
 *
 *   npm run testbed -- up nats kube-apiserver git
 *   eval "$(npm run -s testbed -- env)"
 *   npx vitest run --project e2e e2e/pipeline/git-sink
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTestbed, testbedEnv } from '../support/testbed.js';
import { createRepo } from '../sinks/git-helpers.js';
import { startWorld, testDeployment, uniqueTag, type World } from './harness.js';

const run = hasTestbed('nats', 'kube-apiserver', 'git') ? describe : describe.skip;
const K = 'kollect.dev/v1alpha1';

run('pipeline into git: one commit per material change, exact files and lines', () => {
  let w: World;
  let team: string;
  let docRepo: string;
  let treeRepo: string;
  const tag = uniqueTag('gs');

  const dirOf = (url: string) => `${testbedEnv.gitRoot}/${url.split('/git/')[1]}`;
  const git = (url: string, ...args: string[]) =>
    execFileSync('git', ['--git-dir', dirOf(url), ...args], { encoding: 'utf8' });
  const head = (url: string) => {
    try {
      return git(url, 'rev-parse', '--verify', '--quiet', 'main').trim();
    } catch {
      return '';
    }
  };
  const show = (url: string, path: string) => {
    try {
      return git(url, 'show', `main:${path}`);
    } catch {
      return undefined;
    }
  };
  async function until(cond: () => boolean, ms = 120_000): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (cond()) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error('condition not met in time');
  }

  beforeAll(async () => {
    docRepo = await createRepo(`${tag}-doc`);
    treeRepo = await createRepo(`${tag}-tree`);
    w = await startWorld({
      tag,
      replicas: { 'sink-snapshot': 1 },
      extra: ({ ns }) => {
        const t = ns.teams[0] as string;
        const sink = (name: string, endpoint: string, extra: Record<string, unknown>) => ({
          apiVersion: K,
          kind: 'KollectSnapshotSink',
          metadata: { name, namespace: t },
          spec: {
            type: 'git',
            endpoint,
            secretRef: { name: 'git-push' },
            connectionTest: false,
            git: { branch: 'main' },
            ...extra,
          },
        });
        return [
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: 'git-push', namespace: t },
            type: 'Opaque',
            stringData: { username: testbedEnv.gitUsername, password: testbedEnv.gitPassword },
          },
          sink('git-doc', docRepo, {}),
          sink('git-tree', treeRepo, { layout: { mode: 'perResource' } }),
          {
            apiVersion: K,
            kind: 'KollectInventory',
            metadata: { name: 'team-inventory', namespace: t },
            spec: { exportMinInterval: '30s', snapshotSinkRefs: [{ name: 'git-doc' }, { name: 'git-tree' }] },
          },
          testDeployment(t, 'gitprobe', { images: ['nginx:1.27'] }),
        ];
      },
    });
    team = w.ns.teams[0] as string;
  }, 600_000);

  afterAll(async () => {
    await w?.cleanup();
  });

  const treeFile = () => `${w.cluster}/${team}/deployment/gitprobe.yaml`;
  const docFile = () => `inventory/${team}/team-inventory.yaml`;

  it('the inventory lands in both remotes with the seed subject', async () => {
    await until(
      () =>
        (show(treeRepo, treeFile()) ?? '').includes('nginx:1.27') &&
        (show(docRepo, docFile()) ?? '').includes('name: gitprobe'),
    );
    const subject = new RegExp(
      `^chore\\(${w.cluster}/${team}/team-inventory\\): export \\d+ items @ [0-9a-f]{12}$`,
    );
    for (const url of [docRepo, treeRepo]) {
      for (const s of git(url, 'log', '--format=%s', 'main').trim().split('\n')) expect(s).toMatch(subject);
    }
  }, 300_000);

  it('an object update changes exactly its file in the tree and its lines in the document', async () => {
    const beforeDoc = head(docRepo);
    const beforeTree = head(treeRepo);
    await w.applier.applyAll([testDeployment(team, 'gitprobe', { images: ['nginx:1.28'] })], 1);
    await until(
      () =>
        (show(treeRepo, treeFile()) ?? '').includes('nginx:1.28') &&
        (show(docRepo, docFile()) ?? '').includes('nginx:1.28'),
    );
    expect(git(treeRepo, 'diff', '--name-status', beforeTree, 'main').trim().split('\n')).toEqual([
      `M\t${treeFile()}`,
    ]);
    const changed = git(docRepo, 'diff', '-U0', beforeDoc, 'main', '--', docFile())
      .split('\n')
      .filter((l) => /^[+-](?![+-])/.test(l));
    expect(changed.length).toBeGreaterThan(0);
    for (const l of changed) expect(l).toMatch(/nginx:1\.2[78]/);
    // One commit per material change.
    expect(git(treeRepo, 'rev-list', '--count', `${beforeTree}..main`).trim()).toBe('1');
  }, 300_000);

  it('deleting the object removes its file', async () => {
    const beforeTree = head(treeRepo);
    await w.kube.request('DELETE', `/apis/apps/v1/namespaces/${team}/deployments/gitprobe`);
    await until(
      () =>
        show(treeRepo, treeFile()) === undefined &&
        !(show(docRepo, docFile()) ?? 'name: gitprobe').includes('name: gitprobe'),
    );
    expect(git(treeRepo, 'diff', '--name-status', beforeTree, 'main').trim().split('\n')).toEqual([
      `D\t${treeFile()}`,
    ]);
  }, 300_000);
});
