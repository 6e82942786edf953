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
});
