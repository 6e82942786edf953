import { describe, expect, it } from 'vitest';
import { REASONS } from './conditions.js';
import { buildStatus, statusChanged, statusMergePatch, type DesiredStatus } from './status-model.js';

const subject = { kind: 'KollectInventory' as const, namespace: 'ns', name: 'inv', uid: 'u', generation: 5 };
const t0 = new Date('2026-02-01T10:00:00Z');
const t1 = new Date('2026-02-01T11:00:00Z');

function desired(ready: 'True' | 'False', extra: Partial<DesiredStatus> = {}): DesiredStatus {
  return {
    subject,
    conditions: [{ type: 'Ready', status: ready, reason: REASONS.Exported, message: 'm' }],
    ownedConditionTypes: ['Ready', 'Synced', 'Degraded'],
    fields: { observedGeneration: 5, itemCount: 3 },
    ownedFields: ['observedGeneration', 'itemCount', 'lastExportTime'],
    ...extra,
  };
}

describe('status merge and compare-before-write (SEED-SPEC §7.5)', () => {
  it('keeps lastTransitionTime while the status of a condition does not flip', () => {
    const first = buildStatus(undefined, desired('True'), t0);
    const second = buildStatus(first, desired('True'), t1);
    expect(second).toEqual(first);
    expect(statusChanged(first, second)).toBe(false);
    const flipped = buildStatus(first, desired('False'), t1);
    expect((flipped['conditions'] as { lastTransitionTime: string }[])[0]!.lastTransitionTime).toBe(
      '2026-02-01T11:00:00Z',
    );
    expect(statusChanged(first, flipped)).toBe(true);
  });

  it('ignores only lastTransitionTime and condition order when comparing', () => {
    const a = {
      conditions: [
        { type: 'A', status: 'True', reason: 'R', message: '', lastTransitionTime: 'x' },
        { type: 'B', status: 'True', reason: 'R', message: '', lastTransitionTime: 'x' },
      ],
    };
    const b = {
      conditions: [
        { type: 'B', status: 'True', reason: 'R', message: '', lastTransitionTime: 'y' },
        { type: 'A', status: 'True', reason: 'R', message: '', lastTransitionTime: 'z' },
      ],
    };
    expect(statusChanged(a, b)).toBe(false);
    expect(statusChanged(a, { ...b, itemCount: 1 })).toBe(true);
  });

  it('preserves conditions and fields it does not own, removes owned ones that are gone', () => {
    const stored = {
      itemCount: 9,
      lastExportTime: '2026-01-01T00:00:00Z',
      preview: { renderedAt: 'x' },
      conditions: [
        {
          type: 'ConnectionVerified',
          status: 'True',
          reason: 'ConnectionOK',
          message: '',
          lastTransitionTime: 'x',
        },
        { type: 'Degraded', status: 'True', reason: 'Suspended', message: '', lastTransitionTime: 'x' },
      ],
    };
    const next = buildStatus(stored, desired('True'), t1);
    expect(next['preview']).toEqual({ renderedAt: 'x' });
    expect(next['lastExportTime']).toBeUndefined();
    expect((next['conditions'] as { type: string }[]).map((c) => c.type)).toEqual([
      'Ready',
      'ConnectionVerified',
    ]);
    const patch = statusMergePatch(stored, next);
    expect(patch.status['lastExportTime']).toBeNull();
    expect(patch.status['itemCount']).toBe(3);
    expect(patch.status['preview']).toBeUndefined();
  });

  it('keeps lastTransitionTime inside sinkExports[] entries', () => {
    const d = (status: 'True' | 'False'): DesiredStatus =>
      desired('True', {
        fields: {
          sinkExports: [
            {
              name: 'database/pg',
              namespace: 'ns',
              conditions: [{ type: 'Synced', status, reason: REASONS.Exported, message: '' }],
            },
          ],
        },
        ownedFields: ['sinkExports'],
      });
    const first = buildStatus(undefined, d('True'), t0);
    const same = buildStatus(first, d('True'), t1);
    expect(statusChanged(first, same)).toBe(false);
    expect(same).toEqual(first);
    const flipped = buildStatus(first, d('False'), t1);
    const entry = (flipped['sinkExports'] as { conditions: { lastTransitionTime: string }[] }[])[0]!;
    expect(entry.conditions[0]!.lastTransitionTime).toBe('2026-02-01T11:00:00Z');
  });

  it('sets observedGeneration on every owned condition', () => {
    const s = buildStatus(undefined, desired('True'), t0);
    expect((s['conditions'] as { observedGeneration: number }[])[0]!.observedGeneration).toBe(5);
  });
});
