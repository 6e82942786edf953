/**
 * The demo itself (`npm run demo -- --once`, README's main job) against the test bed: it must
 * finish with every inventory complete, and what it prints must hold — the row counts it shows
 * are the apiserver's, the scope denial and the no-sink inventories read as SEED-SPEC §3.6/§7.2
 * say, and every "where to look" / "subscribe yourself" command it prints works as printed.
 *
 * The demo runs on the bed's production names (no bus prefix, namespaces team-a/b/c, sandbox,
 * kollect-system), like a developer's `npm run demo`: do not run both at the same time.
 *
 *   npm run testbed -- up
 *   eval "$(npm run -s testbed -- env)"
 *   npx vitest run --project e2e e2e/demo
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hasTestbed, REPO_ROOT } from '../support/testbed.js';

const execFileP = promisify(execFile);
/** The demo's own deadline for the first complete export; the test allows build and shutdown on top. */
const DEMO_TIMEOUT_S = 100;

interface Run {
  code: number | null;
  out: string;
}

/** Run a command to completion, stdout and stderr together (never through a terminal: no colours). */
function run(cmd: string, args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: the deadline stops the command and everything it started.
      detached: true,
    });
    let out = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    p.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
    const timer = setTimeout(() => {
      if (p.pid !== undefined) process.kill(-p.pid, 'SIGINT');
    }, timeoutMs);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** The rows of the text table under `heading` (first row = header), split on 2+ spaces. */
function tableUnder(out: string, heading: string): string[][] {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  if (start < 0) return [];
  const rows: string[][] = [];
  for (const l of lines.slice(start + 1)) {
    if (!l.startsWith('  ') || l.trim() === '') break;
    rows.push(l.trim().split(/\s{2,}/));
  }
  return rows;
}

describe.runIf(hasTestbed('nats', 'kube-apiserver', 'git', 'postgres'))(
  'the demo (npm run demo -- --once)',
  () => {
    let demo: Run;

    it(
      'exits 0 after the first complete export, and its summary holds',
      async () => {
        await execFileP('npx', ['tsc', '-b', join('tools', 'demo')], { cwd: REPO_ROOT, timeout: 300_000 });
        demo = await run(
          process.execPath,
          [
            join(REPO_ROOT, 'tools', 'demo', 'dist', 'main.js'),
            '--once',
            '--timeout',
            String(DEMO_TIMEOUT_S),
          ],
          (DEMO_TIMEOUT_S + 60) * 1000,
        );
        expect(demo.code, demo.out).toBe(0);
        expect(demo.out).toContain('✓ every inventory exported what the apiserver holds');

        // Every inventory holds what the demo computed from the apiserver (its own counting).
        const inventories = tableUnder(demo.out, 'Inventories');
        expect(inventories[0]).toEqual([
          'inventory',
          'rows',
          'expected',
          'generation',
          'checksum',
          'exported (UTC)',
        ]);
        const byName = new Map(inventories.slice(1).map((r) => [r[0], r]));
        expect([...byName.keys()].sort()).toEqual([
          '(cluster)/platform-images',
          'team-a/team-inventory',
          'team-b/team-inventory',
          'team-c/team-inventory',
        ]);
        for (const [name, r] of byName) {
          expect(Number(r[1]), name).toBeGreaterThan(0);
          expect(r[1], name).toBe(r[2]);
        }

        // What the controller says: team-c's scope denies its Ingresses; inventories without a sink
        // are Synced=True/NoExport (SEED-SPEC §3.6), the one with sinks Exported.
        const notes = tableUnder(demo.out, 'Status written by the controller');
        const note = (object: string) => notes.find((r) => r[0] === object);
        expect(note('Target team-c/ingresses')?.slice(1, 3)).toEqual(['Degraded=True', 'ScopeGVKDenied']);
        expect(note('Inventory team-b/team-inventory')?.slice(1, 3)).toEqual(['Synced=True', 'NoExport']);
        expect(note('Inventory team-a/team-inventory')?.slice(1, 3)).toEqual(['Synced=True', 'Exported']);

        const exports = tableUnder(demo.out, 'Sink exports');
        const checksumA = byName.get('team-a/team-inventory')?.[4];
        for (const sink of ['database/portal-postgres', 'snapshot/audit-git']) {
          const row = exports.find((r) => r[1] === sink);
          expect(row?.[2], sink).toBe('Exported');
          expect(row?.[4], sink).toBe(checksumA);
        }
      },
      (DEMO_TIMEOUT_S + 120) * 1000,
    );

    it('the commands it prints work as printed (twice: nothing left over breaks a second run)', async () => {
      expect(demo?.code).toBe(0);
      const printed = demo.out.split('\n').map((l) => l.trim());
      const git = printed.find((l) => l.startsWith('git: '))?.slice('git: '.length);
      const psql = printed.find((l) => l.startsWith('postgres: '))?.slice('postgres: '.length);
      const subscribe = printed.find((l) => l.includes('tools/demo/dist/subscribe.js'));
      expect(git).toBeDefined();
      expect(psql).toBeDefined();
      expect(subscribe).toBeDefined();
      for (let i = 0; i < 2; i++) {
        const g = await run('bash', ['-c', `${git!} && rm -rf "$d"`], 60_000);
        expect(g.code, g.out).toBe(0);
        expect(g.out).toMatch(/chore\(demo\/team-a\/team-inventory\): export \d+ items @ [0-9a-f]{12}/);
      }
      const rowsA = tableUnder(demo.out, 'Inventories').find((r) => r[0] === 'team-a/team-inventory')?.[1];
      const p = await run('bash', ['-c', psql!], 60_000);
      expect(p.code, p.out).toBe(0);
      expect(p.out).toContain('(10 rows)');
      const count = await run(
        'bash',
        [
          '-c',
          `eval "$(npm run -s testbed -- env)" && psql -tA "$KOLLECT_TEST_POSTGRES_DSN" -c "select count(*) from public.inventory_items where cluster = 'demo' and inventory_namespace = 'team-a' and inventory_name = 'team-inventory'"`,
        ],
        60_000,
      );
      expect(count.out.trim()).toBe(rowsA);
      // The subscriber reads the stream from its start: the demo's generations are there at once.
      const sub = await run('bash', ['-c', subscribe!], 8_000);
      expect(sub.out).toMatch(/team-a\/team-inventory\s+generation\s+\d+/);
      expect(sub.out).toMatch(/\(cluster\)\/platform-images\s+generation\s+\d+/);
    }, 120_000);
  },
);
