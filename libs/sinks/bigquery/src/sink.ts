import { BigQuery, type Query } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import { inventoryKey, KollectError, type InventoryRef } from '@kollect/contracts';
import {
  credentialsRef,
  SinkNeedsFullSnapshot,
  SinkTimeout,
  type AppliedPosition,
  type ApplyResult,
  type FullSnapshot,
  type ProbeResult,
  type Sink,
  type SinkCapabilities,
  type SinkContext,
  type SnapshotDiff,
} from '@kollect/sink';
import {
  bigquerySettings,
  credentialsJsonOf,
  EXPORTS_TABLE,
  sinkNameOf,
  type BigQuerySettings,
} from './config.js';
import {
  BigQueryTableIncompatible,
  BigQueryTableMissing,
  classifyBigQueryError,
  httpStatus,
} from './errors.js';
import {
  bqTimestamp,
  chunkRows,
  deleteParam,
  diffMergeSql,
  EXPORT_FIELDS,
  exportsTableResource,
  forgetSql,
  positionSql,
  recordPositionSql,
  replaceMergeSql,
  ROW_FIELDS,
  ROW_PARAM_TYPE,
  rowsTableResource,
  SCOPE_TYPES,
  scopeParams,
  sweepSql,
  transaction,
  upsertParam,
  type RowParam,
  type TableField,
} from './sql.js';

/** Capabilities: diffs are one MERGE by key; a full replace is the seed's MERGE. */
export const BIGQUERY_CAPABILITIES: SinkCapabilities = {
  kind: 'relational',
  formats: ['json'],
  incremental: true,
};

export const LIMITS = {
  /**
   * Encoded `@rows` per job. BigQuery refuses API requests over 10 MB; larger exports are merged
   * in chunks (rows first, position last, like the MongoDB sink) and a replace ends with a sweep.
   */
  requestBudgetBytes: 8 * 1024 * 1024,
  /** Wall-clock limit of one job, including queueing behind other DML on the table. */
  jobTimeoutMs: 600_000,
} as const;

interface TableMeta {
  schema?: { fields?: { name?: string; type?: string; mode?: string }[] };
}

/**
 * One BigQuery sink object (Beta, like the seed's). Writes are multi-statement transactions
 * (`BEGIN TRANSACTION … COMMIT TRANSACTION`) that MERGE the rows and record the position in
 * `kollect_exports` in the same job; only exports larger than one request are split.
 */
export class BigQuerySink implements Sink {
  readonly type = 'bigquery';
  readonly capabilities = BIGQUERY_CAPABILITIES;
  private readonly ctx: SinkContext;
  private readonly sinkName: string;
  private settings?: BigQuerySettings;
  private bq?: BigQuery;
  private provisioned = false;

  constructor(ctx: SinkContext) {
    this.ctx = ctx;
    this.sinkName = sinkNameOf(ctx.sink);
  }

  private prepare(): { bq: BigQuery; s: BigQuerySettings } {
    if (this.bq && this.settings) return { bq: this.bq, s: this.settings };
    const s = bigquerySettings(this.ctx.sink);
    const hasSecret = credentialsRef(this.ctx.sink) !== undefined;
    const options: ConstructorParameters<typeof BigQuery>[0] = {
      projectId: s.project,
      ...(s.location !== undefined ? { location: s.location } : {}),
      ...(s.endpoint !== undefined ? { apiEndpoint: s.endpoint.replace(/\/+$/, '') } : {}),
      maxRetries: 2,
    };
    if (s.emulator) {
      // Emulators take any bearer token; the Secret may carry one (key `token`).
      const auth = new OAuth2Client();
      auth.setCredentials({
        access_token: this.ctx.credentials.roles.token ?? this.ctx.credentials.data['token'] ?? 'emulator',
        expiry_date: Date.now() + 10 * 365 * 86_400_000,
      });
      options.authClient = auth as unknown as NonNullable<typeof options>['authClient'];
    } else {
      const json = credentialsJsonOf(this.sinkName, this.ctx.credentials, hasSecret);
      if (json) options.credentials = json as NonNullable<typeof options>['credentials'];
    }
    this.settings = s;
    this.bq = new BigQuery(options);
    return { bq: this.bq, s };
  }

