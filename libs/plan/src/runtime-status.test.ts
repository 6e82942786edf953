import type {
  AggregatorStatusReport,
  ExtractionStatusReport,
  SinkStatusReport,
  WatcherStatusReport,
} from '@kollect/contracts';
import { describe, expect, it } from 'vitest';
import { REASONS } from './conditions.js';
import {
  applyExtractionReport,
  applySinkReport,
  cleanupProgress,
  inventoryStatusFrom,
  oversizedByGvr,
  targetStatusFrom,
  watchStateKey,
  type InventoryStatusBasis,
  type SinkExportState,
  type TargetStatusBasis,
} from './runtime-status.js';
import type { DesiredStatus } from './status-model.js';

const subject = {
  kind: 'KollectInventory' as const,
  namespace: 'team-a',
  name: 'inv',
  uid: 'u1',
  generation: 3,
};
const inventory = { kind: 'KollectInventory' as const, namespace: 'team-a', name: 'inv' };

function basis(
  families: ('snapshot' | 'database' | 'event')[],
  over: Partial<InventoryStatusBasis> = {},
): InventoryStatusBasis {
  return {
    subject,
    kind: 'KollectInventory',
    preExportReachable: {
      type: 'SinkReachable',
      status: 'True',
      reason: REASONS.SinkResolved,
      message: 'resolved',
    },
    bindings: families.map((family, i) => ({
      family,
      name: `s${i}`,
      namespace: 'team-a',
      key: `${family}/team-a/s${i}`,
      type: family === 'database' ? 'postgres' : 'git',
    })),
    sizeLimited: false,
    deleting: false,
    ...over,
  };
}

function report(
  i: number,
  family: 'snapshot' | 'database' | 'event',
  outcome: SinkStatusReport['outcome'],
  over: Partial<SinkStatusReport> = {},
): SinkStatusReport {
  return {
    schemaVersion: 'kollect.dev/bus/v1',
    cluster: 'c',
    inventory,
    sink: { family, namespace: 'team-a', name: `s${i}` },
    sinkType: family === 'database' ? 'postgres' : 'git',
    exportGeneration: 4,
    checksum: 'ab'.repeat(32),
    itemCount: 12,
    outcome,
    at: '2026-02-01T12:00:00Z',
    ...over,
  };
}

function states(...reports: SinkStatusReport[]): Map<string, SinkExportState> {
  const m = new Map<string, SinkExportState>();
  for (const r of reports) {
    const key = `${r.sink.family}/${r.sink.namespace}/${r.sink.name}`;
    m.set(key, applySinkReport(m.get(key), r));
  }
  return m;
}

const agg = (over: Partial<AggregatorStatusReport> = {}): AggregatorStatusReport => ({
  schemaVersion: 'kollect.dev/bus/v1',
  cluster: 'c',
  inventory,
  planGeneration: 1,
  itemCount: 12,
  exportGeneration: 4,
  checksum: 'ab'.repeat(32),
  gateOpen: true,
  at: '2026-02-01T12:00:00Z',
  ...over,
});

const c = (s: DesiredStatus, type: string) => s.conditions.find((x) => x.type === type);
const summary = (s: DesiredStatus) =>
  Object.fromEntries(s.conditions.map((x) => [x.type, `${x.status}/${x.reason}`]));

