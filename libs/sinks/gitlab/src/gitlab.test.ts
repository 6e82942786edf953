import { describe, expect, it } from 'vitest';
import { featureBranch, gitlabProject, gitlabSinkFactory, mergeRequestSettings } from './index.js';

const sink = (spec: Record<string, unknown>) => ({
  ref: { family: 'snapshot' as const, namespace: 'team-a', name: 'gl' },
  uid: 'u',
  generation: 1,
  type: 'gitlab',
  spec: { type: 'gitlab', endpoint: 'https://gitlab.example.com/platform/inventory.git', ...spec },
});

describe('gitlab sink', () => {
  it('derives the API root and project path from HTTPS and SSH remotes, and honours options.apiUrl', () => {
    expect(gitlabProject('https://gitlab.example.com/group/sub/proj.git')).toEqual({
      apiUrl: 'https://gitlab.example.com/api/v4',
      projectPath: 'group/sub/proj',
    });
    expect(gitlabProject('git@gitlab.example.com:group/proj.git')).toEqual({
      apiUrl: 'https://gitlab.example.com/api/v4',
      projectPath: 'group/proj',
    });
    expect(gitlabProject('https://h/g/p.git', 'http://127.0.0.1:9/api/v4/').apiUrl).toBe(
      'http://127.0.0.1:9/api/v4',
    );
  });
  it('merge-request mode: one stable branch per inventory; targetBranch required; defaults', () => {
    expect(mergeRequestSettings(sink({}))).toBeUndefined();
    expect(
      mergeRequestSettings(
        sink({ gitlab: { mergeRequest: { mode: 'merge_request', targetBranch: 'main' } } }),
      ),
    ).toEqual({
      targetBranch: 'main',
      branchPrefix: 'kollect',
      titleTemplate: 'kollect inventory export: {namespace}/{name}',
    });
    expect(() => mergeRequestSettings(sink({ gitlab: { mergeRequest: { mode: 'merge_request' } } }))).toThrow(
      /targetBranch/,
    );
    expect(featureBranch('kollect', { kind: 'KollectClusterInventory', namespace: '', name: 'fleet' })).toBe(
      'kollect/cluster/fleet',
    );
  });
  it('preview honours git.* settings (the seed ignored them) and names the MR branch', () => {
    const p = gitlabSinkFactory.preview(
      sink({
        git: { commitMessage: 'inv {name}' },
        gitlab: { mergeRequest: { mode: 'merge_request', targetBranch: 'main' } },
      }),
      'prod',
    );
    expect((p.details['git'] as { sampleCommitSubject: string }).sampleCommitSubject).toBe('inv api');
    expect(p.details['gitlab']).toEqual({ mergeRequestBranch: 'kollect/team-a/api', targetBranch: 'main' });
  });
});
