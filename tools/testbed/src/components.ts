/**
 * Components: the binaries the test bed runs, where they come from, and how they are built into the cache.
 *
 * Cache layout: `${XDG_CACHE_HOME:-~/.cache}/kollect-testbed/<component>-<version>/` holding the binaries
 * and a `BUILD-OK` marker written last. A missing marker means "build it" (the directory is rebuilt in a
 * temporary sibling and renamed into place, so an interrupted build never looks complete).
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { cacheRoot, GO_MODULES_DIR, KAFKA_POM } from './paths.js';
import { fmtMs, info, ticker, TestbedError } from './log.js';
import { run, runOk, which } from './proc.js';

export type ComponentName =
  | 'nats-server'
  | 'etcd'
  | 'kube-apiserver'
  | 'minio'
  | 'fake-gcs-server'
  | 'ferretdb'
  | 'helm'
  | 'kafka'
  | 'postgres'
  | 'git'
  | 'pyarrow'
  | 'openssh-server';

interface GoBuild {
  kind: 'go';
  /** Wrapper module directory under tools/testbed/go/. */
  module: string;
  /** Upstream module and version the wrapper requires (for docs and reports). */
  upstream: string;
  /** Binary name -> package path. */
  packages: Record<string, string>;
}

interface MavenBuild {
  kind: 'maven';
  upstream: string;
}

interface SystemPackage {
  kind: 'system';
  upstream: string;
}

/** A Python virtual environment under the cache with exact PyPI pins (wheels only, never a source build). */
interface PythonVenv {
  kind: 'venv';
  upstream: string;
  /** `name==version` requirements, installed with pip from PyPI. */
  requirements: string[];
  /** Python statement run with the venv's python before the entry is marked complete. */
  check: string;
}

export interface ComponentDef {
  name: ComponentName;
  version: string;
  source: GoBuild | MavenBuild | SystemPackage | PythonVenv;
}

export const COMPONENTS: Record<ComponentName, ComponentDef> = {
  'nats-server': {
    name: 'nats-server',
    version: 'v2.15.2',
    source: {
      kind: 'go',
      module: 'nats-server',
      upstream: 'github.com/nats-io/nats-server/v2@v2.15.2',
      packages: { 'nats-server': 'github.com/nats-io/nats-server/v2' },
    },
  },
  etcd: {
    name: 'etcd',
    version: 'v3.6.16',
    source: {
      kind: 'go',
      module: 'etcd',
      upstream: 'go.etcd.io/etcd/server/v3@v3.6.16',
      packages: { etcd: 'go.etcd.io/etcd/server/v3' },
    },
  },
  'kube-apiserver': {
    name: 'kube-apiserver',
    version: 'v1.37.2',
    source: {
      kind: 'go',
      module: 'kube-apiserver',
      upstream: 'k8s.io/kubernetes@v1.37.2 (staging modules k8s.io/*@v0.37.2)',
      packages: {
        'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
        kubectl: 'k8s.io/kubernetes/cmd/kubectl',
      },
    },
  },
  minio: {
    name: 'minio',
    version: 'v0.0.0-20260212201848-7aac2a2c5b7c',
    source: {
      kind: 'go',
      module: 'minio',
      upstream: 'github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c',
      packages: { minio: 'github.com/minio/minio' },
    },
  },
  'fake-gcs-server': {
    name: 'fake-gcs-server',
    version: 'v1.56.1',
    source: {
      kind: 'go',
      module: 'fake-gcs-server',
      upstream: 'github.com/fsouza/fake-gcs-server@v1.56.1',
      packages: { 'fake-gcs-server': 'github.com/fsouza/fake-gcs-server' },
    },
  },
  ferretdb: {
    name: 'ferretdb',
    version: 'v1.24.2',
    source: {
      kind: 'go',
      module: 'ferretdb',
      upstream: 'github.com/FerretDB/FerretDB@v1.24.2 (embeddable package, SQLite backend; our main.go)',
      packages: { ferretdb: '.' },
    },
  },
  helm: {
    name: 'helm',
    version: 'v3.22.0',
    source: {
      kind: 'go',
      module: 'helm',
      upstream: 'helm.sh/helm/v3@v3.22.0',
      packages: { helm: 'helm.sh/helm/v3/cmd/helm' },
    },
  },
  kafka: {
    name: 'kafka',
    version: '4.4.0',
    source: { kind: 'maven', upstream: 'org.apache.kafka:kafka_2.13:4.4.0 (KRaft), log4j 2.26.1' },
  },
  postgres: {
    name: 'postgres',
    version: 'debian',
    source: { kind: 'system', upstream: 'Debian postgresql-15' },
  },
  git: {
    name: 'git',
    version: 'debian',
    source: { kind: 'system', upstream: 'Debian git (git http-backend, git-shell)' },
  },
  pyarrow: {
    name: 'pyarrow',
    version: '26.0.1',
    source: {
      kind: 'venv',
      upstream: 'PyPI pyarrow==26.0.1 in a python3 venv (the independent Parquet reader of the sink suites)',
      requirements: ['pyarrow==26.0.1'],
      check: 'import pyarrow, pyarrow.parquet',
    },
  },
  'openssh-server': {
    name: 'openssh-server',
    version: 'debian',
    source: { kind: 'system', upstream: 'Debian openssh-server (sshd) + openssh-client (ssh-keygen)' },
  },
};

