/** Test bed git helpers shared by the git and gitlab e2e suites. */
import type { CompiledSink } from '@kollect/plan';
import type { SinkCredentials } from '@kollect/sink';
import { testbedEnv, uniqueName } from '../support/testbed.js';

export async function createRepo(name: string): Promise<string> {
  const r = await fetch(testbedEnv.gitAdminUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${testbedEnv.gitUsername}:${testbedEnv.gitPassword}`).toString('base64')}`,
    },
    body: JSON.stringify({ name }),
  });
  if (r.status !== 201 && r.status !== 200)
    throw new Error(`create repo ${name}: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { url: string }).url;
}

export function gitCreds(username: string, password: string, version = '1'): SinkCredentials {
  return { data: { username, password }, roles: { username, password }, version };
}

export function gitSink(endpoint: string, spec: Record<string, unknown>, type = 'git'): CompiledSink {
  return {
    ref: { family: 'snapshot', namespace: 'team-a', name: uniqueName('git') },
    uid: 'uid',
    generation: 1,
    type,
    spec: { type, endpoint, git: {}, ...spec },
  };
}
