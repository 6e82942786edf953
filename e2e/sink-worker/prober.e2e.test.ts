/**
 * The sink workers' prober end to end on the test bed (SEED-SPEC §3.8, §3.10, §9.3, §9.5,
 * docs/sinks.md "Connection tests and previews"): a real worker process of each family with its
 * prober on, Kollect CRDs and Secrets on the real kube-apiserver, probes against the real git
 * remote and Postgres. Covers `spec.connectionTest`, a failing probe (status, Degraded, the
 * failure metric, a scrubbed message), the one-shot `kollect.dev/test-connection` annotation,
 * `KollectConnectionTest` (status, owner, TTL deletion, a missing sink, a ref the schema refuses),
 * `kollect.dev/preview`, and the prober's scope: its own Lease per bus topology, and only the
 * namespaces of `KOLLECT_WATCH_NAMESPACES`.
 *
 * The watches handle one event at a time, in order; a sink created after some change and then
 * probed is therefore a barrier: every earlier event of that watch was handled (and its writes
 * done) before. Absence ("not probed", "annotation kept") is asserted behind such a barrier.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumShort } from '@kollect/contracts';
import { ANNOTATIONS } from '@kollect/crd-types';
import { KubeNotFound, type KubeClient } from '@kollect/kube';
import { leaseNameFor } from '@kollect/observability';
import {
  clearTerminatingNamespace,
  ensureNamespace,
  installCrds,
  metricSum,
  portFromLogLine,
} from '@kollect/stack';
import { busHarness, waitFor, type BusHarness } from '../bus/harness.js';
import { startService, waitForLog, type ServiceProcess } from '../pipeline/support.js';
import { adminClient } from '../support/kube.js';
import { hasTestbed, testbedEnv, uniqueName, type ServiceName } from '../support/testbed.js';
import { createRepo } from '../sinks/git-helpers.js';

const API = '/apis/kollect.dev/v1alpha1';
const MERGE = 'application/merge-patch+json';

interface Condition {
  type: string;
  status: string;
  reason: string;
  message?: string;
  observedGeneration?: number;
}

interface Obj {
  metadata: {
    name: string;
    uid: string;
    generation?: number;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  };
  status?: {
    conditions?: Condition[];
    observedGeneration?: number;
    preview?: Record<string, unknown>;
    latencyMs?: number;
    completed?: boolean;
    completedAt?: string;
  };
}

/** What differs between the families: the app, the kind, the backend and its Secrets. */
interface FamilyCase {
  title: string;
  app: 'sink-snapshot' | 'sink-database';
  started: RegExp;
  kind: string;
  resource: string;
  testRef: string;
  sinkType: string;
  services: ServiceName[];
  /** Create the backend and the Secrets in `ns`; returns the secret values that must never show. */
  setup(kube: KubeClient, ns: string): Promise<{ secrets: string[] }>;
  /** A spec that probes successfully / one that fails (wrong credentials or unreachable). */
  goodSpec(): Record<string, unknown>;
  badSpec(): Record<string, unknown>;
  /** Assert the family's preview details. */
  checkPreview(preview: Record<string, unknown>): void;
  /** Side effects a preview must not have (nothing written to the backend). */
  checkNoSideEffects(): Promise<void>;
}

function condition(o: Obj | undefined, type: string): Condition | undefined {
  return o?.status?.conditions?.find((c) => c.type === type);
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function secretBody(name: string, data: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: data };
}

// ---- the snapshot family: git ------------------------------------------------------------------

let gitRepoUrl = '';
const gitWrongPassword = `wrong-${randomBytes(6).toString('hex')}`;

