/**
 * @packageDocumentation
 * The snapshot sink worker as a library (tests and the demo start it in-process).
 */
export { loadConfig, type SinkWorkerConfig } from './config.js';
export { SinkWorkerService, snapshotRegistry, type SinkWorkerOptions } from './service.js';
export { SinkHost, durableName, type HostBinding, type HostContext } from './host.js';
export { SinkProber, type ProberOptions } from './prober.js';
export { BusFullSnapshotSource } from './full-source.js';
export { KubeSecretWatcher } from './secrets.js';
