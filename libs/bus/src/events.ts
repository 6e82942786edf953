/**
 * A tiny multi-listener event channel: `emit()` fans out to every open async iterator from
 * `iterate()` and to plain callbacks from `on()`. Iterators buffer up to `limit` events and drop
 * the oldest beyond it, so a listener that never reads cannot grow memory.
 */
export class EventChannel<E> {
  readonly #queues = new Set<{ buf: E[]; wake: (() => void) | undefined }>();
  readonly #callbacks = new Set<(e: E) => void>();
  #closed = false;
  readonly #limit: number;

  constructor(limit = 1000) {
    this.#limit = limit;
  }

  emit(e: E): void {
    if (this.#closed) return;
    for (const cb of this.#callbacks) {
      try {
        cb(e);
      } catch {
        // A listener's bug must not break the producer.
      }
    }
    for (const q of this.#queues) {
      q.buf.push(e);
      if (q.buf.length > this.#limit) q.buf.shift();
      q.wake?.();
    }
  }

  /** Subscribe with a callback; returns the unsubscribe function. */
  on(cb: (e: E) => void): () => void {
    this.#callbacks.add(cb);
    return () => this.#callbacks.delete(cb);
  }

  /** An async iterator of events from now on; it ends when the channel closes. */
  iterate(): AsyncIterableIterator<E> {
    const q: { buf: E[]; wake: (() => void) | undefined } = { buf: [], wake: undefined };
    this.#queues.add(q);
    const queues = this.#queues;
    const isClosed = (): boolean => this.#closed;
    const it: AsyncIterableIterator<E> = {
      [Symbol.asyncIterator]() {
        return it;
      },
      async next(): Promise<IteratorResult<E>> {
        for (;;) {
          const e = q.buf.shift();
          if (e !== undefined) return { value: e, done: false };
          if (isClosed() || !queues.has(q)) return { value: undefined, done: true };
          await new Promise<void>((resolve) => (q.wake = resolve));
          q.wake = undefined;
        }
      },
      async return(): Promise<IteratorResult<E>> {
        queues.delete(q);
        q.wake?.();
        return { value: undefined, done: true };
      },
    };
    return it;
  }

  close(): void {
    this.#closed = true;
    for (const q of this.#queues) q.wake?.();
    this.#callbacks.clear();
  }
}
