import type { ErrorClass } from '@kollect/contracts';

/** Metric names kept from the seed (SEED-SPEC §10.1); the worker registers them with prom-client. */
export const SINK_METRICS = {
  exportDuration: {
    name: 'kollect_export_duration_seconds',
    help: 'Duration of one export to one sink, from message to backend acknowledgement.',
    labels: ['sink_type'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  },
  exportBytes: {
    name: 'kollect_export_bytes_total',
    help: 'Bytes written to sinks.',
    labels: ['sink_type'],
  },
  sinkErrors: {
    name: 'kollect_sink_errors_total',
    help: 'Failed sink operations by error class.',
    labels: ['reason'],
  },
  connectionTests: {
    name: 'kollect_sink_connection_test_total',
    help: 'Sink connection tests by sink type and result.',
    labels: ['type', 'result'],
  },
} as const;

/** What the framework records; the worker binds it to prom-client (no dependency here). */
export interface SinkMetrics {
  exportDuration(sinkType: string, seconds: number): void;
  exportBytes(sinkType: string, bytes: number): void;
  sinkError(reason: ErrorClass | 'unknown'): void;
  connectionTest(type: string, result: 'success' | 'failure'): void;
}

/** A recorder that drops everything (tests, the CLI). */
export const NO_METRICS: SinkMetrics = {
  exportDuration: () => {},
  exportBytes: () => {},
  sinkError: () => {},
  connectionTest: () => {},
};
