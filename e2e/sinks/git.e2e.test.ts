/**
 * The git sink against the test bed's real git smart-HTTP server (Debian git http-backend with
 * basic/token auth): the conformance suite for the document and tree layouts, plus auth modes.
 */
import { describe } from 'vitest';
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