/** The venv's interpreter of the `pyarrow` component (`KOLLECT_TEST_PYTHON`). */
export function pythonPath(): string {
  return join(componentDir(COMPONENTS.pyarrow), 'venv', 'bin', 'python');
}

/** Debian's sshd. */
export const SSHD = '/usr/sbin/sshd';

export function componentDir(c: ComponentDef): string {
  return join(cacheRoot(), `${c.name}-${c.version}`);
}

/** True when the component's cache entry is complete (BUILD-OK written last). */
export function isBuilt(c: ComponentDef): boolean {
  return existsSync(join(componentDir(c), 'BUILD-OK'));
}

/** Absolute path of a binary of a built component. */
export function binPath(name: ComponentName, bin?: string): string {
  const c = COMPONENTS[name];
  return join(componentDir(c), bin ?? name);
}

function goEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOTOOLCHAIN: 'local',
    GOFLAGS: '-trimpath -buildvcs=false -mod=readonly',
  };
}

async function checkGo(): Promise<void> {
  if (!which('go')) {
    throw new TestbedError(
      'the Go toolchain (`go`) is not on PATH; it is needed to build the test bed servers',
      'install Go >= 1.26 (this machine kind ships it) and retry',
    );
  }
  const r = await run('go', ['env', 'GOVERSION']);
  const m = /go1\.(\d+)/.exec(r.stdout);
  if (!m || Number(m[1]) < 26) {
    throw new TestbedError(`Go ${r.stdout.trim()} is too old: the wrapper modules need go1.26 or newer`);
  }
}

async function buildGo(c: ComponentDef, src: GoBuild, out: string): Promise<string[]> {
  await checkGo();
  const cwd = join(GO_MODULES_DIR, src.module);
  const cmds: string[] = [];
  for (const [bin, pkg] of Object.entries(src.packages)) {
    const args = ['build', '-ldflags=-s -w', '-o', join(out, bin), pkg];
    cmds.push(
      `(cd tools/testbed/go/${src.module} && GOTOOLCHAIN=local GOFLAGS='-trimpath -buildvcs=false -mod=readonly' go ${args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')})`,
    );
    info(`  go ${args.join(' ')}   (in tools/testbed/go/${src.module})`);
    await runOk('go', args, { cwd, env: goEnv(), inherit: true });
  }
  return cmds;
}

function javaBin(): string {
  const home = process.env['JAVA_HOME'];
  if (home && existsSync(join(home, 'bin', 'java'))) return join(home, 'bin', 'java');
  return which('java') ?? 'java';
}

export async function javaMajor(): Promise<number> {
  const r = await run(javaBin(), ['-version']).catch(() => undefined);
  const m = r && /version "(\d+)(?:\.(\d+))?/.exec(r.stderr + r.stdout);
  if (!m) return 0;
  return m[1] === '1' ? Number(m[2]) : Number(m[1]);
}

export { javaBin };