describe('inventoryStatusFrom — aggregate conditions (SEED-SPEC §3.6, §9.2)', () => {
  const cases: {
    name: string;
    families: ('snapshot' | 'database' | 'event')[];
    reports: SinkStatusReport[];
    expect: Record<string, string>;
  }[] = [
    {
      name: 'all sinks exported → Ready/Synced True Exported',
      families: ['database', 'snapshot'],
      reports: [report(0, 'database', 'exported'), report(1, 'snapshot', 'exported')],
      expect: { SinkReachable: 'True/ExportSucceeded', Ready: 'True/Exported', Synced: 'True/Exported' },
    },
    {
      name: 'some debounced → Ready True Exported, Synced False PartiallySynced',
      families: ['database', 'snapshot'],
      reports: [
        report(0, 'database', 'exported'),
        report(1, 'snapshot', 'debounced', { message: 'next export in 20s' }),
      ],
      expect: {
        SinkReachable: 'True/ExportSucceeded',
        Ready: 'True/Exported',
        Synced: 'False/PartiallySynced',
      },
    },
    {
      name: 'all debounced → Ready True Exported (the all-debounced case is Ready)',
      families: ['database'],
      reports: [report(0, 'database', 'debounced')],
      expect: {
        SinkReachable: 'True/ExportSucceeded',
        Ready: 'True/Exported',
        Synced: 'False/PartiallySynced',
      },
    },
    {
      name: 'some failed and ≥1 exported → Ready True PartiallySynced, Synced False PartiallySynced',
      families: ['database', 'snapshot'],
      reports: [
        report(0, 'database', 'exported'),
        report(1, 'snapshot', 'failed', { errorClass: 'transient', message: 'push rejected' }),
      ],
      expect: {
        SinkReachable: 'False/ExportFailed',
        Ready: 'True/PartiallySynced',
        Synced: 'False/PartiallySynced',
      },
    },
    {
      name: 'every due sink failed transiently → Degraded Progressing (Ready/Synced removed)',
      families: ['database', 'snapshot'],
      reports: [
        report(0, 'database', 'failed', { errorClass: 'transient' }),
        report(1, 'snapshot', 'debounced'),
      ],
      expect: { SinkReachable: 'False/ExportFailed', Degraded: 'True/Progressing' },
    },
    {
      name: 'every sink failed permanently → Degraded ExportTerminal',
      families: ['database', 'snapshot'],
      reports: [
        report(0, 'database', 'failed', { errorClass: 'terminal' }),
        report(1, 'snapshot', 'failed', { errorClass: 'forbidden' }),
      ],
      expect: { SinkReachable: 'False/ExportTerminal', Degraded: 'True/ExportTerminal' },
    },
    {
      name: 'every failure is payload_too_large → Degraded PayloadTooLarge',
      families: ['event'],
      reports: [report(0, 'event', 'failed', { errorClass: 'payload_too_large' })],
      expect: { SinkReachable: 'False/ExportTerminal', Degraded: 'True/PayloadTooLarge' },
    },
    {
      name: 'no report yet → waiting (Ready True, Synced False Progressing) with the compile-time SinkReachable',
      families: ['database'],
      reports: [],
      expect: { SinkReachable: 'True/SinkResolved', Ready: 'True/Exported', Synced: 'False/Progressing' },
    },
    {
      name: 'no refs → Synced True NoExport',
      families: [],
      reports: [],
      expect: { SinkReachable: 'True/SinkResolved', Ready: 'True/Exported', Synced: 'True/NoExport' },
    },
    {
      name: '"unchanged" counts as exported',
      families: ['database'],
      reports: [report(0, 'database', 'unchanged')],
      expect: { SinkReachable: 'True/ExportSucceeded', Ready: 'True/Exported', Synced: 'True/Exported' },
    },
  ];
  for (const t of cases) {
    it(t.name, () => {
      expect(summary(inventoryStatusFrom(basis(t.families), states(...t.reports), agg()))).toEqual(t.expect);
    });
  }

  it('a compile-time Degraded wins and removes Ready/Synced', () => {
    const s = inventoryStatusFrom(
      basis(['database'], {
        degraded: { type: 'Degraded', status: 'True', reason: REASONS.ScopeSinkDenied, message: 'denied' },
      }),
      states(report(0, 'database', 'exported')),
      agg(),
    );
    expect(summary(s)).toEqual({ SinkReachable: 'True/ExportSucceeded', Degraded: 'True/ScopeSinkDenied' });
  });

  it('fills itemCount, exportGeneration, lastExportTime and one sinkExports entry per binding named <family>/<sink>', () => {
    const s = inventoryStatusFrom(
      basis(['database', 'snapshot']),
      states(
        report(0, 'database', 'exported', { at: '2026-02-01T12:00:05Z' }),
        report(1, 'snapshot', 'failed', { message: 'down' }),
      ),
      agg({ itemCount: 12, exportGeneration: 4 }),
    );
    expect(s.fields['itemCount']).toBe(12);
    expect(s.fields['exportGeneration']).toBe(4);
    expect(s.fields['lastExportTime']).toBe('2026-02-01T12:00:05Z');
    expect(s.fields['sinkExports']).toEqual([
      {
        name: 'database/s0',
        namespace: 'team-a',
        lastExportTime: '2026-02-01T12:00:05Z',
        lastChecksum: 'ab'.repeat(32),
        exportGeneration: 4,
        conditions: [
          {
            type: 'Synced',
            status: 'True',
            reason: 'Exported',
            message: 'export generation 4: 12 item(s) @ abababababab',
          },
        ],
      },
      {
        name: 'snapshot/s1',
        namespace: 'team-a',
        conditions: [{ type: 'Synced', status: 'False', reason: 'ExportFailed', message: 'down' }],
      },
    ]);
  });

  it('a failed export keeps the last successful time and checksum of that sink', () => {
    const m = states(
      report(0, 'database', 'exported', { at: '2026-02-01T11:00:00Z', exportGeneration: 3 }),
      report(0, 'database', 'failed', { exportGeneration: 4, message: 'timeout' }),
    );
    const entry = (
      inventoryStatusFrom(basis(['database']), m, agg()).fields['sinkExports'] as {
        lastExportTime: string;
        exportGeneration: number;
      }[]
    )[0]!;
    expect(entry.lastExportTime).toBe('2026-02-01T11:00:00Z');
    expect(entry.exportGeneration).toBe(3);
  });

  it('ignores a report about an older export generation than the one recorded', () => {
    const m = states(
      report(0, 'database', 'exported', { exportGeneration: 5 }),
      report(0, 'database', 'failed', { exportGeneration: 4 }),
    );
    expect(m.get('database/team-a/s0')!.outcome).toBe('exported');
  });

  it('shows the readiness gate while nothing was exported', () => {
    const s = inventoryStatusFrom(
      basis(['database']),
      new Map(),
      agg({ gateOpen: false, waitingFor: ['apps/v1/deployments not synced'] }),
    );
    expect(c(s, 'Synced')?.message).toContain('apps/v1/deployments not synced');
  });

  it('ExportShardWarning at ≥1,800 rows only when a bound sink has a size limit', () => {
    const big = agg({ itemCount: 1800 });
    expect(
      c(inventoryStatusFrom(basis(['event'], { sizeLimited: true }), new Map(), big), 'ExportShardWarning'),
    ).toMatchObject({ status: 'True', reason: 'ApproachingExportCap' });
    expect(
      c(inventoryStatusFrom(basis(['event'], { sizeLimited: false }), new Map(), big), 'ExportShardWarning'),
    ).toBeUndefined();
    expect(
      c(
        inventoryStatusFrom(basis(['event'], { sizeLimited: true }), new Map(), agg({ itemCount: 1799 })),
        'ExportShardWarning',
      ),
    ).toBeUndefined();
  });

  it('cluster inventories carry targetCount and the aggregator namespace shards', () => {
    const s = inventoryStatusFrom(
      basis([], { kind: 'KollectClusterInventory', targetCount: 2 }),
      new Map(),
      agg({
        namespaceShards: [
          { namespace: 'b', itemCount: 1, targetCount: 1, checksum: 'x' },
          { namespace: 'a', itemCount: 2, targetCount: 2, checksum: 'y' },
        ],
      }),
    );
    expect(s.fields['targetCount']).toBe(2);
    expect(s.fields['namespaceShardCount']).toBe(2);
    expect((s.fields['namespaceShards'] as { namespace: string }[]).map((x) => x.namespace)).toEqual([
      'a',
      'b',
    ]);
  });
});

