import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GitRemote } from './endpoint.js';

/** Credentials for one remote (from the sink Secret; never logged). */
export interface GitCredentials {
  username?: string;
  password?: string;
  token?: string;
  sshPrivateKey?: string;
  knownHosts?: string;
  caPem?: string;
  insecureSkipVerify?: boolean;
}

/** Thrown when credentials cannot work for the transport (e.g. SSH without known_hosts). */
export class GitAuthConfigError extends Error {
  override name = 'GitAuthConfigError';
}

/**
 * The environment for git processes talking to one remote. Credentials travel in memory only:
 * HTTP auth as a URL-scoped `http.<url>.extraHeader` through `GIT_CONFIG_*` variables (never in a
 * URL or a config file), SSH keys in a 0600 file inside a 0700 directory that {@link dispose}
 * removes, because ssh reads keys only from files.
 */
export class GitAuthEnv {
  readonly env: NodeJS.ProcessEnv;
  private readonly dir: string | undefined;

  constructor(remote: GitRemote, creds: GitCredentials, scratchDir: string) {
    const config: [string, string][] = [
      ['gc.autoDetach', 'false'],
      ['credential.helper', ''],
      ['core.askPass', ''],
      ['protocol.file.allow', 'always'],
    ];
    const env: NodeJS.ProcessEnv = {
      PATH: process.env['PATH'],
      HOME: scratchDir,
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_ASKPASS: '/bin/false',
      SSH_ASKPASS: '/bin/false',
      LANG: 'C',
      LC_ALL: 'C',
    };
    // Operators may trace git (GIT_TRACE, GIT_TRACE2_PERF, …); these carry no credentials.
    for (const [k, v] of Object.entries(process.env)) if (k.startsWith('GIT_TRACE') && v) env[k] = v;
    const id = createHash('sha256').update(remote.url).digest('hex').slice(0, 16);
    if (remote.transport === 'http') {
      const user = creds.username;
      const secret = creds.token ?? creds.password;
      if (secret) {
        // A token alone authenticates as `x-access-token` (GitHub) — GitLab and Gitea accept any user.
        const basic = Buffer.from(`${user || 'x-access-token'}:${secret}`).toString('base64');
        config.push([`http.${remote.url}.extraHeader`, `Authorization: Basic ${basic}`]);
      }
      if (creds.caPem || creds.insecureSkipVerify) {
        this.dir = join(scratchDir, `.auth-${id}`);
        mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      }
      if (creds.caPem && this.dir) {
        const ca = join(this.dir, 'ca.pem');
        writeFileSync(ca, creds.caPem);
        config.push(['http.sslCAInfo', ca]);
      }
      if (creds.insecureSkipVerify) config.push(['http.sslVerify', 'false']);
    } else if (remote.transport === 'ssh') {
      this.dir = join(scratchDir, `.ssh-${id}`);
      rmSync(this.dir, { recursive: true, force: true });
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      chmodSync(this.dir, 0o700);
      const known = join(this.dir, 'known_hosts');
      if (!creds.knownHosts) {
        throw new GitAuthConfigError('SSH remotes need the host keys: add a known_hosts key to the Secret');
      }
      writeFileSync(known, creds.knownHosts.endsWith('\n') ? creds.knownHosts : creds.knownHosts + '\n', {
        mode: 0o600,
      });
      const parts = [
        'ssh',
        '-F',
        '/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `UserKnownHostsFile=${known}`,
        '-o',
        'ConnectTimeout=20',
      ];
      if (creds.sshPrivateKey) {
        const key = join(this.dir, 'id');
        const pem = creds.sshPrivateKey.endsWith('\n') ? creds.sshPrivateKey : creds.sshPrivateKey + '\n';
        writeFileSync(key, pem, { mode: 0o600 });
        parts.push('-o', 'IdentitiesOnly=yes', '-i', key);
      }
      env['GIT_SSH_COMMAND'] = parts
        .map((p) => (/[\s'"]/.test(p) ? `'${p.replace(/'/g, "'\\''")}'` : p))
        .join(' ');
    }
    env['GIT_CONFIG_COUNT'] = String(config.length);
    config.forEach(([k, v], i) => {
      env[`GIT_CONFIG_KEY_${i}`] = k;
      env[`GIT_CONFIG_VALUE_${i}`] = v;
    });
    this.env = env;
  }

  /** Remove key material from disk. */
  dispose(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
