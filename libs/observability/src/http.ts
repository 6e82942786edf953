import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { redactSecrets } from '@kollect/contracts';

/** A readiness or liveness check: resolve (or return true) = ok; throw or return false = not ok. */
export type HealthCheck = () => boolean | void | Promise<boolean | void>;

/** Options of {@link startServiceHttp}. */
export interface ServiceHttpOptions {
  /** Port; 0 picks a free one (tests). */
  port: number;
  /** Bind address (default `0.0.0.0`; `127.0.0.1` in tests). */
  host?: string;
  /** Registry served at /metrics. */
  metricsRegistry?: Registry;
  /** Readiness checks run by /readyz, by name. */
  checks?: Record<string, HealthCheck>;
  /** Liveness checks run by /healthz (keep them cheap and local: the event loop answering is the main one). */
  liveness?: Record<string, HealthCheck>;
  /** Per-check timeout (ms, default 2000). */
  checkTimeoutMs?: number;
  /**
   * `true`: /readyz answers 503 `{"status":"starting"}` until {@link ServiceHttp.markStarted} is
   * called — for services whose checks are registered after the server listens. Default false:
   * the `checks` given here are complete from the start.
   */
  startupPending?: boolean;
}

/** A running health/metrics server. */
export interface ServiceHttp {
  readonly port: number;
  readonly server: Server;
  /** Mark the service as shutting down: /readyz answers 503 at once. */
  setShuttingDown(): void;
  /** End the startup phase (see `startupPending`): from now on /readyz runs the checks. */
  markStarted(): void;
  /** False while the startup phase lasts. */
  readonly started: boolean;
  close(): Promise<void>;
}

async function runChecks(
  checks: Record<string, HealthCheck>,
  timeoutMs: number,
): Promise<{ ok: boolean; checks: Record<string, { ok: boolean; error?: string }> }> {
  const results: Record<string, { ok: boolean; error?: string }> = {};
  await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const res = await Promise.race([
          Promise.resolve().then(check),
          new Promise<never>((_, rej) => {
            timer = setTimeout(() => rej(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        results[name] = res === false ? { ok: false, error: 'not ready' } : { ok: true };
      } catch (err) {
        results[name] = { ok: false, error: redactSecrets(err instanceof Error ? err.message : String(err)) };
      } finally {
        if (timer) clearTimeout(timer);
      }
    }),
  );
  return { ok: Object.values(results).every((r) => r.ok), checks: results };
}

/**
 * The HTTP side of every service (node:http, no framework): `GET /healthz` (liveness),
 * `GET /readyz` (runs the readiness checks; 503 with the failing ones, 503 `starting` during a
 * pending startup, 503 `shutting-down` once shutdown began), `GET /metrics`
 * (Prometheus text). Everything else is 404.
 */
export async function startServiceHttp(opts: ServiceHttpOptions): Promise<ServiceHttp> {
  const timeoutMs = opts.checkTimeoutMs ?? 2000;
  let shuttingDown = false;
  let started = opts.startupPending !== true;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'application/json'): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return send(405, JSON.stringify({ error: 'method not allowed' }));
    void (async () => {
      try {
        if (path === '/healthz' || path === '/livez') {
          const r = await runChecks(opts.liveness ?? {}, timeoutMs);
          return send(r.ok ? 200 : 503, JSON.stringify({ status: r.ok ? 'ok' : 'fail', checks: r.checks }));
        }
        if (path === '/readyz') {
          if (shuttingDown) return send(503, JSON.stringify({ status: 'shutting-down', checks: {} }));
          if (!started) return send(503, JSON.stringify({ status: 'starting', checks: {} }));
          const r = await runChecks(opts.checks ?? {}, timeoutMs);
          return send(r.ok ? 200 : 503, JSON.stringify({ status: r.ok ? 'ok' : 'fail', checks: r.checks }));
        }
        if (path === '/metrics' && opts.metricsRegistry) {
          const body = await opts.metricsRegistry.metrics();
          return send(200, body, opts.metricsRegistry.contentType);
        }
        return send(404, JSON.stringify({ error: 'not found' }));
      } catch (err) {
        return send(
          500,
          JSON.stringify({ error: redactSecrets(err instanceof Error ? err.message : String(err)) }),
        );
      }
    })();
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    server,
    setShuttingDown: () => {
      shuttingDown = true;
    },
    markStarted: () => {
      started = true;
    },
    get started() {
      return started;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
