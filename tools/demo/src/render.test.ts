import { describe, expect, it } from 'vitest';
import { conditionToShow, type ConditionView } from './render.js';

const c = (type: string, status: string, reason: string): ConditionView => ({
  type,
  status,
  reason,
  message: '',
});

describe('conditionToShow', () => {
  it('shows an inventory without sinks as Synced=True/NoExport, not Ready/Exported', () => {
    const shown = conditionToShow('KollectInventory', [
      c('Ready', 'True', 'Exported'),
      c('Synced', 'True', 'NoExport'),
      c('SinkReachable', 'True', 'NoSinksConfigured'),
    ]);
    expect(shown).toMatchObject({ type: 'Synced', reason: 'NoExport' });
  });

  it('shows a true Degraded before anything else, and Ready for targets', () => {
    expect(
      conditionToShow('KollectTarget', [c('Ready', 'True', 'Collecting'), c('Synced', 'True', 'Collecting')]),
    ).toMatchObject({ type: 'Ready' });
    expect(
      conditionToShow('KollectTarget', [c('Degraded', 'True', 'ScopeGVKDenied'), c('Ready', 'True', 'x')]),
    ).toMatchObject({ type: 'Degraded', reason: 'ScopeGVKDenied' });
    expect(
      conditionToShow('KollectClusterInventory', [
        c('Degraded', 'False', 'x'),
        c('Ready', 'True', 'Exported'),
      ]),
    ).toMatchObject({
      type: 'Ready',
    });
    expect(conditionToShow('KollectInventory', [])).toBeUndefined();
  });
});
