import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Registry } from 'prom-client';

/** Buckets of `kollect_export_duration_seconds` (SEED-SPEC §10.1). */
export const EXPORT_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Buckets for per-message pipeline work (extraction, aggregation): sub-millisecond to 1 s. */
export const STEP_DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];

/**
 * A per-service registry with the default process metrics (`process_*`, `nodejs_*`) and a
 * `service` default label.
 */
export function createRegistry(service: string, opts: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  return registry;
}

const GVR = ['group', 'version', 'resource'] as const;

/**
 * Every Kollect metric, declared once. Names and labels of the seed (SEED-SPEC §10.1) are kept so
 * dashboards and the default alert rules carry over; pipeline metrics are new.
 *
 * Cardinality rule: operator-health metrics never carry target or inventory labels. Labels are
 * bounded sets: GVRs (the watched kinds), sink types, error classes, partitions, consumers.
 */
export function createMetrics(registry: Registry) {
  const r = [registry];
  return {
    // ---- seed (controller) ----
    reconcileTotal: new Counter({
      name: 'kollect_reconcile_total',
      help: 'Reconciles by controller and result (success/failure).',
      labelNames: ['controller', 'result'] as const,
      registers: r,
    }),
    reconcileErrors: new Counter({
      name: 'kollect_reconcile_errors_total',
      help: 'Reconcile errors by CR kind and error class (transient/terminal/forbidden).',
      labelNames: ['kind', 'error_class'] as const,
      registers: r,
    }),
    reconcileDuration: new Histogram({
      name: 'kollect_reconcile_duration_seconds',
      help: 'Reconcile duration by controller.',
      labelNames: ['controller'] as const,
      registers: r,
    }),
    workqueueDepth: new Gauge({
      name: 'kollect_workqueue_depth',
      help: 'Reconciles in flight or queued, by controller.',
      labelNames: ['controller'] as const,
      registers: r,
    }),
    collectItems: new Gauge({
      name: 'kollect_collect_items_total',
      help: 'Rows held in the aggregated tables (store size).',
      registers: r,
    }),
    collectedObjects: new Gauge({
      name: 'kollect_collected_objects',
      help: 'Objects collected, by profile and gvk (group/version/kind).',
      labelNames: ['profile', 'gvk'] as const,
      registers: r,
    }),
    inventoryItems: new Gauge({
      name: 'kollect_inventory_items_total',
      help: 'Items across inventories at the last export.',
      registers: r,
    }),
    informerObjects: new Gauge({
      name: 'kollect_informer_objects',
      help: 'Objects currently known to the watcher, by GVR.',
      labelNames: GVR,
      registers: r,
    }),
    informerClusterWide: new Gauge({
      name: 'kollect_informer_cluster_wide_scope',
      help: '1 when the GVR is watched cluster-wide, 0 when namespace-scoped.',
      labelNames: GVR,
      registers: r,
    }),
    exportDuration: new Histogram({
      name: 'kollect_export_duration_seconds',
      help: 'Duration of one export to one sink, by sink type.',
      labelNames: ['sink_type'] as const,
      buckets: EXPORT_DURATION_BUCKETS,
      registers: r,
    }),
    exportBytes: new Counter({
      name: 'kollect_export_bytes_total',
      help: 'Bytes written to sinks, by sink type.',
      labelNames: ['sink_type'] as const,
      registers: r,
    }),
    exportDebounced: new Counter({
      name: 'kollect_export_debounced_total',
      help: 'Exports skipped or delayed by the debounce window.',
      labelNames: ['controller'] as const,
      registers: r,
    }),
    sinkErrors: new Counter({
      name: 'kollect_sink_errors_total',
      help: 'Sink errors by reason (transient/terminal/forbidden/payload_too_large/spill_required/unknown).',
      labelNames: ['reason'] as const,
      registers: r,
    }),
    exportSpillWarn: new Counter({
      name: 'kollect_export_spill_warn_total',
      help: 'Exports whose payload exceeded the spill warning threshold.',
      registers: r,
    }),
    exportShardWarn: new Counter({
      name: 'kollect_export_shard_warn_total',
      help: 'Exports approaching a sink size limit.',
      registers: r,
    }),
    sinkConnectionTest: new Counter({
      name: 'kollect_sink_connection_test_total',
      help: 'Sink connection tests by sink type and result.',
      labelNames: ['type', 'result'] as const,
      registers: r,
    }),
    staticRefResolution: new Counter({
      name: 'kollect_static_ref_resolution_total',
      help: 'Reference resolutions by CR kind, reference type and result (ok/not_found/forbidden).',
      labelNames: ['kind', 'ref_type', 'result'] as const,
      registers: r,
    }),

    // ---- controller (Kollect) ----
    objectsOversized: new Gauge({
      name: 'kollect_objects_oversized',
      help: 'Objects the watcher currently reports as larger than the bus max payload (not collected), by GVR.',
      labelNames: GVR,
      registers: r,
    }),
    planBytes: new Gauge({
      name: 'kollect_plan_bytes',
      help: 'Size of the last compiled plan: encoding="json" before compression, "stored" as written to KV (gzip above 64 KiB).',
      labelNames: ['encoding'] as const,
      registers: r,
    }),
    planMaxBytes: new Gauge({
      name: 'kollect_plan_max_bytes',
      help: 'Largest plan the KV bucket accepts (the NATS max_payload less subject and headers).',
      registers: r,
    }),
    planPublishFailures: new Counter({
      name: 'kollect_plan_publish_failures_total',
      help: 'Plans the controller could not publish, by reason (too_large/error); the previous plan stays in force.',
      labelNames: ['reason'] as const,
      registers: r,
    }),

    // ---- watcher ----
    watchEvents: new Counter({
      name: 'kollect_watch_events_total',
      help: 'Watch events received, by GVR and type (ADDED/MODIFIED/DELETED/BOOKMARK/ERROR).',
      labelNames: [...GVR, 'type'] as const,
      registers: r,
    }),
    watchRestarts: new Counter({
      name: 'kollect_watch_restarts_total',
      help: 'Watch restarts by GVR and reason (timeout/closed/error/stall/gone).',
      labelNames: [...GVR, 'reason'] as const,
      registers: r,
    }),
    watchRelists: new Counter({
      name: 'kollect_watch_relists_total',
      help: 'Full relists by GVR (a 410 Gone or a start).',
      labelNames: GVR,
      registers: r,
    }),
    watchStallFires: new Counter({
      name: 'kollect_watch_stall_watchdog_fires_total',
      help: 'Times the stall watchdog declared a watch dead, by GVR.',
      labelNames: GVR,
      registers: r,
    }),
    watchSynced: new Gauge({
      name: 'kollect_watch_synced',
      help: '1 when the GVR has completed its initial list and is watching.',
      labelNames: GVR,
      registers: r,
    }),
    objectsPublished: new Counter({
      name: 'kollect_objects_published_total',
      help: 'Object messages published to the object log, by GVR and op (upsert/delete).',
      labelNames: [...GVR, 'op'] as const,
      registers: r,
    }),

    // ---- extractor ----
    rowsEmitted: new Counter({
      name: 'kollect_rows_emitted_total',
      help: 'Row messages emitted by the extractor, by op (upsert/delete).',
      labelNames: ['op'] as const,
      registers: r,
    }),
    extractionFailures: new Counter({
      name: 'kollect_extraction_failures_total',
      help: 'Extraction failures by error class.',
      labelNames: ['error_class'] as const,
      registers: r,
    }),
    celEvaluations: new Counter({
      name: 'kollect_cel_evaluations_total',
      help: 'CEL evaluations by result (ok/error/cost_exceeded/timeout).',
      labelNames: ['result'] as const,
      registers: r,
    }),
    replays: new Counter({
      name: 'kollect_extractor_replays_total',
      help: 'Per GVR and plan generation, what this replica decided about a replay of the object log: replayed (it ran the replay), recorded (a new consumer reads the log under this plan anyway), skipped (another replica did it or nothing changed).',
      labelNames: ['outcome'] as const,
      registers: r,
    }),
    extractDuration: new Histogram({
      name: 'kollect_extract_duration_seconds',
      help: 'Time to extract the rows of one object message.',
      buckets: STEP_DURATION_BUCKETS,
      registers: r,
    }),

    // ---- aggregator ----
    rowsApplied: new Counter({
      name: 'kollect_rows_applied_total',
      help: 'Row messages applied by the aggregator, by result (applied/stale/unchanged).',
      labelNames: ['result'] as const,
      registers: r,
    }),
    snapshotGenerations: new Counter({
      name: 'kollect_snapshot_generations_total',
      help: 'Snapshot generations published, by kind (diff/full).',
      labelNames: ['kind'] as const,
      registers: r,
    }),
    partitionOwned: new Gauge({
      name: 'kollect_partition_owned',
      help: '1 while this replica owns the partition.',
      labelNames: ['group', 'partition'] as const,
      registers: r,
    }),
    partitionChanges: new Counter({
      name: 'kollect_partition_ownership_changes_total',
      help: 'Partition ownership changes by group and event (acquired/lost reason).',
      labelNames: ['group', 'event'] as const,
      registers: r,
    }),

    // ---- bus ----
    busPublished: new Counter({
      name: 'kollect_bus_published_total',
      help: 'JetStream publishes by stream and result (stored/duplicate/failed/payload_too_large).',
      labelNames: ['stream', 'result'] as const,
      registers: r,
    }),
    consumerPending: new Gauge({
      name: 'kollect_bus_consumer_pending',
      help: 'Messages not yet delivered to the consumer (num_pending).',
      labelNames: ['stream', 'consumer'] as const,
      registers: r,
    }),
    consumerAckPending: new Gauge({
      name: 'kollect_bus_consumer_ack_pending',
      help: 'Messages delivered and not yet acked (num_ack_pending); delivery stops at max_ack_pending.',
      labelNames: ['stream', 'consumer'] as const,
      registers: r,
    }),
    consumerRedeliveries: new Counter({
      name: 'kollect_bus_consumer_redeliveries_total',
      help: 'Messages delivered more than once, by consumer.',
      labelNames: ['stream', 'consumer'] as const,
      registers: r,
    }),
    consumerTerminated: new Counter({
      name: 'kollect_bus_consumer_terminated_total',
      help: 'Messages given up (TERM or dead-lettered), by consumer and reason (poison/max_deliver/max_deliveries_advisory).',
      labelNames: ['stream', 'consumer', 'reason'] as const,
      registers: r,
    }),
    consumerBound: new Gauge({
      name: 'kollect_bus_consumer_bound',
      help: '1 while the consumer is bound to its durable and pulling; 0 before the first bind, after a failed bind (bind_failed events, the log says why) and after stop.',
      labelNames: ['stream', 'consumer'] as const,
      registers: r,
    }),
    consumerEvents: new Counter({
      name: 'kollect_bus_consumer_events_total',
      help: 'Consumer control events (bind_failed/config_updated/heartbeats_missed/consumer_deleted/stream_not_found/recreating/…).',
      labelNames: ['stream', 'consumer', 'type'] as const,
      registers: r,
    }),
  };
}

/** The metric set of a service (see {@link createMetrics}). */
export type KollectMetrics = ReturnType<typeof createMetrics>;
