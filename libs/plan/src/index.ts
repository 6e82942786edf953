/**
 * @packageDocumentation
 * The compiled plan shared by every Kollect service, and (later) the compiler from CRs to plan.
 */
export * from './types.js';
