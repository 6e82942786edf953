import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitRepo, requireTestbed, testbedEnv, withCredentials } from '../support/testbed.js';

const execFileP = promisify(execFile);

describe('testbed: Git smart-HTTP remote (git http-backend)', () => {
  let work: string;
  let env: NodeJS.ProcessEnv;
  const git = (cwd: string, ...args: string[]) => execFileP('git', args, { cwd, env });

  beforeAll(() => {
    requireTestbed('git');
    work = mkdtempSync(join(tmpdir(), 'kollect-git-smoke-'));
    // no prompts, no user/system config or credential helpers
    env = {
      ...process.env,
      HOME: work,
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_ASKPASS: '',
      SSH_ASKPASS: '',
    };
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('pushes with username/password and clones with the token', async () => {
    const repo = await createGitRepo();
    expect(repo.url).toBe(`${testbedEnv.gitUrl}/${repo.name}.git`);
    const src = join(work, 'src');
    await execFileP('git', ['init', '-q', '-b', 'main', src], { env });
    writeFileSync(join(src, 'inventory.json'), '{"items":[]}\n');
    await git(src, 'add', '.');
    await git(
      src,
      '-c',
      'user.name=Kollect',
      '-c',
      'user.email=kollect@example.invalid',
      'commit',
      '-q',
      '-m',
      'generation 1',
    );
    await git(
      src,
      'push',
      '-q',
      withCredentials(repo.url, testbedEnv.gitUsername, testbedEnv.gitPassword),
      'main',
    );

    const dst = join(work, 'dst');
    await execFileP('git', ['clone', '-q', withCredentials(repo.url, 'x-token', testbedEnv.gitToken), dst], {
      env,
    });
    expect(readFileSync(join(dst, 'inventory.json'), 'utf8')).toBe('{"items":[]}\n');
    const { stdout } = await git(dst, 'log', '--format=%s');
    expect(stdout.trim()).toBe('generation 1');
  });

  it('rejects a push with bad credentials and anonymous access', async () => {
    const repo = await createGitRepo();
    const src = join(work, 'bad');
    await execFileP('git', ['init', '-q', '-b', 'main', src], { env });
    writeFileSync(join(src, 'a'), 'a\n');
    await git(src, 'add', '.');
    await git(src, '-c', 'user.name=K', '-c', 'user.email=k@example.invalid', 'commit', '-q', '-m', 'x');
    await expect(
      git(src, 'push', '-q', withCredentials(repo.url, testbedEnv.gitUsername, 'wrong-password'), 'main'),
    ).rejects.toThrow(/Authentication failed/);
    await expect(git(src, 'push', '-q', repo.url, 'main')).rejects.toThrow();
    const anon = await fetch(`${repo.url}/info/refs?service=git-upload-pack`);
    expect(anon.status).toBe(401);
  });
});
