/**
 * The git sink over SSH against the test bed's `sshd` service (Debian's OpenSSH on loopback, every
 * session forced into git-shell): key authentication from the Secret's `ssh-privatekey`, and strict
 * host-key checking against the Secret's `known_hosts`.
 *
 *   npm run testbed -- up sshd
 *   eval "$(npm run -s testbed -- env)"
 *   npx vitest run --project e2e e2e/sinks/git-ssh
 *
 * Without the bed's variables each test is skipped with the reason; when the run requires the bed
 * (KOLLECT_TEST_REQUIRE_TESTBED=1, set by `npm test`) they fail instead.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompiledSink } from '@kollect/plan';
import { MaterializedStore, SinkRunner, type SinkCredentials } from '@kollect/sink';
import { gitSinkFactory } from '@kollect/sink-git';
import { InventoryModel, makeItems } from '@kollect/sink-testing';
import { needTestbed, testbedEnv, uniqueName } from '../support/testbed.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe('git sink over SSH (test bed sshd)', () => {
  const cleanup: string[] = [];

  afterAll(() => {
    for (const d of cleanup) rmSync(d, { recursive: true, force: true });
  });

  /** A fresh bare repository on the bed's SSH remote, and a work directory for the sink. */
  function setup(): { repo: string; url: string; workDir: string; clientKey: string; knownHosts: string } {
    const name = uniqueName('ssh');
    const repo = join(testbedEnv.gitSshRoot, `${name}.git`);
    execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', repo]);
    const workDir = mkdtempSync(join(tmpdir(), 'kollect-git-ssh-'));
    cleanup.push(repo, workDir);
    return {
      repo,
      url: `${testbedEnv.gitSshUrl}/${name}.git`,
      workDir,
      clientKey: readFileSync(testbedEnv.gitSshKey, 'utf8'),
      knownHosts: readFileSync(testbedEnv.gitSshKnownHosts, 'utf8'),
    };
  }

  function creds(data: Record<string, string>): SinkCredentials {
    return {
      data,
      roles: {
        ...(data['ssh-privatekey'] ? { sshPrivateKey: data['ssh-privatekey'] } : {}),
        ...(data['known_hosts'] ? { knownHosts: data['known_hosts'] } : {}),
      },
      version: '1',
    };
  }

  function harness(url: string, workDir: string, c: SinkCredentials) {
    const sink: CompiledSink = {
      ref: { family: 'snapshot', namespace: 'team-a', name: 'ssh' },
      uid: 'u',
      generation: 1,
      type: 'git',
      spec: { type: 'git', endpoint: url, git: { auth: { type: 'ssh' } } },
    };
    const s = gitSinkFactory.create({
      sink,
      cluster: 'east',
      credentials: c,
      workDir,
      signal: new AbortController().signal,
      log: quiet,
    });
    const model = new InventoryModel({ kind: 'KollectInventory', namespace: 'team-a', name: 'web' }, 'east');
    return {
      sink: s,
      model,
      runner: new SinkRunner({
        sink: s,
        sinkName: 'snapshot/team-a/ssh',
        full: model,
        store: new MaterializedStore(),
        clusterLabel: 'east',
        log: quiet,
      }),
    };
  }

  it('pushes with the Secret key and verifies the host against known_hosts', async (ctx) => {
    needTestbed(ctx, 'sshd');
    const t = setup();
    const h = harness(t.url, t.workDir, creds({ 'ssh-privatekey': t.clientKey, known_hosts: t.knownHosts }));
    await h.sink.connect();
    expect((await h.sink.probe()).ok).toBe(true);
    h.model.push(makeItems(3));
    const out = await h.runner.handle(h.model.message(1));
    expect(out.outcome).toBe('exported');
    const subject = execFileSync('git', ['--git-dir', t.repo, 'log', '--format=%s', 'main'], {
      encoding: 'utf8',
    }).trim();
    expect(subject).toMatch(/^chore\(east\/team-a\/web\): export 3 items @ [0-9a-f]{12}$/);
    await h.sink.close();
    // The key never stays on disk after close.
    expect(
      execFileSync('sh', ['-c', `ls -a ${t.workDir} | grep -c '^.ssh-' || true`], {
        encoding: 'utf8',
      }).trim(),
    ).toBe('0');
  });

  it('an unknown host key is a terminal failure naming known_hosts', async (ctx) => {
    needTestbed(ctx, 'sshd');
    const t = setup();
    const port = new URL(t.url).port;
    const other = `[127.0.0.1]:${port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n`;
    expect(t.knownHosts).not.toContain(other.split(' ')[2]!.trim());
    const h = harness(t.url, t.workDir, creds({ 'ssh-privatekey': t.clientKey, known_hosts: other }));
    await h.sink.connect();
    h.model.push(makeItems(2));
    const out = await h.runner.handle(h.model.message(1));
    expect(out.outcome).toBe('failed');
    expect(out.error?.errorClass).toBe('terminal');
    expect(out.error?.message).toMatch(/known_hosts/);
    expect(out.error?.message).not.toContain('PRIVATE KEY');
    await h.sink.close();
    // nothing reached the remote
    expect(execFileSync('git', ['--git-dir', t.repo, 'for-each-ref'], { encoding: 'utf8' }).trim()).toBe('');
  });

  it('a missing known_hosts is refused before connecting', async (ctx) => {
    needTestbed(ctx, 'sshd');
    const t = setup();
    const h = harness(t.url, t.workDir, creds({ 'ssh-privatekey': t.clientKey }));
    await expect(h.sink.connect()).rejects.toMatchObject({
      errorClass: 'terminal',
      message: expect.stringMatching(/known_hosts/),
    });
  });
});
