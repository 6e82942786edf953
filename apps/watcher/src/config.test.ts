import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

const base = { KOLLECT_NATS_URL: 'nats://127.0.0.1:4222', KOLLECT_CLUSTER: 'prod' };

describe('watcher config', () => {
  it('needs the NATS URL and the cluster label', () => {
    expect(() => loadConfig({ KOLLECT_CLUSTER: 'prod' })).toThrow(/KOLLECT_NATS_URL is required/);
    expect(() => loadConfig({ KOLLECT_NATS_URL: 'nats://x' })).toThrow(/KOLLECT_CLUSTER is required/);
  });

  it('defaults to client-go lease timings, a 10-namespace threshold and leader election on', () => {
    const c = loadConfig(base);
    expect([c.lease.durationMs, c.lease.renewDeadlineMs, c.lease.retryPeriodMs]).toEqual([
      15_000, 10_000, 2_000,
    ]);
    expect(c.namespaceThreshold).toBe(10);
    expect(c.leaderElection).toBe(true);
    expect(c.watchTimeoutMs).toBe(300_000);
    expect(c.stallMs).toBe(120_000);
  });

  it('reads durations and gives each process its own identity', () => {
    const c = loadConfig({ ...base, KOLLECT_WATCH_STALL: '30s', KOLLECT_POD_NAME: 'watcher-0' });
    expect(c.stallMs).toBe(30_000);
    expect(c.identity).toMatch(/^watcher-0-[0-9a-f]{6}$/);
    expect(loadConfig({ ...base, KOLLECT_POD_NAME: 'watcher-0' }).identity).not.toBe(c.identity);
  });

  it('rejects a malformed duration naming the variable', () => {
    expect(() => loadConfig({ ...base, KOLLECT_WATCH_TIMEOUT: 'soon' })).toThrow(/KOLLECT_WATCH_TIMEOUT/);
  });
});
