/**
 * @packageDocumentation
 * The extractor service, embeddable: {@link ExtractorService.start}; `main.ts` is the process entry.
 */
export { ExtractorService, rowMsgId, type ExtractorServiceOptions } from './service.js';
export { loadConfig, type ExtractorConfig } from './config.js';
export { FailureLedger, failureReason, targetFailure, type TargetFailure } from './failures.js';
export {
  gvrSignatures,
  changedTargets,
  claimDecision,
  type ReplayClaim,
  type ClaimDecision,
} from './replay.js';
