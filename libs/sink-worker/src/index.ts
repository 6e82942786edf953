/**
 * @packageDocumentation
 * The sink worker shared by the family apps (`apps/sink-snapshot`, `apps/sink-database`, and the
 * event worker to come): plan watch, one {@link SinkHost} per bound sink (durable consumer,
 * `SinkRunner`, Secrets, status reports, re-send cadence), the leader-only {@link SinkProber}
 * (connection tests, previews), full snapshots over the bus. An app supplies its family with
 * {@link workerFamily} and its backends; nothing here is family-specific.
 */
export { workerFamily, type WorkerFamily } from './family.js';
export { loadConfig, type SinkWorkerConfig } from './config.js';
export { SinkWorkerService, type SinkWorkerOptions } from './service.js';
export { SinkHost, durableName, sinkMetricsOf, type HostBinding, type HostContext } from './host.js';
export { SinkProber, type ProberOptions } from './prober.js';
export { BusFullSnapshotSource } from './full-source.js';
export { KubeSecretWatcher } from './secrets.js';