describe('inventory deletion cleanup (SEED-SPEC §6.4)', () => {
  it('is done at once without relational bindings', () => {
    expect(cleanupProgress(basis(['snapshot']), new Map(), undefined)).toEqual({ state: 'done' });
  });
  it('waits for the aggregator, then for every relational binding to apply the final generation', () => {
    const b = basis(['database', 'database']);
    expect(cleanupProgress(b, new Map(), agg()).state).toBe('waiting-aggregator');
    const a = agg({ finalExportGeneration: 9, itemCount: 0 });
    const one = states(report(0, 'database', 'exported', { exportGeneration: 9, itemCount: 0 }));
    expect(cleanupProgress(b, one, a)).toEqual({
      state: 'waiting-sinks',
      finalExportGeneration: 9,
      pending: ['database/s1'],
    });
    const both = states(
      report(0, 'database', 'exported', { exportGeneration: 9 }),
      report(1, 'database', 'unchanged', { exportGeneration: 10 }),
    );
    expect(cleanupProgress(b, both, a)).toEqual({ state: 'done' });
  });
  it('a permanent failure from before the final export is not terminal', () => {
    const b = basis(['database'], { deleting: true });
    const old = states(report(0, 'database', 'failed', { exportGeneration: 8, errorClass: 'terminal' }));
    expect(cleanupProgress(b, old, agg({ finalExportGeneration: 9 })).state).toBe('waiting-sinks');
  });
  it('a permanent failure is terminal (CleanupTerminal), a transient one keeps waiting', () => {
    const b = basis(['database'], { deleting: true });
    const a = agg({ finalExportGeneration: 9 });
    const terminal = states(
      report(0, 'database', 'failed', {
        exportGeneration: 9,
        errorClass: 'terminal',
        message: 'permission denied for table',
      }),
    );
    expect(cleanupProgress(b, terminal, a).state).toBe('terminal');
    expect(summary(inventoryStatusFrom(b, terminal, a))).toMatchObject({ Degraded: 'True/CleanupTerminal' });
    const transient = states(
      report(0, 'database', 'failed', { exportGeneration: 9, errorClass: 'transient' }),
    );
    expect(cleanupProgress(b, transient, a).state).toBe('waiting-sinks');
    expect(summary(inventoryStatusFrom(b, transient, a))).toMatchObject({
      Ready: 'False/CleanupInProgress',
      Synced: 'False/CleanupInProgress',
    });
  });
});

