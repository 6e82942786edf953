#!/usr/bin/env node
/**
 * Entry point of the controller service. Configuration from the environment (see config.ts),
 * /healthz /readyz /metrics on KOLLECT_HTTP_PORT, graceful shutdown on SIGTERM/SIGINT (the Lease
 * is released so another replica takes over at once).
 */
import { Gauge } from 'prom-client';
import { startService } from '@kollect/observability';
import { loadConfig } from './config.js';
import { startController } from './service.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const frame = await startService({
    service: 'controller',
    level: config.logLevel,
    httpPort: config.httpPort,
    httpHost: config.httpHost,
    base: { cluster: config.settings.cluster, identity: config.identity },
  });
  const leader = new Gauge({
    name: 'kollect_controller_leader',
    help: '1 while this replica holds the controller Lease.',
    registers: [frame.registry],
  });
  const planGeneration = new Gauge({
    name: 'kollect_plan_generation',
    help: 'Generation of the last plan this replica published.',
    registers: [frame.registry],
  });
  const svc = await startController({
    config,
    log: frame.log,
    metrics: frame.metrics,
    onLeadership: (l) => leader.set(l ? 1 : 0),
    onPlanPublished: (p) => planGeneration.set(p.generation),
  });
  frame.addReadinessCheck('cache', () => svc.controller.synced);
  frame.addReadinessCheck('nats', () => !svc.bus.nc.isClosed());
  // Releases the Lease so another replica takes over at once.
  frame.onShutdown('controller', () => svc.stop());
  frame.markStarted();
  frame.log.info({ port: frame.http.port, prefix: config.busPrefix || undefined }, 'controller started');
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
