#!/usr/bin/env node
/**
 * Entry point of the aggregator service. Configuration from the environment (see config.ts),
 * /healthz /readyz /metrics on KOLLECT_HTTP_PORT, graceful shutdown on SIGTERM/SIGINT (partitions
 * are released so another replica takes over at once).
 */
import { startService } from '@kollect/observability';
import { loadConfig } from './config.js';
import { AggregatorService } from './service.js';

async function main(): Promise<void> {
  const cfg = loadConfig();
  const frame = await startService({
    service: 'aggregator',
    level: cfg.logLevel,
    httpPort: cfg.httpPort,
    httpHost: cfg.httpHost,
    base: { holder: cfg.holder },
  });
  const svc = await AggregatorService.start({
    cfg,
    log: frame.log,
    metrics: frame.metrics,
    onFatal: (reason) => void frame.shutdown.shutdown(reason),
  });
  frame.addReadinessCheck('plan', () => svc.ready());
  frame.addReadinessCheck('consumers', () => svc.checkConsumers());
  frame.addReadinessCheck('nats', () => !svc.bus.nc.isClosed());
  frame.onShutdown('aggregator', () => svc.stop());
  frame.markStarted();
  frame.log.info({ prefix: cfg.busPrefix || undefined }, 'aggregator started');
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
