import { busNames, connectBus, ensureTopology, type Bus, type BusNames } from '@kollect/bus';
import { KubeClient } from '@kollect/kube';
import { kubeSource, natsConnection, type KollectMetrics, type Logger } from '@kollect/observability';
import type { CompiledPlan } from '@kollect/plan';
import type { ControllerConfig } from './config.js';
import { Controller } from './controller.js';

/** Options of {@link startController}. */
export interface StartOptions {
  config: ControllerConfig;
  log: Logger;
  metrics?: KollectMetrics;
  onLeadership?: (leading: boolean) => void;
  onPlanPublished?: (plan: CompiledPlan) => void;
}

/** A running controller with its connections. */
export interface ControllerService {
  readonly controller: Controller;
  readonly bus: Bus;
  readonly names: BusNames;
  readonly kube: KubeClient;
  /** Stop acting (release the Lease), stop watches and readers, close connections. */
  stop(): Promise<void>;
}

/** Connect to NATS and the apiserver, make sure the bus topology exists, and start the controller. */
export async function startController(opts: StartOptions): Promise<ControllerService> {
  const { config, log } = opts;
  const bus = await connectBus({ ...natsConnection(config), name: `kollect-controller-${config.identity}` });
  const names = busNames(config.busPrefix);
  if (config.ensureTopology) await ensureTopology(bus.jsm, { names });
  const kube = new KubeClient({ ...kubeSource(config.kube), userAgent: 'kollect-controller' });
  const controller = new Controller({
    config,
    kube,
    bus,
    names,
    log,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.onLeadership ? { onLeadership: opts.onLeadership } : {}),
    ...(opts.onPlanPublished ? { onPlanPublished: opts.onPlanPublished } : {}),
  });
  await controller.start();
  return {
    controller,
    bus,
    names,
    kube,
    async stop() {
      await controller.stop();
      await bus.drain().catch(() => undefined);
      kube.close();
    },
  };
}
