import {
  PLAN_SCHEMA_VERSION,
  type CompiledPlan,
  type CompiledProfile,
  type CompiledTarget,
} from '@kollect/plan';
import { describe, expect, it } from 'vitest';
import { changedTargets, claimDecision, gvrSignatures, type ReplayClaim } from './replay.js';

const deployments = { group: 'apps', version: 'v1', resource: 'deployments' };
const services = { group: '', version: 'v1', resource: 'services' };

function profile(name: string, gvr: typeof deployments, hash: string): CompiledProfile {
  return {
    key: `team-a/${name}`,
    namespace: 'team-a',
    name,
    uid: name,
    generation: 1,
    gvk: { group: gvr.group, version: gvr.version, kind: name },
    gvr,
    namespaced: true,
    attributes: [],
    export: {
      mode: 'Attributes',
      as: 'resource',
      include: 'All',
      dedupeIdentity: false,
      prune: { defaults: true, jsonPointers: [], jsonPaths: [], scrubKeys: [] },
    },
    metrics: [],
    hash,
  };
}

function target(name: string, profileKey: string, labels: Record<string, string> = {}): CompiledTarget {
  return {
    kind: 'KollectTarget',
    namespace: 'team-a',
    name,
    uid: name,
    generation: 1,
    profileKey,
    namespaces: ['team-a'],
    rules: [],
    labelSelector: { matchLabels: labels },
    watchMode: 'All',
    feeds: [
      {
        inventory: { kind: 'KollectInventory', namespace: 'team-a', name: 'inv' },
        partition: 0,
        namespaces: null,
      },
    ],
  };
}

function plan(generation: number, targets: CompiledTarget[], profiles: CompiledProfile[]): CompiledPlan {
  return {
    schemaVersion: PLAN_SCHEMA_VERSION,
    generation,
    compiledAt: '',
    settings: {
      cluster: 'c',
      partitions: 4,
      maxExportBytes: 1,
      scrubKeys: [],
      celCostLimit: 1,
      celTimeoutMs: 1,
    },
    watches: [],
    profiles: Object.fromEntries(profiles.map((p) => [p.key, p])),
    targets,
    inventories: [],
    sinks: [],
    namespaceWatch: {},
  };
}

describe('re-extraction signatures', () => {
  const pd = profile('deploy', deployments, 'h1');
  const ps = profile('svc', services, 'h2');
  const base = plan(1, [target('d', pd.key), target('s', ps.key)], [pd, ps]);

  it('change only for the GVR whose profile changed', () => {
    const next = plan(2, base.targets, [{ ...pd, hash: 'h1b' }, ps]);
    const a = gvrSignatures(base);
    const b = gvrSignatures(next);
    expect(b.get('apps/v1/deployments')).not.toBe(a.get('apps/v1/deployments'));
    expect(b.get('/v1/services')).toBe(a.get('/v1/services'));
  });

  it('change when a target of the GVR changes its selector, and ignore the plan generation', () => {
    const next = plan(7, [target('d', pd.key, { tier: 'web' }), target('s', ps.key)], [pd, ps]);
    expect(gvrSignatures(next).get('apps/v1/deployments')).not.toBe(
      gvrSignatures(base).get('apps/v1/deployments'),
    );
    expect(gvrSignatures(plan(9, base.targets, [pd, ps]))).toEqual(gvrSignatures(base));
  });

  it('cover the resourceRules GVRs of a target, not its profile GVR', () => {
    const ruled: CompiledTarget = {
      ...target('d', pd.key),
      rules: [{ gvr: services, gvk: { group: '', version: 'v1', kind: 'Service' }, namespaces: null }],
    };
    const next = plan(2, [ruled, target('s', ps.key)], [pd, ps]);
    const sig = gvrSignatures(next);
    expect(sig.has('apps/v1/deployments')).toBe(false);
    // the deployment profile's target now feeds on services: their signature changes
    expect(sig.get('/v1/services')).not.toBe(gvrSignatures(base).get('/v1/services'));
  });

  it('change for every GVR when namespace watch labels change', () => {
    const next = { ...base, namespaceWatch: { 'team-a': 'disabled' as const } };
    const a = gvrSignatures(base);
    const b = gvrSignatures(next);
    for (const g of a.keys()) expect(b.get(g)).not.toBe(a.get(g));
  });

  it('names the targets whose definition or profile changed', () => {
    const next = plan(
      2,
      [target('d', pd.key), target('s', ps.key, { x: 'y' }), target('n', pd.key)],
      [{ ...pd, hash: 'h1b' }, ps],
    );
    expect(changedTargets(base, next).sort()).toEqual([
      'KollectTarget/team-a/d',
      'KollectTarget/team-a/n',
      'KollectTarget/team-a/s',
    ]);
    expect(changedTargets(base, plan(3, base.targets, [pd, ps]))).toEqual([]);
  });
});

describe('replay claims', () => {
  const now = 100_000;
  const claim = (over: Partial<ReplayClaim>): ReplayClaim => ({
    signature: 's1',
    planGeneration: 5,
    state: 'done',
    holder: 'a',
    at: now - 1000,
    ...over,
  });
  it('claims when nothing was replayed or the signature changed', () => {
    expect(claimDecision(null, 's1', 5, 'me', now, 10_000)).toBe('claim');
    expect(claimDecision(claim({ signature: 's0' }), 's1', 5, 'me', now, 10_000)).toBe('claim');
  });
  it('does nothing when the signature is already replayed or a newer plan owns the GVR', () => {
    expect(claimDecision(claim({}), 's1', 5, 'me', now, 10_000)).toBe('nothing');
    expect(
      claimDecision(
        claim({ planGeneration: 6, signature: 's9', state: 'running' }),
        's1',
        5,
        'me',
        now,
        10_000,
      ),
    ).toBe('nothing');
  });
  it('waits for a live replica working on it and takes over from a dead one', () => {
    expect(claimDecision(claim({ state: 'running' }), 's1', 5, 'me', now, 10_000)).toBe('wait');
    expect(claimDecision(claim({ state: 'running', at: now - 20_000 }), 's1', 5, 'me', now, 10_000)).toBe(
      'claim',
    );
  });
});
