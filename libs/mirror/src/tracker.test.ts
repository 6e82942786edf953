import { describe, expect, it } from 'vitest';
import { PublishTracker, type TrackedOutcome } from './tracker.js';

function deferred(): { p: Promise<TrackedOutcome>; resolve: (o: TrackedOutcome) => void } {
  let resolve!: (o: TrackedOutcome) => void;
  const p = new Promise<TrackedOutcome>((r) => (resolve = r));
  return { p, resolve };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('PublishTracker', () => {
  it('waits only for publishes submitted up to the mark, even while newer ones are pending', async () => {
    const t = new PublishTracker();
    const a = deferred();
    const b = deferred();
    t.track(a.p, () => undefined);
    const mark = t.mark();
    t.track(b.p, () => undefined);
    let done = false;
    void t.settledThrough(mark).then(() => (done = true));
    await tick();
    expect(done).toBe(false);
    a.resolve({ ok: true, seq: 7 });
    await tick();
    await tick();
    expect(done).toBe(true);
    expect(t.pending).toBe(1);
    b.resolve({ ok: true, seq: 9 });
    await t.settledThrough();
    expect(t.maxSeq).toBe(9);
  });

  it('counts failures and reports each one before releasing waiters', async () => {
    const t = new PublishTracker();
    const a = deferred();
    const seen: string[] = [];
    t.track(a.p, () => seen.push('failure'));
    const waiting = t.settledThrough().then(() => seen.push('settled'));
    a.resolve({ ok: false });
    await waiting;
    expect(seen).toEqual(['failure', 'settled']);
    expect(t.failures).toBe(1);
  });

  it('resolves at once when nothing is pending', async () => {
    await new PublishTracker().settledThrough();
  });
});