const gitCase: FamilyCase = {
  title: 'sink-snapshot prober (git)',
  app: 'sink-snapshot',
  started: /snapshot sink worker started/,
  kind: 'KollectSnapshotSink',
  resource: 'kollectsnapshotsinks',
  testRef: 'snapshotSinkRef',
  sinkType: 'git',
  services: ['nats', 'kube-apiserver', 'git'],
  async setup(kube, ns) {
    gitRepoUrl = await createRepo(uniqueName('probe'));
    const path = `/api/v1/namespaces/${ns}/secrets`;
    await kube.request('POST', path, {
      body: secretBody('creds', { username: testbedEnv.gitUsername, password: testbedEnv.gitPassword }),
    });
    await kube.request('POST', path, {
      body: secretBody('wrong-creds', { username: testbedEnv.gitUsername, password: gitWrongPassword }),
    });
    return { secrets: [gitWrongPassword, testbedEnv.gitPassword] };
  },
  goodSpec: () => ({
    type: 'git',
    endpoint: gitRepoUrl,
    cluster: 'east',
    git: {},
    secretRef: { name: 'creds' },
  }),
  badSpec: () => ({
    type: 'git',
    endpoint: gitRepoUrl,
    cluster: 'east',
    git: {},
    secretRef: { name: 'wrong-creds' },
  }),
  checkPreview(p) {
    expect(p['objectPath']).toBe('inventory/team-a/api.yaml');
    expect((p['git'] as { sampleCommitSubject?: string }).sampleCommitSubject).toBe(
      `chore(east/team-a/api): export 42 items @ ${checksumShort('sha256:a1b2c3d4e5f6')}`,
    );
    expect(p['serializationFormat']).toBe('yaml');
  },
  async checkNoSideEffects() {
    // No commit in the remote: `main` does not exist.
    const dir = `${testbedEnv.gitRoot}/${gitRepoUrl.split('/git/')[1]}`;
    const refs = execFileSync('git', ['--git-dir', dir, 'for-each-ref', '--format=%(refname)'], {
      encoding: 'utf8',
    });
    expect(refs.trim()).toBe('');
  },
};

// ---- the database family: postgres -------------------------------------------------------------

const pgTable = `probe_${randomBytes(3).toString('hex')}`;
const pgPassword = `pw-${randomBytes(6).toString('hex')}`;

const postgresCase: FamilyCase = {
  title: 'sink-database prober (postgres)',
  app: 'sink-database',
  started: /database sink worker started/,
  kind: 'KollectDatabaseSink',
  resource: 'kollectdatabasesinks',
  testRef: 'databaseSinkRef',
  sinkType: 'postgres',
  services: ['nats', 'kube-apiserver', 'postgres'],
  async setup(kube, ns) {
    const path = `/api/v1/namespaces/${ns}/secrets`;
    await kube.request('POST', path, { body: secretBody('dsn', { dsn: testbedEnv.postgresDsn }) });
    // Unreachable, with a password in the DSN that must not surface anywhere.
    const dead = `postgresql://kollect:${pgPassword}@127.0.0.1:${await closedPort()}/kollect`;
    await kube.request('POST', path, { body: secretBody('dead-dsn', { dsn: dead }) });
    return { secrets: [pgPassword] };
  },
  goodSpec: () => ({ type: 'postgres', postgres: { databaseRef: { name: 'dsn' }, table: pgTable } }),
  badSpec: () => ({ type: 'postgres', postgres: { databaseRef: { name: 'dead-dsn' }, table: pgTable } }),
  checkPreview(p) {
    const ddl = (p['postgres'] as { expectedDDL?: string }).expectedDDL ?? '';
    expect(ddl).toMatch(/CREATE TABLE/i);
    expect(ddl).toContain(pgTable);
    expect(p['provisioningMode']).toBe('ensure');
    expect(p['serializationFormat']).toBe('json');
  },
  async checkNoSideEffects() {
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: testbedEnv.postgresDsn });
    await c.connect();
    try {
      const r = await c.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`public.${pgTable}`]);
      expect(r.rows[0]?.t).toBeNull();
    } finally {
      await c.end();
    }
  },
};

// ---- the suite, once per family ----------------------------------------------------------------

