#!/usr/bin/env node
/**
 * Entry point of the extractor service. Configuration from the environment (see config.ts),
 * /healthz /readyz /metrics on KOLLECT_HTTP_PORT, graceful shutdown on SIGTERM/SIGINT (running
 * extractions finish and are acked; buffered messages go back to the stream).
 */
import { startService } from '@kollect/observability';
import { loadConfig } from './config.js';
import { ExtractorService } from './service.js';

async function main(): Promise<void> {
  const cfg = loadConfig();
  const frame = await startService({
    service: 'extractor',
    level: cfg.logLevel,
    httpPort: cfg.httpPort,
    httpHost: cfg.httpHost,
    base: { holder: cfg.holder },
  });
  const svc = await ExtractorService.start({ cfg, log: frame.log, metrics: frame.metrics });
  frame.addReadinessCheck('plan', () => svc.ready());
  frame.addReadinessCheck('consumer', () => svc.checkConsumer());
  frame.addReadinessCheck('nats', () => !svc.bus.nc.isClosed());
  frame.onShutdown('extractor', () => svc.stop());
  frame.markStarted();
  frame.log.info({ prefix: cfg.busPrefix || undefined }, 'extractor started');
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
