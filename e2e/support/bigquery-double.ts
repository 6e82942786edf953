/**
 * BigQueryApiDouble — a local HTTP double of the BigQuery REST API (v2) for the BigQuery sink's
 * tests. We test against it because the real emulator (goccy/bigquery-emulator, ZetaSQL through
 * cgo) does not build here (docs/sinks-database.md "BigQuery: why a double").
 *
 * What it is: a recorder of every request (method, path, query, bearer token, JSON body) that
 * answers the calls the official `@google-cloud/bigquery` client makes — datasets.get,
 * tables.get/insert/patch, jobs.insert, jobs.getQueryResults — and keeps tables in memory. It does
 * NOT parse SQL. A query job is recognised by its `kollect-op` label, its text is required to be
 * exactly the statement the sink library builds for that op (the same text the golden files pin),
 * and the double applies that statement's documented semantics to its tables. So it proves the
 * client plumbing (auth header, REST paths, parameter encoding, job polling, error mapping) and the
 * framework's use of the sink; the SQL text itself is pinned by the golden files.
 *
 * Faults: `unavailable = true` answers 503 to everything; `token` set → any other bearer gets 401;
 * `failNext(predicate, status, reason)` fails one matching request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  diffMergeSql,
  forgetSql,
  positionSql,
  recordPositionSql,
  replaceMergeSql,
  sweepSql,
  transaction,
} from '@kollect/sink-bigquery';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  bearer?: string;
  body?: unknown;
}

export interface DoubleRow {
  inventory_namespace: string;
  inventory_name: string;
  target_name: string;
  source_uid: string;
  cluster: string;
  resource_namespace: string;
  payload: unknown;
  exported_at: string;
  target_namespace: string | null;
}

interface DoubleTable {
  resource: Record<string, unknown>;
  rows: Map<string, Record<string, unknown>>;
}

type Params = Record<string, unknown>;

interface QueryParam {
  name: string;
  parameterType: { type: string; arrayType?: unknown; structTypes?: unknown };
  parameterValue: { value?: string; arrayValues?: { structValues?: Record<string, { value?: string }> }[] };
}

export class BigQueryApiDouble {
  readonly requests: RecordedRequest[] = [];
  /** `dataset.table` → table. */
  readonly tables = new Map<string, DoubleTable>();
  readonly datasets = new Set<string>();
  /** Answer 503 to every request while true. */
  unavailable = false;
  /** When set, requests must carry `Authorization: Bearer <token>`, else 401. */
  token: string | undefined;
  private readonly results = new Map<string, Record<string, unknown>>();
  private failures: {
    match: (r: RecordedRequest) => boolean;
    status: number;
    reason: string;
    message: string;
  }[] = [];
  private server!: Server;

  private constructor(readonly project: string) {}

  static async start(opts: {
    project: string;
    datasets: string[];
    token?: string;
  }): Promise<BigQueryApiDouble> {
    const d = new BigQueryApiDouble(opts.project);
    for (const ds of opts.datasets) d.datasets.add(ds);
    d.token = opts.token;
    d.server = createServer((req, res) => void d.handle(req, res));
    await new Promise<void>((r) => d.server.listen(0, '127.0.0.1', r));
    return d;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Fail the next `times` requests matching `match` with an API error (the client retries 429/5xx itself). */
  failNext(
    match: (r: RecordedRequest) => boolean,
    status: number,
    reason: string,
    message = `injected ${reason}`,
    times = 1,
  ): void {
    for (let i = 0; i < times; i++) this.failures.push({ match, status, reason, message });
  }

  /** Drop injected failures that were not used. */
  clearFailures(): void {
    this.failures = [];
  }

  /** The rows of `dataset.table` as stored. */
  rows(dataset: string, table: string): DoubleRow[] {
    return [...(this.tables.get(`${dataset}.${table}`)?.rows.values() ?? [])] as unknown as DoubleRow[];
  }

  /** Recorded jobs.insert bodies. */
  jobs(): Record<string, unknown>[] {
    return this.requests
      .filter((r) => r.method === 'POST' && /\/jobs$/.test(r.path))
      .map((r) => r.body as Record<string, unknown>);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const u = new URL(req.url ?? '/', 'http://x');
    const text = Buffer.concat(chunks).toString('utf8');
    const auth = req.headers['authorization'];
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      ...(typeof auth === 'string' ? { bearer: auth.replace(/^Bearer\s+/i, '') } : {}),
      ...(text ? { body: JSON.parse(text) as unknown } : {}),
    };
    this.requests.push(rec);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const fail = (status: number, reason: string, message: string) =>
      send(status, { error: { code: status, message, errors: [{ reason, message, domain: 'global' }] } });
    if (this.unavailable) return fail(503, 'backendError', 'The service is currently unavailable.');
    if (this.token !== undefined && rec.bearer !== this.token)
      return fail(401, 'authError', 'Request had invalid authentication credentials.');
    const f = this.failures.findIndex((x) => x.match(rec));
    if (f >= 0) {
      const x = this.failures.splice(f, 1)[0]!;
      return fail(x.status, x.reason, x.message);
    }
    try {
      this.route(rec, send, fail);
    } catch (err) {
      fail(400, 'invalidQuery', (err as Error).message);
    }
  }

  private route(
    r: RecordedRequest,
    send: (s: number, b: unknown) => void,
    fail: (s: number, reason: string, m: string) => void,
  ): void {
    const p = r.path.replace(/^\/bigquery\/v2/, '');
    let m = /^\/projects\/([^/]+)\/datasets\/([^/]+)$/.exec(p);
    if (m && r.method === 'GET') {
      if (!this.datasets.has(m[2]!)) return fail(404, 'notFound', `Not found: Dataset ${m[1]}:${m[2]}`);
      return send(200, {
        kind: 'bigquery#dataset',
        id: `${m[1]}:${m[2]}`,
        datasetReference: { projectId: m[1], datasetId: m[2] },
        location: 'US',
      });
    }
    m = /^\/projects\/([^/]+)\/datasets\/([^/]+)\/tables$/.exec(p);
    if (m && r.method === 'POST') {
      const body = r.body as { tableReference: { tableId: string } };
      const key = `${m[2]}.${body.tableReference.tableId}`;
      if (!this.datasets.has(m[2]!)) return fail(404, 'notFound', `Not found: Dataset ${m[1]}:${m[2]}`);
      if (this.tables.has(key)) return fail(409, 'duplicate', `Already Exists: Table ${m[1]}:${key}`);
      this.tables.set(key, { resource: { kind: 'bigquery#table', ...(body as object) }, rows: new Map() });
      return send(200, this.tables.get(key)!.resource);
    }
    m = /^\/projects\/([^/]+)\/datasets\/([^/]+)\/tables\/([^/]+)$/.exec(p);
    if (m) {
      const t = this.tables.get(`${m[2]}.${m[3]}`);
      if (!t) return fail(404, 'notFound', `Not found: Table ${m[1]}:${m[2]}.${m[3]}`);
      if (r.method === 'GET') return send(200, t.resource);
      if (r.method === 'PATCH' || r.method === 'PUT') {
        Object.assign(t.resource, r.body as object);
        return send(200, t.resource);
      }
    }
    m = /^\/projects\/([^/]+)\/jobs$/.exec(p);
    if (m && r.method === 'POST') return this.insertJob(r, send);
    m = /^\/projects\/([^/]+)\/queries\/([^/]+)$/.exec(p);
    if (m && r.method === 'GET') {
      const out = this.results.get(m[2]!);
      if (!out) return fail(404, 'notFound', `Not found: Job ${m[1]}:${m[2]}`);
      return send(200, out);
    }
    m = /^\/projects\/([^/]+)\/jobs\/([^/]+)$/.exec(p);
    if (m && r.method === 'GET') {
      return send(200, {
        kind: 'bigquery#job',
        jobReference: { projectId: m[1], jobId: m[2] },
        status: { state: 'DONE' },
      });
    }
    fail(400, 'invalid', `BigQueryApiDouble: unsupported ${r.method} ${r.path}`);
  }

  private insertJob(r: RecordedRequest, send: (s: number, b: unknown) => void): void {
    const body = r.body as {
      jobReference: { projectId: string; jobId: string; location?: string };
      configuration: {
        dryRun?: boolean;
        labels?: Record<string, string>;
        query: { query: string; queryParameters?: QueryParam[] };
      };
    };
    const ref = body.jobReference;
    const q = body.configuration.query;
    const op = body.configuration.labels?.['kollect-op'] ?? '';
    const job = {
      kind: 'bigquery#job',
      jobReference: ref,
      configuration: body.configuration,
      status: { state: 'DONE' },
      statistics: { query: { totalBytesProcessed: '0' } },
    };
    if (body.configuration.dryRun) return send(200, job);
    const params = decodeParams(q.queryParameters ?? []);
    const rows = this.execute(op, q.query, params);
    this.results.set(ref.jobId, {
      kind: 'bigquery#getQueryResultsResponse',
      jobReference: ref,
      jobComplete: true,
      totalRows: String(rows?.length ?? 0),
      ...(rows
        ? {
            schema: {
              fields: [
                { name: 'export_generation', type: 'INTEGER' },
                { name: 'checksum', type: 'STRING' },
              ],
            },
            rows: rows.map((x) => ({ f: [{ v: String(x['export_generation']) }, { v: x['checksum'] }] })),
          }
        : {}),
    });
    send(200, job);
  }

  /** Apply one recognised statement; returns result rows for SELECTs. */
  private execute(op: string, query: string, p: Params): Record<string, unknown>[] | undefined {
    const s = this.statementTarget(query);
    const expect = (want: string) => {
      if (query !== want)
        throw new Error(`BigQueryApiDouble: ${op} job text differs from the library's statement`);
    };
    const rowsT = this.table(s.dataset, s.table);
    const exportsT = this.table(s.dataset, 'kollect_exports');
    const inScope = (row: Record<string, unknown>) =>
      row['cluster'] === p['cluster'] &&
      row['inventory_namespace'] === p['inventory_namespace'] &&
      row['inventory_name'] === p['inventory_name'];
    const key = (tn: unknown, tname: unknown, uid: unknown) =>
      JSON.stringify([p['cluster'], p['inventory_namespace'], p['inventory_name'], tn ?? '', tname, uid]);
    const exportKey = JSON.stringify([
      p['cluster'],
      p['inventory_kind'],
      p['inventory_namespace'],
      p['inventory_name'],
      p['sink'],
    ]);
    const upsert = (r: Record<string, unknown>) => {
      rowsT.rows.set(key(r['target_namespace'], r['target_name'], r['source_uid']), {
        inventory_namespace: p['inventory_namespace'],
        inventory_name: p['inventory_name'],
        target_name: r['target_name'],
        source_uid: r['source_uid'],
        cluster: p['cluster'],
        resource_namespace: r['resource_namespace'],
        payload: JSON.parse(r['payload'] as string),
        exported_at: p['exported_at'],
        target_namespace: r['target_namespace'],
      });
    };
    const merge = (rows: Record<string, unknown>[]) => {
      for (const r of rows) {
        if (r['op'] === 'delete')
          rowsT.rows.delete(key(r['target_namespace'], r['target_name'], r['source_uid']));
        else upsert(r);
      }
    };
    const record = () =>
      exportsT.rows.set(exportKey, {
        cluster: p['cluster'],
        inventory_kind: p['inventory_kind'],
        inventory_namespace: p['inventory_namespace'],
        inventory_name: p['inventory_name'],
        sink: p['sink'],
        export_generation: Number(p['export_generation']),
        checksum: p['checksum'],
        item_count: Number(p['item_count']),
        exported_at: p['exported_at'],
      });
    const rows = (p['rows'] as Record<string, unknown>[] | undefined) ?? [];
    switch (op) {
      case 'position':
        if (query.startsWith('SELECT')) {
          expect(positionSql(s));
          const e = exportsT.rows.get(exportKey);
          return e ? [e] : [];
        }
        expect(recordPositionSql(s));
        record();
        return undefined;
      case 'replace': {
        expect(transaction(replaceMergeSql(s), recordPositionSql(s)));
        const keep = new Set(rows.map((r) => key(r['target_namespace'], r['target_name'], r['source_uid'])));
        for (const [k, row] of rowsT.rows) if (inScope(row) && !keep.has(k)) rowsT.rows.delete(k);
        merge(rows);
        record();
        return undefined;
      }
      case 'diff':
        expect(transaction(diffMergeSql(s), recordPositionSql(s)));
        merge(rows);
        record();
        return undefined;
      case 'diff-chunk':
      case 'replace-chunk':
        expect(diffMergeSql(s));
        merge(rows);
        return undefined;
      case 'replace-sweep':
        expect(transaction(sweepSql(s), recordPositionSql(s)));
        for (const [k, row] of rowsT.rows)
          if (inScope(row) && row['exported_at'] !== p['exported_at']) rowsT.rows.delete(k);
        record();
        return undefined;
      case 'forget':
        expect(forgetSql(s));
        for (const [k, row] of rowsT.rows) if (inScope(row)) rowsT.rows.delete(k);
        exportsT.rows.delete(exportKey);
        return undefined;
      default:
        throw new Error(`BigQueryApiDouble: unknown kollect-op ${JSON.stringify(op)}`);
    }
  }

  private table(dataset: string, table: string): DoubleTable {
    const t = this.tables.get(`${dataset}.${table}`);
    if (!t) throw new Error(`Not found: Table ${this.project}:${dataset}.${table}`);
    return t;
  }

  /** The project, dataset and rows table named in a statement (the first `p.d.t` that is not kollect_exports). */
  private statementTarget(query: string): { project: string; dataset: string; table: string } {
    const refs = [...query.matchAll(/`([^`.]+)\.([^`.]+)\.([^`.]+)`/g)].map((m) => ({
      project: m[1]!,
      dataset: m[2]!,
      table: m[3]!,
    }));
    const t = refs.find((r) => r.table !== 'kollect_exports') ?? refs[0];
    if (!t) throw new Error('BigQueryApiDouble: no table in statement');
    // A position-only statement names only kollect_exports; the sink table is the @sink parameter.
    return t;
  }
}

/** Decode `queryParameters` into plain values (scalars as strings, arrays of structs as objects). */
function decodeParams(ps: QueryParam[]): Params {
  const out: Params = {};
  for (const q of ps) {
    if (q.parameterType.type === 'ARRAY') {
      out[q.name] = (q.parameterValue.arrayValues ?? []).map((v) =>
        Object.fromEntries(Object.entries(v.structValues ?? {}).map(([k, x]) => [k, x.value ?? null])),
      );
    } else {
      out[q.name] = q.parameterValue.value ?? null;
    }
  }
  return out;
}
