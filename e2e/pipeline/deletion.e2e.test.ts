/**
 * Deleting a target and an inventory end to end (SEED-SPEC §6.4) with real sinks bound: the whole
 * pipeline plus the database sink worker (apps/sink-database) on the test bed's Postgres and the
 * snapshot sink worker on its git server. A deleted target's rows leave the inventory's snapshots
 * and the Postgres table, and its finalizer is released; a deleted inventory's relational rows are
 * wiped by the final empty export *before* its finalizer is released, and its Git history is left
 * as it was (snapshot sinks keep the last non-empty export).
 *
 *   npm run testbed -- up nats kube-apiserver postgres git
 *   eval "$(npm run -s testbed -- env)"
 *   npx vitest run --project e2e e2e/pipeline/deletion
 */
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumItems, checksumShort, parseItem, type Item } from '@kollect/contracts';
import { createRepo } from '../sinks/git-helpers.js';
import { hasTestbed, testbedEnv } from '../support/testbed.js';
import { startWorld, teamInventory, uniqueTag, type World } from './harness.js';
import { diffRows } from './oracle.js';
import { waitFor } from './support.js';

const run = hasTestbed('nats', 'kube-apiserver', 'postgres', 'git') ? describe : describe.skip;
const K = 'kollect.dev/v1alpha1';
const FINALIZER = 'kollect.dev/inventory-cleanup';

