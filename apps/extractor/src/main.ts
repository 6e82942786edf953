#!/usr/bin/env node
/**
 * Entry point of the extractor service. Configuration from the environment (see config.ts),
 * /healthz /readyz /metrics on KOLLECT_HTTP_PORT, graceful shutdown on SIGTERM/SIGINT (running
 * extractions finish and are acked; buffered messages go back to the stream).
 */
import {
  createLogger,
  createMetrics,
  createRegistry,
  installShutdown,
  startServiceHttp,
} from '@kollect/observability';
import { loadConfig } from './config.js';
import { ExtractorService } from './service.js';

async function main(): Promise<void> {
  const cfg = loadConfig();
  const log = createLogger({ service: 'extractor', level: cfg.logLevel, base: { holder: cfg.holder } });
  const registry = createRegistry('extractor');
  const metrics = createMetrics(registry);
  const svc = await ExtractorService.start({ cfg, log, metrics });
  const http = await startServiceHttp({
    port: cfg.httpPort,
    host: cfg.httpHost,
    metricsRegistry: registry,
    checks: {
      plan: () => svc.ready(),
      nats: () => !svc.bus.nc.isClosed(),
    },
  });
  installShutdown(
    [
      { name: 'http-not-ready', fn: () => http.setShuttingDown() },
      { name: 'extractor', fn: () => svc.stop() },
      { name: 'http', fn: () => http.close() },
    ],
    { logger: log },
  );
  log.info({ port: http.port, prefix: cfg.busPrefix || undefined }, 'extractor started');
}

main().catch((err: unknown) => {
  console.error(
    JSON.stringify({
      level: 'fatal',
      service: 'extractor',
      msg: 'extractor failed to start',
      err: String(err),
    }),
  );
  process.exit(1);
});
