import { spawn, type SpawnOptions } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestbedError } from './log.js';

export { sleep };

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  input?: string;
  /** Stream the child's output to our stderr (used for builds). */
  inherit?: boolean;
  timeoutMs?: number;
}

/** Runs a command to completion and captures its output. Never throws for a non-zero exit. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const o: SpawnOptions = {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    };
    if (opts.uid !== undefined) o.uid = opts.uid;
    if (opts.gid !== undefined) o.gid = opts.gid;
    const child = spawn(cmd, args, o);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (opts.inherit) process.stderr.write(d);
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (opts.inherit) process.stderr.write(d);
    });
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) {
      timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    }
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** Like run(), but throws a TestbedError with the output when the exit code is not 0. */
export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const out = (r.stderr + r.stdout).trim().split('\n').slice(-30).join('\n');
    throw new TestbedError(`command failed (exit ${r.code}): ${cmd} ${args.join(' ')}\n${out}`);
  }
  return r;
}

export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat); guards against pid reuse. */
  startTicks: number;
}

function readStat(pid: number): { state: string; startTicks: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); field 22 (starttime) is rest[19]
    return { state: rest[0] ?? '?', startTicks: Number(rest[19]) };
  } catch {
    return undefined;
  }
}

export function identify(pid: number): ProcessIdentity | undefined {
  const s = readStat(pid);
  return s ? { pid, startTicks: s.startTicks } : undefined;
}

/** True when the process exists, is not a zombie and is the same process that we started. */
export function isAlive(id: ProcessIdentity | undefined): boolean {
  if (!id || !id.pid) return false;
  const s = readStat(id.pid);
  if (!s || s.state === 'Z' || s.state === 'X') return false;
  return s.startTicks === id.startTicks;
}

export interface DetachedSpec {
  cmd: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
  uid?: number;
  gid?: number;
}

/** Starts a process in its own session/process group, detached from us, output appended to logFile. */
export function spawnDetached(spec: DetachedSpec): ProcessIdentity {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const fd = openSync(spec.logFile, 'a');
  try {
    const o: SpawnOptions = {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    };
    if (spec.uid !== undefined) o.uid = spec.uid;
    if (spec.gid !== undefined) o.gid = spec.gid;
    const child = spawn(spec.cmd, spec.args, o);
    if (child.pid === undefined) {
      throw new TestbedError(`could not start ${spec.cmd}: no pid (is the binary present and executable?)`);
    }
    child.on('error', () => {
      /* reported through health checks and the log */
    });
    child.unref();
    const id = identify(child.pid);
    if (!id) throw new TestbedError(`${spec.cmd} exited immediately; see ${spec.logFile}`);
    return id;
  } finally {
    closeSync(fd);
  }
}

function signal(pid: number, sig: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, sig);
  } catch {
    /* already gone */
  }
}

/**
 * Sends `sig` (to the process, or to its whole process group when `group`) and waits until it is gone.
 * Escalates to SIGKILL of the whole group after `timeoutMs`.
 */
export async function terminate(
  id: ProcessIdentity,
  sig: NodeJS.Signals,
  opts: { group?: boolean; timeoutMs?: number } = {},
): Promise<'exited' | 'killed' | 'not-running'> {
  if (!isAlive(id)) return 'not-running';
  signal(id.pid, sig, opts.group ?? false);
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  while (Date.now() < deadline) {
    if (!isAlive(id)) {
      // reap leftovers of the group (e.g. postgres backends)
      signal(id.pid, 'SIGKILL', true);
      await waitGone(id);
      return sig === 'SIGKILL' ? 'killed' : 'exited';
    }
    await sleep(50);
  }
  signal(id.pid, 'SIGKILL', true);
  while (isAlive(id)) await sleep(50);
  await waitGone(id);
  return 'killed';
}

/**
 * Waits (up to 10 s) until the pid has been reaped by its new parent: a zombie still answers kill(pid, 0),
 * which makes e.g. postgres believe its old postmaster is still running.
 */
async function waitGone(id: ProcessIdentity): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const s = readStat(id.pid);
    if (!s || s.startTicks !== id.startTicks) return;
    await sleep(50);
  }
}

/** Is anything listening on 127.0.0.1:port? */
export function tcpProbe(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((res) => {
    const s = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      s.destroy();
      res(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Can we bind 127.0.0.1:port right now? */
export function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => srv.close(() => res(true)));
  });
}

