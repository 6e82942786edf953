import { describe, expect, it } from 'vitest';
import { metricSum, parseMetrics } from './metrics.js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { portFromLogLine, readyBody, ServiceProcess, tail } from './process.js';
import { instanceName, leaseSuffix, serviceEnv, type StackOptions } from './stack.js';

const base: StackOptions = { natsUrl: 'nats://n:1', kubeconfig: '/k', cluster: 'c1', prefix: 'tPipe_x1' };

describe('service environment', () => {
  it('isolates a prefixed stack: bus prefix, lease names derived from it, no own topology', () => {
    const env = serviceEnv(base, 'controller', 'controller');
    expect(env['KOLLECT_BUS_PREFIX']).toBe('tPipe_x1');
    expect(env['KOLLECT_LEASE_NAME']).toBe('kollect-controller-tpipe-x1');
    expect(env['KOLLECT_ENSURE_TOPOLOGY']).toBe('false');
    expect(env['KOLLECT_HTTP_PORT']).toBe('0');
    expect(env['KUBECONFIG']).toBe('/k');
  });

  it('uses the production lease names without a prefix', () => {
    const env = serviceEnv({ ...base, prefix: '' }, 'watcher', 'watcher');
    expect(env['KOLLECT_LEASE_NAME']).toBe('kollect-watcher');
  });

  it('gives data-plane services no kube config and lets the services ensure topology when asked', () => {
    const env = serviceEnv({ ...base, topology: false }, 'extractor', 'extractor-2');
    expect(env['KUBECONFIG']).toBeUndefined();
    expect(env['KOLLECT_POD_NAME']).toBe('extractor-2');
    expect(env['KOLLECT_ENSURE_TOPOLOGY']).toBe('true');
  });

  it('passes the controller its cache boundary and tenant mode, and per-kind overrides win', () => {
    const env = serviceEnv(
      {
        ...base,
        watchNamespaces: ['a', 'b'],
        tenantMode: true,
        env: { X: '1' },
        serviceEnv: { controller: { X: '2' } },
      },
      'controller',
      'controller',
    );
    expect(env['KOLLECT_WATCH_NAMESPACES']).toBe('a,b');
    expect(env['KOLLECT_TENANT_MODE']).toBe('true');
    expect(env['X']).toBe('2');
  });

  it('names single instances after their kind and replicas by number', () => {
    expect(instanceName('controller', 1, 1)).toBe('controller');
    expect(instanceName('extractor', 2, 2)).toBe('extractor-2');
    expect(leaseSuffix('Ab_c')).toBe('ab-c');
  });
});

describe('readiness', () => {
  it('counts a 200 "ok" as ready, and neither a service still starting nor a failing check', () => {
    expect(readyBody({ status: 503, body: '{"status":"starting","checks":{}}' })).toBe(false);
    expect(readyBody({ status: 200, body: '{"status":"ok","checks":{"plan":{"ok":true}}}' })).toBe(true);
    expect(readyBody({ status: 200, body: 'not json' })).toBe(false);
    expect(readyBody({ status: 503, body: '{"status":"fail","checks":{"plan":{"ok":false}}}' })).toBe(false);
    expect(readyBody(undefined)).toBe(false);
  });

  it('gives sink workers the shared kubeconfig and Lease variables, private endpoints and a work directory', () => {
    const env = serviceEnv(base, 'sink-snapshot', 'sink-snapshot', '/run');
    expect(env['KUBECONFIG']).toBe('/k');
    expect(env['KOLLECT_KUBECONFIG']).toBeUndefined();
    expect(env['KOLLECT_LEASE_NAMESPACE']).toBe('kollect-system');
    expect(env['KOLLECT_LEASE_NAME']).toBe('kollect-sink-snapshot-prober-tpipe-x1');
    expect(env['KOLLECT_ALLOW_PRIVATE_ENDPOINTS']).toBe('true');
    expect(env['KOLLECT_SINK_WORK_DIR']).toBe('/run/work/sink-snapshot');
    expect(env['KOLLECT_WATCH_NAMESPACES']).toBeUndefined();
  });

  it("bounds the sink workers' prober to the controller's watch namespaces", () => {
    const env = serviceEnv({ ...base, watchNamespaces: ['a', 'b'] }, 'sink-database', 'sink-database');
    expect(env['KOLLECT_WATCH_NAMESPACES']).toBe('a,b');
    expect(
      serviceEnv({ ...base, watchNamespaces: ['a'] }, 'watcher', 'watcher')['KOLLECT_WATCH_NAMESPACES'],
    ).toBe(undefined);
  });
});

