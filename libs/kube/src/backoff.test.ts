import { describe, expect, it } from 'vitest';
import { Backoff, jitterUp, sleep } from './backoff.js';

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap when jitter is off', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(b.attempts).toBe(6);
  });

  it('keeps jittered delays within [base·(1−jitter), base]', () => {
    const lo = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.5, random: () => 0.999999 });
    const hi = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.5, random: () => 0 });
    expect(lo.next()).toBe(500);
    expect(hi.next()).toBe(1000);
    const r = new Backoff({ initialMs: 1000, maxMs: 8000, jitter: 0.5 });
    for (let i = 0; i < 50; i++) {
      const base = Math.min(8000, 1000 * 2 ** i);
      const d = r.next();
      expect(d).toBeGreaterThanOrEqual(base / 2);
      expect(d).toBeLessThanOrEqual(base);
    }
  });

  it('starts over after reset', () => {
    const b = new Backoff({ initialMs: 10, maxMs: 100, jitter: 0 });
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(10);
  });

  it('refuses nonsense settings', () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 100, maxMs: 50 })).toThrow(RangeError);
  });
});

describe('jitterUp and sleep', () => {
  it('stretches a base by up to the spread', () => {
    expect(jitterUp(300, 1, () => 0)).toBe(300);
    expect(jitterUp(300, 1, () => 0.5)).toBe(450);
  });

  it('rejects a sleep when its signal aborts', async () => {
    const ac = new AbortController();
    const p = sleep(60_000, ac.signal);
    ac.abort(new Error('bye'));
    await expect(p).rejects.toThrow('bye');
  });
});