/** The kernel's ephemeral range (`net.ipv4.ip_local_port_range`): ports it hands to `listen(0)` and outgoing connections. */
export function ephemeralPortRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (lo && hi && lo <= hi) return [lo, hi];
  } catch {
    /* not Linux */
  }
  return [32768, 60999];
}

/**
 * Where the bed's ports come from: a block below (or above) the ephemeral range, so that while a
 * service is stopped by a fault hook, no outgoing connection or `listen(0)` of a test can take its
 * port. `undefined` when the ephemeral range leaves no room (then ports come from the kernel).
 */
export function stablePortRange(): [number, number] | undefined {
  const [lo, hi] = ephemeralPortRange();
  if (lo - 1 - 10_000 >= 2_000) return [10_000, lo - 1];
  if (65_535 - (hi + 1) >= 2_000) return [hi + 1, 65_535];
  return undefined;
}

/**
 * Allocates `n` distinct free ports outside the ephemeral range, scanning from a start point derived
 * from `seed` (the data root), so two beds on one machine start far apart and one bed's ports sit
 * together. Falls back to kernel-chosen ports when there is no such range.
 */
export async function stablePorts(n: number, avoid: Set<number>, seed: string): Promise<number[]> {
  const range = stablePortRange();
  if (!range) return freePorts(n, avoid);
  const [lo, hi] = range;
  const size = hi - lo + 1;
  let h = 0;
  for (const ch of seed) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  const start = h % size;
  const out: number[] = [];
  for (let i = 0; i < size && out.length < n; i++) {
    const p = lo + ((start + i) % size);
    if (avoid.has(p)) continue;
    if (await portFree(p)) out.push(p);
  }
  if (out.length < n) return freePorts(n, avoid);
  return out;
}

/** Allocates `n` distinct free ports on 127.0.0.1 (held open together so they are distinct). */
export async function freePorts(n: number, avoid: Set<number> = new Set()): Promise<number[]> {
  const servers: ReturnType<typeof createServer>[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < n) {
      const srv = createServer();
      await new Promise<void>((res, rej) => {
        srv.once('error', rej);
        srv.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => res());
      });
      servers.push(srv);
      const p = (srv.address() as AddressInfo).port;
      if (!avoid.has(p)) ports.push(p);
    }
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
  return ports;
}

export interface HttpResult {
  status: number;
  body: string;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  ca?: string | Buffer;
  timeoutMs?: number;
}

/** Minimal HTTP(S) client (node's fetch cannot take a custom CA without undici). */
export function httpCall(url: string, opts: HttpOptions = {}): Promise<HttpResult> {
  return new Promise((res, rej) => {
    const u = new URL(url);
    const fn = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    const req = fn(
      u,
      { method: opts.method ?? 'GET', headers, ca: opts.ca, timeout: opts.timeoutMs ?? 5000, agent: false },
      (resp) => {
        const chunks: Buffer[] = [];
        resp.on('data', (c: Buffer) => chunks.push(c));
        resp.on('end', () =>
          res({ status: resp.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        resp.on('error', rej);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${opts.timeoutMs ?? 5000}ms: ${url}`)));
    req.on('error', rej);
    req.end(opts.body);
  });
}

/** Polls `check` until it returns ok or the deadline passes; returns the last result. */
export async function waitFor<T extends { ok: boolean }>(
  check: () => Promise<T>,
  timeoutMs: number,
  intervalMs = 250,
  stopEarly?: () => string | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await check();
  while (!last.ok && Date.now() < deadline) {
    if (stopEarly) {
      const why = stopEarly();
      if (why) return { ...last, detail: why } as T;
    }
    await sleep(intervalMs);
    last = await check();
  }
  return last;
}

export function which(bin: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (!dir) continue;
    const p = `${dir}/${bin}`;
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Last `n` lines of a log file, for error messages. */
export function tailFile(file: string, n = 15): string {
  try {
    const txt = readFileSync(file, 'utf8');
    return txt.trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Resident memory (bytes) of every process in the process group `pgid` (our detached services lead their group). */
export function groupRss(pgid: number): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return 0;
  }
  const page = 4096;
  for (const d of entries) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[2]) !== pgid) continue; // field 5: pgrp
      const statm = readFileSync(`/proc/${d}/statm`, 'utf8').split(' ');
      total += Number(statm[1]) * page;
    } catch {
      /* raced with exit */
    }
  }
  return total;
}
