import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { inventoryKey, KollectError, type InventoryRef } from '@kollect/contracts';
import {
  credentialsRef,
  SinkNeedsFullSnapshot,
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
  dsnOf,
  parseDsn,
  postgresSettings,
  quoteIdent,
  sinkNameOf,
  tlsSettings,
  type PostgresConnection,
  type PostgresSettings,
} from './config.js';
import {
  ensureDdl,
  exportsTableDdl,
  EXPORTS_TABLE,
  migrationDdl,
  names,
  portalIndexDdl,
  portalViewDdl,
  rowsTableDdl,
  type Names,
} from './ddl.js';
import {
  classifyPgError,
  describePgError,
  PostgresRowRejected,
  PostgresTableIncompatible,
  PostgresTableMissing,
} from './errors.js';
import {
  exportsTableVerdict,
  inspectTable,
  rowsTableVerdict,
  type Queryable,
  type TableVerdict,
} from './schema.js';
import {
  COPY_STAGE_SQL,
  copyChunks,
  CREATE_STAGE_SQL,
  deleteKeysParams,
  deleteKeysSql,
  deleteScopeSql,
  deleteStaleFromKeysSql,
  deleteStaleFromStageSql,
  forgetPositionSql,
  INSERT_BATCH_ROWS,
  LOCK_SQL,
  lockKey,
  NESTLOOP_SQL,
  NO_NESTLOOP_SQL,
  mergeStageSql,
  positionParams,
  positionSql,
  recordPositionSql,
  rowsOf,
  scopeParams,
  STAGE,
  upsertValuesParams,
  upsertValuesSql,
  type RowValues,
} from './sql.js';

/** Capabilities of the Postgres backend: rows are upserted and deleted individually. */
export const POSTGRES_CAPABILITIES: SinkCapabilities = {
  kind: 'relational',
  formats: ['json'],
  incremental: true,
};

/** Connection pool limits per sink (SEED-SPEC §5.6: a pool per sink, 30 s connect timeout). */
export const POOL = {
  max: 4,
  connectionTimeoutMillis: 30_000,
  idleTimeoutMillis: 30_000,
  /** A stuck statement must not hold an export (and its inventory lock) forever. */
  statementTimeoutMs: 300_000,
  /** Waiting for another replica's lock on the same (table, cluster, inventory). */
  lockTimeoutMs: 120_000,
  idleInTransactionTimeoutMs: 120_000,
} as const;

type Client = pg.PoolClient;

/**
 * One Postgres sink object: a pool, the provisioning check, and the two write paths. Every write
 * is one transaction that also records the new position in `kollect_exports`, so the rows and
 * the position can never disagree (ARCHITECTURE.md invariant 5).
 */
export class PostgresSink implements Sink {
  readonly type = 'postgres';
  readonly capabilities = POSTGRES_CAPABILITIES;
  private readonly ctx: SinkContext;
  private readonly sinkName: string;
  private settings?: PostgresSettings;
  private n?: Names;
  private conn?: PostgresConnection;
  private pool?: pg.Pool;
  private provisioned = false;

  constructor(ctx: SinkContext) {
    this.ctx = ctx;
    this.sinkName = sinkNameOf(ctx.sink);
  }

