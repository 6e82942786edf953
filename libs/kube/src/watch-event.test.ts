import { describe, expect, it } from 'vitest';
import { parseWatchLine } from './watch-event.js';
import { WatchProtocolError } from './errors.js';

const cm = (rv: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'a', namespace: 'ns', uid: 'u1', resourceVersion: rv },
});

describe('parseWatchLine', () => {
  it('decodes object events with their uid and resourceVersion', () => {
    for (const type of ['ADDED', 'MODIFIED', 'DELETED'] as const) {
      const ev = parseWatchLine(JSON.stringify({ type, object: cm('42') }));
      expect(ev).toMatchObject({ type, uid: 'u1', resourceVersion: '42' });
    }
  });

  it('decodes a bookmark to its resourceVersion and the initial-events-end marker', () => {
    const plain = parseWatchLine(
      JSON.stringify({
        type: 'BOOKMARK',
        object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: '77' } },
      }),
    );
    expect(plain).toEqual({ type: 'BOOKMARK', resourceVersion: '77', initialEventsEnd: false });
    const end = parseWatchLine(
      JSON.stringify({
        type: 'BOOKMARK',
        object: { metadata: { resourceVersion: '78', annotations: { 'k8s.io/initial-events-end': 'true' } } },
      }),
    );
    expect(end).toMatchObject({ resourceVersion: '78', initialEventsEnd: true });
  });

  it('decodes an in-stream ERROR to its Status (410 Expired)', () => {
    const ev = parseWatchLine(
      JSON.stringify({
        type: 'ERROR',
        object: {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'Expired',
          code: 410,
          message: 'too old resource version: 1 (5)',
        },
      }),
    );
    expect(ev.type).toBe('ERROR');
    expect(ev.type === 'ERROR' && ev.status.code).toBe(410);
  });

  it('rejects lines that are not watch events', () => {
    const bad = [
      'not json',
      '[]',
      JSON.stringify({ type: 'ADDED' }),
      JSON.stringify({ type: 'WHATEVER', object: {} }),
      JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'x' } } }),
      JSON.stringify({ type: 'BOOKMARK', object: { metadata: {} } }),
    ];
    for (const line of bad) {
      let err: unknown;
      try {
        parseWatchLine(line);
      } catch (e) {
        err = e;
      }
      expect(WatchProtocolError.is(err), line).toBe(true);
    }
  });
});
