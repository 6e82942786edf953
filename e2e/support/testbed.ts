/**
 * Test-side helper for the real test bed (tools/testbed, docs/testbed.md).
 *
 * Tests read endpoints ONLY from the KOLLECT_TEST_* environment printed by `npm run testbed -- env`,
 * never from hard-coded ports. Fault hooks (stop/kill/start/restart) run the same CLI.
 *
 *   npm run testbed -- up
 *   eval "$(npm run -s testbed -- env)"
 *   npx vitest run --project e2e e2e/testbed
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(REPO_ROOT, 'tools', 'testbed', 'dist', 'cli.js');

export const HOW_TO =
  'run `npm run testbed -- up` and export `npm run testbed -- env` (eval "$(npm run -s testbed -- env)")';

export type ServiceName =
  'nats' | 'postgres' | 'etcd' | 'kube-apiserver' | 'git' | 's3' | 'gcs' | 'kafka' | 'mongo' | 'sshd' | 'tls';

/** Tools the bed builds into its cache (no process); they publish variables like a service. */
export type ToolName = 'helm' | 'python';

/** Which variables each service publishes (the ones a test of that service needs). */
export const SERVICE_ENV: Record<ServiceName | ToolName, string[]> = {
  nats: ['KOLLECT_TEST_NATS_URL', 'KOLLECT_TEST_NATS_MONITOR_URL'],
  postgres: ['KOLLECT_TEST_POSTGRES_DSN'],
  etcd: ['KOLLECT_TEST_ETCD_ENDPOINT'],
  'kube-apiserver': [
    'KOLLECT_TEST_KUBECONFIG',
    'KOLLECT_TEST_KUBECONFIG_READONLY',
    'KOLLECT_TEST_KUBE_SERVER',
    'KOLLECT_TEST_KUBE_CA_FILE',
    'KOLLECT_TEST_KUBE_TOKEN',
    'KOLLECT_TEST_KUBE_READONLY_TOKEN',
    'KOLLECT_TEST_KUBE_AUDIT_LOG',
    'KOLLECT_TEST_KUBECTL',
  ],
  git: [
    'KOLLECT_TEST_GIT_URL',
    'KOLLECT_TEST_GIT_ADMIN_URL',
    'KOLLECT_TEST_GIT_ROOT',
    'KOLLECT_TEST_GIT_USERNAME',
    'KOLLECT_TEST_GIT_PASSWORD',
    'KOLLECT_TEST_GIT_TOKEN',
  ],
  s3: [
    'KOLLECT_TEST_S3_ENDPOINT',
    'KOLLECT_TEST_S3_ACCESS_KEY',
    'KOLLECT_TEST_S3_SECRET_KEY',
    'KOLLECT_TEST_S3_REGION',
  ],
  gcs: ['KOLLECT_TEST_GCS_ENDPOINT', 'KOLLECT_TEST_GCS_PROJECT'],
  kafka: ['KOLLECT_TEST_KAFKA_BROKERS'],
  mongo: ['KOLLECT_TEST_MONGO_URI'],
  sshd: [
    'KOLLECT_TEST_GIT_SSH_URL',
    'KOLLECT_TEST_GIT_SSH_ROOT',
    'KOLLECT_TEST_GIT_SSH_KEY',
    'KOLLECT_TEST_GIT_SSH_KNOWN_HOSTS',
  ],
  tls: [
    'KOLLECT_TEST_CA_FILE',
    'KOLLECT_TEST_WRONG_CA_FILE',
    'KOLLECT_TEST_GIT_HTTPS_URL',
    'KOLLECT_TEST_S3_HTTPS_ENDPOINT',
    'KOLLECT_TEST_GCS_HTTPS_ENDPOINT',
    'KOLLECT_TEST_MONGO_TLS_URI',
  ],
  helm: ['KOLLECT_TEST_HELM'],
  python: ['KOLLECT_TEST_PYTHON'],
};

