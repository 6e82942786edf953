#!/usr/bin/env node
/**
 * Entry point of the snapshot sink worker (git, gitlab, s3, gcs). Configuration from the
 * environment (config.ts), /healthz /readyz /metrics on KOLLECT_HTTP_PORT, graceful shutdown on
 * SIGTERM/SIGINT (consumers stop, running exports finish, backends close).
 */
import { startService } from '@kollect/observability';
import { loadConfig, SinkWorkerService } from '@kollect/sink-worker';
import { snapshotFamily } from './registry.js';

async function main(): Promise<void> {
  const family = snapshotFamily();
  const cfg = loadConfig(process.env, { service: family.service });
  const frame = await startService({
    service: 'sink-snapshot',
    level: cfg.logLevel,
    httpPort: cfg.httpPort,
    httpHost: cfg.httpHost,
    base: { holder: cfg.holder },
  });
  const svc = await SinkWorkerService.start({
    family,
    cfg,
    log: frame.log,
    metrics: frame.metrics,
  });
  frame.addReadinessCheck('plan', () => svc.ready());
  frame.addReadinessCheck('consumers', () => svc.checkConsumers());
  frame.addReadinessCheck('nats', () => !svc.bus.nc.isClosed());
  frame.onShutdown('sink-snapshot', () => svc.stop());
  frame.markStarted();
  frame.log.info(
    { prefix: cfg.busPrefix || undefined, allowPrivateEndpoints: cfg.allowPrivateEndpoints || undefined },
    'snapshot sink worker started',
  );
}

main().catch((err: unknown) => {
  console.error(
    JSON.stringify({
      level: 'fatal',
      service: 'sink-snapshot',
      msg: 'sink-snapshot failed to start',
      err: String(err),
    }),
  );
  process.exit(1);
});
