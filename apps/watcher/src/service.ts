import {
  AsyncPublisher,
  JsonKv,
  PLAN_KEY,
  busNames,
  connectBus,
  ensureTopology,
  watchPlan,
  type Bus,
  type PlanWatch,
} from '@kollect/bus';
import { KubeClient, LeaderElector } from '@kollect/kube';
import { ClusterMirror } from '@kollect/mirror';
import {
  createLogger,
  createMetrics,
  createRegistry,
  kubeSource,
  natsConnection,
  startServiceHttp,
  type Logger,
  type ServiceHttp,
} from '@kollect/observability';
import { PLAN_SCHEMA_VERSION, type CompiledPlan } from '@kollect/plan';
import type { WatcherConfig } from './config.js';
import { metricHooks } from './telemetry.js';

/** A running watcher. */
export interface WatcherService {
  readonly logger: Logger;
  readonly http: ServiceHttp;
  readonly mirror: ClusterMirror;
  /** The shutdown steps, in order (for `installShutdown`). */
  readonly shutdownSteps: { name: string; fn: () => void | Promise<void> }[];
}

/**
 * Wire the watcher: NATS (topology, plan KV, state KV, the shared bounded publisher), the
 * apiserver client, the cluster mirror driven by the plan, Lease leader election (only the
 * leader runs watches), and /healthz /readyz /metrics.
 */
export async function startWatcher(cfg: WatcherConfig): Promise<WatcherService> {
  const logger = createLogger({ service: 'watcher', level: cfg.logLevel, base: { cluster: cfg.cluster } });
  const registry = createRegistry('watcher');
  const metrics = createMetrics(registry);
  const names = busNames(cfg.busPrefix);

  // Filled in as the pieces come up; the health checks read it from the start.
  const live: { bus?: Bus; mirror?: ClusterMirror; planSeen: boolean } = { planSeen: false };
  let elector: LeaderElector | undefined;

  const http = await startServiceHttp({
    port: cfg.httpPort,
    host: cfg.httpHost,
    metricsRegistry: registry,
    checks: {
      bus: () => live.bus !== undefined && !live.bus.nc.isClosed(),
      plan: () => live.planSeen,
      // A standby is ready (it waits for the lease); the leader once every scope has synced.
      synced: () => !live.mirror || !live.mirror.active || live.mirror.allSynced(),
    },
    liveness: {
      // Every scope of an active watcher must have a running list+watch: the engine never
      // stops on its own, so a stopped one means a bug and a restart is the fix.
      watches: () =>
        !live.mirror || !live.mirror.active || live.mirror.health().every((h) => h.engine !== 'stopped'),
    },
  });

  const connected = await connectBus({ ...natsConnection(cfg), name: `kollect-watcher-${cfg.identity}` });
  live.bus = connected;
  if (cfg.ensureTopology) await ensureTopology(connected.jsm, { names });
  const stateKv = await JsonKv.open<unknown>(connected, names.buckets.state);
  const planKv = await JsonKv.open<unknown>(connected, names.buckets.plan);

  const kube = new KubeClient({
    ...kubeSource(cfg.kube),
    userAgent: 'kollect-watcher',
  });

  const publisher = new AsyncPublisher(connected, { window: cfg.publishWindow });
  const clusterMirror = new ClusterMirror(
    {
      bus: connected,
      names,
      publisher,
      state: stateKv,
      kube,
      cluster: cfg.cluster,
      settings: {
        pageSize: cfg.pageSize,
        watchTimeoutSeconds: cfg.watchTimeoutMs / 1000,
        stallSeconds: cfg.stallMs / 1000,
        checkpointIntervalMs: cfg.checkpointIntervalMs,
      },
      logger: logger.child({ component: 'mirror' }),
      hooks: metricHooks(metrics, names.streams.objects),
    },
    { namespaceThreshold: cfg.namespaceThreshold },
  );
  live.mirror = clusterMirror;

  const planWatch: PlanWatch = watchPlan<CompiledPlan>(
    planKv,
    PLAN_KEY,
    async (plan, revision) => {
      live.planSeen = true;
      logger.info({ generation: plan.generation, revision, watches: plan.watches.length }, 'plan received');
      await clusterMirror
        .applyPlan(plan)
        .catch((err: unknown) => logger.error({ err }, 'applying the plan failed'));
    },
    {
      schemaVersion: PLAN_SCHEMA_VERSION,
      logger: logger.child({ component: 'plan' }),
      onInvalid: (err, revision) =>
        logger.error({ err: err.message, revision }, 'plan rejected; keeping the previous one'),
    },
  );

  if (cfg.leaderElection) {
    elector = new LeaderElector(kube, {
      namespace: cfg.lease.namespace,
      name: cfg.lease.name,
      identity: cfg.identity,
      leaseDurationSeconds: cfg.lease.durationMs / 1000,
      renewDeadlineSeconds: cfg.lease.renewDeadlineMs / 1000,
      retryPeriodSeconds: cfg.lease.retryPeriodMs / 1000,
      onStartedLeading: () => {
        logger.info({ identity: cfg.identity }, 'leading: starting watches');
        void clusterMirror
          .setActive(true)
          .catch((err: unknown) => logger.error({ err }, 'starting watches failed'));
      },
      onStoppedLeading: () => {
        logger.warn({ identity: cfg.identity }, 'lost the lease: stopping watches');
        void clusterMirror
          .setActive(false)
          .catch((err: unknown) => logger.error({ err }, 'stopping watches failed'));
      },
      onNewLeader: (holder) => logger.info({ holder }, 'watcher leader observed'),
      onError: (err) => logger.warn({ err }, 'lease attempt failed'),
    });
    elector.start();
  } else {
    await clusterMirror.setActive(true);
  }

  const shutdownSteps = [
    { name: 'readiness', fn: () => http.setShuttingDown() },
    { name: 'plan-watch', fn: () => planWatch.stop() },
    // Stops every list+watch, waits for their publishes and persists resume points.
    { name: 'watches', fn: () => clusterMirror.stop() },
    { name: 'publisher', fn: async () => void (await publisher.flush()) },
    { name: 'lease', fn: () => elector?.stop() },
    { name: 'bus', fn: () => connected.drain() },
    { name: 'kube', fn: () => kube.close() },
    { name: 'http', fn: () => http.close() },
  ];
  return { logger, http, mirror: clusterMirror, shutdownSteps };
}
