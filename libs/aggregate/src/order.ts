/**
 * The version of a row: which object version it was computed from (`sourceSeq`, the stream
 * sequence of the object message in KOLLECT_OBJECTS) and under which plan (`planGeneration`).
 */
export interface RowVersion {
  sourceSeq: number;
  planGeneration: number;
}

/**
 * Total order of row versions, used for last-writer-wins: **source sequence first, plan
 * generation second**.
 *
 * Why this order:
 * - The object log is compacted per object (one message per subject), so a larger `sourceSeq`
 *   is always a newer version of the object. A row computed from an older object version must
 *   never replace one from a newer version, whatever plan either was computed under; otherwise a
 *   replay racing a live update could bring back an object's old content.
 * - A re-extraction after a plan change replays the *same* object messages, so it arrives with
 *   the same `sourceSeq` and a newer `planGeneration` and must replace the old row: the plan
 *   generation breaks the tie.
 * - Equal versions are duplicates (redelivery, a replayed message already applied) and change
 *   nothing.
 *
 * The one race this order cannot decide alone — an extractor replica still on the old plan
 * processing a *new* object message while the replay for the new plan has already passed that
 * point — is closed by the extractor: its replay does not end before every live replica runs the
 * new plan (see `@kollect/app-extractor`).
 */
export function compareVersions(a: RowVersion, b: RowVersion): number {
  if (a.sourceSeq !== b.sourceSeq) return a.sourceSeq < b.sourceSeq ? -1 : 1;
  if (a.planGeneration !== b.planGeneration) return a.planGeneration < b.planGeneration ? -1 : 1;
  return 0;
}