function proberSuite(fc: FamilyCase): void {
  describe.runIf(hasTestbed(...fc.services))(fc.title, () => {
    let h: BusHarness;
    let kube: KubeClient;
    let svc: ServiceProcess;
    let port = 0;
    let secrets: string[] = [];
    const ns = uniqueName('probe');
    const other = uniqueName('probe-out');
    const podName = `prober-${fc.app}`;
    let barriers = 0;

    const sinkPath = (name: string, namespace = ns) =>
      `${API}/namespaces/${namespace}/${fc.resource}/${name}`;
    const testPath = (name: string) => `${API}/namespaces/${ns}/kollectconnectiontests/${name}`;

    async function get(path: string): Promise<Obj | undefined> {
      try {
        return await kube.request<Obj>('GET', path);
      } catch (err) {
        if (KubeNotFound.is(err)) return undefined;
        throw err;
      }
    }

    async function createSink(
      name: string,
      spec: Record<string, unknown>,
      annotations: Record<string, string> = {},
      namespace = ns,
    ): Promise<Obj> {
      return kube.request<Obj>('POST', `${API}/namespaces/${namespace}/${fc.resource}`, {
        body: {
          apiVersion: 'kollect.dev/v1alpha1',
          kind: fc.kind,
          metadata: { name, annotations },
          spec,
        },
      });
    }

    /** Poll the sink until `cond` holds; returns its last state. */
    async function sinkUntil(name: string, cond: (o: Obj | undefined) => boolean): Promise<Obj | undefined> {
      let last: Obj | undefined;
      const ok = await waitFor(
        async () => {
          last = await get(sinkPath(name));
          return cond(last);
        },
        60_000,
        100,
      );
      expect(ok, `sink ${name}: ${JSON.stringify(last?.status ?? null)}`).toBe(true);
      return last;
    }

    /** Every earlier event of the sinks watch has been handled once this returns. */
    async function barrier(): Promise<void> {
      const name = `barrier-${++barriers}`;
      await createSink(name, fc.goodSpec());
      await sinkUntil(name, (o) => condition(o, 'ConnectionVerified') !== undefined);
    }

    async function metric(result: 'success' | 'failure'): Promise<number> {
      const r = await fetch(`http://127.0.0.1:${port}/metrics`);
      return metricSum(await r.text(), 'kollect_sink_connection_test_total', {
        type: fc.sinkType,
        result,
      });
    }

    function expectScrubbed(message: string | undefined): void {
      for (const s of secrets) expect(message ?? '').not.toContain(s);
    }

    beforeAll(async () => {
      h = await busHarness('probe');
      kube = adminClient();
      await installCrds(kube);
      await ensureNamespace(kube, ns);
      await ensureNamespace(kube, other);
      ({ secrets } = await fc.setup(kube, ns));
      await kube.request('POST', `/api/v1/namespaces/${other}/secrets`, {
        body: secretBody('creds', { username: 'x', password: 'y' }),
      });
      // Outside KOLLECT_WATCH_NAMESPACES; created before the worker so a cluster-wide prober
      // would handle it in its first list, before any event of the watched namespace.
      await createSink('outside', fc.goodSpec(), {}, other);
      svc = await startService(
        fc.app,
        {
          KOLLECT_NATS_URL: testbedEnv.natsUrl,
          KOLLECT_BUS_PREFIX: h.names.prefix,
          KUBECONFIG: testbedEnv.kubeconfig,
          KOLLECT_ALLOW_PRIVATE_ENDPOINTS: 'true',
          KOLLECT_WATCH_NAMESPACES: ns,
          KOLLECT_LEASE_NAMESPACE: ns,
          KOLLECT_POD_NAME: podName,
          KOLLECT_LEASE_DURATION: '4s',
          KOLLECT_LEASE_RENEW_DEADLINE: '3s',
          KOLLECT_LEASE_RETRY_PERIOD: '1s',
          KOLLECT_SINK_WORK_DIR: mkdtempSync(join(tmpdir(), 'kollect-prober-')),
          KOLLECT_LOG_LEVEL: 'info',
        },
        podName,
      );
      expect(await waitForLog(svc, fc.started, 60_000)).toBe(true);
      port = svc.logs.map(portFromLogLine).find((p) => p !== undefined) ?? 0;
      expect(port).toBeGreaterThan(0);
      expect(await waitForLog(svc, /sink prober leading/, 30_000)).toBe(true);
    });

    afterAll(async () => {
      await svc?.stop();
      if (kube) {
        // No namespace controller on the test bed: delete what was created, then finalize.
        for (const [namespace, resource] of [
          [ns, 'kollectconnectiontests'],
          [ns, fc.resource],
          [other, fc.resource],
        ] as const) {
          await kube.request('DELETE', `${API}/namespaces/${namespace}/${resource}`).catch(() => undefined);
        }
        for (const namespace of [ns, other]) {
          await kube.request('DELETE', `/api/v1/namespaces/${namespace}/secrets`).catch(() => undefined);
          await kube
            .request('DELETE', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`)
            .catch(() => undefined);
          await kube.request('DELETE', `/api/v1/namespaces/${namespace}`).catch(() => undefined);
          await clearTerminatingNamespace(kube, namespace).catch(() => undefined);
        }
        kube.close();
      }
      await h?.cleanup();
    });

    it('spec.connectionTest (default true) verifies a reachable sink: ConnectionVerified=True/ConnectionOK, Degraded=False, counted as a success', async () => {
      const before = await metric('success');
      const created = await createSink('good', fc.goodSpec());
      const o = await sinkUntil('good', (x) => condition(x, 'ConnectionVerified') !== undefined);
      expect(condition(o, 'ConnectionVerified')).toMatchObject({ status: 'True', reason: 'ConnectionOK' });
      expect(condition(o, 'Degraded')).toMatchObject({ status: 'False', reason: 'ConnectionOK' });
      expect(o?.status?.observedGeneration).toBe(created.metadata.generation);
      expect(await metric('success')).toBeGreaterThan(before);
    });

    it('holds its leader Lease under its own name per bus topology, and probes only the watched namespaces', async () => {
      const lease = await kube.request<{ spec?: { holderIdentity?: string } }>(
        'GET',
        `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${leaseNameFor(`kollect-${fc.app}-prober`, h.names.prefix)}`,
      );
      expect(lease.spec?.holderIdentity).toMatch(new RegExp(`^${podName}-[0-9a-f]{6}$`));
      await barrier();
      const outside = await get(sinkPath('outside', other));
      expect(outside?.status?.conditions ?? []).toEqual([]);
    });

    it('a failing probe sets ConnectionVerified=False and Degraded=True with a scrubbed message, and counts a failure', async () => {
      const before = await metric('failure');
      await createSink('bad', fc.badSpec());
      const o = await sinkUntil('bad', (x) => condition(x, 'ConnectionVerified') !== undefined);
      const verified = condition(o, 'ConnectionVerified');
      expect(verified).toMatchObject({ status: 'False', reason: 'ConnectionTestFailed' });
      expect(condition(o, 'Degraded')).toMatchObject({ status: 'True', reason: 'ConnectionTestFailed' });
      expect(verified?.message).toBeTruthy();
      expectScrubbed(verified?.message);
      expect(await metric('failure')).toBe(before + 1);
      expect(svc.logs.filter((l) => secrets.some((s) => l.includes(s)))).toEqual([]);
    });

    it('kollect.dev/test-connection probes once when connectionTest is false: removed after a success, kept on a failure', async () => {
      await createSink('manual', { ...fc.goodSpec(), connectionTest: false });
      await createSink('manual-bad', { ...fc.badSpec(), connectionTest: false });
      await barrier();
      // connectionTest: false and no annotation → no probe.
      expect((await get(sinkPath('manual')))?.status?.conditions ?? []).toEqual([]);
      const annotate = (name: string) =>
        kube.request('PATCH', sinkPath(name), {
          body: { metadata: { annotations: { [ANNOTATIONS.testConnection]: 'true' } } },
          contentType: MERGE,
        });
      await annotate('manual');
      await annotate('manual-bad');
      const ok = await sinkUntil(
        'manual',
        (x) =>
          condition(x, 'ConnectionVerified')?.status === 'True' &&
          x?.metadata.annotations?.[ANNOTATIONS.testConnection] === undefined,
      );
      expect(condition(ok, 'ConnectionVerified')?.reason).toBe('ConnectionOK');
      const bad = await sinkUntil('manual-bad', (x) => condition(x, 'ConnectionVerified') !== undefined);
      expect(condition(bad, 'ConnectionVerified')).toMatchObject({ status: 'False' });
      expectScrubbed(condition(bad, 'ConnectionVerified')?.message);
      await barrier();
      expect((await get(sinkPath('manual-bad')))?.metadata.annotations?.[ANNOTATIONS.testConnection]).toBe(
        'true',
      );
    });

    it('a KollectConnectionTest reports completed/latencyMs/conditions, is owned by the sink, and is deleted after its TTL', async () => {
      const ttl = 3;
      const sink = await get(sinkPath('good'));
      expect(sink).toBeDefined();
      const create = (name: string, sinkRef: Record<string, string>) =>
        kube.request<Obj>('POST', `${API}/namespaces/${ns}/kollectconnectiontests`, {
          body: {
            apiVersion: 'kollect.dev/v1alpha1',
            kind: 'KollectConnectionTest',
            metadata: { name },
            spec: { sinkRef, ttlSecondsAfterFinished: ttl },
          },
        });
      const successes = await metric('success');
      const failures = await metric('failure');
      await create('ct-ok', { [fc.testRef]: 'good' });
      await create('ct-bad', { [fc.testRef]: 'bad' });
      const completed = async (name: string): Promise<Obj> => {
        let last: Obj | undefined;
        const ok = await waitFor(
          async () => {
            last = await get(testPath(name));
            return last?.status?.completed === true;
          },
          60_000,
          100,
        );
        expect(ok, `test ${name}: ${JSON.stringify(last ?? null)}`).toBe(true);
        return last as Obj;
      };
      const ok = await completed('ct-ok');
      expect(ok.status).toMatchObject({ completed: true, observedGeneration: ok.metadata.generation });
      expect(ok.status?.latencyMs).toEqual(expect.any(Number));
      expect(Date.parse(ok.status?.completedAt ?? '')).not.toBeNaN();
      expect(condition(ok, 'ConnectionVerified')).toMatchObject({ status: 'True', reason: 'ConnectionOK' });
      expect(condition(ok, 'Ready')).toMatchObject({ status: 'True', reason: 'ProbeSucceeded' });
      const bad = await completed('ct-bad');
      expect(condition(bad, 'ConnectionVerified')).toMatchObject({
        status: 'False',
        reason: 'ConnectionTestFailed',
      });
      expect(condition(bad, 'Ready')).toMatchObject({ status: 'False', reason: 'ConnectionTestFailed' });
      expectScrubbed(condition(bad, 'ConnectionVerified')?.message);
      // Owned by the sink (ownerSink defaults to true).
      expect(
        await waitFor(
          async () => ((await get(testPath('ct-ok')))?.metadata.ownerReferences ?? []).length > 0,
          10_000,
        ),
      ).toBe(true);
      expect((await get(testPath('ct-ok')))?.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: fc.kind, name: 'good', uid: sink?.metadata.uid, controller: true }),
      ]);
      // Deleted after the TTL, counted from completedAt, and not before.
      expect(await waitFor(async () => (await get(testPath('ct-ok'))) === undefined, 60_000, 100)).toBe(true);
      const goneAt = Date.now();
      expect(goneAt).toBeGreaterThanOrEqual(Date.parse(ok.status?.completedAt ?? '') + ttl * 1000);
      expect(await waitFor(async () => (await get(testPath('ct-bad'))) === undefined, 60_000, 100)).toBe(
        true,
      );
      // Probed once each (the events of the prober's own writes do not probe again).
      expect(await metric('success')).toBe(successes + 1);
      expect(await metric('failure')).toBe(failures + 1);
    });

    it('a KollectConnectionTest naming a missing sink completes with SinkNotFound; a ref naming two sinks is refused as invalid', async () => {
      await kube.request('POST', `${API}/namespaces/${ns}/kollectconnectiontests`, {
        body: {
          apiVersion: 'kollect.dev/v1alpha1',
          kind: 'KollectConnectionTest',
          metadata: { name: 'ct-missing' },
          spec: { sinkRef: { [fc.testRef]: 'no-such-sink' }, ttlSecondsAfterFinished: 600 },
        },
      });
      let last: Obj | undefined;
      expect(
        await waitFor(
          async () => {
            last = await get(testPath('ct-missing'));
            return last?.status?.completed === true;
          },
          60_000,
          100,
        ),
      ).toBe(true);
      expect(condition(last, 'ConnectionVerified')).toMatchObject({
        status: 'False',
        reason: 'SinkNotFound',
      });
      expect(condition(last, 'Ready')).toMatchObject({ status: 'False', reason: 'SinkNotFound' });
      expect(condition(last, 'Ready')?.message).toContain('no-such-sink');
      expect(last?.metadata.ownerReferences ?? []).toEqual([]);
      // Exactly one of the three refs (the schema's rule; InvalidSinkRef in the seed's reconciler).
      const invalid = kube.request('POST', `${API}/namespaces/${ns}/kollectconnectiontests`, {
        body: {
          apiVersion: 'kollect.dev/v1alpha1',
          kind: 'KollectConnectionTest',
          metadata: { name: 'ct-two' },
          spec: { sinkRef: { snapshotSinkRef: 'good', databaseSinkRef: 'good' } },
        },
      });
      await expect(invalid).rejects.toThrow(
        /exactly one of snapshotSinkRef, databaseSinkRef or eventSinkRef/,
      );
    });

    it('kollect.dev/preview fills status.preview without side effects; removing the annotation clears it', async () => {
      await kube.request('PATCH', sinkPath('good'), {
        body: { metadata: { annotations: { [ANNOTATIONS.preview]: 'true' } } },
        contentType: MERGE,
      });
      const o = await sinkUntil('good', (x) => x?.status?.preview !== undefined);
      const p = o?.status?.preview ?? {};
      expect(p['inputSampleSource']).toBe('synthetic');
      expect(Date.parse(String(p['renderedAt']))).not.toBeNaN();
      fc.checkPreview(p);
      // The probe result stays.
      expect(condition(o, 'ConnectionVerified')?.status).toBe('True');
      await fc.checkNoSideEffects();
      await kube.request('PATCH', sinkPath('good'), {
        body: { metadata: { annotations: { [ANNOTATIONS.preview]: null } } },
        contentType: MERGE,
      });
      await sinkUntil('good', (x) => x !== undefined && x.status?.preview === undefined);
    });
  });
}

proberSuite(gitCase);
proberSuite(postgresCase);
