/**
 * @packageDocumentation
 * What every Kollect service needs around its work: a JSON logger that never prints secrets,
 * Prometheus metrics declared once, /healthz /readyz /metrics over node:http, graceful shutdown,
 * and typed environment configuration.
 */
export {
  createLogger,
  withContext,
  scrubLogValue,
  isSecretKey,
  REDACT_PATHS,
  REDACTED,
  type Logger,
  type LogLevel,
  type LoggerSetup,
  type LogContext,
} from './logger.js';
export {
  createRegistry,
  createMetrics,
  Registry,
  EXPORT_DURATION_BUCKETS,
  STEP_DURATION_BUCKETS,
  type KollectMetrics,
} from './metrics.js';
export { startServiceHttp, type ServiceHttp, type ServiceHttpOptions, type HealthCheck } from './http.js';
export { installShutdown, type Shutdown, type ShutdownHandler, type ShutdownOptions } from './shutdown.js';
export { startService, type Service, type ServiceSetup } from './service.js';
export {
  observeConsumer,
  observePartitions,
  publisherMetricsHooks,
  type ObservableConsumer,
  type ObservablePartitions,
} from './bus-metrics.js';
export { envConfig, parseDurationMs, ConfigInvalid, type EnvConfig } from './env.js';
export {
  serviceEnv,
  natsConnection,
  kubeEnv,
  kubeSource,
  leaseEnv,
  leaseNameFor,
  watchNamespacesEnv,
  podNamespace,
  KUBECONFIG_ALIAS,
  SERVICE_ACCOUNT_NAMESPACE_FILE,
  LOG_LEVELS,
  type BusEnv,
  type ServiceEnv,
  type KubeEnv,
  type LeaseEnv,
} from './service-env.js';
