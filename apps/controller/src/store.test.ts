import { describe, expect, it } from 'vitest';
import { ObjectStore, type ChangeNotice } from './store.js';

const obj = (name: string, rv: string, spec: unknown, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'kollect.dev/v1alpha1',
  kind: 'KollectTarget',
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: rv, generation: 1 },
  spec,
  ...extra,
});

describe('ObjectStore', () => {
  it('asks for a compile on spec changes but not on status-only changes of non-sink kinds', () => {
    const notices: ChangeNotice[] = [];
    const s = new ObjectStore((n) => notices.push(n));
    s.upsert('w', 'KollectTarget', obj('t', '1', { profileRef: 'p' }));
    s.upsert('w', 'KollectTarget', obj('t', '2', { profileRef: 'p' }, { status: { observedGeneration: 1 } }));
    s.upsert('w', 'KollectTarget', obj('t', '3', { profileRef: 'q' }));
    expect(notices.map((n) => n.compile)).toEqual([true, false, true]);
  });

  it('treats a sink probe condition as a compile input', () => {
    const notices: ChangeNotice[] = [];
    const s = new ObjectStore((n) => notices.push(n));
    const sink = (rv: string, status: string) => ({
      ...obj('git', rv, { type: 'git' }),
      kind: 'KollectSnapshotSink',
      status: { conditions: [{ type: 'ConnectionVerified', status }] },
    });
    s.upsert('w', 'KollectSnapshotSink', sink('1', 'True'));
    s.upsert('w', 'KollectSnapshotSink', sink('2', 'False'));
    expect(notices.map((n) => n.compile)).toEqual([true, true]);
  });

  it('never replaces a newer version (our own write) with an older watch event', () => {
    const s = new ObjectStore(() => undefined);
    s.upsert(undefined, 'KollectTarget', obj('t', '10', { profileRef: 'new' }));
    s.upsert('w', 'KollectTarget', obj('t', '9', { profileRef: 'old' }));
    expect(s.get<{ spec: { profileRef: string } }>('KollectTarget', 'ns', 't')?.spec.profileRef).toBe('new');
  });

  it('forgets what a relist no longer returns', () => {
    const s = new ObjectStore(() => undefined);
    s.upsert('w', 'KollectTarget', obj('a', '1', {}));
    s.upsert('w', 'KollectTarget', obj('b', '1', {}));
    s.synced('w', 'KollectTarget', new Set(['uid-a']));
    expect(s.list('KollectTarget').map((o) => o.metadata?.name)).toEqual(['a']);
  });
});