export class TestbedEnvError extends Error {
  constructor(missing: string[], why = '') {
    super(`test bed environment missing: ${missing.join(', ')}${why} — ${HOW_TO}`);
    this.name = 'TestbedEnvError';
  }
}

/**
 * True when the run says the bed is up (`KOLLECT_TEST_REQUIRE_TESTBED=1`, set by
 * tools/ci/test-all.mjs once `testbed up` succeeded): a suite must then fail, never skip.
 */
export function testbedRequired(): boolean {
  return process.env['KOLLECT_TEST_REQUIRE_TESTBED'] === '1';
}

/** The value of one KOLLECT_TEST_* variable; throws a clear error when it is missing. */
export function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new TestbedEnvError([name]);
  return v;
}

/**
 * True when every variable of the service(s) is set — the guard of suites that skip without a bed
 * (`describe.runIf(hasTestbed(…))`). When the run requires the bed ({@link testbedRequired}) a
 * missing variable throws instead, so a suite can never skip silently in CI.
 */
export function hasTestbed(...services: (ServiceName | ToolName)[]): boolean {
  const missing = services.flatMap((s) => SERVICE_ENV[s]).filter((k) => !process.env[k]);
  if (missing.length && testbedRequired())
    throw new TestbedEnvError(
      missing,
      ' (KOLLECT_TEST_REQUIRE_TESTBED=1: the bed is up, so this suite must run)',
    );
  return missing.length === 0;
}

/** Throws one clear error naming every missing variable of the given services. */
export function requireTestbed(...services: (ServiceName | ToolName)[]): void {
  const missing = services.flatMap((s) => SERVICE_ENV[s]).filter((k) => !process.env[k]);
  if (missing.length) throw new TestbedEnvError(missing);
}

/**
 * The guard inside a test (`it('…', (ctx) => { needTestbed(ctx, 'sshd'); … })`): returns when the
 * services' variables are set; otherwise the test fails when the run requires the bed
 * ({@link testbedRequired}), or is skipped with the reason, so the skip shows in the report.
 */
export function needTestbed(
  ctx: { skip(note?: string): never },
  ...services: (ServiceName | ToolName)[]
): void {
  const missing = services.flatMap((s) => SERVICE_ENV[s]).filter((k) => !process.env[k]);
  if (!missing.length) return;
  if (testbedRequired())
    throw new TestbedEnvError(
      missing,
      ' (KOLLECT_TEST_REQUIRE_TESTBED=1: the bed is up, so this test must run)',
    );
  ctx.skip(`test bed ${services.join(', ')} not available: ${missing.join(', ')} unset — ${HOW_TO}`);
}

