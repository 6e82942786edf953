import type { KollectMetrics } from './metrics.js';

/**
 * The parts of `@kollect/bus`'s ConsumerRunner these helpers need (structural, so observability
 * does not depend on the bus).
 */
export interface ObservableConsumer {
  on(cb: (e: { type: string; reason?: string }) => void): () => void;
  info(): Promise<{ num_pending: number; num_ack_pending: number }>;
}

/** The parts of `@kollect/bus`'s PartitionOwner these helpers need. */
export interface ObservablePartitions {
  on(cb: (e: { type: string; partition?: number; reason?: string }) => void): () => void;
}

/**
 * Feed a consumer's events and server-side state into the standard metrics: redeliveries,
 * terminations by reason, control events, whether it is bound (`kollect_bus_consumer_bound`:
 * alert on 0 — a failed bind stops the work without any other error), and `num_pending` / `num_ack_pending` polled every
 * `intervalMs` (delivery stops silently at max_ack_pending, so alert on that gauge). Returns a
 * function that stops observing.
 */
export function observeConsumer(
  metrics: KollectMetrics,
  consumer: ObservableConsumer,
  labels: { stream: string; consumer: string },
  intervalMs = 15_000,
): () => void {
  const off = consumer.on((e) => {
    switch (e.type) {
      case 'redelivery':
        metrics.consumerRedeliveries.inc(labels);
        break;
      case 'term':
        metrics.consumerTerminated.inc({ ...labels, reason: e.reason ?? 'unknown' });
        break;
      case 'dead_letter':
        // TERMs are counted above; the advisory is the only dead letter without a TERM of ours.
        if (e.reason === 'max_deliveries_advisory')
          metrics.consumerTerminated.inc({ ...labels, reason: e.reason });
        break;
      case 'consuming':
        metrics.consumerBound.set(labels, 1);
        metrics.consumerEvents.inc({ ...labels, type: e.type });
        break;
      case 'bind_failed':
        metrics.consumerBound.set(labels, 0);
        metrics.consumerEvents.inc({ ...labels, type: e.type });
        break;
      case 'stopped':
        metrics.consumerBound.set(labels, 0);
        break;
      case 'nak':
        break;
      default:
        metrics.consumerEvents.inc({ ...labels, type: e.type });
    }
  });
  const poll = async (): Promise<void> => {
    try {
      const info = await consumer.info();
      metrics.consumerPending.set(labels, info.num_pending);
      metrics.consumerAckPending.set(labels, info.num_ack_pending);
    } catch {
      // The consumer may be between recreations; the next poll catches up.
    }
  };
  void poll();
  const timer = setInterval(() => void poll(), intervalMs);
  timer.unref();
  return () => {
    off();
    clearInterval(timer);
  };
}

/** Keep `kollect_partition_owned` and ownership-change counters current for a partition owner. */
export function observePartitions(
  metrics: KollectMetrics,
  owner: ObservablePartitions,
  group: string,
): () => void {
  return owner.on((e) => {
    if (e.partition === undefined) return;
    if (e.type === 'acquired') {
      metrics.partitionOwned.set({ group, partition: String(e.partition) }, 1);
      metrics.partitionChanges.inc({ group, event: 'acquired' });
    } else if (e.type === 'lost') {
      metrics.partitionOwned.set({ group, partition: String(e.partition) }, 0);
      metrics.partitionChanges.inc({ group, event: `lost_${e.reason ?? 'unknown'}` });
    }
  });
}

/**
 * Hooks for `@kollect/bus`'s AsyncPublisher that count every publish in
 * `kollect_bus_published_total{stream,result}` (stored / duplicate / failed / payload_too_large):
 * `new AsyncPublisher(bus, { window: 128, ...publisherMetricsHooks(metrics, names.streams.objects) })`.
 * `stream` labels failures (a failed publish has no ack naming its stream).
 */
export function publisherMetricsHooks(
  metrics: KollectMetrics,
  stream: string,
): {
  onPublished: (o: { stream: string; duplicate: boolean }) => void;
  onFailure: (o: { subject: string; error: { errorClass: string } }) => void;
} {
  return {
    onPublished: (o) =>
      metrics.busPublished.inc({ stream: o.stream, result: o.duplicate ? 'duplicate' : 'stored' }),
    onFailure: (o) =>
      metrics.busPublished.inc({
        stream,
        result: o.error.errorClass === 'payload_too_large' ? 'payload_too_large' : 'failed',
      }),
  };
}
