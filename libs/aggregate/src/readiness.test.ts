import { gvrString, type Gvr, type WatchSyncState } from '@kollect/contracts';
import { describe, expect, it } from 'vitest';
import { DEPLOYMENTS, inventory, plan, target, TEAM_A } from './fixtures.test-helper.js';
import { readiness, ReadinessLatch, type ReadinessInput } from './index.js';

const web = target('team-a', 'web', [{ inventory: TEAM_A }]);
const inv = inventory(TEAM_A, [web]);

type States = Record<string, Pick<WatchSyncState, 'state' | 'objectSeq'>>;
const lookup = (states: States) => (gvr: Gvr, ns: string | null) => states[`${gvrString(gvr)}|${ns ?? '*'}`];
const key = (ns: string | null): string => `${gvrString(DEPLOYMENTS)}|${ns ?? '*'}`;

function input(
  states: States,
  over: Partial<ReadinessInput> = {},
  watchNs: string[] | null = null,
): ReadinessInput {
  return {
    plan: plan(1, [web], [inv], watchNs),
    inventory: inv,
    loaded: true,
    syncState: lookup(states),
    ...over,
  };
}

describe('readiness gate', () => {
  it('stays closed until the partition is loaded', () => {
    const r = readiness(input({ [key(null)]: { state: 'synced' } }, { loaded: false }));
    expect(r).toEqual({ ready: false, waitingFor: ['partition not loaded'] });
  });

  it('stays closed while a feeding GVR is listing, and opens once it synced', () => {
    expect(readiness(input({ [key(null)]: { state: 'listing' } })).waitingFor).toEqual([
      'apps/v1/deployments not synced',
    ]);
    expect(readiness(input({})).ready).toBe(false);
    expect(readiness(input({ [key(null)]: { state: 'synced' } })).ready).toBe(true);
  });

  it('needs every namespace the plan watches, unless a cluster-wide watch synced', () => {
    const ns = ['team-a', 'team-b'];
    const partial = readiness(input({ [key('team-a')]: { state: 'synced' } }, {}, ns));
    expect(partial.waitingFor).toEqual(['apps/v1/deployments in team-b not synced']);
    expect(
      readiness(input({ [key('team-a')]: { state: 'synced' }, [key('team-b')]: { state: 'synced' } }, {}, ns))
        .ready,
    ).toBe(true);
    expect(readiness(input({ [key(null)]: { state: 'synced' } }, {}, ns)).ready).toBe(true);
  });

  it('waits for extraction to reach the end of the initial list and for rows to drain, when asked to', () => {
    const states = { [key(null)]: { state: 'synced' as const, objectSeq: 300 } };
    expect(readiness(input(states, { extractedThroughSeq: 120 })).waitingFor).toEqual([
      'extraction behind the initial list (120 < 300)',
    ]);
    expect(readiness(input(states, { extractedThroughSeq: 300, rowsDrained: false })).waitingFor).toEqual([
      'rows still pending',
    ]);
    expect(readiness(input(states, { extractedThroughSeq: 300, rowsDrained: true })).ready).toBe(true);
  });

  it('a failed watch keeps the gate closed', () => {
    expect(readiness(input({ [key(null)]: { state: 'failed' } })).ready).toBe(false);
  });
});

describe('ReadinessLatch', () => {
  it('stays open through a relist once opened, and closes again when the plan adds a watch scope', () => {
    const latch = new ReadinessLatch();
    const states: States = { [key(null)]: { state: 'synced' } };
    expect(latch.check('inv', input(states)).ready).toBe(true);
    states[key(null)] = { state: 'listing' };
    expect(latch.check('inv', input(states)).ready).toBe(true);
    // the plan now watches per namespace: a different feed, evaluated afresh
    expect(latch.check('inv', input(states, {}, ['team-a'])).ready).toBe(false);
  });

  it('never opens before the partition is loaded', () => {
    const latch = new ReadinessLatch();
    const states: States = { [key(null)]: { state: 'synced' } };
    expect(latch.check('inv', input(states)).ready).toBe(true);
    expect(latch.check('inv', input(states, { loaded: false })).ready).toBe(false);
  });
});