/** Typed accessors; each throws a clear error when its variable is missing. */
export const testbedEnv = {
  get natsUrl() {
    return requireEnv('KOLLECT_TEST_NATS_URL');
  },
  get natsMonitorUrl() {
    return requireEnv('KOLLECT_TEST_NATS_MONITOR_URL');
  },
  get postgresDsn() {
    return requireEnv('KOLLECT_TEST_POSTGRES_DSN');
  },
  get etcdEndpoint() {
    return requireEnv('KOLLECT_TEST_ETCD_ENDPOINT');
  },
  /** Admin kubeconfig (token in group system:masters). */
  get kubeconfig() {
    return requireEnv('KOLLECT_TEST_KUBECONFIG');
  },
  /** Kubeconfig of the read-only user (get/list/watch on everything, nothing else). */
  get kubeconfigReadonly() {
    return requireEnv('KOLLECT_TEST_KUBECONFIG_READONLY');
  },
  get kubeServer() {
    return requireEnv('KOLLECT_TEST_KUBE_SERVER');
  },
  get kubeCaFile() {
    return requireEnv('KOLLECT_TEST_KUBE_CA_FILE');
  },
  get kubeToken() {
    return requireEnv('KOLLECT_TEST_KUBE_TOKEN');
  },
  get kubeReadonlyToken() {
    return requireEnv('KOLLECT_TEST_KUBE_READONLY_TOKEN');
  },
  /** JSON-lines audit log of the apiserver (Metadata level for every request, incl. list/watch). */
  get kubeAuditLog() {
    return requireEnv('KOLLECT_TEST_KUBE_AUDIT_LOG');
  },
  get kubectl() {
    return requireEnv('KOLLECT_TEST_KUBECTL');
  },
  /** Base URL: repositories live at `${gitUrl}/<name>.git`. */
  get gitUrl() {
    return requireEnv('KOLLECT_TEST_GIT_URL');
  },
  get gitAdminUrl() {
    return requireEnv('KOLLECT_TEST_GIT_ADMIN_URL');
  },
  /** Directory of the bare repositories (`<name>.git`), for tests that inspect the remote directly. */
  get gitRoot() {
    return requireEnv('KOLLECT_TEST_GIT_ROOT');
  },
  get gitUsername() {
    return requireEnv('KOLLECT_TEST_GIT_USERNAME');
  },
  get gitPassword() {
    return requireEnv('KOLLECT_TEST_GIT_PASSWORD');
  },
  get gitToken() {
    return requireEnv('KOLLECT_TEST_GIT_TOKEN');
  },
  get s3Endpoint() {
    return requireEnv('KOLLECT_TEST_S3_ENDPOINT');
  },
  get s3AccessKey() {
    return requireEnv('KOLLECT_TEST_S3_ACCESS_KEY');
  },
  get s3SecretKey() {
    return requireEnv('KOLLECT_TEST_S3_SECRET_KEY');
  },
  get s3Region() {
    return process.env['KOLLECT_TEST_S3_REGION'] || 'us-east-1';
  },
  get gcsEndpoint() {
    return requireEnv('KOLLECT_TEST_GCS_ENDPOINT');
  },
  get gcsProject() {
    return process.env['KOLLECT_TEST_GCS_PROJECT'] || 'kollect-test';
  },
  get kafkaBrokers(): string[] {
    return requireEnv('KOLLECT_TEST_KAFKA_BROKERS').split(',');
  },
  get mongoUri() {
    return requireEnv('KOLLECT_TEST_MONGO_URI');
  },
  get helm() {
    return requireEnv('KOLLECT_TEST_HELM');
  },
  /** python of the bed's venv with pyarrow (the independent Parquet reader of the sink suites). */
  get python() {
    return requireEnv('KOLLECT_TEST_PYTHON');
  },
  /** Base URL of git over SSH: repositories live at `${gitSshUrl}/<name>.git`. */
  get gitSshUrl() {
    return requireEnv('KOLLECT_TEST_GIT_SSH_URL');
  },
  /** The directory the SSH URL serves: `git init --bare <gitSshRoot>/<name>.git` makes a repository. */
  get gitSshRoot() {
    return requireEnv('KOLLECT_TEST_GIT_SSH_ROOT');
  },
  /** Path of the client private key the bed's sshd accepts. */
  get gitSshKey() {
    return requireEnv('KOLLECT_TEST_GIT_SSH_KEY');
  },
  /** Path of a known_hosts file with the sshd's host key for `[127.0.0.1]:<port>`. */
  get gitSshKnownHosts() {
    return requireEnv('KOLLECT_TEST_GIT_SSH_KNOWN_HOSTS');
  },
  /**
   * PEM file of the bed CA: it signed the certificate (SAN IP 127.0.0.1, DNS localhost) of
   * PostgreSQL (`ssl = on`) and of the TLS fronts of git, s3, gcs and mongo.
   */
  get caFile() {
    return requireEnv('KOLLECT_TEST_CA_FILE');
  },
  /** PEM file of an unrelated CA that signed nothing the bed serves (negative tests). */
  get wrongCaFile() {
    return requireEnv('KOLLECT_TEST_WRONG_CA_FILE');
  },
  /** HTTPS base of the git remote (same repositories as gitUrl): `${gitHttpsUrl}/<name>.git`. */
  get gitHttpsUrl() {
    return requireEnv('KOLLECT_TEST_GIT_HTTPS_URL');
  },
  /** MinIO behind the bed's TLS front (same server and buckets as s3Endpoint). */
  get s3HttpsEndpoint() {
    return requireEnv('KOLLECT_TEST_S3_HTTPS_ENDPOINT');
  },
  /** fake-gcs-server behind the bed's TLS front (same server and buckets as gcsEndpoint). */
  get gcsHttpsEndpoint() {
    return requireEnv('KOLLECT_TEST_GCS_HTTPS_ENDPOINT');
  },
  /**
   * FerretDB behind the bed's TLS front (same server and data as mongoUri): `mongodb://127.0.0.1:P/?tls=true`,
   * no CA in the URI — the client brings the bed CA (a sink: from spec.tls).
   */
  get mongoTlsUri() {
    return requireEnv('KOLLECT_TEST_MONGO_TLS_URI');
  },
};