describe('targetStatusFrom — extraction failures and watch state (SEED-SPEC §3.4, §4.2)', () => {
  const tSubject = {
    kind: 'KollectTarget' as const,
    namespace: 'team-a',
    name: 't',
    uid: 'u',
    generation: 2,
  };
  const gvr = { group: 'apps', version: 'v1', resource: 'deployments' };
  const tBasis: TargetStatusBasis = {
    subject: tSubject,
    active: true,
    gvrs: [gvr],
    fingerprint: '2:hash',
    status: {
      subject: tSubject,
      conditions: [
        { type: 'Ready', status: 'True', reason: REASONS.Collecting, message: 'ok' },
        { type: 'Synced', status: 'True', reason: REASONS.Collecting, message: 'ok' },
      ],
      ownedConditionTypes: ['Ready', 'Synced', 'Degraded', 'SinkReachable'],
      fields: { observedGeneration: 2 },
      ownedFields: ['observedGeneration', 'extractionFailures', 'lastExtractionError'],
    },
  };
  const ext = (failed: ExtractionStatusReport['failed'], cleared: string[] = []): ExtractionStatusReport => ({
    schemaVersion: 'kollect.dev/bus/v1',
    cluster: 'c',
    target: { kind: 'KollectTarget', namespace: 'team-a', name: 't' },
    planGeneration: 1,
    failed,
    cleared,
    at: '2026-02-01T12:00:00Z',
  });
  const fail = (uid: string, name: string) => ({
    uid,
    namespace: 'team-a',
    name,
    reason: 'ExtractionFailed',
    message: `attribute image: no such key`,
  });

  it('counts failing objects, reports the last error and degrades with ExtractionFailed', () => {
    const st = applyExtractionReport(undefined, '2:hash', ext([fail('a', 'api'), fail('b', 'web')]));
    const s = targetStatusFrom(tBasis, st, new Map());
    expect(s.fields['extractionFailures']).toBe(2);
    expect(s.fields['lastExtractionError']).toBe('team-a/web: attribute image: no such key');
    expect(summary(s)).toEqual({ Degraded: 'True/ExtractionFailed' });
  });

  it('clears a uid on success, non-match or delete, and recovers when none fail', () => {
    let st = applyExtractionReport(undefined, '2:hash', ext([fail('a', 'api')]));
    st = applyExtractionReport(st, '2:hash', ext([], ['a']));
    const s = targetStatusFrom(tBasis, st, new Map());
    expect(s.fields['extractionFailures']).toBe(0);
    expect(s.fields['lastExtractionError']).toBeUndefined();
    expect(summary(s)).toEqual({ Ready: 'True/Collecting', Synced: 'True/Collecting' });
  });

  it('forgets failures when the target definition changes (the replay re-reports)', () => {
    const st = applyExtractionReport(undefined, '1:old', ext([fail('a', 'api')]));
    expect(targetStatusFrom(tBasis, st, new Map()).fields['extractionFailures']).toBe(0);
  });

  it('a GVR the watcher reports as not served degrades with InformerRegistrationFailed; Forbidden keeps collecting with Synced ScopeForbidden', () => {
    const w = (reason: WatcherStatusReport['reason'], namespace: string | null): WatcherStatusReport => ({
      schemaVersion: 'kollect.dev/bus/v1',
      cluster: 'c',
      gvr,
      namespace,
      state: 'failed',
      reason,
      at: 'x',
    });
    const nf = new Map([[watchStateKey(gvr, null), w('NotFound', null)]]);
    expect(summary(targetStatusFrom(tBasis, undefined, nf))).toEqual({
      Degraded: 'True/InformerRegistrationFailed',
    });
    const fb = new Map([[watchStateKey(gvr, 'team-b'), w('Forbidden', 'team-b')]]);
    expect(summary(targetStatusFrom(tBasis, undefined, fb))).toEqual({
      Ready: 'True/Collecting',
      Synced: 'True/ScopeForbidden',
    });
  });
});

