/** The test bed's commands: up, down, status, env, and the fault hooks stop/kill/start/restart. */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  binPath,
  COMPONENTS,
  componentDir,
  ensureComponent,
  isBuilt,
  pythonPath,
  type ComponentName,
} from './components.js';
import { fmtMs, info, TestbedError, warn } from './log.js';
import { dataRoot, GIT_SERVER_JS, serviceDir, stateFile, TLS_FRONT_JS } from './paths.js';
import {
  groupRss,
  isAlive,
  portFree,
  spawnDetached,
  stablePorts,
  tailFile,
  terminate,
  waitFor,
} from './proc.js';
import { SERVICES, type Ctx } from './services/index.js';
import {
  loadState,
  running,
  saveState,
  SERVICE_NAMES,
  withLock,
  type ServiceName,
  type ServiceState,
  type State,
} from './state.js';

/** Tools that are built but not run as services. */
const TOOL_COMPONENTS: ComponentName[] = ['helm', 'pyarrow'];

function ctxFor(state: State, name: ServiceName): Ctx {
  const st = state.services[name];
  return { name, dir: serviceDir(name), ports: st?.ports ?? {}, extra: st ? (st.extra ??= {}) : {}, state };
}

/** Adds dependencies and returns services in start order (the canonical order, dependencies first). */
export function withDeps(names: ServiceName[]): ServiceName[] {
  const set = new Set<ServiceName>();
  const add = (n: ServiceName) => {
    for (const d of SERVICES[n].deps) add(d);
    set.add(n);
  };
  names.forEach(add);
  return SERVICE_NAMES.filter((n) => set.has(n));
}

/**
 * Cold-build cost, longest first (docs/testbed.md): kube-apiserver starts at once and the others
 * build beside it instead of after it.
 */
const BUILD_ORDER: ComponentName[] = [
  'kube-apiserver',
  'minio',
  'helm',
  'fake-gcs-server',
  'ferretdb',
  'etcd',
  'nats-server',
  'pyarrow',
  'kafka',
];

/**
 * How many components build at once (`KOLLECT_TESTBED_BUILD_JOBS`, default 2). Two lanes overlap one
 * build's serial phases (linking, downloads) with another's compiling, and on a machine shared with
 * other work they get the bed a larger share of the cores than one `go build` does.
 */
export function buildJobs(): number {
  const n = Number(process.env['KOLLECT_TESTBED_BUILD_JOBS']);
  return Number.isInteger(n) && n > 0 ? n : 2;
}

/** Builds (or installs) what is missing: Debian packages one at a time, then the rest `buildJobs()` at a time. */
export async function build(components: ComponentName[]): Promise<void> {
  const system = components.filter((c) => COMPONENTS[c].source.kind === 'system');
  for (const c of system) await ensureComponent(c); // apt-get holds the dpkg lock: never two at once
  const rank = (c: ComponentName) => {
    const i = BUILD_ORDER.indexOf(c);
    return i < 0 ? BUILD_ORDER.length : i;
  };
  const queue = components.filter((c) => !system.includes(c)).sort((a, b) => rank(a) - rank(b));
  const missing = queue.filter((c) => !isBuilt(COMPONENTS[c]));
  const jobs = Math.min(buildJobs(), missing.length);
  if (missing.length === 0) return;
  const t0 = Date.now();
  info(`to build: ${missing.join(', ')} — ${jobs} at a time (KOLLECT_TESTBED_BUILD_JOBS)`);
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      for (let c = missing.shift(); c; c = missing.shift()) {
        try {
          await ensureComponent(c);
        } catch (e) {
          // keep building the others: what succeeds is cached for the next attempt
          failures.push(`${c}: ${(e as Error).message}`);
        }
      }
    }),
  );
  if (failures.length)
    throw new TestbedError(`${failures.length} component(s) failed to build:\n${failures.join('\n')}`);
  info(`build finished in ${fmtMs(Date.now() - t0)}`);
}

function componentsFor(names: ServiceName[], all: boolean): ComponentName[] {
  const out = new Set<ComponentName>();
  for (const n of names) SERVICES[n].components.forEach((c) => out.add(c));
  if (all) TOOL_COMPONENTS.forEach((c) => out.add(c));
  return [...out];
}

