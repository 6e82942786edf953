#!/usr/bin/env node
/**
 * Entry point of the aggregator service. Configuration from the environment (see config.ts),
 * /healthz /readyz /metrics on KOLLECT_HTTP_PORT, graceful shutdown on SIGTERM/SIGINT (partitions
 * are released so another replica takes over at once).
 */
import {
  createLogger,
  createMetrics,
  createRegistry,
  installShutdown,
  startServiceHttp,
} from '@kollect/observability';
import { loadConfig } from './config.js';
import { AggregatorService } from './service.js';

async function main(): Promise<void> {
  const cfg = loadConfig();
  const log = createLogger({ service: 'aggregator', level: cfg.logLevel, base: { holder: cfg.holder } });
  const registry = createRegistry('aggregator');
  const metrics = createMetrics(registry);
  // The shutdown handle exists only after the service started; a fatal plan change uses it.
  const ref: { shutdown?: (reason: string) => Promise<number> } = {};
  const svc = await AggregatorService.start({
    cfg,
    log,
    metrics,
    onFatal: (reason) => void ref.shutdown?.(reason),
  });
  const http = await startServiceHttp({
    port: cfg.httpPort,
    host: cfg.httpHost,
    metricsRegistry: registry,
    checks: {
      plan: () => svc.ready(),
      nats: () => !svc.bus.nc.isClosed(),
    },
  });
  const shutdown = installShutdown(
    [
      { name: 'http-not-ready', fn: () => http.setShuttingDown() },
      { name: 'aggregator', fn: () => svc.stop() },
      { name: 'http', fn: () => http.close() },
    ],
    { logger: log },
  );
  ref.shutdown = (reason) => shutdown.shutdown(reason);
  log.info({ port: http.port, prefix: cfg.busPrefix || undefined }, 'aggregator started');
}

main().catch((err: unknown) => {
  console.error(
    JSON.stringify({
      level: 'fatal',
      service: 'aggregator',
      msg: 'aggregator failed to start',
      err: String(err),
    }),
  );
  process.exit(1);
});
