import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';

/** How one service instance is run: which app, which name, which environment. */
export interface ServiceSpec {
  /** Instance name, unique in a stack (`controller`, `extractor-2`); also its log file name. */
  name: string;
  /** The app directory under `apps/` (`controller`, `sink-snapshot`, …). */
  app: string;
  /** The whole environment of the process on top of PATH/HOME (nothing else leaks in). */
  env: Record<string, string>;
}

/** The state of one instance as the stack reports it. */
export interface ServiceInfo {
  name: string;
  app: string;
  pid: number | undefined;
  /** HTTP port of /healthz /readyz /metrics (undefined until the service logged it). */
  port: number | undefined;
  running: boolean;
  logFile: string;
  /** Processes started for this instance so far (1 + restarts). */
  starts: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Log levels at which a service does not log its start line (and so its port). */
const QUIET_LEVELS = new Set(['warn', 'error', 'fatal', 'silent']);

/** A free TCP port on loopback (bound and released; the service binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The port line a Kollect service logs once its HTTP server listens, e.g.
 * `{"level":30,"port":40123,"msg":"aggregator started"}`. Returns the port, or undefined when the
 * line is something else.
 */
export function portFromLogLine(line: string): number | undefined {
  if (!line.startsWith('{') || !line.includes('"port"')) return undefined;
  try {
    const o = JSON.parse(line) as { port?: unknown; msg?: unknown };
    if (
      typeof o.port === 'number' &&
      Number.isInteger(o.port) &&
      o.port > 0 &&
      typeof o.msg === 'string' &&
      /\bstarted\b/.test(o.msg)
    ) {
      return o.port;
    }
  } catch {
    // not JSON: a stack trace or a plain line
  }
  return undefined;
}

/**
 * A /readyz answer that means ready: 200 with `"status":"ok"`. The service frame answers 503
 * `starting` until the app has registered its checks and marked startup complete, so a 200 is
 * never the empty check list of a half-started service.
 */
export function readyBody(r: { status: number; body: string } | undefined): boolean {
  if (r?.status !== 200) return false;
  try {
    return (JSON.parse(r.body) as { status?: unknown }).status === 'ok';
  } catch {
    return false;
  }
}

/** The last `n` lines of a text (for error messages). */
export function tail(text: string, n: number): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(-n).join('\n');
}

/**
 * One service instance run as its own OS process from `apps/<app>/dist/main.js`, stdout and stderr
 * appended to `<runDir>/<name>.log` (the file descriptor is handed to the child, so the service
 * keeps logging even when the launcher is busy or gone). Restarts reuse the same log file with a
 * separator line.
 */
export class ServiceProcess {
  readonly spec: ServiceSpec;
  readonly logFile: string;
  readonly #root: string;
  #proc: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #port: number | undefined;
  #logOffset = 0;
  #starts = 0;

  constructor(spec: ServiceSpec, runDir: string, repoRoot: string) {
    this.spec = spec;
    this.logFile = join(runDir, `${spec.name}.log`);
    this.#root = repoRoot;
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.running ? this.#proc?.pid : undefined;
  }

  get port(): number | undefined {
    return this.running ? this.#port : undefined;
  }

  get running(): boolean {
    const p = this.#proc;
    return p !== undefined && p.exitCode === null && p.signalCode === null;
  }

  info(): ServiceInfo {
    return {
      name: this.spec.name,
      app: this.spec.app,
      pid: this.pid,
      port: this.port,
      running: this.running,
      logFile: this.logFile,
      starts: this.#starts,
    };
  }