  /** Parse settings and credentials (terminal errors) and build the pool; no I/O. */
  private prepare(): { pool: pg.Pool; n: Names; settings: PostgresSettings } {
    if (this.pool && this.n && this.settings) return { pool: this.pool, n: this.n, settings: this.settings };
    const settings = postgresSettings(this.ctx.sink);
    const field = credentialsRef(this.ctx.sink)?.field ?? 'spec.postgres.databaseRef';
    const dsn = dsnOf(this.sinkName, this.ctx.credentials, field);
    const conn = parseDsn(this.sinkName, dsn, tlsSettings(this.ctx.sink, this.ctx.credentials));
    const pool = new pg.Pool({
      host: conn.host,
      ...(conn.port !== undefined ? { port: conn.port } : {}),
      ...(conn.user !== undefined ? { user: conn.user } : {}),
      ...(conn.password !== undefined ? { password: conn.password } : {}),
      ...(conn.database !== undefined ? { database: conn.database } : {}),
      ssl: conn.ssl,
      application_name: conn.extra['application_name'] ?? 'kollect-sink',
      ...(conn.extra['options'] !== undefined ? { options: conn.extra['options'] } : {}),
      max: POOL.max,
      connectionTimeoutMillis: POOL.connectionTimeoutMillis,
      idleTimeoutMillis: POOL.idleTimeoutMillis,
      statement_timeout: POOL.statementTimeoutMs,
      lock_timeout: POOL.lockTimeoutMs,
      idle_in_transaction_session_timeout: POOL.idleInTransactionTimeoutMs,
    });
    // An idle connection that dies (server restart) must not crash the worker; the next
    // checkout opens a new one.
    pool.on('error', (err) =>
      this.ctx.log.warn(
        { sink: this.sinkName, err: classifyPgError(this.sinkName, err).message },
        'idle postgres connection failed',
      ),
    );
    this.settings = settings;
    this.n = names(settings);
    this.conn = conn;
    this.pool = pool;
    return { pool, n: this.n, settings };
  }

  private where(): string {
    const c = this.conn;
    return c ? `${c.host}${c.port !== undefined ? `:${c.port}` : ''}/${c.database ?? ''}` : '';
  }

  async connect(): Promise<void> {
    const { settings } = this.prepare();
    if (this.provisioned) return;
    await this.withClient(async (c) => {
      if (settings.mode === 'ensure') await this.ensure(c);
      else await this.preflight(c);
    });
    this.provisioned = true;
  }

