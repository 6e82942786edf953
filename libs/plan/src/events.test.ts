import { describe, expect, it } from 'vitest';
import { transitionEvents } from './events.js';
import { sinkStatesFromStatus } from './runtime-status.js';

const c = (type: string, status: string, reason: string, message = 'm') => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2026-01-01T00:00:00Z',
});

describe('transitionEvents (Warning events with enum reasons, once per transition)', () => {
  it('emits a Warning when Degraded becomes True, and not again while it stays', () => {
    const degraded = { conditions: [c('Degraded', 'True', 'ScopeGVKDenied', 'kind not allowed')] };
    expect(transitionEvents(undefined, degraded)).toEqual([
      { type: 'Warning', reason: 'ScopeGVKDenied', note: 'kind not allowed' },
    ]);
    expect(transitionEvents(degraded, degraded)).toEqual([]);
  });
  it('emits again when the Degraded reason changes', () => {
    const a = { conditions: [c('Degraded', 'True', 'ProfileNotFound')] };
    const b = { conditions: [c('Degraded', 'True', 'ExtractionFailed')] };
    expect(transitionEvents(a, b).map((e) => e.reason)).toEqual(['ExtractionFailed']);
  });
  it('emits ExportFailed when one sink starts failing, and ExportSucceeded when SinkReachable recovers', () => {
    const ok = {
      conditions: [c('SinkReachable', 'True', 'ExportSucceeded')],
      sinkExports: [{ name: 'database/pg', conditions: [c('Synced', 'True', 'Exported')] }],
    };
    const bad = {
      conditions: [c('SinkReachable', 'False', 'ExportFailed', 'database/pg: timeout')],
      sinkExports: [{ name: 'database/pg', conditions: [c('Synced', 'False', 'ExportFailed', 'timeout')] }],
    };
    expect(transitionEvents(ok, bad)).toEqual([
      { type: 'Warning', reason: 'ExportFailed', note: 'database/pg: timeout' },
      { type: 'Warning', reason: 'ExportFailed', note: 'database/pg: timeout' },
    ]);
    expect(transitionEvents(bad, ok)).toEqual([{ type: 'Normal', reason: 'ExportSucceeded', note: 'm' }]);
  });
});

describe('sinkStatesFromStatus (a new leader remembers from status)', () => {
  it('rebuilds the last export of each bound sink from sinkExports[]', () => {
    const status = {
      sinkExports: [
        {
          name: 'database/pg',
          namespace: 'ns',
          lastExportTime: '2026-01-01T00:00:00Z',
          lastChecksum: 'abc',
          exportGeneration: 7,
          conditions: [c('Synced', 'True', 'Exported')],
        },
        { name: 'snapshot/gone', namespace: 'ns', conditions: [c('Synced', 'False', 'ExportFailed')] },
      ],
    };
    const m = sinkStatesFromStatus(status, [
      { family: 'database', name: 'pg', namespace: 'ns', key: 'database/ns/pg', type: 'postgres' },
    ]);
    expect([...m.keys()]).toEqual(['database/ns/pg']);
    expect(m.get('database/ns/pg')).toMatchObject({
      outcome: 'exported',
      exportGeneration: 7,
      lastChecksum: 'abc',
    });
  });
});