  private async api<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw classifyBigQueryError(this.sinkName, err);
    }
  }

  /** Run one query job to completion and return its rows (of the last statement of a script). */
  private async run(
    op: string,
    query: string,
    params: Record<string, unknown>,
    types: Record<string, unknown>,
    dryRun = false,
  ): Promise<Record<string, unknown>[]> {
    const { bq, s } = this.prepare();
    const q: Query = {
      query,
      params,
      types: types as Query['types'],
      ...(s.location !== undefined ? { location: s.location } : {}),
      jobPrefix: 'kollect_',
      labels: { 'kollect-op': op },
      ...(dryRun ? { dryRun: true } : {}),
    };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(SinkTimeout(this.sinkName, `BigQuery ${op} job`, LIMITS.jobTimeoutMs)),
        LIMITS.jobTimeoutMs,
      );
    });
    try {
      return await Promise.race([
        this.api(async () => {
          const [job] = await bq.createQueryJob(q);
          if (dryRun) return [];
          const [rows] = await job.getQueryResults();
          return rows as Record<string, unknown>[];
        }),
        deadline,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async connect(): Promise<void> {
    const { bq, s } = this.prepare();
    if (this.provisioned) return;
    const ds = bq.dataset(s.dataset);
    const dsExists = await this.exists(() => ds.getMetadata());
    if (!dsExists)
      throw BigQueryTableMissing(
        this.sinkName,
        `dataset ${s.project}.${s.dataset}`,
        'create it (Kollect never creates datasets) or fix spec.bigquery.project/dataset',
      );
    await this.ensureTable(s.table, ROW_FIELDS, rowsTableResource(s));
    await this.ensureTable(EXPORTS_TABLE, EXPORT_FIELDS, exportsTableResource(s));
    this.provisioned = true;
  }

  /** GET; false on 404. */
  private async exists(get: () => Promise<unknown>): Promise<TableMeta | false> {
    try {
      const [meta] = (await get()) as [TableMeta];
      return meta ?? {};
    } catch (err) {
      if (httpStatus(err) === 404) return false;
      throw classifyBigQueryError(this.sinkName, err);
    }
  }

  /**
   * `ensure`: create the table when missing (409 = someone else did: fine), add the NULLABLE
   * `target_namespace` to a table the seed created; `existing`: only check. Both verify the schema.
   */
  private async ensureTable(
    table: string,
    fields: readonly TableField[],
    resource: Record<string, unknown>,
  ): Promise<void> {
    const { bq, s } = this.prepare();
    const t = bq.dataset(s.dataset).table(table);
    let meta = await this.exists(() => t.getMetadata());
    if (meta === false) {
      if (s.mode === 'existing')
        throw BigQueryTableMissing(
          this.sinkName,
          `table ${s.project}.${s.dataset}.${table}`,
          `provisioning.mode is existing, so Kollect will not create it; create it with the schema in docs/sinks-database.md or set provisioning.mode: ensure`,
        );
      try {
        await bq.dataset(s.dataset).createTable(table, resource);
        this.ctx.log.info(
          { sink: this.sinkName, table: `${s.project}.${s.dataset}.${table}` },
          'created BigQuery table',
        );
      } catch (err) {
        if (httpStatus(err) !== 409) throw classifyBigQueryError(this.sinkName, err);
      }
      meta = (await this.exists(() => t.getMetadata())) || {};
    }
    const have = meta.schema?.fields ?? [];
    const problems: string[] = [];
    const missing: TableField[] = [];
    for (const f of fields) {
      const h = have.find((x) => x.name === f.name);
      if (!h) {
        if (f.mode === 'NULLABLE') missing.push(f);
        else problems.push(`column ${f.name} (${f.type}) is missing`);
      } else if (normalType(h.type) !== f.type)
        problems.push(`column ${f.name} is ${h.type}, expected ${f.type}`);
    }
    for (const h of have) {
      if (!fields.some((f) => f.name === h.name) && h.mode === 'REQUIRED')
        problems.push(`column ${h.name} is REQUIRED, so Kollect cannot insert rows`);
    }
    if (problems.length === 0 && missing.length > 0) {
      if (s.mode === 'existing')
        problems.push(...missing.map((f) => `column ${f.name} (${f.type}, NULLABLE) is missing`));
      else {
        await this.api(() =>
          t.setMetadata({ schema: { fields: [...have, ...missing.map((f) => ({ ...f }))] } }),
        );
        this.ctx.log.warn(
          { sink: this.sinkName, table, added: missing.map((f) => f.name) },
          'added columns to the BigQuery table',
        );
      }
    }
    if (problems.length > 0)
      throw BigQueryTableIncompatible(
        this.sinkName,
        `${s.project}.${s.dataset}.${table}`,
        problems.join('; '),
        have.map((h) => `${h.name} ${h.type}${h.mode === 'REQUIRED' ? ' REQUIRED' : ''}`).join(', ') ||
          '(no columns)',
      );
  }

  async lastApplied(inventory: InventoryRef): Promise<AppliedPosition | null> {
    await this.connect();
    const { s } = this.prepare();
    const rows = await this.run('position', positionSql(s), scopeParams(s, this.ctx.cluster, inventory), {
      ...SCOPE_TYPES,
    });
    const r = rows[0];
    if (!r) return null;
    const gen = r['export_generation'];
    return {
      exportGeneration: Number(
        typeof gen === 'object' && gen !== null && 'value' in gen ? (gen as { value: unknown }).value : gen,
      ),
      checksum: String(r['checksum']),
    };
  }

  async applyDiff(diff: SnapshotDiff): Promise<ApplyResult> {
    await this.connect();
    const { s } = this.prepare();
    const inv = diff.inventory;
    const pos = await this.lastApplied(inv);
    if (pos && pos.exportGeneration >= diff.exportGeneration) return this.result(false, 0);
    if (!pos || pos.exportGeneration !== diff.previousGeneration)
      throw SinkNeedsFullSnapshot(
        `table ${s.table} holds generation ${pos?.exportGeneration ?? 'none'} of ${inventoryKey(inv)}, the diff applies on top of ${diff.previousGeneration}`,
      );
    const rows: RowParam[] = [
      ...diff.deletes.map(deleteParam),
      ...dedupe(diff.upserts.map((it) => upsertParam(it, inv))),
    ];
    const chunks = chunkRows(rows, LIMITS.requestBudgetBytes);
    const scope = this.writeParams(
      inv,
      diff.exportGeneration,
      diff.checksum,
      diff.itemCount,
      diff.exportedAt,
    );
    if (chunks.length === 1) {
      await this.run(
        'diff',
        transaction(diffMergeSql(s), recordPositionSql(s)),
        { ...scope, rows: chunks[0] },
        this.writeTypes(true),
      );
    } else {
      for (const c of chunks)
        await this.run('diff-chunk', diffMergeSql(s), { ...scope, rows: c }, this.writeTypes(true));
      await this.run('position', recordPositionSql(s), scope, this.writeTypes(false));
    }
    return this.result(true, bytesOf(rows));
  }

  async replace(snapshot: FullSnapshot): Promise<ApplyResult> {
    await this.connect();
    const { s } = this.prepare();
    const inv = snapshot.inventory;
    const pos = await this.lastApplied(inv);
    if (pos && pos.exportGeneration > snapshot.exportGeneration) return this.result(false, 0);
    const rows = dedupe(snapshot.items.map((it) => upsertParam(it, inv)));
    const chunks = chunkRows(rows, LIMITS.requestBudgetBytes);
    const scope = this.writeParams(
      inv,
      snapshot.exportGeneration,
      snapshot.checksum,
      snapshot.items.length,
      snapshot.exportedAt,
    );
    if (chunks.length === 1) {
      await this.run(
        'replace',
        transaction(replaceMergeSql(s), recordPositionSql(s)),
        { ...scope, rows: chunks[0] },
        this.writeTypes(true),
      );
    } else {
      // Every chunk sets exported_at of the rows it writes; the sweep deletes the rest.
      for (const c of chunks)
        await this.run('replace-chunk', diffMergeSql(s), { ...scope, rows: c }, this.writeTypes(true));
      await this.run(
        'replace-sweep',
        transaction(sweepSql(s), recordPositionSql(s)),
        scope,
        this.writeTypes(false),
      );
    }
    return this.result(true, bytesOf(rows));
  }

  async forget(inventory: InventoryRef): Promise<ApplyResult> {
    await this.connect();
    const { s } = this.prepare();
    await this.run('forget', forgetSql(s), scopeParams(s, this.ctx.cluster, inventory), { ...SCOPE_TYPES });
    return this.result(true, 0);
  }

  private writeParams(
    inv: InventoryRef,
    gen: number,
    checksum: string,
    count: number,
    exportedAt: string,
  ): Record<string, unknown> {
    const { s } = this.prepare();
    // A TIMESTAMP parameter must be a BigQueryTimestamp: the client silently sends a plain string as NULL.
    return {
      ...scopeParams(s, this.ctx.cluster, inv),
      exported_at: BigQuery.timestamp(bqTimestamp(exportedAt)),
      export_generation: gen,
      checksum,
      item_count: count,
    };
  }

  private writeTypes(withRows: boolean): Record<string, unknown> {
    return {
      ...SCOPE_TYPES,
      exported_at: 'TIMESTAMP',
      export_generation: 'INT64',
      checksum: 'STRING',
      item_count: 'INT64',
      ...(withRows ? { rows: [ROW_PARAM_TYPE] } : {}),
    };
  }

  private result(changed: boolean, bytes: number): ApplyResult {
    const s = this.settings;
    return { changed, bytes, ...(s ? { location: `${s.project}.${s.dataset}.${s.table}` } : {}) };
  }

  /** As the seed: credentials → dataset GET → dry-run `SELECT 1` (SEED-SPEC §9.3). */
  async probe(): Promise<ProbeResult> {
    const started = Date.now();
    try {
      const { bq, s } = this.prepare();
      if (!s.emulator) await this.api(() => bq.authClient.getAccessToken());
      const ds = await this.exists(() => bq.dataset(s.dataset).getMetadata());
      if (!ds)
        throw BigQueryTableMissing(
          this.sinkName,
          `dataset ${s.project}.${s.dataset}`,
          'create it (Kollect never creates datasets) or fix spec.bigquery.project/dataset',
        );
      await this.run('probe', 'SELECT 1', {}, {}, true);
      return {
        ok: true,
        message: `BigQuery credentials accepted, dataset ${s.project}.${s.dataset} found, dry-run query ok`,
        latencyMs: Date.now() - started,
      };
    } catch (err) {
      const e = err instanceof KollectError ? err : classifyBigQueryError(this.sinkName, err);
      return {
        ok: false,
        message: e.message,
        latencyMs: Date.now() - started,
        errorClass: e.errorClass === 'transient' || e.errorClass === 'forbidden' ? e.errorClass : 'terminal',
        reason: e.reason === 'SecretResolveFailed' ? 'SecretResolveFailed' : 'ConnectionTestFailed',
      };
    }
  }

  async close(): Promise<void> {
    this.bq = undefined;
    this.provisioned = false;
  }
}

/** BigQuery reports `INTEGER`/`FLOAT`/`BOOLEAN` for legacy type names. */
function normalType(t: string | undefined): string {
  return t === 'INTEGER' ? 'INT64' : t === 'FLOAT' ? 'FLOAT64' : t === 'BOOLEAN' ? 'BOOL' : (t ?? '');
}

/** One row per key (the last wins), so the MERGE never matches a target row twice. */
function dedupe(rows: RowParam[]): RowParam[] {
  const m = new Map<string, RowParam>();
  for (const r of rows) m.set(`${r.target_namespace}\u0000${r.target_name}\u0000${r.source_uid}`, r);
  return [...m.values()];
}

function bytesOf(rows: readonly RowParam[]): number {
  let n = 0;
  for (const r of rows) n += r.payload.length;
  return n;
}
