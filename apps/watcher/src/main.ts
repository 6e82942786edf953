#!/usr/bin/env node
/**
 * kollect-watcher: one active instance per cluster lists and watches every GVR scope the plan
 * needs and mirrors the objects into KOLLECT_OBJECTS. Configuration: see config.ts (environment).
 */
import { startService } from '@kollect/observability';
import { loadConfig } from './config.js';
import { startWatcher } from './service.js';

try {
  const cfg = loadConfig();
  const frame = await startService({
    service: 'watcher',
    level: cfg.logLevel,
    httpPort: cfg.httpPort,
    httpHost: cfg.httpHost,
    base: { cluster: cfg.cluster },
  });
  await startWatcher(cfg, frame);
  frame.markStarted();
  frame.log.info({ port: frame.http.port, identity: cfg.identity }, 'watcher started');
} catch (err) {
  // Config and connection errors carry their own scrubbed, actionable message.
  console.error(
    JSON.stringify({
      level: 'fatal',
      service: 'watcher',
      msg: 'watcher failed to start',
      err: err instanceof Error ? err.message : String(err),
    }),
  );
  process.exit(1);
}
