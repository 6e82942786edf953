import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dataRoot, stateFile } from './paths.js';
import { isAlive, sleep, type ProcessIdentity } from './proc.js';
import { TestbedError } from './log.js';

export const SERVICE_NAMES = [
  'nats',
  'postgres',
  'etcd',
  'kube-apiserver',
  'git',
  's3',
  'gcs',
  'kafka',
  'mongo',
  'sshd',
  'tls',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export function isServiceName(s: string): s is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(s);
}

export interface ServiceState {
  /** Ports chosen at first start and reused afterwards while free. */
  ports: Record<string, number>;
  process?: ProcessIdentity;
  /** What the last command did to it. */
  state: 'running' | 'stopped' | 'killed';
  startedAt?: string;
  /** Service-specific persistent values (tokens, cluster ids…). */
  extra?: Record<string, string>;
}

export interface State {
  version: 1;
  services: Partial<Record<ServiceName, ServiceState>>;
}

export function loadState(): State {
  const f = stateFile();
  if (!existsSync(f)) return { version: 1, services: {} };
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as State;
  } catch (e) {
    throw new TestbedError(
      `state file ${f} is unreadable: ${(e as Error).message}`,
      `remove it (and stop leftovers by hand) or run: npm run testbed -- clean`,
    );
  }
}

export function saveState(s: State): void {
  mkdirSync(dataRoot(), { recursive: true });
  const f = stateFile();
  const tmp = `${f}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n');
  renameSync(tmp, f);
}

/** Serialises testbed commands that change state (up/down/start/stop…), across processes. */
export async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(dataRoot(), { recursive: true, mode: 0o755 });
  const lock = `${dataRoot()}/.lock`;
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch {
      let holder = 0;
      try {
        holder = Number(readFileSync(lock, 'utf8').trim());
      } catch {
        /* vanished */
      }
      const stale = !holder || !existsSync(`/proc/${holder}`);
      if (stale) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new TestbedError(`test bed is locked by pid ${holder} (${lock})`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

export function running(st: ServiceState | undefined): boolean {
  return !!st && isAlive(st.process);
}
