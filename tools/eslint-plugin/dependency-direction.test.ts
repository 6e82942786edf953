import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain JS module without type declarations
import { violation } from './index.js';

type P = { name: string; root: string; tags: string[] };
const p = (name: string, ...tags: string[]): P => ({ name, root: `/ws/${name}`, tags });

const contracts = p('@kollect/contracts', 'type:lib', 'scope:contracts');
const plan = p('@kollect/plan', 'type:lib', 'scope:plan');
const sinkSdk = p('@kollect/sink', 'type:lib', 'scope:sink-sdk');
const git = p('@kollect/sink-git', 'type:sink', 'scope:sink-git');
const s3 = p('@kollect/sink-s3', 'type:sink', 'scope:sink-s3');
const controller = p('@kollect/app-controller', 'type:app');
const watcher = p('@kollect/app-watcher', 'type:app');
const sinkTesting = p('@kollect/sink-testing', 'type:lib', 'scope:sink-testing');

describe('kollect/dependency-direction', () => {
  it('lets apps import libs and sink libs import core libs', () => {
    expect(violation(controller, plan)).toBeUndefined();
    expect(violation(git, sinkSdk)).toBeUndefined();
    expect(violation(plan, contracts)).toBeUndefined();
  });

  it('forbids importing an app from anywhere', () => {
    expect(violation(watcher, controller)).toMatch(/may not import the app/);
    expect(violation(plan, controller)).toMatch(/may not import the app/);
  });

  it('keeps contracts free of our own imports', () => {
    expect(violation(contracts, plan)).toMatch(/imports nothing of ours/);
  });

  it('forbids one sink lib importing another', () => {
    expect(violation(git, s3)).toMatch(/never imports another sink lib/);
  });

  it('keeps core libs independent of sink backends, except the conformance kit', () => {
    expect(violation(plan, git)).toMatch(/may not depend on the sink backend/);
    expect(violation(sinkTesting, git)).toBeUndefined();
  });
});