describe('port discovery', () => {
  it('finds the port of a restarted process after a previous run logged multi-byte characters', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kollect-stack-test-'));
    mkdirSync(join(root, 'apps', 'fake', 'dist'), { recursive: true });
    // Logs a non-ASCII line (3-byte arrows), then its start line with a port, then stays up.
    writeFileSync(
      join(root, 'apps', 'fake', 'dist', 'main.js'),
      `console.log(JSON.stringify({ msg: 'settings 2048 → 1000 → 512' }));
       console.log(JSON.stringify({ port: Number(process.env.FAKE_PORT), msg: 'service started' }));
       setInterval(() => {}, 1000);`,
    );
    const p = new ServiceProcess({ name: 'fake', app: 'fake', env: { FAKE_PORT: '4101' } }, root, root);
    try {
      await p.start(10_000);
      expect(p.info().port).toBe(4101);
      await p.stop();
      await p.start(10_000, { FAKE_PORT: '4102' });
      expect(p.info().port).toBe(4102);
      expect(p.currentLog()).toMatch(/^\{"msg":"settings 2048 → 1000 → 512"\}/);
    } finally {
      await p.kill();
    }
  });

  it('reads the port from a service start line only', () => {
    expect(portFromLogLine('{"level":30,"port":40123,"msg":"aggregator started"}')).toBe(40123);
    expect(portFromLogLine('{"level":30,"port":40123,"msg":"connecting"}')).toBeUndefined();
    expect(portFromLogLine('Error: boom "port"')).toBeUndefined();
    expect(portFromLogLine('{"port":"x","msg":"started"}')).toBeUndefined();
  });

  it('keeps the last non-empty lines for messages', () => {
    expect(tail('a\n\nb\nc\n', 2)).toBe('b\nc');
  });
});

describe('metrics', () => {
  const text = [
    '# HELP kollect_rows_emitted_total Rows',
    '# TYPE kollect_rows_emitted_total counter',
    'kollect_rows_emitted_total{op="upsert"} 12',
    'kollect_rows_emitted_total{op="delete"} 3',
    'kollect_watch_synced{group="apps",version="v1",resource="deployments"} 1',
    'process_resident_memory_bytes 1.5e+07',
    'weird{a="x\\"y"} +Inf',
  ].join('\n');

  it('parses samples with labels and exponents', () => {
    const s = parseMetrics(text);
    expect(s).toHaveLength(5);
    expect(s[4]).toEqual({ name: 'weird', labels: { a: 'x"y' }, value: Infinity });
    expect(metricSum(s, 'process_resident_memory_bytes')).toBe(15_000_000);
  });

  it('sums samples matching a label filter', () => {
    expect(metricSum(text, 'kollect_rows_emitted_total')).toBe(15);
    expect(metricSum(text, 'kollect_rows_emitted_total', { op: 'delete' })).toBe(3);
    expect(metricSum(text, 'missing')).toBe(0);
  });
});

describe('free ports', () => {
  it('hands out a bindable loopback port', async () => {
    const { freePort } = await import('./process.js');
    const p = await freePort();
    expect(Number.isInteger(p) && p > 0 && p < 65536).toBe(true);
  });
});