  /** `provisioning.mode: ensure`: create what is missing, migrate the seed's layout, never drop. */
  private async ensure(c: Client): Promise<void> {
    const { n, settings } = this.prepare();
    await c.query('BEGIN');
    try {
      // Two replicas starting together must not race on CREATE TABLE IF NOT EXISTS.
      await c.query(LOCK_SQL, [JSON.stringify(['kollect-ddl', n.schema, n.table])]);
      const schemaExists = await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [n.schema]);
      // CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists.
      if (schemaExists.rowCount === 0) await c.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(n.schema)}`);
      const rows = rowsTableVerdict(await inspectTable(c, n.schema, n.table));
      if (rows.verdict === 'missing') {
        await c.query(rowsTableDdl(n));
        this.ctx.log.info({ sink: this.sinkName, table: `${n.schema}.${n.table}` }, 'created postgres table');
      } else if (rows.verdict === 'legacy') {
        for (const stmt of migrationDdl(n, rows.constraint, rows.hasTargetNamespace)) await c.query(stmt);
        this.ctx.log.warn(
          { sink: this.sinkName, table: `${n.schema}.${n.table}`, why: rows.why },
          'migrated postgres table to the Kollect primary key',
        );
      } else if (rows.verdict === 'incompatible') {
        throw this.incompatible(
          n.table,
          rows,
          `Point spec.postgres.table at a new table (provisioning.mode ensure creates it) or change this one to: ${rowsTableDdl(n)}`,
        );
      }
      const exp = exportsTableVerdict(await inspectTable(c, n.schema, EXPORTS_TABLE));
      if (exp.verdict === 'missing') await c.query(exportsTableDdl(n));
      else if (exp.verdict !== 'ok')
        throw this.incompatible(
          EXPORTS_TABLE,
          exp,
          `Kollect keeps its positions there; rename that table or change it to: ${exportsTableDdl(n)}`,
        );
      if (settings.portalIndexes) {
        const ddl = portalIndexDdl(n);
        const want = [n.indexes.kind, n.indexes.resourceNamespace, n.indexes.payload];
        for (let i = 0; i < want.length; i++) {
          if (!(await this.relationExists(c, n.schema, want[i] as string))) await c.query(ddl[i] as string);
        }
      }
      if (settings.portalViews) {
        const ddl = portalViewDdl(n);
        const want = [n.views.images, n.views.perTeam];
        for (let i = 0; i < want.length; i++) {
          if (!(await this.relationExists(c, n.schema, want[i] as string))) await c.query(ddl[i] as string);
        }
      }
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** `provisioning.mode: existing`: no DDL; the table and kollect_exports must be usable as they are. */
  private async preflight(c: Queryable): Promise<void> {
    const { n } = this.prepare();
    const rows = rowsTableVerdict(await inspectTable(c, n.schema, n.table));
    if (rows.verdict === 'missing')
      throw PostgresTableMissing(this.sinkName, `${n.schema}.${n.table}`, rowsTableDdl(n));
    if (rows.verdict === 'legacy')
      throw this.incompatible(
        n.table,
        { verdict: 'incompatible', problems: [rows.why], found: '' },
        `Migrate it (provisioning.mode ensure does this in one transaction): ${migrationDdl(n, rows.constraint, rows.hasTargetNamespace).join(' ')}`,
      );
    if (rows.verdict === 'incompatible')
      throw this.incompatible(n.table, rows, `Change it to: ${rowsTableDdl(n)}`);
    const exp = exportsTableVerdict(await inspectTable(c, n.schema, EXPORTS_TABLE));
    if (exp.verdict === 'missing')
      throw PostgresTableMissing(this.sinkName, `${n.schema}.${EXPORTS_TABLE}`, exportsTableDdl(n));
    if (exp.verdict === 'incompatible')
      throw this.incompatible(EXPORTS_TABLE, exp, `Change it to: ${exportsTableDdl(n)}`);
  }

  private incompatible(table: string, v: TableVerdict, remedy: string): KollectError {
    const { n } = this.prepare();
    const problems = v.verdict === 'incompatible' ? v.problems.join('; ') : '';
    const found = v.verdict === 'incompatible' ? v.found : '';
    return PostgresTableIncompatible(
      this.sinkName,
      `${n.schema}.${table}`,
      problems,
      found || '(see above)',
      remedy,
    );
  }

  private async relationExists(c: Queryable, schema: string, name: string): Promise<boolean> {
    const r = await c.query(
      'SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2',
      [schema, name],
    );
    return r.rows.length > 0;
  }

  async lastApplied(inventory: InventoryRef): Promise<AppliedPosition | null> {
    await this.connect();
    const { n } = this.prepare();
    return this.withClient((c) => this.position(c, n, inventory, false));
  }

  private async position(
    c: Queryable,
    n: Names,
    inventory: InventoryRef,
    forUpdate: boolean,
  ): Promise<AppliedPosition | null> {
    const r = await c.query<{ export_generation: string; checksum: string }>(
      positionSql(n, forUpdate),
      positionParams(n, this.ctx.cluster, inventory),
    );
    const row = r.rows[0];
    return row ? { exportGeneration: Number(row.export_generation), checksum: row.checksum } : null;
  }

  async applyDiff(diff: SnapshotDiff): Promise<ApplyResult> {
    await this.connect();
    const { n, settings } = this.prepare();
    const inv = diff.inventory;
    const rows = rowsOf(diff.upserts, inv);
    return this.transaction(inv, rows, async (c) => {
      const pos = await this.lockedPosition(c, n, inv);
      if (pos && pos.exportGeneration >= diff.exportGeneration) return this.result(n, false, 0);
      if (!pos || pos.exportGeneration !== diff.previousGeneration) {
        // Another writer moved the table since the framework read the position.
        throw SinkNeedsFullSnapshot(
          `table ${n.schema}.${n.table} holds generation ${pos?.exportGeneration ?? 'none'} of ${inventoryKey(inv)}, the diff applies on top of ${diff.previousGeneration}`,
        );
      }
      if (diff.deletes.length > 0)
        await c.query(deleteKeysSql(n), deleteKeysParams(this.ctx.cluster, inv, diff.deletes));
      const scope = scopeParams(this.ctx.cluster, inv, diff.exportedAt);
      const bytes =
        rows.length >= settings.copyThreshold
          ? await this.copyUpsert(c, n, scope, rows, false)
          : await this.insertUpsert(c, n, scope, rows);
      await this.record(c, n, inv, diff.exportGeneration, diff.checksum, diff.itemCount, diff.exportedAt);
      return this.result(n, true, bytes);
    });
  }

  async replace(snapshot: FullSnapshot): Promise<ApplyResult> {
    await this.connect();
    const { n, settings } = this.prepare();
    const inv = snapshot.inventory;
    const rows = rowsOf(snapshot.items, inv);
    return this.transaction(inv, rows, async (c) => {
      const pos = await this.lockedPosition(c, n, inv);
      // Never move the table back to an older generation (a slow replica, a late message).
      if (pos && pos.exportGeneration > snapshot.exportGeneration) return this.result(n, false, 0);
      const scope = scopeParams(this.ctx.cluster, inv, snapshot.exportedAt);
      let bytes: number;
      if (rows.length >= settings.copyThreshold) {
        bytes = await this.copyUpsert(c, n, scope, rows, true);
      } else {
        await c.query(NO_NESTLOOP_SQL);
        await c.query(
          deleteStaleFromKeysSql(n),
          deleteKeysParams(
            this.ctx.cluster,
            inv,
            rows.map((r) => ({ targetNamespace: r.targetNamespace, targetName: r.targetName, uid: r.uid })),
          ),
        );
        await c.query(NESTLOOP_SQL);
        bytes = await this.insertUpsert(c, n, scope, rows);
      }
      await this.record(
        c,
        n,
        inv,
        snapshot.exportGeneration,
        snapshot.checksum,
        snapshot.items.length,
        snapshot.exportedAt,
      );
      return this.result(n, true, bytes);
    });
  }

  /** Inventory deleted: remove its rows and its position (SEED-SPEC §15.6; relational rows only). */
  async forget(inventory: InventoryRef): Promise<ApplyResult> {
    await this.connect();
    const { n } = this.prepare();
    return this.transaction(inventory, [], async (c) => {
      await this.lockedPosition(c, n, inventory);
      const del = await c.query(deleteScopeSql(n), [this.ctx.cluster, inventory.namespace, inventory.name]);
      const pos = await c.query(forgetPositionSql(n), positionParams(n, this.ctx.cluster, inventory));
      return this.result(n, (del.rowCount ?? 0) + (pos.rowCount ?? 0) > 0, 0);
    });
  }

  private result(n: Names, changed: boolean, bytes: number): ApplyResult {
    return { changed, bytes, location: `${n.schema}.${n.table}` };
  }

  private async lockedPosition(c: Client, n: Names, inv: InventoryRef): Promise<AppliedPosition | null> {
    await c.query(LOCK_SQL, [lockKey(n, this.ctx.cluster, inv)]);
    return this.position(c, n, inv, true);
  }

  private async record(
    c: Client,
    n: Names,
    inv: InventoryRef,
    gen: number,
    checksum: string,
    count: number,
    at: string,
  ): Promise<void> {
    await c.query(recordPositionSql(n), [
      ...positionParams(n, this.ctx.cluster, inv),
      gen,
      checksum,
      count,
      at,
    ]);
  }

  /** Multi-row `INSERT … ON CONFLICT` in batches; returns payload bytes. */
  private async insertUpsert(
    c: Client,
    n: Names,
    scope: unknown[],
    rows: readonly RowValues[],
  ): Promise<number> {
    let bytes = 0;
    for (let i = 0; i < rows.length; i += INSERT_BATCH_ROWS) {
      const batch = rows.slice(i, i + INSERT_BATCH_ROWS);
      await c.query(upsertValuesSql(n, batch.length), upsertValuesParams(scope, batch));
      for (const r of batch) bytes += r.payload.length;
    }
    return bytes;
  }

  /**
   * COPY into a per-transaction staging table, then one merge; with `deleteStale` (full replace)
   * also delete the scope's rows that are not staged. Returns payload bytes.
   */
  private async copyUpsert(
    c: Client,
    n: Names,
    scope: unknown[],
    rows: readonly RowValues[],
    deleteStale: boolean,
  ): Promise<number> {
    await c.query(CREATE_STAGE_SQL);
    const stream = c.query(copyFrom(COPY_STAGE_SQL));
    await pipeline(Readable.from(copyChunks(rows)), stream);
    if (deleteStale) {
      // Temp tables get no autovacuum statistics; without them the anti-join may be planned
      // as a nested loop over 100k rows.
      await c.query(`ANALYZE ${STAGE}`);
      await c.query(NO_NESTLOOP_SQL);
      await c.query(deleteStaleFromStageSql(n), scope.slice(0, 3));
      await c.query(NESTLOOP_SQL);
    }
    await c.query(mergeStageSql(n), scope);
    let bytes = 0;
    for (const r of rows) bytes += r.payload.length;
    return bytes;
  }

  /**
   * One transaction for one (cluster, inventory). Any failure rolls everything back, so a
   * rejected row leaves the table and the position exactly as they were.
   */
  private async transaction(
    inventory: InventoryRef,
    rows: readonly RowValues[],
    fn: (c: Client) => Promise<ApplyResult>,
  ): Promise<ApplyResult> {
    return this.withClient(async (c) => {
      await c.query('BEGIN');
      try {
        const out = await fn(c);
        await c.query('COMMIT');
        return out;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        if (SinkNeedsFullSnapshot.is(err)) throw err;
        throw this.explain(err, inventory, rows);
      }
    });
  }

  /** Classify, and for a rejected row name the object so the user can find it. */
  private explain(err: unknown, inventory: InventoryRef, rows: readonly RowValues[]): KollectError {
    const inv = inventoryKey(inventory);
    const e = classifyPgError(this.sinkName, err, inv);
    if (!PostgresRowRejected.is(e)) return e;
    const bad = rows.find((r) => r.payload.includes('\\u0000'));
    if (!bad) return e;
    const item = JSON.parse(bad.payload) as { namespace: string; name: string; kind: string };
    return PostgresRowRejected(
      this.sinkName,
      inv,
      `${describePgError(err)}; the row of ${item.kind} ${item.namespace ? `${item.namespace}/` : ''}${item.name} (uid ${bad.uid}, target ${bad.targetNamespace}/${bad.targetName}) contains the NUL character \\u0000, which JSONB cannot store; drop or rewrite that attribute in the profile`,
      { cause: err },
    );
  }

  /** Check out a connection; connection failures are classified; a broken connection is discarded. */
  private async withClient<T>(fn: (c: Client) => Promise<T>): Promise<T> {
    const { pool } = this.prepare();
    let client: Client;
    try {
      client = await pool.connect();
    } catch (err) {
      throw classifyPgError(this.sinkName, err);
    }
    let broken: Error | undefined;
    // A checked-out client has no pool listener: a socket reset between queries would
    // otherwise be an uncaught 'error' event (the query in flight fails on its own).
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    try {
      return await fn(client);
    } catch (err) {
      if (!(err instanceof KollectError) || err.errorClass === 'transient') broken = err as Error;
      throw err instanceof KollectError ? err : classifyPgError(this.sinkName, err);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async probe(): Promise<ProbeResult> {
    const started = Date.now();
    try {
      const { settings } = this.prepare();
      const version = await this.withClient(async (c) => {
        const r = await c.query<{ v: string }>("SELECT 1 AS one, current_setting('server_version') AS v");
        if (settings.mode === 'existing') await this.preflight(c);
        return r.rows[0]?.v ?? '?';
      });
      return {
        ok: true,
        message: `connected to PostgreSQL ${version} at ${this.where()} (sslmode ${this.conn?.sslmode ?? '?'})${settings.mode === 'existing' ? `; table ${settings.schema}.${settings.table} and kollect_exports are usable` : ''}`,
        latencyMs: Date.now() - started,
      };
    } catch (err) {
      const e = err instanceof KollectError ? err : classifyPgError(this.sinkName, err);
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
    const pool = this.pool;
    this.pool = undefined;
    this.provisioned = false;
    if (pool) await pool.end().catch(() => undefined);
  }
}

/** The DDL `ensure` would run, as one string (the preview's `postgres.expectedDDL`). */
export function expectedDdl(settings: PostgresSettings): string {
  return ensureDdl(settings).join('\n');
}
