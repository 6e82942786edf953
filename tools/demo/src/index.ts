export * from './scenario.js';
export { expectedCounts, demoInventories, countKey } from './expected.js';
export { demoSinks, type DemoSinks, type SinkEnv } from './sinks.js';
