/**
 * @packageDocumentation
 * The Sink interface and the framework shared by the snapshot, database and event sink workers.
 */
export * from './types.js';
