import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTestbed, testbedEnv, uniqueName } from '../support/testbed.js';

const execFileP = promisify(execFile);

describe('testbed: sshd (OpenSSH, git over SSH through git-shell)', () => {
  let work: string;
  const repos: string[] = [];

  /** ssh with only the given key and known_hosts: no agent, no prompts, no user config. */
  const sshCommand = (key: string, knownHosts: string) =>
    [
      'ssh',
      '-F',
      '/dev/null',
      '-i',
      key,
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
    ].join(' ');
  const gitEnv = (key = testbedEnv.gitSshKey, knownHosts = testbedEnv.gitSshKnownHosts) => ({
    ...process.env,
    HOME: work,
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_SSH_COMMAND: sshCommand(key, knownHosts),
  });
  const git = (cwd: string, env: NodeJS.ProcessEnv, ...args: string[]) =>
    execFileP('git', args, { cwd, env });

  beforeAll(() => {
    requireTestbed('sshd');
    work = mkdtempSync(join(tmpdir(), 'kollect-sshd-smoke-'));
  });

  afterAll(() => {
    for (const d of [...repos, work]) if (d) rmSync(d, { recursive: true, force: true });
  });

  function bareRepo(): { path: string; url: string } {
    const name = uniqueName('smoke');
    const path = join(testbedEnv.gitSshRoot, `${name}.git`);
    execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', path]);
    repos.push(path);
    return { path, url: `${testbedEnv.gitSshUrl}/${name}.git` };
  }

  it('pushes and clones with the bed client key, checking the host key', async () => {
    const repo = bareRepo();
    const src = join(work, 'src');
    const env = gitEnv();
    await git(work, env, 'init', '-q', '--initial-branch=main', src);
    writeFileSync(join(src, 'a.txt'), 'over ssh\n');
    await git(src, env, 'add', 'a.txt');
    await git(src, env, '-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-qm', 'one');
    await git(src, env, 'push', '-q', repo.url, 'main');
    const head = (await git(src, env, 'rev-parse', 'HEAD')).stdout.trim();
    expect(
      execFileSync('git', ['--git-dir', repo.path, 'rev-parse', 'main'], { encoding: 'utf8' }).trim(),
    ).toBe(head);
    const dst = join(work, 'dst');
    await git(work, env, 'clone', '-q', repo.url, dst);
    expect((await git(dst, env, 'log', '--format=%s')).stdout.trim()).toBe('one');
  });

  it('refuses a shell command, an unknown client key and a wrong host key', async () => {
    const url = new URL(testbedEnv.gitSshUrl);
    // a session is forced into git-shell: no arbitrary command
    await expect(
      execFileP('sh', [
        '-c',
        `${sshCommand(testbedEnv.gitSshKey, testbedEnv.gitSshKnownHosts)} -p ${url.port} ${url.username}@127.0.0.1 id`,
      ]),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/unrecognized command/) });
    const repo = bareRepo();
    // a key the server does not know
    const otherKey = join(work, 'other_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    await expect(git(work, gitEnv(otherKey), 'ls-remote', repo.url)).rejects.toMatchObject({
      stderr: expect.stringMatching(/Permission denied/),
    });
    // a host key that is not the server's
    const wrongHosts = join(work, 'wrong_known_hosts');
    const otherHost = join(work, 'other_host');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherHost]);
    const pub = readFileSync(`${otherHost}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    writeFileSync(wrongHosts, `[127.0.0.1]:${url.port} ${pub}\n`);
    await expect(
      git(work, gitEnv(testbedEnv.gitSshKey, wrongHosts), 'ls-remote', repo.url),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/),
    });
  });
});
