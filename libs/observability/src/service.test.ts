import { describe, expect, it } from 'vitest';
import { startService } from './service.js';

describe('service frame', () => {
  it('serves health, readiness and metrics, and shuts down in reverse order', async () => {
    const svc = await startService({
      service: 'test',
      httpPort: 0,
      httpHost: '127.0.0.1',
      level: 'silent',
      exit: false,
    });
    const base = `http://127.0.0.1:${svc.http.port}`;
    let ready = false;
    svc.addReadinessCheck('nats', () => ready);
    svc.markStarted();
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    svc.metrics.watchEvents.inc({ group: 'apps', version: 'v1', resource: 'deployments', type: 'ADDED' });
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('kollect_watch_events_total');

    const order: string[] = [];
    svc.onShutdown('nats', () => void order.push('nats'));
    svc.onShutdown('consumers', () => void order.push('consumers'));
    expect(await svc.shutdown.shutdown('test')).toBe(0);
    expect(order).toEqual(['consumers', 'nats']);
    svc.shutdown.uninstall();
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('answers /readyz 503 "starting" until startup is marked complete, even with passing checks', async () => {
    const svc = await startService({
      service: 'test',
      httpPort: 0,
      httpHost: '127.0.0.1',
      level: 'silent',
      exit: false,
    });
    const base = `http://127.0.0.1:${svc.http.port}`;
    try {
      // Listening, nothing registered yet: alive, not ready.
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      let res = await fetch(`${base}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'starting', checks: {} });
      // A check registered and passing is not enough while the app is still starting.
      svc.addReadinessCheck('nats', () => true);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      expect(svc.started).toBe(false);
      svc.markStarted();
      expect(svc.started).toBe(true);
      res = await fetch(`${base}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'ok', checks: { nats: { ok: true } } });
      // A check added later counts.
      svc.addReadinessCheck('plan', () => {
        throw new Error('no plan yet');
      });
      res = await fetch(`${base}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ checks: { plan: { ok: false, error: 'no plan yet' } } });
    } finally {
      await svc.shutdown.shutdown('test');
      svc.shutdown.uninstall();
    }
  });

  it('refuses to mark startup complete without a readiness check', async () => {
    const svc = await startService({
      service: 'lonely',
      httpPort: 0,
      httpHost: '127.0.0.1',
      level: 'silent',
      exit: false,
    });
    try {
      expect(() => svc.markStarted()).toThrow(/lonely: markStarted\(\) called with no readiness check/);
      expect((await fetch(`http://127.0.0.1:${svc.http.port}/readyz`)).status).toBe(503);
    } finally {
      await svc.shutdown.shutdown('test');
      svc.shutdown.uninstall();
    }
  });

  it('runs liveness checks added by the app on /healthz', async () => {
    const svc = await startService({
      service: 'test',
      httpPort: 0,
      httpHost: '127.0.0.1',
      level: 'silent',
      exit: false,
    });
    try {
      let alive = true;
      svc.addLivenessCheck('watches', () => alive);
      const base = `http://127.0.0.1:${svc.http.port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      alive = false;
      expect((await fetch(`${base}/healthz`)).status).toBe(503);
    } finally {
      await svc.shutdown.shutdown('test');
      svc.shutdown.uninstall();
    }
  });
});
