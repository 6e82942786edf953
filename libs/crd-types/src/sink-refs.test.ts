import { describe, expect, it } from 'vitest';
import { normalizeSinkRefs, sinkBindings } from './sink-refs.js';

describe('sink refs', () => {
  it('reads plain names as {name} objects and copies objects', () => {
    expect(normalizeSinkRefs(['a', { name: 'b', exportMinInterval: '1h' }])).toEqual([
      { name: 'a' },
      { name: 'b', exportMinInterval: '1h' },
    ]);
    expect(normalizeSinkRefs(undefined)).toEqual([]);
  });

  it('lists bindings with family keys and the namespace they resolve in', () => {
    const spec = {
      snapshotSinkRefs: ['git'],
      databaseSinkRefs: [{ name: 'pg', namespace: 'db' }],
      eventSinkRefs: ['nats'],
      sinkNamespace: 'sinks',
    };
    expect(sinkBindings(spec).map((b) => [b.key, b.namespace, b.index])).toEqual([
      ['snapshot/git', 'sinks', 0],
      ['database/pg', 'db', 0],
      ['event/nats', 'sinks', 0],
    ]);
    expect(sinkBindings({ snapshotSinkRefs: ['git'] }).map((b) => b.namespace)).toEqual(['kollect-system']);
    expect(sinkBindings(spec, 'team-a').every((b) => b.namespace === 'team-a')).toBe(true);
  });
});
