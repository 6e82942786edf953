import { describe, expect, it } from 'vitest';
import { compilePlan } from './compile.js';
import { secretDataUse } from './secret-data.js';
import type { Gvk } from './types.js';
import { input, profile, scope, target } from './__tests__/fixtures.js';

const SECRET: Gvk = { group: '', version: 'v1', kind: 'Secret' };
const CONFIGMAP: Gvk = { group: '', version: 'v1', kind: 'ConfigMap' };
const ALLOW = { 'kollect.dev/allow-secret-extraction': 'true' };
const HELM = [
  { name: 'release', path: 'helm:release.name' },
  { name: 'chart', path: 'helm:release.chartVersion' },
];
const METADATA_ONLY = [{ name: 'type', path: '$.type' }];

const secretWatch = (r: ReturnType<typeof compilePlan>) =>
  r.plan.watches.find((w) => w.gvr.resource === 'secrets');
const statusOf = (r: ReturnType<typeof compilePlan>, kind: string, ns: string, name: string) =>
  r.statuses.find((s) => s.subject.kind === kind && s.subject.namespace === ns && s.subject.name === name);

describe('secretDataUse', () => {
  it.each([
    ['a helm path (any field: the release lives in data)', { attributes: HELM }, ['allow-secret']],
    ['a JSONPath data segment', { attributes: [{ name: 'pw', path: '$.data.password' }] }, ['allow-secret']],
    ['a CEL data access', { attributes: [{ name: 'n', path: 'cel:size(object.data)' }] }, ['allow-secret']],
    [
      'Resource export of All',
      { export: { mode: 'Resource' as const, include: 'All' as const } },
      ['allow-full'],
    ],
  ])('%s reads Secret data', (_what, spec, needs) => {
    const use = secretDataUse(profile('team-a', 'p', SECRET, spec));
    expect(use?.permitted).toBe(false);
    expect(use?.missing.map((m) => m.replace('kollect.dev/', '').slice(0, 10))).toEqual(
      needs.map((n) => n.slice(0, 10)),
    );
  });

  it('does not count metadata paths or Resource sections that drop data', () => {
    expect(secretDataUse(profile('team-a', 'p', SECRET, { attributes: METADATA_ONLY }))).toBeUndefined();
    expect(
      secretDataUse(
        profile('team-a', 'p', SECRET, { export: { mode: 'Resource', include: 'MetadataOnly' } }),
      ),
    ).toBeUndefined();
  });

  it('is permitted by the annotation its readers need, not by the other one', () => {
    expect(
      secretDataUse(profile('team-a', 'p', SECRET, { attributes: HELM }, { annotations: ALLOW })),
    ).toEqual({
      readers: ['attribute "release" (helm:release.name)', 'attribute "chart" (helm:release.chartVersion)'],
      permitted: true,
      missing: [],
    });
    const full = profile(
      'team-a',
      'p',
      SECRET,
      { export: { mode: 'Resource', include: 'All' } },
      { annotations: ALLOW },
    );
    expect(secretDataUse(full)?.missing).toEqual(['kollect.dev/allow-full-resource-export']);
  });
});

