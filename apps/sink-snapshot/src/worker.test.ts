import { describe, expect, it } from 'vitest';
import { durableName, loadConfig } from '@kollect/sink-worker';
import { snapshotFamily, snapshotRegistry } from './registry.js';

describe('sink-snapshot worker', () => {
  it('serves exactly the snapshot family', () => {
    expect(snapshotRegistry().types().sort()).toEqual(['gcs', 'git', 'gitlab', 's3']);
  });
  it('is the snapshot family of the shared worker', () => {
    expect(snapshotFamily()).toMatchObject({
      family: 'snapshot',
      service: 'sink-snapshot',
      kind: 'KollectSnapshotSink',
      resource: 'kollectsnapshotsinks',
      testRef: 'snapshotSinkRef',
    });
  });
  it('durable consumer names are stable and NATS-safe', () => {
    const d = durableName({
      ref: { family: 'snapshot', namespace: 'team-a', name: 'audit.git' },
      uid: 'u',
      generation: 1,
      type: 'git',
      spec: {},
    });
    expect(d).toBe('sink-snapshot-team-a-audit_git');
  });
  it('keeps the SSRF guard on unless the test switch is set', () => {
    expect(loadConfig({ KOLLECT_NATS_URL: 'nats://x:4222' }).allowPrivateEndpoints).toBe(false);
    expect(
      loadConfig({ KOLLECT_NATS_URL: 'nats://x:4222', KOLLECT_ALLOW_PRIVATE_ENDPOINTS: 'true' })
        .allowPrivateEndpoints,
    ).toBe(true);
  });
});
