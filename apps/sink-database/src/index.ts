/**
 * @packageDocumentation
 * The database sink worker as a library (tests and the demo start it in-process): the shared
 * worker of `@kollect/sink-worker` with the database family's backends (postgres, mongodb,
 * bigquery).
 */
export { databaseRegistry, databaseFamily } from './registry.js';
export {
  loadConfig,
  SinkWorkerService,
  type SinkWorkerConfig,
  type SinkWorkerOptions,
} from '@kollect/sink-worker';
