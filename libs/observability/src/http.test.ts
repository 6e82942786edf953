import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, createRegistry } from './metrics.js';
import { startServiceHttp, type ServiceHttp } from './http.js';

describe('service HTTP endpoints', () => {
  let srv: ServiceHttp | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
  });
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${srv!.port}${path}`);
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
  };

  it('answers liveness, readiness and metrics', async () => {
    const registry = createRegistry('t', { defaultMetrics: false });
    createMetrics(registry).reconcileTotal.inc({ controller: 'inventory', result: 'success' });
    srv = await startServiceHttp({
      port: 0,
      host: '127.0.0.1',
      metricsRegistry: registry,
      checks: { nats: () => true },
    });
    expect((await get('/healthz')).status).toBe(200);
    const ready = await get('/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: 'ok', checks: { nats: { ok: true } } });
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toContain('text/plain');
    expect(metrics.body).toContain(
      'kollect_reconcile_total{controller="inventory",result="success",service="t"} 1',
    );
    expect((await get('/nope')).status).toBe(404);
  });

  it('reports failing, throwing and hanging readiness checks as 503 without secrets', async () => {
    srv = await startServiceHttp({
      port: 0,
      host: '127.0.0.1',
      checkTimeoutMs: 200,
      checks: {
        ok: async () => undefined,
        notYet: () => false,
        broken: () => {
          throw new Error('cannot reach postgres://kollect:pw@db/x');
        },
        hangs: () => new Promise<void>(() => undefined),
      },
    });
    const r = await get('/readyz');
    expect(r.status).toBe(503);
    const body = JSON.parse(r.body) as { checks: Record<string, { ok: boolean; error?: string }> };
    expect(body.checks['ok']).toEqual({ ok: true });
    expect(body.checks['notYet']).toEqual({ ok: false, error: 'not ready' });
    expect(body.checks['broken']!.error).toContain('postgres://***@db/x');
    expect(r.body).not.toContain(':pw@');
    expect(body.checks['hangs']!.error).toMatch(/timed out/);
    // Liveness stays green: readiness problems must not get the pod killed.
    expect((await get('/healthz')).status).toBe(200);
  });

  it('turns unready at once when shutting down', async () => {
    srv = await startServiceHttp({ port: 0, host: '127.0.0.1', checks: { ok: () => true } });
    srv.setShuttingDown();
    expect((await get('/readyz')).status).toBe(503);
  });
});
