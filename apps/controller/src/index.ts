/**
 * @packageDocumentation
 * The Kollect controller service: wiring only. The rules live in `@kollect/plan` (compiler, scope
 * enforcement, status functions); this app connects them to the apiserver (list+watch of the
 * CRs, status writes, finalizers, events, Lease) and to NATS (plan KV, status reports).
 */
export { loadConfig, type ControllerConfig } from './config.js';
export { Controller, type ControllerDeps } from './controller.js';
export { startController, type ControllerService, type StartOptions } from './service.js';
export { RuntimeState, sourceOfSubject, type ReportSource, type ReportEffect } from './reports.js';
export { ObjectStore, type CachedKind, type ChangeNotice } from './store.js';
