import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumItems, sortItems, type InventoryRef, type Item } from '@kollect/contracts';
import type { CompiledSink } from '@kollect/plan';
import { MaterializedInventory, type FullSnapshot, type SinkContext } from '@kollect/sink';
import { GitSink, gitPreview } from './sink.js';
import { parseGitEndpoint } from './endpoint.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const inv: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'web' };
let root: string;

function sh(args: string[], cwd?: string): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: root },
  });
}

function bare(name: string): string {
  const p = join(root, `${name}.git`);
  sh(['init', '--quiet', '--bare', '--initial-branch=main', p]);
  return `file://${p}`;
}

function item(uid: string, image = 'nginx:1'): Item {
  return {
    targetNamespace: 'team-a',
    targetName: 't',
    namespace: 'team-a',
    name: `app-${uid}`,
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    uid,
    attributes: { image },
  };
}

function snap(gen: number, items: Item[], cluster = 'c1'): FullSnapshot {
  const s = sortItems(items);
  return {
    inventory: inv,
    cluster,
    generation: 1,
    exportGeneration: gen,
    checksum: checksumItems(s),
    exportedAt: '2026-01-01T00:00:00Z',
    items: s,
  };
}

function ctx(endpoint: string, spec: Record<string, unknown> = {}, cluster = 'c1'): SinkContext {
  const sink: CompiledSink = {
    ref: { family: 'snapshot', namespace: 'team-a', name: 'audit' },
    uid: 'u',
    generation: 1,
    type: 'git',
    spec: { type: 'git', endpoint, git: {}, ...spec },
  };
  return {
    sink,
    cluster,
    credentials: { data: {}, roles: {}, version: '' },
    workDir: join(root, 'work'),
    signal: new AbortController().signal,
    log: silent,
  };
}

function log(url: string, fmt = '%s'): string[] {
  const dir = url.replace('file://', '');
  return sh(['--git-dir', dir, 'log', `--format=${fmt}`, 'main'])
    .trim()
    .split('\n')
    .filter(Boolean);
}

function show(url: string, path: string): string {
  return sh(['--git-dir', url.replace('file://', ''), 'show', `main:${path}`]);
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'kollect-git-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('parseGitEndpoint', () => {
  it('takes the branch from git.branch, else the #branch= fragment, and refuses credentials in URLs', () => {
    expect(parseGitEndpoint('https://h/r.git#branch=dev')).toEqual({
      url: 'https://h/r.git',
      branch: 'dev',
      transport: 'http',
    });
    expect(parseGitEndpoint('https://h/r.git#branch=dev', 'main').branch).toBe('main');
    expect(parseGitEndpoint('git@github.com:org/r.git').transport).toBe('ssh');
    expect(() => parseGitEndpoint('https://u:p@h/r.git')).toThrow(/must not contain credentials/);
  });
});

describe('GitSink on a local bare remote', () => {
  it('writes the yaml document, records trailers, and makes no commit when nothing changed', async () => {
    const url = bare('doc');
    const sink = new GitSink(ctx(url));
    await sink.connect();
    expect(await sink.lastApplied(inv)).toBeNull();
    const s1 = snap(1, [item('a'), item('b')]);
    const r1 = await sink.replace(s1);
    expect(r1.changed).toBe(true);
    expect(log(url)).toEqual([`chore(c1/team-a/web): export 2 items @ ${s1.checksum.slice(0, 12)}`]);
    expect(show(url, 'inventory/team-a/web.yaml')).toContain('- attributes:\n    image: nginx:1\n');
    expect(await sink.lastApplied(inv)).toEqual({ exportGeneration: 1, checksum: s1.checksum });
    const r2 = await sink.replace({ ...s1, exportGeneration: 2 });
    expect(r2.changed).toBe(false);
    expect(log(url)).toHaveLength(1);
    expect(sink.capabilities.incremental).toBe(false);
    await sink.close();
  });

  it('perResource: a diff changes exactly the changed files and removes deleted ones', async () => {
    const url = bare('tree');
    const sink = new GitSink(ctx(url, { layout: { mode: 'perResource' } }));
    await sink.connect();
    const s1 = snap(1, [item('a'), item('b'), item('c')]);
    await sink.replace(s1);
    const base = MaterializedInventory.fromFull(s1);
    const s2items = [item('a', 'nginx:2'), item('b')];
    const res = await sink.applyDiff({
      inventory: inv,
      cluster: 'c1',
      generation: 1,
      exportGeneration: 2,
      previousGeneration: 1,
      checksum: checksumItems(s2items),
      itemCount: 2,
      exportedAt: 'x',
      upserts: [item('a', 'nginx:2')],
      deletes: [{ targetNamespace: 'team-a', targetName: 't', uid: 'c' }],
      base,
    });
    expect(res.changed).toBe(true);
    const changed = sh(['--git-dir', url.replace('file://', ''), 'diff', '--name-status', 'main~1', 'main'])
      .trim()
      .split('\n');
    expect(changed).toEqual(['M\tc1/team-a/deployment/app-a.yaml', 'D\tc1/team-a/deployment/app-c.yaml']);
    expect(await sink.lastApplied(inv)).toMatchObject({ exportGeneration: 2 });
    await sink.close();
  });

  it("retries once after a rejected push and keeps the other writer's commit", async () => {
    const url = bare('race');
    const a = new GitSink(ctx(url, { layout: { mode: 'perResource' } }, 'east'));
    await a.connect();
    await a.replace(snap(1, [item('a')], 'east'));
    // Another writer pushes in between, from its own clone.
    const clone = join(root, 'clone');
    sh(['clone', '--quiet', url, clone]);
    sh(
      [
        '-c',
        'user.name=x',
        '-c',
        'user.email=x@x',
        'commit',
        '--quiet',
        '--allow-empty',
        '-m',
        'someone else',
      ],
      clone,
    );
    sh(['push', '--quiet', 'origin', 'HEAD:main'], clone);
    const r = await a.replace(snap(2, [item('a'), item('b')], 'east'));
    expect(r.changed).toBe(true);
    expect(log(url)).toHaveLength(3);
    expect(log(url)[1]).toBe('someone else');
  });

  it('finds its position behind commits of other clusters on a shared branch', async () => {
    const url = bare('shared');
    const east = new GitSink(ctx(url, { pathTemplate: '{cluster}/{namespace}/{name}{extension}' }, 'east'));
    const west = new GitSink(ctx(url, { pathTemplate: '{cluster}/{namespace}/{name}{extension}' }, 'west'));
    await east.connect();
    await west.connect();
    await east.replace(snap(3, [item('a')], 'east'));
    for (let g = 1; g <= 5; g++) await west.replace(snap(g, [item(`w${g}`)], 'west'));
    expect(await east.lastApplied(inv)).toMatchObject({ exportGeneration: 3 });
    expect(show(url, 'east/team-a/web.yaml')).toContain('uid: a');
  });

  it('preview renders paths and the sample subject without I/O', () => {
    const p = gitPreview(ctx('https://git.example/r.git').sink, 'prod');
    expect(p.details['objectPath']).toBe('inventory/team-a/api.yaml');
    expect((p.details['git'] as { sampleCommitSubject: string }).sampleCommitSubject).toBe(
      'chore(prod/team-a/api): export 42 items @ a1b2c3d4e5f6',
    );
    expect(p.warnings).toContain('serialization.format is unset: git sinks default to yaml');
  });
});
