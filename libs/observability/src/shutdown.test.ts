import { describe, expect, it } from 'vitest';
import { installShutdown } from './shutdown.js';

describe('graceful shutdown', () => {
  it('runs the steps in order, once, and exits 0 when all succeed', async () => {
    const order: string[] = [];
    const s = installShutdown(
      [
        { name: 'http', fn: () => void order.push('http') },
        { name: 'consumers', fn: async () => void order.push('consumers') },
        { name: 'nats', fn: () => void order.push('nats') },
      ],
      { exit: false, signals: [] },
    );
    const [a, b] = await Promise.all([s.shutdown('test'), s.shutdown('again')]);
    expect(order).toEqual(['http', 'consumers', 'nats']);
    expect(a).toBe(0);
    expect(b).toBe(0);
    expect(s.started).toBe(true);
  });

  it('keeps going after a failing step and reports exit code 1', async () => {
    const order: string[] = [];
    const s = installShutdown(
      [
        {
          name: 'bad',
          fn: () => {
            throw new Error('boom');
          },
        },
        { name: 'next', fn: () => void order.push('next') },
      ],
      { exit: false, signals: [] },
    );
    expect(await s.shutdown('test')).toBe(1);
    expect(order).toEqual(['next']);
  });

  it('gives up after the timeout', async () => {
    const s = installShutdown([{ name: 'hang', fn: () => new Promise<void>(() => undefined) }], {
      exit: false,
      signals: [],
      timeoutMs: 100,
    });
    expect(await s.shutdown('test')).toBe(1);
  });

  it('starts on a signal', async () => {
    let ran = false;
    const s = installShutdown([{ name: 'x', fn: () => void (ran = true) }], {
      exit: false,
      signals: ['SIGUSR2'],
    });
    process.emit('SIGUSR2', 'SIGUSR2');
    await s.shutdown('wait');
    s.uninstall();
    expect(ran).toBe(true);
  });
});