describe('targetStatusFrom — objects too large for the bus', () => {
  const tSubject = {
    kind: 'KollectTarget' as const,
    namespace: 'team-a',
    name: 't',
    uid: 'u',
    generation: 1,
  };
  const cms = { group: '', version: 'v1', resource: 'configmaps' };
  const tBasis: TargetStatusBasis = {
    subject: tSubject,
    active: true,
    gvrs: [cms],
    scopes: [{ gvr: cms, namespaces: ['team-a'] }],
    fingerprint: '1:h',
    status: {
      subject: tSubject,
      conditions: [
        { type: 'Ready', status: 'True', reason: REASONS.Collecting, message: 'ok' },
        { type: 'Synced', status: 'True', reason: REASONS.Collecting, message: 'ok' },
      ],
      ownedConditionTypes: ['Ready', 'Synced', 'Degraded', 'SinkReachable'],
      fields: { observedGeneration: 1 },
      ownedFields: ['observedGeneration', 'extractionFailures', 'lastExtractionError'],
    },
  };
  const big = (namespace: string, name: string, bytes = 1_300_000) => ({
    namespace,
    name,
    uid: `${namespace}-${name}`,
    bytes,
    limit: 1_048_576,
  });
  const report = (
    namespace: string | null,
    objects: ReturnType<typeof big>[],
    at = '2026-02-01T12:00:00Z',
    count = objects.length,
  ): WatcherStatusReport => ({
    schemaVersion: 'kollect.dev/bus/v1',
    cluster: 'c',
    gvr: cms,
    namespace,
    state: 'synced',
    oversized: { count, current: objects.length, objects },
    at,
  });
  const states = (...rs: WatcherStatusReport[]) =>
    new Map(rs.map((r) => [watchStateKey(r.gvr, r.namespace), r]));

  it('degrades with PayloadTooLarge naming the object and its size, for an object in its namespaces', () => {
    const s = targetStatusFrom(tBasis, undefined, states(report('team-a', [big('team-a', 'huge')])));
    expect(summary(s)).toEqual({ Degraded: 'True/PayloadTooLarge' });
    const c = s.conditions[0]!;
    expect(c.message).toContain('team-a/huge (1300000 bytes)');
    expect(c.message).toContain('1048576');
  });

  it('ignores oversized objects outside its namespaces or of other GVRs', () => {
    const other = { ...report(null, [big('team-b', 'huge')]) };
    expect(summary(targetStatusFrom(tBasis, undefined, states(other)))).toEqual({
      Ready: 'True/Collecting',
      Synced: 'True/Collecting',
    });
    const secrets = { ...report('team-a', [big('team-a', 'huge')]), gvr: { ...cms, resource: 'secrets' } };
    expect(summary(targetStatusFrom(tBasis, undefined, states(secrets)))).toEqual({
      Ready: 'True/Collecting',
      Synced: 'True/Collecting',
    });
  });

  it('clears when the watcher reports the object no longer oversized (shrunk or deleted)', () => {
    const cleared = report('team-a', [], '2026-02-01T12:01:00Z', 1);
    expect(summary(targetStatusFrom(tBasis, undefined, states(cleared)))).toEqual({
      Ready: 'True/Collecting',
      Synced: 'True/Collecting',
    });
  });

  it('uses only the reports of the scopes the watcher runs now (per-namespace vs cluster-wide)', () => {
    const stalePerNs = report('team-a', [big('team-a', 'huge')], '2026-02-01T12:00:00Z');
    const wide = report(null, [], '2026-02-01T12:05:00Z', 1);
    expect(summary(targetStatusFrom(tBasis, undefined, states(stalePerNs, wide)))).toEqual({
      Ready: 'True/Collecting',
      Synced: 'True/Collecting',
    });
    const newerPerNs = report('team-a', [big('team-a', 'huge')], '2026-02-01T12:09:00Z');
    expect(summary(targetStatusFrom(tBasis, undefined, states(newerPerNs, wide)))).toEqual({
      Degraded: 'True/PayloadTooLarge',
    });
  });

  it('lists at most five objects and counts the rest; a cluster-scoped object counts as namespace default', () => {
    const many = Array.from({ length: 7 }, (_, i) => big('team-a', `o${i}`));
    const m = targetStatusFrom(tBasis, undefined, states(report('team-a', many))).conditions[0]!.message;
    expect(m).toMatch(/^7 object\(s\)/);
    expect(m).toContain('and 2 more');
    const nodeScoped: TargetStatusBasis = { ...tBasis, scopes: [{ gvr: cms, namespaces: ['default'] }] };
    expect(
      summary(targetStatusFrom(nodeScoped, undefined, states(report(null, [big('', 'cluster-thing')])))),
    ).toEqual({ Degraded: 'True/PayloadTooLarge' });
  });

  it('a report from a watcher without `current` keeps its last object as current', () => {
    const legacy: WatcherStatusReport = {
      ...report('team-a', []),
      oversized: { count: 2, last: big('team-a', 'old') },
    };
    expect(
      oversizedByGvr(states(legacy))
        .get('/v1/configmaps')
        ?.map((o) => o.name),
    ).toEqual(['old']);
  });
});