async function buildKafka(c: ComponentDef, out: string): Promise<string[]> {
  if (!which('mvn')) {
    throw new TestbedError(
      'Maven (`mvn`) is not on PATH; it resolves the Kafka jars from Maven Central',
      'apt-get install -y maven',
    );
  }
  const major = await javaMajor();
  if (major < 17) {
    throw new TestbedError(
      `Kafka ${c.version} brokers need Java 17 or newer; found ${major || 'no java'}`,
      'install openjdk-17-jre-headless or set JAVA_HOME',
    );
  }
  const args = [
    '-B',
    '-q',
    '-Dstyle.color=never',
    '-f',
    KAFKA_POM,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${join(out, 'libs')}`,
    `-Dkafka.version=${c.version}`,
  ];
  info(`  mvn ${args.join(' ')}`);
  await runOk('mvn', args, { inherit: true });
  return [`mvn ${args.join(' ').replace(out, '<cache>/kafka-' + c.version)}`];
}

/** Debian packages: located (and installed with apt-get when missing and we are root). */
async function ensureSystem(c: ComponentDef): Promise<void> {
  if (c.name === 'postgres') {
    if (postgresBinDir()) return;
    await aptInstall(['postgresql'], 'PostgreSQL server (postgresql-15)');
    if (!postgresBinDir())
      throw new TestbedError('postgres is still missing after apt-get install postgresql');
    return;
  }
  if (c.name === 'git') {
    if (which('git')) return;
    await aptInstall(['git'], 'git');
  }
  if (c.name === 'openssh-server') {
    if (existsSync(SSHD) && which('ssh-keygen') && which('ssh')) return;
    await aptInstall(['openssh-server', 'openssh-client'], 'OpenSSH server and client (openssh-server)');
    if (!existsSync(SSHD))
      throw new TestbedError(`${SSHD} is still missing after apt-get install openssh-server`);
  }
}

async function buildVenv(c: ComponentDef, src: PythonVenv, out: string): Promise<string[]> {
  const python = which('python3');
  if (!python) {
    throw new TestbedError(
      'python3 is not on PATH; it runs the pyarrow reader of the sink suites',
      'apt-get install -y python3 python3-venv',
    );
  }
  if ((await run('python3', ['-c', 'import venv, ensurepip'])).code !== 0) {
    await aptInstall(['python3-venv'], 'the Python venv module (python3-venv)');
  }
  const venv = join(out, 'venv');
  const py = join(venv, 'bin', 'python');
  const pip = [
    '-m',
    'pip',
    'install',
    '--no-input',
    '--disable-pip-version-check',
    '--only-binary=:all:',
    ...src.requirements,
  ];
  info(`  python3 -m venv ${venv}`);
  await runOk('python3', ['-m', 'venv', venv]);
  info(`  ${py} ${pip.join(' ')}`);
  await runOk(py, pip, { inherit: true, env: { ...process.env, PIP_PROGRESS_BAR: 'off' } });
  // A venv finds its packages relative to its own bin/, so it still works after the rename into place.
  await runOk(py, ['-c', src.check]);
  return [
    `python3 -m venv <cache>/${c.name}-${c.version}/venv`,
    `<cache>/${c.name}-${c.version}/venv/bin/python ${pip.join(' ')}`,
  ];
}

async function aptInstall(pkgs: string[], what: string): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new TestbedError(`${what} is not installed`, `run: sudo apt-get install -y ${pkgs.join(' ')}`);
  }
  const t = ticker(`installing ${what} with apt-get`);
  info(`installing ${what}: apt-get install -y ${pkgs.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = await run('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], { env });
  if (r.code !== 0) {
    await run('apt-get', ['update'], { env });
    r = await run('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], { env });
  }
  const ms = t.stop();
  if (r.code !== 0)
    throw new TestbedError(`apt-get install ${pkgs.join(' ')} failed:\n${r.stderr.slice(-2000)}`);
  info(`installed ${what} in ${fmtMs(ms)}`);
}

/** /usr/lib/postgresql/<newest>/bin, if a server is installed. */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : undefined;
}

/** Deletes `<dir>.tmp-<pid>` left by a build whose process is gone (killed at a CI deadline, Ctrl-C). */
function removeAbandonedBuilds(dir: string): void {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.tmp-`;
  if (!existsSync(parent)) return;
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (pid && pid !== process.pid && !existsSync(`/proc/${pid}`)) {
      info(`removing an abandoned build: ${join(parent, name)}`);
      rmSync(join(parent, name), { recursive: true, force: true });
    }
  }
}

/** Makes sure a component is present, building it into the cache when missing. */
export async function ensureComponent(name: ComponentName): Promise<void> {
  const c = COMPONENTS[name];
  if (c.source.kind === 'system') return ensureSystem(c);
  if (isBuilt(c)) return;
  const dir = componentDir(c);
  const tmp = `${dir}.tmp-${process.pid}`;
  removeAbandonedBuilds(dir);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  info(`building ${c.name} ${c.version} from ${c.source.upstream} into ${dir} (first time only)`);
  const t = ticker(`building ${c.name} ${c.version}`);
  let cmds: string[];
  try {
    cmds =
      c.source.kind === 'go'
        ? await buildGo(c, c.source, tmp)
        : c.source.kind === 'venv'
          ? await buildVenv(c, c.source, tmp)
          : await buildKafka(c, tmp);
  } catch (e) {
    t.stop();
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const ms = t.stop();
  writeFileSync(
    join(tmp, 'BUILD-INFO.json'),
    JSON.stringify(
      {
        component: c.name,
        version: c.version,
        upstream: c.source.upstream,
        commands: cmds,
        buildMs: ms,
        builtAt: new Date().toISOString(),
      },
      null,
      2,
    ) + '\n',
  );
  writeFileSync(join(tmp, 'BUILD-OK'), new Date().toISOString() + '\n');
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  info(`built ${c.name} ${c.version} in ${fmtMs(ms)}`);
}
