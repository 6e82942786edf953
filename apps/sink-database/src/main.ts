#!/usr/bin/env node
/**
 * Entry point of the database sink worker (postgres, mongodb, bigquery). The same configuration
 * as every sink worker (`@kollect/sink-worker` config: KOLLECT_NATS_URL, KUBECONFIG, …),
 * /healthz /readyz /metrics on KOLLECT_HTTP_PORT, graceful shutdown on SIGTERM/SIGINT (consumers
 * stop, running exports finish, pools close).
 */
import { startService } from '@kollect/observability';
import { loadConfig, SinkWorkerService } from '@kollect/sink-worker';
import { databaseFamily } from './registry.js';

async function main(): Promise<void> {
  const family = databaseFamily();
  const cfg = loadConfig(process.env, { service: family.service });
  const frame = await startService({
    service: 'sink-database',
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
  frame.onShutdown('sink-database', () => svc.stop());
  frame.markStarted();
  frame.log.info(
    { prefix: cfg.busPrefix || undefined, allowPrivateEndpoints: cfg.allowPrivateEndpoints || undefined },
    'database sink worker started',
  );
}

main().catch((err: unknown) => {
  console.error(
    JSON.stringify({
      level: 'fatal',
      service: 'sink-database',
      msg: 'sink-database failed to start',
      err: String(err),
    }),
  );
  process.exit(1);
});
