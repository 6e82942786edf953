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
import { kubeSource, natsConnection, type Service } from '@kollect/observability';
import { PLAN_SCHEMA_VERSION, type CompiledPlan } from '@kollect/plan';
import type { WatcherConfig } from './config.js';
import { metricHooks } from './telemetry.js';

/** A running watcher. */
export interface WatcherService {
  readonly mirror: ClusterMirror;
}

/**
 * Wire the watcher into its service frame (`startService`): NATS (topology, plan KV, state KV,
 * the shared bounded publisher), the apiserver client, the cluster mirror driven by the plan,
 * Lease leader election (only the leader runs watches), its readiness and liveness checks and its
 * shutdown steps. The caller marks startup complete.
 */
export async function startWatcher(cfg: WatcherConfig, frame: Service): Promise<WatcherService> {
  const logger = frame.log;
  const metrics = frame.metrics;
  const names = busNames(cfg.busPrefix);

  // Filled in as the pieces come up; the health checks read it from the start.
  const live: { bus?: Bus; mirror?: ClusterMirror; planSeen: boolean } = { planSeen: false };
  let elector: LeaderElector | undefined;

  frame.addReadinessCheck('bus', () => live.bus !== undefined && !live.bus.nc.isClosed());
  frame.addReadinessCheck('plan', () => live.planSeen);
  // A standby is ready (it waits for the lease); the leader once every scope has synced.
  frame.addReadinessCheck('synced', () => !live.mirror || !live.mirror.active || live.mirror.allSynced());
  // Every scope of an active watcher must have a running list+watch: the engine never stops on
  // its own, so a stopped one means a bug and a restart is the fix.
  frame.addLivenessCheck(
    'watches',
    () => !live.mirror || !live.mirror.active || live.mirror.health().every((h) => h.engine !== 'stopped'),
  );

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

  // The frame runs shutdown steps in reverse order of registration, after /readyz turned
  // unready and before the HTTP server closes: plan watch, watches, publisher, lease, bus, kube.
  frame.onShutdown('kube', () => kube.close());
  frame.onShutdown('bus', () => connected.drain());
  frame.onShutdown('lease', () => elector?.stop());
  frame.onShutdown('publisher', async () => void (await publisher.flush()));
  // Stops every list+watch, waits for their publishes and persists resume points.
  frame.onShutdown('watches', () => clusterMirror.stop());
  frame.onShutdown('plan-watch', () => planWatch.stop());
  return { mirror: clusterMirror };
}
