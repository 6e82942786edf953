#!/usr/bin/env node
/**
 * `npm run demo` — the whole Kollect pipeline on the real test bed:
 *
 *   1. the test bed (NATS, kube-apiserver+etcd; git and Postgres when sink workers exist), `up` is idempotent
 *   2. the Kollect CRDs
 *   3. the scenario: namespaces of three teams, ~300 Deployments/Services/Ingresses, an opted-out
 *      sandbox, per-team Profiles/Targets/Inventories (SEED-SPEC §3.11 among them), a KollectScope
 *      that denies Ingresses to team-c, a platform roll-up (ClusterTarget + ClusterInventory)
 *   4. every service as its own process (tools/stack), logs in a run directory
 *   5. a subscriber of the public snapshot subjects (`kollect.snap.>`), until every inventory holds
 *      the rows the apiserver says it should; then a summary
 *   6. live: one line per new generation, until Ctrl-C (`--once`: exit 0 after the summary)
 *
 * Options: --once, --timeout <seconds> (default 300), --no-sinks, --help.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { checksumShort, type InventoryRef } from '@kollect/contracts';
import { KubeClient } from '@kollect/kube';
import {
  clearTerminatingNamespace,
  Applier,
  appExists,
  installCrds,
  REPO_ROOT,
  SnapshotFeed,
  Stack,
  type Manifest,
} from '@kollect/stack';
import { countKey, demoInventories, expectedCounts } from './expected.js';
import { attrs, changeLine, conditionToShow, dur, invLabel, sampleRows, styles, table } from './render.js';
import {
  DEFAULT_SCENARIO,
  kollectResources,
  namespaces,
  scenarioNamespaces,
  workloads,
  type ScenarioOptions,
} from './scenario.js';
import { demoSinks } from './sinks.js';

const execFileP = promisify(execFile);
const K = 'kollect.dev/v1alpha1';
const CLUSTER = 'demo';

interface Args {
  once: boolean;
  timeoutMs: number;
  sinks: boolean;
}

const USAGE = `usage: npm run demo -- [--once] [--timeout <seconds>] [--no-sinks]

  --once           exit 0 after the first complete export of every inventory (non-zero on timeout)
  --timeout <s>    how long to wait for the first complete export (default 300)
  --no-sinks       do not bind the Git/Postgres sinks even when their workers exist`;

function parseArgs(argv: string[]): Args {
  const a: Args = { once: false, timeoutMs: 300_000, sinks: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--once') a.once = true;
    else if (arg === '--no-sinks') a.sinks = false;
    else if (arg === '--timeout' || arg.startsWith('--timeout=')) {
      const v = arg.includes('=') ? arg.split('=')[1] : argv[++i];
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0)
        throw new Error(`--timeout needs a number of seconds, got ${JSON.stringify(v)}`);
      a.timeoutMs = n * 1000;
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  return a;
}

const tty = process.stdout.isTTY === true;
const s = styles(tty);
const ok = s.green('✓');
const t0 = Date.now();
const startedAt = t0;
const since = (): string => s.dim(`+${dur(Date.now() - t0)}`);
let statusLineShown = false;

/** A transient progress line (overwritten on a terminal, throttled to a line every 10 s otherwise). */
let lastPlain = 0;
function progress(text: string): void {
  if (tty) {
    process.stdout.write(`\r\u001b[2K  ${text}`);
    statusLineShown = true;
  } else if (Date.now() - lastPlain > 10_000) {
    lastPlain = Date.now();
    console.log(`  ${text}`);
  }
}
function say(text: string): void {
  if (statusLineShown) process.stdout.write('\r\u001b[2K');
  statusLineShown = false;
  console.log(text);
}

