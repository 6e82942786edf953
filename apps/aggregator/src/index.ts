/**
 * @packageDocumentation
 * The aggregator service, embeddable (tests, the CLI's one-process pipeline): start it with
 * {@link AggregatorService.start}; `main.ts` is the process entry point.
 */
export { AggregatorService, type AggregatorServiceOptions } from './service.js';
export { loadConfig, type AggregatorConfig } from './config.js';
export { PartitionWorker, AggregatorCommitFailed, type WorkerContext } from './partition.js';
export { rowKvKey, exportKvKey, loadPartition, type LoadedPartition } from './store.js';
export { parseRowMessage } from './messages.js';
