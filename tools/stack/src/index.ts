/**
 * @packageDocumentation
 * The Kollect services as separate OS processes against the test bed: {@link Stack} starts
 * controller, watcher, extractors, aggregators (and sink workers) from their built `dist`, each
 * with its own log file, readiness through /readyz, an isolated bus prefix, replicas, and fault
 * hooks (SIGKILL, restart). Plus the cluster-side helpers the demo and the suites share: CRD
 * installation and server-side apply ({@link Applier}), and a Prometheus text parser.
 */
export {
  Stack,
  SERVICE_KINDS,
  DEFAULT_REPLICAS,
  REPO_ROOT,
  buildServices,
  serviceEnv,
  instanceName,
  leaseSuffix,
  appExists,
  type ServiceKind,
  type StackOptions,
  type StackService,
} from './stack.js';
export {
  ServiceProcess,
  portFromLogLine,
  readyBody,
  tail,
  type ServiceSpec,
  type ServiceInfo,
} from './process.js';
export { Applier, installCrds, ensureNamespace, clearTerminatingNamespace, type Manifest } from './kube.js';
export { parseMetrics, metricSum, type MetricSample } from './metrics.js';
export {
  SnapshotFeed,
  type InventoryTable,
  type SnapshotChange,
  type SnapshotFeedOptions,
} from './snapshots.js';