async function testbedCli(args: string[]): Promise<string> {
  const cli = join(REPO_ROOT, 'tools', 'testbed', 'dist', 'cli.js');
  try {
    const { stdout } = await execFileP(process.execPath, [cli, ...args], {
      cwd: REPO_ROOT,
      timeout: 60_000, // only `env` goes through here; `up` streams (testbedUp)
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    throw new Error(
      `test bed ${args.join(' ')} failed:\n${(err.stderr ?? '').trim()}\n${(err.stdout ?? '').trim()}`,
      { cause: e },
    );
  }
}

/**
 * `testbed up`, streaming its progress: no timeout (a cold machine builds kube-apiserver and the other
 * servers first, which takes tens of minutes). A warm bed is up in seconds and stays quiet; once the
 * command runs longer than a few seconds, or builds or installs something, its lines are shown as
 * they come.
 */
function testbedUp(services: string[]): Promise<void> {
  const cli = join(REPO_ROOT, 'tools', 'testbed', 'dist', 'cli.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'up', ...services], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tail: string[] = [];
    const held: string[] = [];
    let streaming = false;
    const show = (line: string): void => say(s.dim(`  │ ${line}`));
    const startStreaming = (): void => {
      if (streaming) return;
      streaming = true;
      say(s.dim('  │ (the test bed is building or starting servers; its progress follows)'));
      held.splice(0).forEach(show);
    };
    const timer = setTimeout(startStreaming, 5_000);
    const onLine = (line: string): void => {
      tail.push(line);
      if (tail.length > 60) tail.shift();
      if (!streaming && /building|installing|WARNING|ERROR/.test(line)) startStreaming();
      if (streaming) show(line);
      else held.push(line);
    };
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', onLine);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`test bed up ${services.join(' ')} failed (exit ${code}):\n${tail.join('\n')}`));
    });
  });
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const scenario: ScenarioOptions = DEFAULT_SCENARIO;
  const names = scenarioNamespaces(scenario);
  const sinkApps = {
    git: args.sinks && appExists('sink-snapshot'),
    postgres: args.sinks && appExists('sink-database'),
  };

  say(
    s.bold('Kollect demo') +
      s.dim(' — Kubernetes objects → rows → snapshot generations, every service its own process'),
  );

  // 1. test bed
  const services = [
    'nats',
    'kube-apiserver',
    ...(sinkApps.git ? ['git'] : []),
    ...(sinkApps.postgres ? ['postgres'] : []),
  ];
  progress(
    `starting the test bed (${services.join(', ')}) — the first time builds them, later runs reuse them…`,
  );
  await testbedUp(services);
  const env = JSON.parse(await testbedCli(['env', '--json'])) as Record<string, string>;
  say(`${ok} test bed up: ${services.join(', ')} ${since()}`);

  // 2. CRDs, 3. scenario
  const kube = new KubeClient({
    kubeconfigPath: env['KOLLECT_TEST_KUBECONFIG'] as string,
    userAgent: 'kollect-demo',
  });
  const applier = new Applier(kube, 'kollect-demo');
  await installCrds(kube);
  say(`${ok} Kollect CRDs installed ${since()}`);
  const nsManifests = namespaces(scenario) as Manifest[];
  for (const ns of nsManifests) {
    if (await clearTerminatingNamespace(kube, ns.metadata.name))
      say(
        s.dim(
          `  namespace ${ns.metadata.name} was stuck terminating (the test bed runs no namespace controller): finalized it`,
        ),
      );
  }
  await applier.applyAll(nsManifests);
  const objs = workloads(scenario) as Manifest[];
  await applier.applyAll(objs, 16, (n) => progress(`applying workloads ${n}/${objs.length}`));
  const count = (kind: string) => objs.filter((o) => o.kind === kind).length;
  say(
    `${ok} ${objs.length} workloads in ${names.teams.length + 1} namespaces (${count('Deployment')} Deployments, ${count('Service')} Services, ${count('Ingress')} Ingresses) ${since()}`,
  );
  const sinks = demoSinks(
    names.teams[0] as string,
    names.system,
    {
      gitUrl: env['KOLLECT_TEST_GIT_URL'],
      gitToken: env['KOLLECT_TEST_GIT_TOKEN'],
      postgresDsn: env['KOLLECT_TEST_POSTGRES_DSN'],
    },
    sinkApps,
  );
  if (sinkApps.git) await createGitRepo(env, 'kollect-demo');
  const kollect = (kollectResources(scenario) as Manifest[]).map((m) =>
    m.kind === 'KollectInventory' && m.metadata.namespace === names.teams[0]
      ? (sinks.inventory as Manifest)
      : m,
  );
  await applier.applyAll([...(sinks.manifests as Manifest[]), ...kollect], 8);
  say(
    `${ok} ${kollect.length} Kollect resources: profiles, targets, ${demoInventories(scenario).length} inventories, a scope denying Ingresses to ${names.ingressDenied}, a platform roll-up${sinks.manifests.length ? ', sinks' : ''} ${since()}`,
  );

  // 4. services
  const runDir = join(tmpdir(), 'kollect-demo', new Date().toISOString().replace(/[:.]/g, '-'));
  mkdirSync(runDir, { recursive: true });
  const ready: string[] = [];
  progress('building and starting the services…');
  const stack = await Stack.start({
    natsUrl: env['KOLLECT_TEST_NATS_URL'] as string,
    kubeconfig: env['KOLLECT_TEST_KUBECONFIG'] as string,
    cluster: CLUSTER,
    prefix: '',
    runDir,
    partitions: 8,
    watchNamespaces: [...names.teams, names.system, names.sandbox],
    leaseNamespace: names.system,
    topology: {},
    startTimeoutMs: Math.min(args.timeoutMs, 180_000),
    onServiceState: (name, state) => {
      if (state === 'ready') ready.push(name);
      progress(`services ready: ${ready.join(', ') || '…'}`);
    },
  });
  const running: { feed?: SnapshotFeed } = {};
  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true;
      say(s.dim('stopping the services…'));
      await running.feed?.stop();
      await stack.shutdown();
      kube.close();
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  for (const [family, app] of [
    ['git', 'sink-snapshot'],
    ['postgres', 'sink-database'],
  ] as const) {
    if (!sinkApps[family]) continue;
    try {
      await stack.addReplica(app);
    } catch (err) {
      say(
        s.yellow(
          `! the ${app} worker did not start (${(err as Error).message.split('\n')[0]}); continuing without it`,
        ),
      );
    }
  }
  say(
    `${ok} services running: ${stack
      .services()
      .map((x) => `${x.name}${s.dim(`:${x.port}`)}`)
      .join(' ')} ${since()}`,
  );
  say(s.dim(`  logs: ${runDir}/<service>.log`));

  // 5. first complete export
  const inventories = demoInventories(scenario);
  let live = false;
  const snapshots = await SnapshotFeed.start(stack.bus, stack.names, {
    onChange: (c) => live && say(changeLine(c, s)),
  });
  running.feed = snapshots;
  let expected = await expectedCounts(applier, scenario);
  const deadline = Date.now() + args.timeoutMs;
  let lastCount = Date.now();
  for (;;) {
    const states = inventories.map((ref) => {
      const t = snapshots.table(ref);
      const want = expected.get(countKey(ref)) ?? 0;
      return { ref, t, want, done: t !== undefined && t.rows.size === want && t.problems.length === 0 };
    });
    if (states.every((x) => x.done)) break;
    progress(
      `exporting: ${states.map((x) => `${invLabel(x.ref)} ${x.t?.rows.size ?? 0}/${x.want}${x.done ? ` ${ok}` : ''}`).join('  ')}`,
    );
    if (Date.now() > deadline) {
      say(s.red(`✗ no complete export within ${dur(args.timeoutMs)}:`));
      for (const x of states.filter((y) => !y.done))
        say(
          `  ${invLabel(x.ref)}: ${x.t ? `${x.t.rows.size} of ${x.want} rows at generation ${x.t.exportGeneration}${x.t.problems.length ? `; ${x.t.problems[0]}` : ''}` : 'no snapshot yet'}`,
        );
      for (const svc of stack.services()) {
        const r = svc.running ? await stack.service(svc.name).get('/readyz') : undefined;
        if (r?.status !== 200)
          say(
            `  ${svc.name}: ${svc.running ? `not ready (${r?.body.trim() ?? 'no answer'})` : 'not running'} — ${svc.logFile}`,
          );
      }
      await stop(1);
    }
    if (Date.now() - lastCount > 5000) {
      expected = await expectedCounts(applier, scenario);
      lastCount = Date.now();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  say(`${ok} every inventory exported what the apiserver holds ${since()}`);
  if (sinks.manifests.length) await waitForSinks(applier, snapshots, names.teams[0] as string, 60_000);
  await summary(applier, snapshots, inventories, expected, names.teams);
  if (sinks.lookHere.length) {
    say(s.bold('\nWhere to look'));
    for (const l of sinks.lookHere) say(`  ${l}`);
  }
  say(
    s.bold('\nSubscribe yourself') + s.dim(' (the public snapshot subjects, from the start of the stream)'),
  );
  say(`  ${subscribeCommand(CLUSTER)}`);
  say(
    s.dim(
      `  # the nats CLI is optional (not part of the test bed); with it: nats --server "$KOLLECT_TEST_NATS_URL" sub 'kollect.snap.${CLUSTER}.>'`,
    ),
  );

  if (args.once) await stop(0);

  // 6. live
  live = true;
  const kubectl = `"$KOLLECT_TEST_KUBECTL" --kubeconfig "$KOLLECT_TEST_KUBECONFIG"`;
  say(s.bold('\nLive') + s.dim(' — one line per new generation; Ctrl-C stops the services'));
  say(
    s.dim(
      `  try:  eval "$(npm run -s testbed -- env)"; ${kubectl} -n ${names.teams[0]} set image deployment/shop-000 main=nginx:1.28`,
    ),
  );
  say(s.dim(`        ${kubectl} -n ${names.teams[1]} delete deployment shop-003`));
  await new Promise<never>(() => undefined);
  return 0;
}

/** A command that follows the snapshot subjects with what the repository has (no nats CLI needed). */
function subscribeCommand(cluster: string): string {
  return `eval "$(npm run -s testbed -- env)" && node tools/demo/dist/subscribe.js --cluster ${cluster}`;
}

async function summary(
  applier: Applier,
  feed: SnapshotFeed,
  inventories: InventoryRef[],
  expected: Map<string, number>,
  teams: string[],
): Promise<void> {
  say(s.bold('\nInventories'));
  const rows: string[][] = [['inventory', 'rows', 'expected', 'generation', 'checksum', 'exported (UTC)']];
  for (const ref of inventories) {
    const t = feed.table(ref);
    rows.push([
      invLabel(ref),
      String(t?.rows.size ?? 0),
      String(expected.get(countKey(ref)) ?? 0),
      String(t?.exportGeneration ?? 0),
      t ? checksumShort(t.checksum) : '-',
      t
        ? clock(t.exportedAt) +
          (Date.parse(t.exportedAt) < startedAt ? s.dim(' (unchanged since an earlier run)') : '')
        : '-',
    ]);
  }
  say(table(rows));
  say(s.bold('\nSample rows'));
  const sample: string[][] = [['inventory', 'target', 'object', 'attributes']];
  for (const ref of inventories) {
    const t = feed.table(ref);
    if (!t) continue;
    for (const i of sampleRows(t.rows.values(), 3))
      sample.push([invLabel(ref), i.targetName, `${i.kind} ${i.namespace}/${i.name}`, attrs(i.attributes)]);
  }
  say(table(sample));
  // What the controller says: conditions worth knowing (degraded targets, inventory readiness).
  const notes: string[][] = [['object', 'condition', 'reason', 'message']];
  for (const team of teams) {
    for (const kind of ['KollectTarget', 'KollectInventory']) {
      const objs = await applier
        .list<{
          metadata: { name: string };
          status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
        }>(K, kind, team)
        .catch(() => []);
      for (const o of objs) {
        const show = conditionToShow(kind, o.status?.conditions ?? []);
        if (show)
          notes.push([
            `${kind.replace('Kollect', '')} ${team}/${o.metadata.name}`,
            `${show.type}=${show.status}`,
            show.reason,
            show.message.length > 70 ? `${show.message.slice(0, 69)}…` : show.message,
          ]);
      }
    }
  }
  const exports: string[][] = [['inventory', 'sink', 'state', 'generation', 'checksum', 'last export (UTC)']];
  for (const team of teams) {
    for (const e of await sinkExports(applier, team)) {
      const c = e.conditions?.find((x) => x.type === 'Synced');
      exports.push([
        `${team}/team-inventory`,
        e.name,
        c ? c.reason : 'pending',
        String(e.exportGeneration ?? '-'),
        e.lastChecksum ? checksumShort(e.lastChecksum) : '-',
        e.lastExportTime ? clock(e.lastExportTime) : '-',
      ]);
    }
  }
  if (exports.length > 1) {
    say(s.bold('\nSink exports') + s.dim(" (status.sinkExports, from the sink workers' reports)"));
    say(table(exports));
  }
  if (notes.length > 1) {
    say(s.bold('\nStatus written by the controller'));
    say(table(notes));
  }
}

interface SinkExport {
  name: string;
  lastExportTime?: string;
  lastChecksum?: string;
  exportGeneration?: number;
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

async function sinkExports(applier: Applier, team: string): Promise<SinkExport[]> {
  const inv = await applier
    .get<{ status?: { sinkExports?: SinkExport[] } }>({
      apiVersion: K,
      kind: 'KollectInventory',
      metadata: { name: 'team-inventory', namespace: team },
    })
    .catch(() => undefined);
  return inv?.status?.sinkExports ?? [];
}

/** Wait (bounded) until every sink bound to the team's inventory reports the current checksum. */
async function waitForSinks(
  applier: Applier,
  feed: SnapshotFeed,
  team: string,
  timeoutMs: number,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  const ref: InventoryRef = { kind: 'KollectInventory', namespace: team, name: 'team-inventory' };
  while (Date.now() < end) {
    const want = feed.table(ref)?.checksum;
    const got = await sinkExports(applier, team);
    progress(
      `sinks: ${got.map((e) => `${e.name} ${e.lastChecksum === want ? ok : '…'}`).join('  ') || 'waiting for the first report…'}`,
    );
    if (got.length > 0 && got.every((e) => e.lastChecksum === want)) {
      say(`${ok} the sinks applied the export: ${got.map((e) => e.name).join(', ')} ${since()}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  say(s.yellow(`! not every sink reported the export within ${dur(timeoutMs)} (see the sink worker logs)`));
}

/** HH:MM:SS.mmm (UTC) of an RFC 3339 time. */
function clock(t: string): string {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : d.toISOString().slice(11, 23);
}

async function createGitRepo(env: Record<string, string>, name: string): Promise<void> {
  const auth = Buffer.from(
    `${env['KOLLECT_TEST_GIT_USERNAME']}:${env['KOLLECT_TEST_GIT_PASSWORD']}`,
  ).toString('base64');
  const res = await fetch(env['KOLLECT_TEST_GIT_ADMIN_URL'] as string, {
    method: 'POST',
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 200 && res.status !== 201 && res.status !== 409)
    throw new Error(`creating the demo git repository: ${res.status} ${await res.text()}`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(s.red(`✗ ${err instanceof Error ? err.message : String(err)}`));
    process.exit(1);
  },
);