run('pipeline: deleting a target and an inventory with Postgres and Git sinks bound', () => {
  let w: World;
  let team: string;
  let pool: pg.Pool;
  let repo: string;
  const tag = uniqueTag('dl');
  /** A table of this run only (public schema, created by the sink: provisioning ensure). */
  const table = `e2e_rows_${tag}`;
  const inventoryObj = () => ({
    apiVersion: K,
    kind: 'KollectInventory',
    metadata: { name: 'team-inventory', namespace: team },
  });

  const dirOf = (url: string) => `${testbedEnv.gitRoot}/${url.split('/git/')[1]}`;
  const git = (...args: string[]) =>
    execFileSync('git', ['--git-dir', dirOf(repo), ...args], { encoding: 'utf8' });
  const head = () => {
    try {
      return git('rev-parse', '--verify', '--quiet', 'main').trim();
    } catch {
      return '';
    }
  };
  const docFile = () => `inventory/${team}/team-inventory.yaml`;
  /** Git holds the generation with this checksum: the last commit's subject names it (`… @ <short>`). */
  const gitAt = (checksum: string) =>
    head() !== '' &&
    git('log', '-1', '--format=%s', 'main')
      .trim()
      .endsWith(`@ ${checksumShort(checksum)}`);
  const doc = () => {
    try {
      return git('show', `main:${docFile()}`);
    } catch {
      return undefined;
    }
  };

  /** The inventory's rows in Postgres ([] before the sink created the table). */
  async function pgRows(): Promise<Item[]> {
    try {
      const r = await pool.query<{ payload: unknown }>(
        `SELECT payload FROM public."${table}" WHERE cluster = $1 AND inventory_namespace = $2 AND inventory_name = $3`,
        [w.cluster, team, 'team-inventory'],
      );
      return r.rows.map((x) => parseItem(x.payload));
    } catch (err) {
      if ((err as { code?: string }).code === '42P01') return []; // undefined_table
      throw err;
    }
  }

  /** Wait until Postgres holds exactly the rows (by checksum); fails with the differences. */
  async function postgresHolds(want: Item[], timeoutMs = 60_000): Promise<void> {
    let got: Item[] = [];
    await waitFor(
      async () => {
        got = await pgRows();
        return checksumItems(got) === checksumItems(want);
      },
      timeoutMs,
      300,
    );
    const d = diffRows(got, want);
    expect({ missing: d.missing, extra: d.extra, different: d.different }).toEqual({
      missing: [],
      extra: [],
      different: [],
    });
  }

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: testbedEnv.postgresDsn, max: 2 });
    repo = await createRepo(`${tag}-doc`);
    w = await startWorld({
      tag,
      replicas: { 'sink-database': 1, 'sink-snapshot': 1 },
      scenario: { deploymentsPerTeam: 6, servicesPerTeam: 3, ingressesPerTeam: 1 },
      extra: ({ ns }) => {
        const t = ns.teams[0] as string;
        return [
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: 'pg-dsn', namespace: t },
            type: 'Opaque',
            stringData: { dsn: testbedEnv.postgresDsn },
          },
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: 'git-push', namespace: t },
            type: 'Opaque',
            stringData: { username: testbedEnv.gitUsername, password: testbedEnv.gitPassword },
          },
          {
            apiVersion: K,
            kind: 'KollectDatabaseSink',
            metadata: { name: 'pg', namespace: t },
            spec: {
              type: 'postgres',
              connectionTest: false,
              provisioning: { mode: 'ensure' },
              postgres: { databaseRef: { name: 'pg-dsn' }, schema: 'public', table },
            },
          },
          {
            apiVersion: K,
            kind: 'KollectSnapshotSink',
            metadata: { name: 'git', namespace: t },
            spec: {
              type: 'git',
              endpoint: repo,
              secretRef: { name: 'git-push' },
              connectionTest: false,
              git: { branch: 'main' },
            },
          },
          {
            apiVersion: K,
            kind: 'KollectInventory',
            metadata: { name: 'team-inventory', namespace: t },
            spec: { exportMinInterval: '30s', databaseSinkRefs: ['pg'], snapshotSinkRefs: [{ name: 'git' }] },
          },
        ];
      },
    });
    team = w.ns.teams[0] as string;
  }, 600_000);

  afterAll(async () => {
    await w?.cleanup();
    if (pool) {
      await pool.query(`DROP TABLE IF EXISTS public."${table}"`).catch(() => undefined);
      await pool
        .query('DELETE FROM public.kollect_exports WHERE cluster = $1', [w?.cluster ?? ''])
        .catch(() => undefined);
      await pool.end();
    }
  });

  it('the inventory lands in Postgres and in Git', async () => {
    const t = await w.converged(teamInventory(team), 120_000);
    expect([...t.rows.values()].some((i) => i.targetName === 'services')).toBe(true);
    await postgresHolds((await w.expected(teamInventory(team))).items, 90_000);
    expect(await waitFor(() => gitAt(t.checksum), 90_000, 300)).toBe(true);
    expect(doc()).toContain(`targetName: services`);
  });

  it('a deleted target leaves the snapshots and Postgres, and its finalizer is released', async () => {
    const inv = teamInventory(team);
    const before = w.table(inv)!;
    const gone = [...before.rows.values()].filter((i) => i.targetName === 'services').map((i) => i.uid);
    expect(gone.length).toBeGreaterThan(0);
    const genBefore = before.exportGeneration;
    await w.applier.delete({
      apiVersion: K,
      kind: 'KollectTarget',
      metadata: { name: 'services', namespace: team },
    });
    // The oracle: a deleted target collects in no namespace.
    const target = w.targetsOf(inv).find((x) => x.name === 'services')!;
    w.overrides.set(`${team}/services`, { ...target, namespaces: [] });

    const t = await w.converged(inv, 90_000);
    const deleted = new Set(
      t.deletes
        .filter((d) => d.exportGeneration > genBefore && d.key.targetName === 'services')
        .map((d) => d.key.uid),
    );
    expect([...deleted].sort()).toEqual([...gone].sort());
    expect(
      await waitFor(
        async () =>
          !(await w.applier.get({
            apiVersion: K,
            kind: 'KollectTarget',
            metadata: { name: 'services', namespace: team },
          })),
        60_000,
        300,
      ),
    ).toBe(true);
    await postgresHolds((await w.expected(inv)).items);
    expect((await pgRows()).filter((i) => i.targetName === 'services')).toEqual([]);
  });

  it('a deleted inventory: its Postgres rows are wiped before its finalizer is released, and Git history is untouched', async () => {
    const inv = teamInventory(team);
    expect((await pgRows()).length).toBeGreaterThan(0);
    // Git has caught up with the current generation before the delete (so "untouched" compares like with like).
    const checksum = w.table(inv)!.checksum;
    expect(await waitFor(() => gitAt(checksum), 60_000, 300)).toBe(true);
    const headBefore = head();
    const docBefore = doc();
    const commitsBefore = git('rev-list', '--count', 'main').trim();

    await w.applier.delete(inventoryObj());
    // While the cleanup runs the object is still there, held by its finalizer; the moment it is
    // gone, the relational rows must already be gone (the controller releases the finalizer only
    // once the database sink reported the final empty export applied).
    let rowsWhenGone: number | undefined;
    let heldSeen = false;
    await waitFor(
      async () => {
        const o = await w.applier.get<{ metadata: { finalizers?: string[]; deletionTimestamp?: string } }>(
          inventoryObj(),
        );
        if (o) {
          if (o.metadata.deletionTimestamp && o.metadata.finalizers?.includes(FINALIZER)) heldSeen = true;
          return false;
        }
        rowsWhenGone = (await pgRows()).length;
        return true;
      },
      90_000,
      100,
    );
    expect(rowsWhenGone).toBe(0);
    expect(heldSeen).toBe(true);
    // The final export the database sink applied is an empty generation on the public subject.
    const final = w.table(inv)!;
    expect(final.rows.size).toBe(0);
    expect(final.problems).toEqual([]);

    // Git: the snapshot worker applied the plan without this binding (it stopped the git sink,
    // its only binding) — from then on nothing can reach the repository — and the history and the
    // document are those of the last non-empty export.
    const gitSink = `snapshot/${team}/git`;
    expect(
      await waitFor(
        () =>
          w.stackOrThrow
            .service('sink-snapshot')
            .currentLog()
            .split('\n')
            .some((l) => l.includes('sink host stopped') && l.includes(gitSink)),
        60_000,
        300,
      ),
    ).toBe(true);
    expect(head()).toBe(headBefore);
    expect(git('rev-list', '--count', 'main').trim()).toBe(commitsBefore);
    expect(doc()).toBe(docBefore);
  });
});