/** Ports handed out by this process and not yet in the state file (services start concurrently). */
const reserved = new Set<number>();

/**
 * The ports of a service: the recorded ones while they are free. New ports are chosen outside the
 * kernel's ephemeral range (see stablePorts) at the first start. `up` moves a service whose recorded
 * port is taken (with a warning: re-export the env); a fault hook (`start`/`restart`) never moves a
 * port, because a running test holds the old endpoint — it fails and names the port instead.
 */
async function choosePorts(
  state: State,
  name: ServiceName,
  mayMove: boolean,
): Promise<Record<string, number>> {
  const def = SERVICES[name];
  const prev = state.services[name]?.ports ?? {};
  const taken = new Set<number>(reserved);
  for (const [n, st] of Object.entries(state.services))
    if (n !== name) Object.values(st?.ports ?? {}).forEach((p) => taken.add(p));
  const known = def.portNames.every((p) => prev[p] !== undefined);
  if (known) {
    const busy: string[] = [];
    for (const p of def.portNames) {
      const port = prev[p]!;
      if (taken.has(port)) busy.push(`${p}=${port} (recorded for another service of this bed)`);
      else if (!(await portFree(port))) busy.push(`${p}=${port}`);
    }
    if (busy.length === 0) return prev;
    if (!mayMove) {
      throw new TestbedError(
        `its port ${busy.join(', ')} is in use by another process; a fault hook keeps the ports the tests were given, so ${name} was not started`,
        `find the holder with \`ss -ltnp 'sport = :${prev[def.portNames[0]!]}'\` and stop it, then retry; or run \`npm run testbed -- up ${name}\` to move ${name} to new ports and re-export the env`,
      );
    }
  }
  // A port name added to the service since its ports were recorded (a new TLS front): the recorded
  // ports that are still free stay where the running tests' env says they are; only the rest move.
  const keep: Record<string, number> = {};
  if (!known)
    for (const p of def.portNames) {
      const port = prev[p];
      if (port !== undefined && !taken.has(port) && (await portFree(port))) keep[p] = port;
    }
  Object.values(keep).forEach((p) => taken.add(p));
  const missing = def.portNames.filter((p) => keep[p] === undefined);
  const fresh = await stablePorts(missing.length, taken, dataRoot());
  fresh.forEach((p) => reserved.add(p));
  const ports: Record<string, number> = { ...keep };
  missing.forEach((p, i) => (ports[p] = fresh[i]!));
  if (Object.keys(keep).length)
    info(`${name}: new port(s) ${missing.map((p) => `${p}=${ports[p]}`).join(', ')}; the others kept`);
  else if (Object.keys(prev).length)
    warn(
      `${name}: previous ports ${JSON.stringify(prev)} are busy; moved to ${JSON.stringify(ports)} — re-export the env (eval "$(npm run -s testbed -- env)"); running tests still hold the old ports`,
    );
  return ports;
}