/** A short unique name for test resources (lowercase, DNS-1123 safe). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

async function cli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  if (!existsSync(CLI)) {
    await execFileP('npx', ['tsc', '-b', join(REPO_ROOT, 'tools', 'testbed')], { cwd: REPO_ROOT });
  }
  try {
    return await execFileP(process.execPath, [CLI, ...args], {
      cwd: REPO_ROOT,
      env: process.env,
      timeout: 300_000,
    });
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `testbed ${args.join(' ')} failed: ${err.message}\n${err.stderr ?? ''}${err.stdout ?? ''}`,
      { cause: e },
    );
  }
}

/**
 * Fault hooks for reliability suites. They act on the bed named by KOLLECT_TESTBED_ROOT (exported by
 * `env`), keep data and ports, and wait: stop/kill until the process is gone, start/restart until healthy.
 */
export const testbed = {
  /** Graceful stop (SIGTERM; postgres: fast shutdown). */
  stop: (...services: ServiceName[]) => cli(['stop', ...services]).then(() => undefined),
  /** SIGKILL of the service's whole process group. */
  kill: (...services: ServiceName[]) => cli(['kill', ...services]).then(() => undefined),
  /** Start again (same ports, same data) and wait until healthy. */
  start: (...services: ServiceName[]) => cli(['start', ...services]).then(() => undefined),
  restart: (...services: ServiceName[]) => cli(['restart', ...services]).then(() => undefined),
  /** Parsed `status`: service -> healthy? */
  async status(...services: ServiceName[]): Promise<Record<string, { healthy: boolean; detail: string }>> {
    let out: string;
    try {
      out = (
        await execFileP(process.execPath, [CLI, 'status', ...services], { cwd: REPO_ROOT, env: process.env })
      ).stdout;
    } catch (e) {
      out = (e as { stdout?: string }).stdout ?? ''; // exit 1 when something is down
    }
    const res: Record<string, { healthy: boolean; detail: string }> = {};
    for (const line of out.trim().split('\n')) {
      const m = /^(\S+) (healthy|down) ?(.*)$/.exec(line);
      if (m) res[m[1]!] = { healthy: m[2] === 'healthy', detail: m[3] ?? '' };
    }
    return res;
  },
};

/** Creates a fresh bare repository on the test bed's git remote; returns its URL (without credentials). */
export async function createGitRepo(name = uniqueName('repo')): Promise<{ name: string; url: string }> {
  const auth = Buffer.from(`${testbedEnv.gitUsername}:${testbedEnv.gitPassword}`).toString('base64');
  const res = await fetch(testbedEnv.gitAdminUrl, {
    method: 'POST',
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`creating git repo ${name}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { url: string };
  return { name, url: body.url };
}

/** `http://user:password@host/...` form of a git URL. */
export function withCredentials(url: string, username: string, password: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(username);
  u.password = encodeURIComponent(password);
  return u.toString();
}