  /** Path of the entry point this instance runs. */
  get main(): string {
    return join(this.#root, 'apps', this.spec.app, 'dist', 'main.js');
  }

  /**
   * Start the process and wait until it logged its HTTP port (it then listens). Throws with the
   * log tail when it exits first or `timeoutMs` passes.
   */
  async start(timeoutMs = 60_000, extraEnv: Record<string, string> = {}): Promise<void> {
    if (this.running) return;
    if (!existsSync(this.main)) {
      throw new Error(`${this.main} does not exist: build the app first (npx tsc -b apps/${this.spec.app})`);
    }
    this.#starts++;
    this.#port = undefined;
    // The port is read from the service's start line (an info line). A quieter log level hides
    // it, so then the port is chosen here (a free one) and the service is polled until it listens.
    const env = { ...this.spec.env, ...extraEnv };
    let fixed = env['KOLLECT_HTTP_PORT'] !== '0' ? env['KOLLECT_HTTP_PORT'] : undefined;
    if (fixed === undefined && QUIET_LEVELS.has(env['KOLLECT_LOG_LEVEL'] ?? 'info')) {
      fixed = String(await freePort());
      extraEnv = { ...extraEnv, KOLLECT_HTTP_PORT: fixed };
    }
    const fd = openSync(this.logFile, 'a');
    this.#logOffset = statSync(this.logFile).size;
    writeSync(
      fd,
      `# ---- ${new Date().toISOString()} start #${this.#starts} of ${this.spec.name} (apps/${this.spec.app})\n`,
    );
    this.#logOffset = statSync(this.logFile).size;
    let proc: ChildProcess;
    try {
      proc = spawn(process.execPath, [this.main], {
        cwd: this.#root,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: process.env['HOME'] ?? '',
          ...this.spec.env,
          ...extraEnv,
        },
        stdio: ['ignore', fd, fd],
        // Own process group: Ctrl-C in the launcher's terminal reaches the launcher only, which
        // then stops the services in order.
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    this.#proc = proc;
    const fixedPort = fixed ? Number(fixed) : undefined;
    this.#exited = new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once('exit', () => resolve());
    });
    const end = Date.now() + timeoutMs;
    for (;;) {
      const port = fixedPort !== undefined ? await this.#listening(fixedPort) : this.#scanPort();
      if (port !== undefined) {
        this.#port = port;
        return;
      }
      if (!this.running) {
        throw new Error(
          `${this.spec.name} exited (code ${String(proc.exitCode)}, signal ${String(proc.signalCode)}) before it listened; last log lines of ${this.logFile}:\n${this.logTail(20)}`,
        );
      }
      if (Date.now() > end) {
        throw new Error(
          `${this.spec.name} did not log its HTTP port within ${timeoutMs} ms; last log lines of ${this.logFile}:\n${this.logTail(20)}`,
        );
      }
      await sleep(50);
    }
  }

  async #listening(port: number): Promise<number | undefined> {
    try {
      await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      return port;
    } catch {
      return undefined;
    }
  }

  #scanPort(): number | undefined {
    let text: string;
    try {
      text = this.currentLog();
    } catch {
      return undefined;
    }
    for (const line of text.split('\n')) {
      const p = portFromLogLine(line);
      if (p !== undefined) return p;
    }
    return undefined;
  }

  /**
   * The log of the current process start (since the last separator). The offset is in bytes:
   * slice the bytes, not the decoded string (a multi-byte character before it would shift it).
   */
  currentLog(): string {
    try {
      return readFileSync(this.logFile).subarray(this.#logOffset).toString('utf8');
    } catch {
      return '';
    }
  }

  logTail(n: number): string {
    return tail(this.currentLog(), n);
  }

  /** GET a path of the service's HTTP endpoint; undefined when it does not answer. */
  async get(path: string, timeoutMs = 5000): Promise<{ status: number; body: string } | undefined> {
    const port = this.port;
    if (port === undefined) return undefined;
    try {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
      return { status: res.status, body: await res.text() };
    } catch {
      return undefined;
    }
  }

  /** True when /readyz answers 200 (see {@link readyBody}). */
  async ready(): Promise<boolean> {
    return readyBody(await this.get('/readyz', 2000));
  }

  /** Poll /readyz until 200; throws with the failing checks and the log tail at the deadline. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    let last: { status: number; body: string } | undefined;
    while (Date.now() < end) {
      if (!this.running)
        throw new Error(
          `${this.spec.name} exited while waiting for /readyz; last log lines:\n${this.logTail(20)}`,
        );
      last = await this.get('/readyz', 2000);
      if (readyBody(last)) return;
      await sleep(100);
    }
    throw new Error(
      `${this.spec.name} not ready within ${timeoutMs} ms (/readyz: ${last ? `${last.status} ${last.body.trim()}` : 'no answer'}); log: ${this.logFile}\n${this.logTail(15)}`,
    );
  }

  /** The Prometheus text of /metrics ('' when the service does not answer). */
  async metrics(): Promise<string> {
    return (await this.get('/metrics'))?.body ?? '';
  }

  /** Send a signal (default SIGKILL) and wait until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.#proc?.kill(signal);
    await this.#exited;
  }

  /** SIGTERM, wait for the graceful exit; SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (!this.running) return;
    this.#proc?.kill('SIGTERM');
    const done = await Promise.race([this.#exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!done) await this.kill('SIGKILL');
  }

  /** Resolves when the current process has exited. */
  exited(): Promise<void> {
    return this.#exited;
  }

  /** Synchronous last-resort kill (process exit handlers). */
  killNow(): void {
    if (this.running) {
      try {
        this.#proc?.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
