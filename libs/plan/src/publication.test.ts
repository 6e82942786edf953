import { describe, expect, it } from 'vitest';
import { compilePlan } from './compile.js';
import { unpublishedChanges, withPlanNotPublished } from './publication.js';
import { gitSink, input, inventory, profile, target } from './__tests__/fixtures.js';

const base = () => ({
  profiles: [profile('team-a', 'p'), profile('team-b', 'p')],
  targets: [
    target('team-a', 't', { profileRef: 'p', includedNamespaces: ['team-a'] }),
    target('team-b', 't', { profileRef: 'p', includedNamespaces: ['team-b'] }),
  ],
  inventories: [
    inventory('team-a', 'inv', { snapshotSinkRefs: ['git'] }),
    inventory('team-b', 'inv', { snapshotSinkRefs: ['git'] }),
  ],
  snapshotSinks: [gitSink('team-a', 'git'), gitSink('team-b', 'git')],
});

describe('unpublishedChanges', () => {
  // Built once: the fixtures give every object a fresh uid, and a new uid is a change.
  const objs0 = base();
  const copy = () => ({
    profiles: [...objs0.profiles],
    targets: [...objs0.targets],
    inventories: [...objs0.inventories],
    snapshotSinks: [...objs0.snapshotSinks],
  });
  const published = compilePlan(input(objs0)).plan;

  it('is empty when nothing changed, and everything before the first publication', () => {
    expect(unpublishedChanges(published, compilePlan(input(copy())).plan)).toEqual(new Set());
    expect([...unpublishedChanges(undefined, published)].sort()).toEqual([
      'KollectInventory/team-a/inv',
      'KollectInventory/team-b/inv',
      'KollectTarget/team-a/t',
      'KollectTarget/team-b/t',
    ]);
  });

  it('names a new target and the inventory it now feeds, not the untouched namespace', () => {
    const objs = copy();
    objs.targets.push(target('team-a', 'new', { profileRef: 'p', includedNamespaces: ['team-a'] }));
    expect([...unpublishedChanges(published, compilePlan(input(objs)).plan)].sort()).toEqual([
      'KollectInventory/team-a/inv',
      'KollectTarget/team-a/new',
    ]);
  });

  it('names the targets of a changed profile and the inventories of a changed sink', () => {
    const objs = copy();
    objs.profiles[1] = profile('team-b', 'p', undefined, {
      attributes: [{ name: 'replicas', path: '$.spec.replicas' }],
    });
    objs.snapshotSinks[0] = gitSink('team-a', 'git', { endpoint: 'https://git.example.com/other.git' });
    expect([...unpublishedChanges(published, compilePlan(input(objs)).plan)].sort()).toEqual([
      'KollectInventory/team-a/inv',
      'KollectTarget/team-b/t',
    ]);
  });
});

describe('withPlanNotPublished', () => {
  it('degrades with PlanTooLarge and removes Ready and Synced', () => {
    const r = compilePlan(input(base()));
    const s = r.statuses.find((x) => x.subject.kind === 'KollectTarget')!;
    const d = withPlanNotPublished(s, 'plan too large');
    expect(d.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      'SinkReachable=True/SinksReachable',
      'Degraded=True/PlanTooLarge',
    ]);
  });
});
