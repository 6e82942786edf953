#!/usr/bin/env node
/**
 * Entry point of the controller service. Configuration from the environment (see config.ts),
 * /healthz /readyz /metrics on KOLLECT_HTTP_PORT, graceful shutdown on SIGTERM/SIGINT (the Lease
 * is released so another replica takes over at once).
 */
import { Gauge } from 'prom-client';
import {
  createLogger,
  createMetrics,
  createRegistry,
  installShutdown,
  startServiceHttp,
} from '@kollect/observability';
import { loadConfig } from './config.js';
import { startController } from './service.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({
    service: 'controller',
    level: config.logLevel,
    base: { cluster: config.settings.cluster, identity: config.identity },
  });
  const registry = createRegistry('controller');
  const metrics = createMetrics(registry);
  const leader = new Gauge({
    name: 'kollect_controller_leader',
    help: '1 while this replica holds the controller Lease.',
    registers: [registry],
  });
  const planGeneration = new Gauge({
    name: 'kollect_plan_generation',
    help: 'Generation of the last plan this replica published.',
    registers: [registry],
  });
  const svc = await startController({
    config,
    log,
    metrics,
    onLeadership: (l) => leader.set(l ? 1 : 0),
    onPlanPublished: (p) => planGeneration.set(p.generation),
  });
  const http = await startServiceHttp({
    port: config.httpPort,
    host: config.httpHost,
    metricsRegistry: registry,
    checks: {
      cache: () => svc.controller.synced,
      nats: () => !svc.bus.nc.isClosed(),
    },
  });
  installShutdown(
    [
      { name: 'http-not-ready', fn: () => http.setShuttingDown() },
      { name: 'controller', fn: () => svc.stop() },
      { name: 'http', fn: () => http.close() },
    ],
    { logger: log },
  );
  log.info({ port: http.port, prefix: config.busPrefix || undefined }, 'controller started');
}

main().catch((err: unknown) => {
  console.error(
    JSON.stringify({
      level: 'fatal',
      service: 'controller',
      msg: 'controller failed to start',
      err: String(err),
    }),
  );
  process.exit(1);
});