async function startOne(
  state: State,
  name: ServiceName,
  mayMovePorts: boolean,
): Promise<'reused' | 'started'> {
  const def = SERVICES[name];
  const st0 = state.services[name];
  if (st0 && running(st0)) {
    const ctx = ctxFor(state, name);
    const h = await waitFor(
      () => def.health(ctx),
      def.startTimeoutMs,
      250,
      () => (isAlive(st0.process) ? undefined : 'process exited'),
    );
    if (h.ok) {
      info(`${name}: already running (pid ${st0.process!.pid}, ${def.where(ctx)}) — reused`);
      return 'reused';
    }
    warn(`${name}: running but not healthy (${h.detail}); restarting it`);
    await terminate(st0.process!, 'SIGKILL', { group: true });
  }
  for (const d of def.deps) {
    if (!running(state.services[d])) {
      throw new TestbedError(`${name} needs ${d}, which is not running`, `npm run testbed -- start ${d}`);
    }
  }
  const t0 = Date.now();
  const ports = await choosePorts(state, name, mayMovePorts);
  const st: ServiceState = { ...(st0 ?? {}), ports, state: 'stopped', extra: st0?.extra ?? {} };
  state.services[name] = st;
  delete st.process;
  const ctx = ctxFor(state, name);
  const spec = await def.prepare(ctx);
  saveState(state);
  const id = spawnDetached(spec);
  st.process = id;
  st.state = 'running';
  st.startedAt = new Date().toISOString();
  saveState(state);
  const h = await waitFor(
    () => def.health(ctx),
    def.startTimeoutMs,
    200,
    () => (isAlive(id) ? undefined : 'the process exited'),
  );
  if (!h.ok) {
    throw new TestbedError(
      `${name} did not become healthy within ${fmtMs(def.startTimeoutMs)}: ${h.detail}\n--- last lines of ${spec.logFile} ---\n${tailFile(spec.logFile, 25)}`,
      `npm run testbed -- logs ${name}`,
    );
  }
  if (def.afterStart) await def.afterStart(ctx);
  info(`${name}: healthy in ${fmtMs(Date.now() - t0)} (pid ${id.pid}, ${def.where(ctx)})`);
  return 'started';
}

/** Starts the given services (all when empty) and their dependencies; reuses running ones. */
export async function up(
  requested: ServiceName[],
  opts: { deps?: boolean; mayMovePorts?: boolean } = {},
): Promise<void> {
  const t0 = Date.now();
  const all = requested.length === 0;
  const names = opts.deps === false ? requested : withDeps(all ? [...SERVICE_NAMES] : requested);
  if (names.includes('git') && !existsSync(GIT_SERVER_JS)) {
    throw new TestbedError(
      `${GIT_SERVER_JS} is missing`,
      'build the package first: npm run build -w @kollect/testbed',
    );
  }
  if (names.includes('tls') && !existsSync(TLS_FRONT_JS)) {
    throw new TestbedError(
      `${TLS_FRONT_JS} is missing`,
      'build the package first: npm run build -w @kollect/testbed',
    );
  }
  await build(componentsFor(names, all));
  const failures: string[] = [];
  await withLock(async () => {
    const state = loadState();
    // each service starts as soon as its own dependencies are up (kube-apiserver right after etcd)
    const started = new Map<ServiceName, Promise<unknown>>();
    for (const n of names) {
      const deps = SERVICES[n].deps.filter((d) => names.includes(d)).map((d) => started.get(d)!);
      started.set(
        n,
        Promise.all(deps).then(
          () => startOne(state, n, opts.mayMovePorts ?? true),
          () => {
            throw new TestbedError('not started: a dependency failed');
          },
        ),
      );
    }
    const results = await Promise.allSettled([...started.values()]);
    results.forEach((r, i) => {
      if (r.status === 'rejected') {
        const e = r.reason as Error;
        failures.push(
          `${names[i]}: ${e.message}${e instanceof TestbedError && e.hint ? `\n  hint: ${e.hint}` : ''}`,
        );
      }
    });
    writeEnvFile(state);
  });
  if (failures.length) {
    throw new TestbedError(`${failures.length} service(s) failed to start:\n${failures.join('\n')}`);
  }
  info(
    `up: ${names.join(', ')} ready in ${fmtMs(Date.now() - t0)}. Next: eval "$(npm run -s testbed -- env)"  (or: . ${join(dataRoot(), 'env.sh')})`,
  );
}

/** Graceful stop (SIGTERM; postgres: SIGINT fast shutdown), waits for exit. Dependents stop before their dependencies. */
export async function stop(names: ServiceName[]): Promise<void> {
  await withLock(async () => {
    const state = loadState();
    const stopOne = async (name: ServiceName) => {
      const st = state.services[name];
      if (!st || !running(st)) {
        info(`${name}: not running`);
        if (st) st.state = 'stopped';
        return;
      }
      const r = await terminate(st.process!, SERVICES[name].stopSignal, { timeoutMs: 30_000 });
      st.state = 'stopped';
      saveState(state);
      info(`${name}: stopped (${r})`);
    };
    const isDep = (n: ServiceName) => names.some((o) => SERVICES[o].deps.includes(n));
    await Promise.all(names.filter((n) => !isDep(n)).map(stopOne));
    await Promise.all(names.filter(isDep).map(stopOne));
    saveState(state);
  });
}

