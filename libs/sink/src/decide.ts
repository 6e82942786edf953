import type { AppliedPosition, SinkCapabilities } from './types.js';

/** How the framework will bring a backend to the generation of a snapshot message. */
export type ApplyPlan =
  | { action: 'skip'; why: 'already-applied' }
  | { action: 'replace-from-message' }
  | { action: 'apply-diff' }
  | { action: 'replace-from-full'; why: ReplaceReason };

export type ReplaceReason =
  /** The backend has nothing for this inventory yet. */
  | 'no-position'
  /** The backend is not at N-1 (a lost, reordered or skipped message). */
  | 'gap'
  /** The backend rewrites whole documents. */
  | 'not-incremental'
  /** The backend needs the N-1 rows to apply a diff and the worker does not hold them. */
  | 'needs-base'
  /** The backend claims generation N but with another checksum (e.g. the aggregator lost its state). */
  | 'checksum-mismatch'
  /** The backend refused the diff (`SinkNeedsFullSnapshot`). */
  | 'diff-refused';

export interface ApplyInput {
  message: { kind: 'diff' | 'full'; exportGeneration: number; previousGeneration: number; checksum: string };
  /** What the backend reports (after the worker's no-change overrides). */
  position: AppliedPosition | null;
  capabilities: SinkCapabilities;
  /** Whether the worker holds the rows of generation N-1. */
  haveBase: boolean;
}

/**
 * The heart of ARCHITECTURE.md invariant 5, as a pure function: generation N is applied as a
 * diff only on top of N-1; a redelivered or older message is a no-op; anything else replaces
 * the backend's state with the full snapshot of the current generation.
 */
export function planApply(input: ApplyInput): ApplyPlan {
  const { message: m, position: p, capabilities: caps } = input;
  if (p && p.exportGeneration > m.exportGeneration) return { action: 'skip', why: 'already-applied' };
  if (p && p.exportGeneration === m.exportGeneration) {
    return p.checksum === m.checksum || p.checksum === ''
      ? { action: 'skip', why: 'already-applied' }
      : m.kind === 'full'
        ? { action: 'replace-from-message' }
        : { action: 'replace-from-full', why: 'checksum-mismatch' };
  }
  if (m.kind === 'full') return { action: 'replace-from-message' };
  if (!p) return { action: 'replace-from-full', why: 'no-position' };
  if (p.exportGeneration !== m.exportGeneration - 1 || m.previousGeneration !== p.exportGeneration) {
    return { action: 'replace-from-full', why: 'gap' };
  }
  if (!caps.incremental) return { action: 'replace-from-full', why: 'not-incremental' };
  if (caps.diffNeedsBase && !input.haveBase) return { action: 'replace-from-full', why: 'needs-base' };
  return { action: 'apply-diff' };
}

/**
 * Whether a backend applies the final export of a deleted inventory (`SnapshotMessage.final`).
 * CONTRACT.md "Deletes and empty inventories": deleting a KollectInventory removes its relational
 * rows; Git/S3 history and streams are left. So only `relational` backends apply it; for every
 * other kind the framework acknowledges it without touching the backend — whatever the worker's
 * plan says at that moment (the plan and the snapshot stream are watched independently).
 */
export function appliesFinalExport(caps: Pick<SinkCapabilities, 'kind'>): boolean {
  return caps.kind === 'relational';
}
