/**
 * @packageDocumentation
 * The snapshot sink worker as a library (tests and the demo start it in-process): the shared
 * worker of `@kollect/sink-worker` with the snapshot family's backends.
 */
export { snapshotRegistry, snapshotFamily } from './registry.js';
export {
  loadConfig,
  SinkWorkerService,
  SinkHost,
  durableName,
  SinkProber,
  BusFullSnapshotSource,
  KubeSecretWatcher,
  type SinkWorkerConfig,
  type SinkWorkerOptions,
  type HostBinding,
  type HostContext,
} from '@kollect/sink-worker';
