import { describe, expect, it } from 'vitest';
import { EventChannel } from './events.js';

describe('event channel', () => {
  it('fans out to callbacks and iterators, and ends iterators on close', async () => {
    const ch = new EventChannel<number>();
    const seen: number[] = [];
    ch.on((e) => seen.push(e));
    const it = ch.iterate();
    ch.emit(1);
    ch.emit(2);
    ch.close();
    const got: number[] = [];
    for await (const e of it) got.push(e);
    expect(seen).toEqual([1, 2]);
    expect(got).toEqual([1, 2]);
  });

  it('drops the oldest events for a reader that does not keep up', async () => {
    const ch = new EventChannel<number>(3);
    const it = ch.iterate();
    for (let i = 0; i < 10; i++) ch.emit(i);
    ch.close();
    const got: number[] = [];
    for await (const e of it) got.push(e);
    expect(got).toEqual([7, 8, 9]);
  });

  it('keeps emitting when a callback throws', () => {
    const ch = new EventChannel<number>();
    const seen: number[] = [];
    ch.on(() => {
      throw new Error('bug');
    });
    ch.on((e) => seen.push(e));
    ch.emit(1);
    expect(seen).toEqual([1]);
  });
});
