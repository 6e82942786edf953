import type { ExtractionPlan } from '@kollect/extract';
import { describe, expect, it } from 'vitest';
import { FailureLedger, failureReason, type TargetFailure } from './failures.js';

const gvr = { group: 'apps', version: 'v1', resource: 'deployments' };
const web = { kind: 'KollectTarget' as const, namespace: 'team-a', name: 'web' };
const api = { kind: 'KollectTarget' as const, namespace: 'team-a', name: 'api' };
const key = (t: typeof web): string => `${t.kind}/${t.namespace}/${t.name}`;
const x = {
  plan: { generation: 3 },
  targetsByGvr: new Map([['apps/v1/deployments', [web, api].map((t) => ({ key: key(t), target: t }))]]),
} as unknown as ExtractionPlan;

function fail(t: typeof web, uid: string, message = 'no such key: image'): TargetFailure {
  return {
    targetKey: key(t),
    target: t,
    uid,
    namespace: 'team-a',
    name: `obj-${uid}`,
    reason: 'ExtractionFailed',
    message,
    errorClass: 'terminal',
  };
}

describe('FailureLedger', () => {
  it('reports a failure once, and its clearing when the object extracts again', () => {
    const l = new FailureLedger('prod');
    l.record(x, { gvr, uid: 'u1' }, [fail(web, 'u1')]);
    l.record(x, { gvr, uid: 'u1' }, [fail(web, 'u1')]); // same failure again: no new transition
    const first = l.drain(new Date(0));
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ cluster: 'prod', target: web, planGeneration: 3, cleared: [] });
    expect(first[0]?.failed.map((f) => f.uid)).toEqual(['u1']);
    l.record(x, { gvr, uid: 'u1' }, [fail(web, 'u1')]);
    expect(l.drain()).toEqual([]);
    l.record(x, { gvr, uid: 'u1' }, []);
    const second = l.drain();
    expect(second).toHaveLength(1);
    expect(second[0]).toMatchObject({ target: web, failed: [], cleared: ['u1'] });
    expect(l.failing().get(key(web))).toBe(0);
  });

  it('clears a failure another replica reported', () => {
    const other = new FailureLedger('prod');
    other.record(x, { gvr, uid: 'u7' }, [fail(api, 'u7')]);
    const mine = new FailureLedger('prod');
    for (const r of other.drain()) mine.observe(r);
    mine.record(x, { gvr, uid: 'u7' }, []);
    expect(mine.drain()).toEqual([expect.objectContaining({ target: api, cleared: ['u7'], failed: [] })]);
  });

  it('forgets the failures of redefined targets', () => {
    const l = new FailureLedger('prod');
    l.record(x, { gvr, uid: 'u1' }, [fail(web, 'u1')]);
    l.forgetTargets([key(web)]);
    expect(l.drain()).toEqual([]);
    l.record(x, { gvr, uid: 'u1' }, []);
    expect(l.drain()).toEqual([]);
  });

  it('maps outcomes to status reasons', () => {
    expect(failureReason('cost_exceeded')).toBe('CostLimitExceeded');
    expect(failureReason('timeout')).toBe('EvaluationTimeout');
    expect(failureReason('invalid_object')).toBe('InvalidObject');
    expect(failureReason('error')).toBe('ExtractionFailed');
    expect(failureReason('error', 'KOLLECT_ERR_BUS_PAYLOAD_TOO_LARGE')).toBe('PayloadTooLarge');
  });
});
