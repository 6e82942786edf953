/**
 * @packageDocumentation
 * The sink conformance suite ({@link sinkConformance}) and the reference aggregator model
 * ({@link InventoryModel}) it drives backends with. Used by `e2e/sinks/*.e2e.test.ts`.
 */
export {
  sinkConformance,
  type ConformanceTarget,
  type ConformanceDestination,
  type StoredInventory,
} from './conformance.js';
export { InventoryModel, makeItems } from './model.js';
