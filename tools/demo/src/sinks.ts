import type { KubeObject } from './scenario.js';

const K = 'kollect.dev/v1alpha1';

/** Where the demo's sinks write, for the "where to look" lines. */
export interface DemoSinks {
  manifests: KubeObject[];
  /** Replaces the first team's inventory: the §3.11 bindings (Postgres @30s, Git @1h). */
  inventory: KubeObject;
  lookHere: string[];
}

/** Test bed endpoints the sinks need (from `testbed env`). */
export interface SinkEnv {
  gitUrl?: string | undefined;
  gitToken?: string | undefined;
  postgresDsn?: string | undefined;
}

/**
 * The sinks of SEED-SPEC §3.11 on the test bed: a Git sink on the test bed's git remote and a
 * Postgres sink on its database, bound to the first team's inventory. Only the families whose
 * worker runs are bound (`git` / `postgres` false leave them out). Credentials go into Secrets
 * only; the printed hints read them from the test bed environment instead of showing them.
 */
export function demoSinks(
  team: string,
  system: string,
  env: SinkEnv,
  want: { git: boolean; postgres: boolean },
  repo = 'kollect-demo',
): DemoSinks {
  const manifests: KubeObject[] = [];
  const lookHere: string[] = [];
  const spec: Record<string, unknown> = { exportMinInterval: '30s' };
  if (want.git && env.gitUrl && env.gitToken) {
    manifests.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'git-push-credentials', namespace: team },
      type: 'Opaque',
      stringData: { token: env.gitToken },
    });
    manifests.push({
      apiVersion: K,
      kind: 'KollectSnapshotSink',
      metadata: { name: 'audit-git', namespace: team },
      spec: {
        type: 'git',
        endpoint: `${env.gitUrl}/${repo}.git`,
        cluster: 'demo',
        connectionTest: false,
        secretRef: { name: 'git-push-credentials' },
        pathTemplate: 'clusters/{cluster}/inventory/{namespace}/{name}{extension}',
        git: { branch: 'main', pushPolicy: 'Commit' },
      },
    });
    spec['snapshotSinkRefs'] = [{ name: 'audit-git', exportMinInterval: '1h' }];
    // A fresh directory each time: a fixed path fails on the second run (the clone target exists).
    lookHere.push(
      `git: eval "$(npm run -s testbed -- env)" && d="$(mktemp -d -t ${repo}-XXXXXX)" && git -c "http.extraHeader=Authorization: Bearer $KOLLECT_TEST_GIT_TOKEN" clone -q ${env.gitUrl}/${repo}.git "$d" && git -C "$d" log --stat -3`,
    );
  }
  if (want.postgres && env.postgresDsn) {
    manifests.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'inventory-postgres-dsn', namespace: system },
      type: 'Opaque',
      stringData: { dsn: env.postgresDsn },
    });
    manifests.push({
      apiVersion: K,
      kind: 'KollectDatabaseSink',
      metadata: { name: 'portal-postgres', namespace: team },
      spec: {
        type: 'postgres',
        cluster: 'demo',
        connectionTest: false,
        provisioning: { mode: 'ensure' },
        postgres: {
          databaseRef: { name: 'inventory-postgres-dsn', namespace: system },
          schema: 'public',
          table: 'inventory_items',
        },
      },
    });
    spec['databaseSinkRefs'] = ['portal-postgres'];
    lookHere.push(
      `postgres: eval "$(npm run -s testbed -- env)" && psql "$KOLLECT_TEST_POSTGRES_DSN" -c "select target_name, payload->>'name' as name, payload->'attributes' as attributes from public.inventory_items where inventory_namespace = '${team}' order by 1, 2 limit 10"`,
    );
  }
  return {
    manifests,
    inventory: {
      apiVersion: K,
      kind: 'KollectInventory',
      metadata: { name: 'team-inventory', namespace: team },
      spec,
    },
    lookHere,
  };
}