describe('compilePlan — Secret data on the bus (ARCHITECTURE invariant 1)', () => {
  it('keeps Secret data on the watch of an annotated helm profile, in its target namespaces', () => {
    const r = compilePlan(
      input({
        profiles: [profile('team-a', 'releases', SECRET, { attributes: HELM }, { annotations: ALLOW })],
        targets: [target('team-a', 'releases', { profileRef: 'releases', includedNamespaces: ['team-a'] })],
      }),
    );
    expect(secretWatch(r)).toEqual({
      gvr: { group: '', version: 'v1', resource: 'secrets' },
      gvk: SECRET,
      namespaced: true,
      namespaces: ['team-a'],
      allowSecretData: true,
    });
  });

  it('refuses a helm profile without the annotation: no watch, no data, the fix in the message', () => {
    const r = compilePlan(
      input({
        profiles: [profile('team-a', 'releases', SECRET, { attributes: HELM })],
        targets: [target('team-a', 'releases', { profileRef: 'releases', includedNamespaces: ['team-a'] })],
      }),
    );
    expect(secretWatch(r)).toBeUndefined();
    expect(r.plan.targets).toEqual([]);
    const p = statusOf(r, 'KollectProfile', 'team-a', 'releases')!;
    expect(p.conditions).toEqual([
      expect.objectContaining({ type: 'Degraded', status: 'True', reason: 'SecretDataNotAllowed' }),
    ]);
    expect(p.conditions[0]!.message).toContain('kollect.dev/allow-secret-extraction: "true"');
    const t = statusOf(r, 'KollectTarget', 'team-a', 'releases')!;
    expect(t.conditions.find((c) => c.type === 'Degraded')).toMatchObject({ reason: 'SecretDataNotAllowed' });
    expect(t.conditions.some((c) => c.type === 'Ready')).toBe(false);
  });

  it('splits a Secret watch shared with a target that did not ask: data only in the permitted namespaces', () => {
    const r = compilePlan(
      input({
        profiles: [
          profile('team-a', 'releases', SECRET, { attributes: HELM }, { annotations: ALLOW }),
          profile('team-b', 'secret-types', SECRET, { attributes: METADATA_ONLY }),
        ],
        targets: [
          target('team-a', 'releases', { profileRef: 'releases', includedNamespaces: ['team-a'] }),
          target('team-b', 'types', { profileRef: 'secret-types', includedNamespaces: ['team-a', 'team-b'] }),
        ],
      }),
    );
    const w = secretWatch(r)!;
    expect(w.namespaces).toEqual(['team-a', 'team-b']);
    expect(w.allowSecretData).toBeUndefined();
    expect(w.secretDataNamespaces).toEqual(['team-a']);
  });

  it('keeps data in every namespace when the permitted target needs every namespace', () => {
    const r = compilePlan(
      input({
        profiles: [
          profile('team-a', 'releases', SECRET, { attributes: HELM }, { annotations: ALLOW }),
          profile('team-b', 'secret-types', SECRET, { attributes: METADATA_ONLY }),
        ],
        targets: [
          target('team-a', 'releases', { profileRef: 'releases' }),
          target('team-b', 'types', { profileRef: 'secret-types', includedNamespaces: ['team-b'] }),
        ],
      }),
    );
    expect(secretWatch(r)).toMatchObject({ namespaces: null, allowSecretData: true });
    expect(secretWatch(r)!.secretDataNamespaces).toBeUndefined();
  });

  it('publishes no data for a permitted profile whose target the scope denies', () => {
    const r = compilePlan(
      input({
        profiles: [profile('team-a', 'releases', SECRET, { attributes: HELM }, { annotations: ALLOW })],
        targets: [target('team-a', 'releases', { profileRef: 'releases', includedNamespaces: ['team-a'] })],
        scopes: [
          scope('team-a', 's', { allowedGVKs: [{ group: 'apps', version: 'v1', kind: 'Deployment' }] }),
        ],
      }),
    );
    expect(secretWatch(r)).toBeUndefined();
    expect(statusOf(r, 'KollectTarget', 'team-a', 'releases')!.conditions[0]).toMatchObject({
      reason: 'ScopeGVKDenied',
    });
  });

  it('strips data on a Secret rule of a profile that did not ask (another kind reading its own data)', () => {
    const r = compilePlan(
      input({
        profiles: [
          profile('team-a', 'config', CONFIGMAP, { attributes: [{ name: 'v', path: '$.data.key' }] }),
        ],
        targets: [
          target('team-a', 'config', {
            profileRef: 'config',
            includedNamespaces: ['team-a'],
            resourceRules: [{ gvk: { version: 'v1', kind: 'Secret' } }],
          }),
        ],
      }),
    );
    expect(secretWatch(r)).toEqual(expect.objectContaining({ namespaces: ['team-a'] }));
    expect(secretWatch(r)!.allowSecretData).toBeUndefined();
    expect(secretWatch(r)!.secretDataNamespaces).toBeUndefined();
  });

  it('keeps data on a Secret rule of an annotated profile of another kind, only for that watch', () => {
    const r = compilePlan(
      input({
        profiles: [
          profile(
            'team-a',
            'config',
            CONFIGMAP,
            { attributes: [{ name: 'v', path: '$.data.key' }] },
            { annotations: ALLOW },
          ),
        ],
        targets: [
          target('team-a', 'config', {
            profileRef: 'config',
            includedNamespaces: ['team-a'],
            resourceRules: [
              { gvk: { version: 'v1', kind: 'Secret' } },
              { gvk: { version: 'v1', kind: 'ConfigMap' } },
            ],
          }),
        ],
      }),
    );
    expect(secretWatch(r)!.allowSecretData).toBe(true);
    const cm = r.plan.watches.find((w) => w.gvr.resource === 'configmaps')!;
    expect(cm.allowSecretData).toBeUndefined();
  });
});