/** SIGKILL the service's whole process group, no cleanup. */
export async function kill(names: ServiceName[]): Promise<void> {
  await withLock(async () => {
    const state = loadState();
    for (const name of names) {
      const st = state.services[name];
      if (!st || !running(st)) {
        info(`${name}: not running`);
        continue;
      }
      await terminate(st.process!, 'SIGKILL', { group: true });
      st.state = 'killed';
      saveState(state);
      info(`${name}: killed (SIGKILL)`);
    }
  });
}

/** Fault hook: start again with the same ports and data; fails (does not move) when a port is taken. */
export async function start(names: ServiceName[]): Promise<void> {
  await up(names, { deps: false, mayMovePorts: false });
}

export async function restart(names: ServiceName[]): Promise<void> {
  await stop(names);
  await start(names);
}

export async function down(): Promise<void> {
  await stop([...SERVICE_NAMES].reverse());
}

export interface StatusLine {
  name: ServiceName;
  healthy: boolean;
  detail: string;
  /** Resident memory of the service's process group, bytes (0 when down). */
  rss: number;
}

export async function status(names: ServiceName[] = [...SERVICE_NAMES]): Promise<StatusLine[]> {
  const state = loadState();
  return Promise.all(
    names.map(async (name): Promise<StatusLine> => {
      const st = state.services[name];
      const def = SERVICES[name];
      if (!st) return { name, healthy: false, detail: 'not started (npm run testbed -- up)', rss: 0 };
      const ctx = ctxFor(state, name);
      if (!running(st)) {
        const why =
          st.state === 'killed'
            ? 'killed by fault hook'
            : st.state === 'stopped'
              ? 'stopped'
              : 'process exited unexpectedly';
        return {
          name,
          healthy: false,
          detail: `${why}; ${def.where(ctx)}; logs: npm run testbed -- logs ${name}`,
          rss: 0,
        };
      }
      const h = await def.health(ctx);
      const rss = groupRss(st.process!.pid);
      return {
        name,
        healthy: h.ok,
        detail: `pid=${st.process!.pid} rss=${Math.round(rss / 2 ** 20)}MiB ${def.where(ctx)} (${h.detail})`,
        rss,
      };
    }),
  );
}

/** KOLLECT_TEST_* variables of every service that has been started at least once. */
export function envVars(state: State = loadState()): Record<string, string> {
  const out: Record<string, string> = { KOLLECT_TESTBED_ROOT: dataRoot() };
  for (const name of SERVICE_NAMES) {
    const st = state.services[name];
    if (!st || !Object.keys(st.ports).length) continue;
    Object.assign(out, SERVICES[name].env(ctxFor(state, name)));
  }
  if (existsSync(join(componentDir(COMPONENTS.helm), 'BUILD-OK'))) out['KOLLECT_TEST_HELM'] = binPath('helm');
  if (existsSync(join(componentDir(COMPONENTS.pyarrow), 'BUILD-OK')))
    out['KOLLECT_TEST_PYTHON'] = pythonPath();
  return out;
}

function shellQuote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

export function envShell(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([k, v]) => `export ${k}=${shellQuote(v)}`)
    .join('\n');
}

function writeEnvFile(state: State): void {
  writeFileSync(
    join(dataRoot(), 'env.sh'),
    `# generated by tools/testbed (npm run testbed -- env)\n${envShell(envVars(state))}\n`,
  );
}

export function logFiles(name: ServiceName): string[] {
  const dir = serviceDir(name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => join(dir, f));
}

/** Stops everything and deletes the data root (not the build cache). */
export async function clean(): Promise<void> {
  await down();
  const root = dataRoot();
  if (existsSync(root) && !existsSync(stateFile()) && readdirSync(root).length > 0) {
    throw new TestbedError(
      `${root} has no state.json; refusing to delete a directory that does not look like a test bed`,
    );
  }
  rmSync(root, { recursive: true, force: true });
  info(`removed ${root}`);
}
