/**
 * The git sink over SSH: a real OpenSSH server (Debian's openssh-server, installed with apt by this
 * suite when missing) on loopback serving a bare repository, key authentication from the Secret's
 * `ssh-privatekey`, and strict host-key checking against the Secret's `known_hosts`.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompiledSink } from '@kollect/plan';
import { MaterializedStore, SinkRunner, type SinkCredentials } from '@kollect/sink';
import { gitSinkFactory } from '@kollect/sink-git';
import { InventoryModel, makeItems } from '@kollect/sink-testing';

const execFileP = promisify(execFile);
const SSHD = '/usr/sbin/sshd';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Debian's openssh-server, installed on first use (root on the test machines). */
async function ensureSshd(): Promise<boolean> {
  if (existsSync(SSHD)) return true;
  if (process.getuid?.() !== 0) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await execFileP('apt-get', ['install', '-y', '--no-install-recommends', 'openssh-server'], {
      env,
      timeout: 600_000,
    });
  } catch {
    await execFileP('apt-get', ['update'], { env, timeout: 600_000 });
    await execFileP('apt-get', ['install', '-y', '--no-install-recommends', 'openssh-server'], {
      env,
      timeout: 600_000,
    });
  }
  return existsSync(SSHD);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe.runIf(process.platform === 'linux')('git sink over SSH (OpenSSH sshd on loopback)', () => {
  let dir: string;
  let sshd: ChildProcess | undefined;
  let port: number;
  let repo: string;
  let clientKey: string;
  let knownHosts: string;
  let available = false;

  beforeAll(async () => {
    available = await ensureSshd();
    if (!available) return;
    dir = mkdtempSync(join(tmpdir(), 'kollect-sshd-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
    clientKey = readFileSync(join(dir, 'client_key'), 'utf8');
    port = await freePort();
    knownHosts = `[127.0.0.1]:${port} ${readFileSync(join(dir, 'host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`;
    const user = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host_key')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `AllowUsers ${user}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'StrictModes no',
        'UsePAM no',
        `PidFile ${join(dir, 'sshd.pid')}`,
        '',
      ].join('\n'),
    );
    if (!existsSync('/run/sshd')) execFileSync('mkdir', ['-p', '/run/sshd']);
    sshd = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    repo = join(dir, 'inventory.git');
    execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', repo]);
    // Wait for the listener.
    for (let i = 0; i < 100; i++) {
      try {
        execFileSync('ssh-keyscan', ['-p', String(port), '127.0.0.1'], { stdio: 'ignore', timeout: 2000 });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }, 900_000);

  afterAll(() => {
    if (sshd?.pid) sshd.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

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

  function harness(c: SinkCredentials) {
    const user = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
    const sink: CompiledSink = {
      ref: { family: 'snapshot', namespace: 'team-a', name: 'ssh' },
      uid: 'u',
      generation: 1,
      type: 'git',
      spec: {
        type: 'git',
        endpoint: `ssh://${user}@127.0.0.1:${port}${repo}`,
        git: { auth: { type: 'ssh' } },
      },
    };
    const s = gitSinkFactory.create({
      sink,
      cluster: 'east',
      credentials: c,
      workDir: join(dir, 'work'),
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

  it('pushes with the Secret key and verifies the host against known_hosts', async () => {
    if (!available) return;
    const h = harness(creds({ 'ssh-privatekey': clientKey, known_hosts: knownHosts }));
    await h.sink.connect();
    expect((await h.sink.probe()).ok).toBe(true);
    h.model.push(makeItems(3));
    const out = await h.runner.handle(h.model.message(1));
    expect(out.outcome).toBe('exported');
    const subject = execFileSync('git', ['--git-dir', repo, 'log', '--format=%s', 'main'], {
      encoding: 'utf8',
    }).trim();
    expect(subject).toMatch(/^chore\(east\/team-a\/web\): export 3 items @ [0-9a-f]{12}$/);
    await h.sink.close();
    // The key never stays on disk after close.
    expect(
      execFileSync('sh', ['-c', `ls -a ${join(dir, 'work')} | grep -c '^.ssh-' || true`], {
        encoding: 'utf8',
      }).trim(),
    ).toBe('0');
  });

  it('an unknown host key is a terminal failure naming known_hosts', async () => {
    if (!available) return;
    const other = `[127.0.0.1]:${port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n`;
    const h = harness(creds({ 'ssh-privatekey': clientKey, known_hosts: other }));
    await h.sink.connect();
    h.model.push(makeItems(2));
    const out = await h.runner.handle(h.model.message(1));
    expect(out.outcome).toBe('failed');
    expect(out.error?.errorClass).toBe('terminal');
    expect(out.error?.message).toMatch(/known_hosts/);
    expect(out.error?.message).not.toContain('PRIVATE KEY');
    await h.sink.close();
  });

  it('a missing known_hosts is refused before connecting', async () => {
    if (!available) return;
    const h = harness(creds({ 'ssh-privatekey': clientKey }));
    await expect(h.sink.connect()).rejects.toMatchObject({
      errorClass: 'terminal',
      message: expect.stringMatching(/known_hosts/),
    });
  });
});
