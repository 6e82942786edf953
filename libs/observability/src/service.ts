import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createLogger, type LogLevel } from './logger.js';
import { createMetrics, createRegistry, type KollectMetrics } from './metrics.js';
import { startServiceHttp, type HealthCheck, type ServiceHttp } from './http.js';
import { installShutdown, type Shutdown, type ShutdownHandler } from './shutdown.js';

/** Options of {@link startService}. */
export interface ServiceSetup {
  /** Service name (`watcher`, `aggregator`, …): the `service` log field and metric label. */
  service: string;
  level?: LogLevel;
  /** Port of /healthz, /readyz and /metrics (0 = any free port). */
  httpPort: number;
  httpHost?: string;
  /** Fields bound to every log line (`cluster`, `pod`). */
  base?: Record<string, unknown>;
  /** Graceful shutdown timeout (default 25 s). */
  shutdownTimeoutMs?: number;
  /** Exit the process after shutdown (default true; tests pass false). */
  exit?: boolean;
}

/** What every service gets at startup. */
export interface Service {
  readonly log: Logger;
  readonly registry: Registry;
  readonly metrics: KollectMetrics;
  readonly http: ServiceHttp;
  readonly shutdown: Shutdown;
  /**
   * Add a readiness check (by name), e.g. once the NATS connection exists. A check may also be
   * added after {@link Service.markStarted} (it counts from then on).
   */
  addReadinessCheck(name: string, check: HealthCheck): void;
  /** Add a liveness check (run by /healthz; keep it cheap and local — a failure means "restart me"). */
  addLivenessCheck(name: string, check: HealthCheck): void;
  /**
   * Declare startup complete: every readiness check the service needs is registered. Until this
   * is called /readyz answers 503 `{"status":"starting"}`, whatever is registered — so a
   * half-started service is never reported ready. From then on /readyz runs the checks (200 when
   * all pass). Throws when no readiness check is registered: a service without one would always
   * look ready, which is the bug this guards against. Idempotent.
   */
  markStarted(): void;
  /** False until {@link Service.markStarted}. */
  readonly started: boolean;
  /**
   * Add a shutdown step. Steps run in reverse order of registration (the last thing started
   * stops first), after /readyz has turned unready; the HTTP server closes last.
   */
  onShutdown(name: string, fn: ShutdownHandler['fn']): void;
}

/**
 * The common frame of a Kollect service: logger, registry with the standard metrics, the health
 * and metrics endpoints, and signal handling. /healthz answers as soon as the frame listens;
 * /readyz answers 503 `starting` until the app calls `markStarted()` after registering its
 * checks. Apps add their checks and shutdown steps, then mark startup complete:
 *
 * ```ts
 * const svc = await startService({ service: 'watcher', httpPort: env.int('KOLLECT_HTTP_PORT', 8080) });
 * const bus = await connectBus({ servers, name: 'watcher' });
 * svc.addReadinessCheck('nats', () => !bus.nc.isClosed());
 * svc.onShutdown('nats', () => bus.drain());
 * svc.markStarted();
 * ```
 */
export async function startService(setup: ServiceSetup): Promise<Service> {
  const log = createLogger({
    service: setup.service,
    ...(setup.level ? { level: setup.level } : {}),
    ...(setup.base ? { base: setup.base } : {}),
  });
  const registry = createRegistry(setup.service);
  const metrics = createMetrics(registry);
  // Read by the server on every request, so checks added later count.
  const checks: Record<string, HealthCheck> = {};
  const liveness: Record<string, HealthCheck> = {};
  const http = await startServiceHttp({
    port: setup.httpPort,
    ...(setup.httpHost ? { host: setup.httpHost } : {}),
    metricsRegistry: registry,
    checks,
    liveness,
    startupPending: true,
  });
  const steps: ShutdownHandler[] = [];
  const shutdown = installShutdown(
    [
      { name: 'unready', fn: () => http.setShuttingDown() },
      // Reads `steps` when shutdown runs, so steps registered later are included.
      { name: 'service', fn: () => runSteps([...steps].reverse(), log) },
      { name: 'http', fn: () => http.close() },
    ],
    {
      logger: log,
      ...(setup.shutdownTimeoutMs !== undefined ? { timeoutMs: setup.shutdownTimeoutMs } : {}),
      ...(setup.exit !== undefined ? { exit: setup.exit } : {}),
    },
  );
  log.info({ port: http.port }, 'service started');
  return {
    log,
    registry,
    metrics,
    http,
    shutdown,
    addReadinessCheck: (name, check) => {
      checks[name] = check;
    },
    addLivenessCheck: (name, check) => {
      liveness[name] = check;
    },
    markStarted: () => {
      if (http.started) return;
      if (Object.keys(checks).length === 0)
        throw new Error(
          `${setup.service}: markStarted() called with no readiness check registered; add the checks that say when this service can work (addReadinessCheck) first`,
        );
      http.markStarted();
      log.info({ checks: Object.keys(checks) }, 'startup complete');
    },
    get started() {
      return http.started;
    },
    onShutdown: (name, fn) => {
      steps.push({ name, fn });
    },
  };
}

async function runSteps(steps: ShutdownHandler[], log: Logger): Promise<void> {
  let failed = false;
  for (const s of steps) {
    try {
      await s.fn();
    } catch (err) {
      failed = true;
      log.error({ step: s.name, err }, 'shutdown step failed');
    }
  }
  if (failed) throw new Error('one or more shutdown steps failed');
}
