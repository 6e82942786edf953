import { describe, expect, it } from 'vitest';
import type { KollectScopeSpec } from '../schema/scope.js';
import {
  applyScopeCeiling,
  effectiveScope,
  gvkAllowed,
  intervalBelowFloor,
  namespaceAllowed,
  resolveExportInterval,
  sinkAllowed,
  staticRefNamespaceAllowed,
} from './scope.js';

const deployment = { group: 'apps', version: 'v1', kind: 'Deployment' };

describe('scope ceilings (SEED-SPEC §7.2)', () => {
  it('treats an absent scope and empty lists as no restriction', () => {
    expect(gvkAllowed(undefined, deployment)).toBe(true);
    expect(gvkAllowed({ allowedGVKs: [] }, deployment)).toBe(true);
    expect(namespaceAllowed({ allowedNamespaces: [], deniedNamespaces: [] }, 'any')).toBe(true);
    expect(sinkAllowed({ snapshotSinkRefs: [] }, 'snapshot', 'git')).toBe(true);
    expect(staticRefNamespaceAllowed({ allowedStaticRefNamespaces: [] }, 'x')).toBe(true);
  });

  it.each([
    [{ group: 'APPS', version: 'V1', kind: 'deployment' }, true],
    [{ group: 'apps', version: 'v1', kind: 'StatefulSet' }, false],
    [{ group: 'apps', version: 'v2', kind: 'Deployment' }, false],
  ])('matches GVKs case-insensitively: %j → %s', (gvk, allowed) => {
    expect(gvkAllowed({ allowedGVKs: [deployment] }, gvk)).toBe(allowed);
  });

  it('treats the group "core" as the empty core group', () => {
    expect(
      gvkAllowed(
        { allowedGVKs: [{ group: 'core', version: 'v1', kind: 'ConfigMap' }] },
        { version: 'v1', kind: 'ConfigMap' },
      ),
    ).toBe(true);
  });

  it('lets denied namespaces win over allowed ones', () => {
    const spec: KollectScopeSpec = { allowedNamespaces: ['a', 'b'], deniedNamespaces: ['b'] };
    expect(namespaceAllowed(spec, 'a')).toBe(true);
    expect(namespaceAllowed(spec, 'b')).toBe(false);
    expect(namespaceAllowed(spec, 'c')).toBe(false);
    expect(applyScopeCeiling(['a', 'b', 'c', 'd'], spec)).toEqual(['a']);
    expect(applyScopeCeiling(['a', 'x'], undefined, ['x'])).toEqual(['a']);
  });

  it('checks sink allow-lists per family', () => {
    const spec: KollectScopeSpec = { databaseSinkRefs: ['warehouse'] };
    expect(sinkAllowed(spec, 'database', 'warehouse')).toBe(true);
    expect(sinkAllowed(spec, 'database', 'other')).toBe(false);
    expect(sinkAllowed(spec, 'event', 'other')).toBe(true);
  });

  it('picks the scope with the lexicographically smallest name', () => {
    const scopes = [
      { metadata: { name: 'team-b' } },
      { metadata: { name: 'Team-z' } },
      { metadata: { name: 'team-a' } },
    ];
    expect(effectiveScope(scopes)?.metadata.name).toBe('Team-z');
    expect(effectiveScope([])).toBeUndefined();
  });

  it('rejects intervals below the floor and ignores absent ones', () => {
    expect(intervalBelowFloor('10s', { minExportInterval: '30s' })).toMatch(
      /shorter than the scope minExportInterval 30s/,
    );
    expect(intervalBelowFloor('0s', { minExportInterval: '30s' })).toBeDefined();
    expect(intervalBelowFloor('30s', { minExportInterval: '30s' })).toBeUndefined();
    expect(intervalBelowFloor(undefined, { minExportInterval: '30s' })).toBeUndefined();
    expect(intervalBelowFloor('1s', undefined)).toBeUndefined();
  });
});

describe('resolveExportInterval (SEED-SPEC §6.2, §15.9)', () => {
  it.each([
    ['1h', '5m', '30s', undefined, 3_600_000],
    [undefined, '5m', '30s', undefined, 300_000],
    [undefined, undefined, '10s', undefined, 10_000],
    [undefined, undefined, undefined, undefined, 30_000],
    ['10s', undefined, undefined, '1m', 60_000],
    ['0s', undefined, undefined, '1m', 60_000],
    ['0s', undefined, undefined, undefined, 0],
  ])('ref %s, sink %s, inventory %s, floor %s → %d ms', (ref, sink, inv, floor, ms) => {
    expect(resolveExportInterval(ref, sink, inv, floor ? { minExportInterval: floor } : undefined)).toBe(ms);
  });
});
