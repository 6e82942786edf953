/**
 * Postgres sink benchmark against a real server (the test bed): rows/s of the sink's two write
 * paths — COPY into a staging table + merge, and multi-row INSERT … ON CONFLICT (1,000 rows per
 * statement) — for a 100k-row first export (a full replace into an empty table), a 1% diff on
 * top, and a no-op full replace; then diff latency by size for both paths, to place the COPY
 * threshold. Both paths run in the same process against the same server, interleaved, and the
 * COPY numbers are printed as ratios against the INSERT baseline.
 *
 *   npm run testbed -- up postgres && eval "$(npm run -s testbed -- env)"
 *   npm run -w @kollect/bench postgres [-- --rows 100000 --rounds 2 --reps 5]
 *
 * The DSN comes from KOLLECT_BENCH_POSTGRES_DSN or KOLLECT_TEST_POSTGRES_DSN. A scratch schema is
 * created and dropped. Prints numbers only; nothing here asserts timing.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { checksumItems, formatRfc3339Nano, type InventoryRef, type Item } from '@kollect/contracts';
import type { CompiledSink } from '@kollect/plan';
import type { FullSnapshot, SinkLogger, SnapshotDiff } from '@kollect/sink';
import { postgresSinkFactory } from '@kollect/sink-postgres';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const ROWS = arg('rows', 100_000);
const ROUNDS = arg('rounds', 2);
const REPS = arg('reps', 5);
const DIFF_SIZES = [10, 50, 100, 250, 500, 1000, 2500, 5000].filter((n) => n <= ROWS);
const DSN = process.env['KOLLECT_BENCH_POSTGRES_DSN'] ?? process.env['KOLLECT_TEST_POSTGRES_DSN'];
if (!DSN) {
  console.error(
    'set KOLLECT_TEST_POSTGRES_DSN (eval "$(npm run -s testbed -- env)") or KOLLECT_BENCH_POSTGRES_DSN',
  );
  process.exit(2);
}

const quiet: SinkLogger = { debug() {}, info() {}, warn() {}, error() {} };
const inv: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'bench' };
const schema = `kollect_bench_${randomBytes(3).toString('hex')}`;
const TEAMS = ['team-a', 'team-b', 'team-c'];

/** An Item shaped like the SEED-SPEC §3.11 Deployment-images profile (~450 B of JSON). */
function item(i: number, version = 0): Item {
  const ns = `${TEAMS[i % 3]}-${i % 40}`;
  return {
    targetNamespace: 'team-a',
    targetName: 'deployments',
    namespace: ns,
    name: `svc-${i}`,
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    attributes: {
      containerCount: 1 + (i % 3),
      image: `ghcr.io/acme/svc-${i}:1.${(i + version) % 17}.${i % 5}`,
      images: [
        `ghcr.io/acme/svc-${i}:1.${(i + version) % 17}.${i % 5}`,
        `envoyproxy/envoy:v1.${28 + (i % 3)}.0`,
      ],
      labels: {
        app: `svc-${i}`,
        'app.kubernetes.io/part-of': i % 4 === 0 ? 'other' : 'shop',
        team: TEAMS[i % 3],
      },
      replicas: 1 + (i % 5),
      team: TEAMS[i % 3],
    },
  };
}

let gen = 0;
function full(items: Item[]): FullSnapshot {
  gen++;
  return {
    inventory: inv,
    cluster: 'bench',
    generation: 1,
    exportGeneration: gen,
    checksum: checksumItems(items),
    exportedAt: formatRfc3339Nano(new Date()),
    items,
  };
}
function diffOf(prev: number, upserts: Item[], itemCount: number): SnapshotDiff {
  gen++;
  return {
    inventory: inv,
    cluster: 'bench',
    generation: 1,
    exportGeneration: gen,
    previousGeneration: prev,
    checksum: `c${gen}`,
    itemCount,
    exportedAt: formatRfc3339Nano(new Date()),
    upserts,
    deletes: [],
  };
}

function sinkFor(table: string, method: Method): CompiledSink {
  return {
    ref: { family: 'database', namespace: 'bench', name: table.replace(/_/g, '-') },
    uid: table,
    generation: 1,
    type: 'postgres',
    spec: {
      type: 'postgres',
      postgres: { databaseRef: { name: 'db' }, table, schema },
      // Force one path: COPY for every size, or INSERT for every size.
      options: { 'postgres.copyThreshold': method === 'COPY' ? '1' : String(Number.MAX_SAFE_INTEGER) },
    },
  };
}

type Method = 'INSERT' | 'COPY';
const METHODS: Method[] = ['INSERT', 'COPY'];

