/**
 * The git sink against the test bed's real git smart-HTTP server (Debian git http-backend with
 * basic/token auth): the conformance suite for the document and tree layouts, plus auth modes.
 */
import { describe, expect, it } from 'vitest';
import type { InventoryRef } from '@kollect/contracts';
import { gitSinkFactory } from '@kollect/sink-git';
import { sinkConformance, type ConformanceDestination } from '@kollect/sink-testing';
import { hasTestbed, testbed, testbedEnv, uniqueName } from '../support/testbed.js';
import { createRepo, gitCreds, gitSink } from './git-helpers.js';
import { gitRemoteHead, readGit, type GitLayoutForReader } from './readers.js';

const ns = (inv: InventoryRef) => (inv.kind === 'KollectClusterInventory' ? 'cluster' : inv.namespace);

function target(
  name: string,
  spec: (partitioned: boolean) => Record<string, unknown>,
  layout: (partitioned: boolean) => GitLayoutForReader,
  bigRows?: number,
) {
  return {
    name,
    factory: gitSinkFactory,
    ...(bigRows !== undefined ? { bigRows } : {}),
    fault: { down: () => testbed.stop('git'), up: () => testbed.start('git') },
    async destination(opts: { clusterPartitioned?: boolean }): Promise<ConformanceDestination> {
      const url = await createRepo(uniqueName('conf'));
      const auth = { username: testbedEnv.gitUsername, password: testbedEnv.gitPassword };
      const l = layout(opts.clusterPartitioned === true);
      return {
        sink: gitSink(url, spec(opts.clusterPartitioned === true)),
        credentials: gitCreds(auth.username, auth.password),
        wrongCredentials: gitCreds(auth.username, 'definitely-wrong-password'),
        read: (cluster, inv) => readGit(url, auth, l, cluster, inv),
        revision: () => gitRemoteHead(url, auth),
      };
    },
  };
}

describe.runIf(hasTestbed('git'))('git sink (test bed git smart-HTTP)', () => {
  sinkConformance(
    target(
      'git yaml document',
      (p) => (p ? { pathTemplate: '{cluster}/inventory/{namespace}/{name}{extension}' } : {}),
      (p) => ({
        mode: 'document',
        format: 'yaml',
        path: (c, inv) => (p ? `${c}/` : '') + `inventory/${ns(inv)}/${inv.name}.yaml`,
      }),
    ),
  );
  sinkConformance(
    target(
      'git perResource yaml',
      () => ({ layout: { mode: 'perResource' } }),
      () => ({ mode: 'tree', format: 'yaml', path: (c) => `${c}/` }),
    ),
  );
  sinkConformance(
    target(
      'git split json',
      () => ({
        layout: {
          mode: 'split',
          pathTemplate: '{cluster}/{sourceNamespace}/{kind}/{sourceName}{extension}',
          index: { pathTemplate: '{cluster}/_index/{namespace}/{name}{extension}' },
        },
        serialization: { format: 'json' },
      }),
      () => ({ mode: 'tree', format: 'json', path: (c) => `${c}/`, exclude: /\/_index\// }),
      10_000,
    ),
  );
});

describe.runIf(hasTestbed('git'))('git sink auth modes (test bed git smart-HTTP)', () => {
  it('a token alone authenticates (sent as HTTP basic, never in a URL or on disk)', async () => {
    const { MaterializedStore, SinkRunner } = await import('@kollect/sink');
    const { InventoryModel, makeItems } = await import('@kollect/sink-testing');
    const url = await createRepo(uniqueName('token'));
    const token = testbedEnv.gitToken;
    const sink = gitSinkFactory.create({
      sink: gitSink(url, {}),
      cluster: 'east',
      credentials: { data: { token }, roles: { token }, version: '1' },
      workDir: `/tmp/${uniqueName('tok-work')}`,
      signal: new AbortController().signal,
      log: { debug() {}, info() {}, warn() {}, error() {} },
    });
    await sink.connect();
    const model = new InventoryModel({ kind: 'KollectInventory', namespace: 'team-a', name: 'web' }, 'east');
    const runner = new SinkRunner({
      sink,
      sinkName: 'snapshot/team-a/tok',
      full: model,
      store: new MaterializedStore(),
      clusterLabel: 'east',
      log: { debug() {}, info() {}, warn() {}, error() {} },
    });
    model.push(makeItems(2));
    const out = await runner.handle(model.message(1));
    expect(out.outcome).toBe('exported');
    expect(await gitRemoteHead(url, { username: 'any', password: token })).toMatch(/^[0-9a-f]{40}$/);
    const { execFileSync } = await import('node:child_process');
    const onDisk = execFileSync('sh', ['-c', `grep -rl '${token}' /tmp/${'tok-work'}* 2>/dev/null | wc -l`], {
      encoding: 'utf8',
    }).trim();
    expect(onDisk).toBe('0');
    await sink.close();
  });
});
