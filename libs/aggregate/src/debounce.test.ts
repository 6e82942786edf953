import { describe, expect, it } from 'vitest';
import {
  ExportScheduler,
  exportDecision,
  MIN_WAKE_MS,
  requeueDelayMs,
  WATCHDOG_MS,
  type BindingExportState,
} from './index.js';

const NOW = 1_000_000;
const S = 1000;
const state = (over: Partial<BindingExportState> = {}): BindingExportState => ({
  generation: 3,
  checksum: 'c1',
  lastExportMs: NOW - 10 * S,
  ...over,
});

describe('exportDecision (SEED-SPEC §6.2)', () => {
  // [case, state, checksum, generation, interval, expected]
  const table: [string, BindingExportState | undefined, string, number, number, string][] = [
    ['no state: first export', undefined, 'c1', 3, 30 * S, 'export:first'],
    ['no state, interval 0: still exports', undefined, 'c1', 3, 0, 'export:first'],
    ['checksum changed inside the interval: exports at once', state(), 'c2', 3, 30 * S, 'export:changed'],
    ['checksum changed, interval 0: exports', state(), 'c2', 3, 0, 'export:changed'],
    [
      'checksum changed, 24h interval: exports at once',
      state({ lastExportMs: NOW }),
      'c2',
      3,
      86_400 * S,
      'export:changed',
    ],
    [
      'spec generation changed inside the interval: exports at once',
      state(),
      'c1',
      4,
      30 * S,
      'export:spec-changed',
    ],
    ['spec generation changed, interval 0: exports', state(), 'c1', 4, 0, 'export:spec-changed'],
    ['identical, inside the interval: debounced', state(), 'c1', 3, 30 * S, 'debounced'],
    [
      'identical, interval elapsed: re-sends',
      state({ lastExportMs: NOW - 30 * S }),
      'c1',
      3,
      30 * S,
      'export:resend',
    ],
    ['identical, long past, interval 0: never re-sends', state({ lastExportMs: 0 }), 'c1', 3, 0, 'debounced'],
  ];
  for (const [name, st, checksum, gen, interval, want] of table) {
    it(name, () => {
      const d = exportDecision(st, checksum, gen, interval, NOW);
      expect(d.action === 'export' ? `export:${d.reason}` : d.action).toBe(want);
    });
  }

  it('a debounced binding is due again when the interval has passed since its last export', () => {
    const d = exportDecision(state({ lastExportMs: NOW - 10 * S }), 'c1', 3, 30 * S, NOW);
    expect(d).toEqual({ action: 'debounced', nextDueMs: NOW + 20 * S, resendDue: true });
  });

  it('wake-ups floor at one second, even for sub-second intervals', () => {
    const d = exportDecision(state({ lastExportMs: NOW - 100 }), 'c1', 3, 300, NOW);
    expect(d).toEqual({ action: 'debounced', nextDueMs: NOW + MIN_WAKE_MS, resendDue: true });
  });

  it('interval 0 only wakes for the status watchdog', () => {
    expect(exportDecision(state(), 'c1', 3, 0, NOW)).toEqual({
      action: 'debounced',
      nextDueMs: NOW + WATCHDOG_MS,
      resendDue: false,
    });
  });
});

describe('requeueDelayMs', () => {
  it('takes the earliest of the default interval, debounced due times, failed bindings and exported intervals', () => {
    const deb = exportDecision(state({ lastExportMs: NOW - 25 * S }), 'c1', 3, 30 * S, NOW);
    if (deb.action !== 'debounced') throw new Error('expected debounced');
    expect(requeueDelayMs(60 * S, [{ outcome: 'debounced', decision: deb }], NOW)).toBe(5 * S);
    expect(requeueDelayMs(60 * S, [{ outcome: 'exported', intervalMs: 0 }], NOW)).toBe(WATCHDOG_MS);
    expect(requeueDelayMs(60 * S, [{ outcome: 'exported', intervalMs: 10 * S }], NOW)).toBe(10 * S);
    expect(
      requeueDelayMs(60 * S, [{ outcome: 'no-state' }, { outcome: 'exported', intervalMs: 10 * S }], NOW),
    ).toBe(S);
    expect(requeueDelayMs(0, [], NOW)).toBe(WATCHDOG_MS);
  });
});

describe('ExportScheduler', () => {
  it('coalesces a burst into one export at the end of the window opened by its first change', () => {
    const s = new ExportScheduler({ coalesceMs: 200 });
    s.touch('inv', 1000);
    s.touch('inv', 1150);
    expect(s.takeDue(1199)).toEqual([]);
    expect(s.nextDueMs()).toBe(1200);
    expect(s.takeDue(1200)).toEqual(['inv']);
    expect(s.nextDueMs()).toBeNull();
  });

  it('a steady stream of changes still exports every window', () => {
    const s = new ExportScheduler({ coalesceMs: 200 });
    const exportsAt: number[] = [];
    for (let t = 0; t <= 1000; t += 50) {
      s.touch('inv', t);
      if (s.takeDue(t).length) exportsAt.push(t);
    }
    expect(exportsAt).toEqual([200, 450, 700, 950]);
  });

  it('an urgent change (spec change, gate opened) is due at once and pulls a pending window in', () => {
    const s = new ExportScheduler({ coalesceMs: 200 });
    s.touch('a', 1000);
    s.touch('a', 1010, true);
    s.touch('b', 1010, true);
    expect(s.takeDue(1010)).toEqual(['a', 'b']);
  });
});

describe('ExportScheduler window for expensive inventories', () => {
  it('widens the coalescing window when the caller says exports are expensive', () => {
    const s = new ExportScheduler({ coalesceMs: 200 });
    s.touch('big', 1000, false, 900);
    s.touch('small', 1000);
    expect(s.takeDue(1200)).toEqual(['small']);
    expect(s.takeDue(1900)).toEqual(['big']);
  });
});