function open(table: string, method: Method) {
  return postgresSinkFactory.create({
    sink: sinkFor(table, method),
    cluster: 'bench',
    credentials: { data: { dsn: DSN as string }, roles: { dsn: DSN as string }, version: '1' },
    workDir: '/tmp',
    signal: new AbortController().signal,
    log: quiet,
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? (s[(s.length - 1) / 2] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const admin = new pg.Pool({ connectionString: DSN, max: 1 });
  const version = (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]
    ?.v;
  await admin.query(`CREATE SCHEMA "${schema}"`);
  console.log(
    `postgres ${version}; ${ROWS.toLocaleString('en-US')} rows; ${ROUNDS} round(s); node ${process.version}`,
  );
  const base = Array.from({ length: ROWS }, (_, i) => item(i));
  const bytes = base.reduce((s, it) => s + JSON.stringify(it).length, 0);
  console.log(`average Item JSON ${Math.round(bytes / ROWS)} B`);

  const results: Record<Method, { first: number[]; diff: number[]; noop: number[] }> = {
    INSERT: { first: [], diff: [], noop: [] },
    COPY: { first: [], diff: [], noop: [] },
  };
  const onePct = Math.max(1, Math.round(ROWS / 100));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so neither path always runs on a warmer server.
      const order = round % 2 === 0 ? METHODS : [...METHODS].reverse();
      for (const method of order) {
        const table = `b_${method.toLowerCase()}_${round}`;
        const sink = open(table, method);
        await sink.connect();
        const first = full(base);
        const tFirst = await timed(() => sink.replace(first));
        const changed = base.slice(0, onePct).map((_, i) => item(i * Math.floor(ROWS / onePct), 1));
        const d = diffOf(first.exportGeneration, changed, ROWS);
        const tDiff = await timed(() => sink.applyDiff(d));
        const tNoop = await timed(() =>
          sink.replace(full(base.map((it, i) => (i % Math.floor(ROWS / onePct) === 0 ? item(i, 1) : it)))),
        );
        results[method].first.push(ROWS / (tFirst / 1000));
        results[method].diff.push(onePct / (tDiff / 1000));
        results[method].noop.push(ROWS / (tNoop / 1000));
        console.log(
          `  round ${round + 1} ${method.padEnd(6)} first ${fmt(tFirst)} ms, 1% diff (${onePct} rows) ${fmt(tDiff)} ms, unchanged full replace ${fmt(tNoop)} ms`,
        );
        await sink.close();
        await admin.query(`DROP TABLE "${schema}"."${table}"`);
      }
    }

    console.log('\nrows/s (median of rounds; ratio = COPY / INSERT)');
    console.log('case                          INSERT        COPY   ratio');
    for (const [label, key] of [
      [`first export (${fmt(ROWS)} rows)`, 'first'],
      [`1% diff (${fmt(onePct)} rows)`, 'diff'],
      [`unchanged full replace`, 'noop'],
    ] as const) {
      const ins = median(results.INSERT[key]);
      const cp = median(results.COPY[key]);
      console.log(
        `${label.padEnd(28)} ${fmt(ins).padStart(8)}  ${fmt(cp).padStart(10)}  ${(cp / ins).toFixed(2)}x`,
      );
    }

    // Diff latency by size on a table that already holds ROWS rows: where does COPY start to win?
    console.log(`\ndiff latency by size on a ${fmt(ROWS)}-row table (median of ${REPS}; ms)`);
    console.log('rows    INSERT    COPY   ratio');
    const sinks = new Map<Method, ReturnType<typeof open>>();
    let prev = 0;
    for (const method of METHODS) {
      const table = `b_cross_${method.toLowerCase()}`;
      const s = open(table, method);
      await s.connect();
      sinks.set(method, s);
    }
    // Both tables hold the same base rows; every diff below goes to both.
    const positions = new Map<Method, number>();
    const seed = full(base);
    for (const method of METHODS) {
      await sinks.get(method)!.replace(seed);
      positions.set(method, seed.exportGeneration);
    }
    const ratios: [number, number][] = [];
    for (const size of DIFF_SIZES) {
      const times: Record<Method, number[]> = { INSERT: [], COPY: [] };
      for (let rep = 0; rep < REPS; rep++) {
        prev++;
        const rows = Array.from({ length: size }, (_, i) => item((i * 97 + rep * 13) % ROWS, prev + 1));
        for (const method of rep % 2 === 0 ? METHODS : [...METHODS].reverse()) {
          const d = diffOf(positions.get(method)!, rows, ROWS);
          times[method].push(await timed(() => sinks.get(method)!.applyDiff(d)));
          positions.set(method, d.exportGeneration);
        }
      }
      const ins = median(times.INSERT);
      const cp = median(times.COPY);
      ratios.push([size, cp / ins]);
      console.log(
        `${String(size).padEnd(6)} ${ins.toFixed(1).padStart(7)} ${cp.toFixed(1).padStart(7)}   ${(cp / ins).toFixed(2)}x`,
      );
    }
    // The threshold: the smallest size from which COPY is at least as fast for every larger size.
    let crossover: number | undefined;
    for (let i = ratios.length - 1; i >= 0 && (ratios[i] as [number, number])[1] <= 1; i--)
      crossover = (ratios[i] as [number, number])[0];
    console.log(
      crossover === undefined
        ? '\nCOPY was not faster at the largest diff size measured'
        : `\nCOPY is at least as fast from ${crossover} rows per diff on (every larger size measured too)`,
    );
    for (const s of sinks.values()) await s.close();
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}

await main();
