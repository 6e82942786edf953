#!/usr/bin/env node
// The whole test suite in one command (README: `npm test`). Uses only Node built-ins so it can
// run before `npm ci`. Steps: install, build, lint, format check, start the test bed, run every
// vitest project (unit + e2e) against it, stop the test bed. Prints `N passed, N failed` last.
//
// Deadline: CI kills a run after 90 minutes, which would lose the summary. Every long step runs
// under an overall deadline (KOLLECT_CI_DEADLINE_MINUTES, default 85, counted from the start of
// this script); a step still running when it comes is stopped (its whole process group), counted
// as a failure with a message saying so, and the run goes on to stop the bed and print the summary.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const args = new Set(process.argv.slice(2));
const skipTestbed = args.has('--no-testbed') || process.env.KOLLECT_SKIP_TESTBED === '1';
const keepTestbed = args.has('--keep-testbed') || process.env.KOLLECT_KEEP_TESTBED === '1';
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: '0' };

let passed = 0;
let failed = 0;
const failures = [];
const started = Date.now();
const deadlineMinutes = Number(process.env.KOLLECT_CI_DEADLINE_MINUTES || 85);
const deadline = started + deadlineMinutes * 60_000;
/** Kept back from the deadline for stopping the bed and printing the summary. */
const RESERVE_MS = 90_000;

function log(msg) {
  const s = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  console.log(`[test-all ${s}s] ${msg}`);
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, {
    cwd: root,
    env,
    stdio: opts.capture ? 'pipe' : 'inherit',
    encoding: 'utf8',
    ...opts,
  });
  return r;
}

/** Minutes left before the deadline, for messages. */
function minutesLeft() {
  return ((deadline - Date.now()) / 60_000).toFixed(1);
}

let current; // the child a signal should take down with us
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (current) killGroup(current, 'SIGTERM');
    process.exit(130);
  });
}

function killGroup(child, sig) {
  try {
    process.kill(-child.pid, sig);
  } catch {
    /* already gone */
  }
}

/**
 * Runs a long step in its own process group with inherited output, and stops the whole group
 * (vitest workers and the servers its suites started included) when the deadline comes.
 * Resolves to { status, timedOut }.
 */
function runUntilDeadline(cmd, argv, opts = {}) {
  const budget = deadline - RESERVE_MS - Date.now();
  if (budget <= 0) return Promise.resolve({ status: null, timedOut: true });
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: root, env, stdio: 'inherit', detached: true, ...opts });
    current = child;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      log(`DEADLINE: stopping \`${cmd} ${argv.join(' ')}\` (${deadlineMinutes} min budget of the run)`);
      killGroup(child, 'SIGTERM');
      setTimeout(() => killGroup(child, 'SIGKILL'), 20_000).unref();
    }, budget);
    child.on('close', (status) => {
      clearTimeout(timer);
      current = undefined;
      killGroup(child, 'SIGKILL'); // leftovers of the group
      resolve({ status, timedOut });
    });
  });
}

/** Records a step stopped by the deadline. */
function deadlineFailure(step) {
  failed++;
  failures.push(
    `${step}: stopped at the overall deadline (${deadlineMinutes} min, KOLLECT_CI_DEADLINE_MINUTES) so that the run ends before CI's limit; its results are not counted`,
  );
}

/** A named check counts as one test. */
function check(name, cmd, argv) {
  log(`check: ${name}`);
  const r = run(cmd, argv);
  if (r.status === 0) passed++;
  else {
    failed++;
    failures.push(name);
  }
  return r.status === 0;
}

function lockHash() {
  return createHash('sha256')
    .update(readFileSync(join(root, 'package-lock.json')))
    .digest('hex');
}

// 1. Install exactly what the lock file says, when it changed.
const marker = join(root, 'node_modules', '.kollect-lock-hash');
if (!existsSync(marker) || readFileSync(marker, 'utf8') !== lockHash()) {
  log('npm ci');
  const r = run('npm', ['ci', '--no-audit', '--no-fund']);
  if (r.status !== 0) {
    console.log('npm ci failed');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  writeFileSync(marker, lockHash());
}

// 2. Build, lint, format.
const built = check('build (nx run-many -t build)', 'npx', [
  'nx',
  'run-many',
  '-t',
  'build',
  '--outputStyle=static',
]);
check('typecheck (sources and tests)', 'npx', ['tsc', '-p', 'tsconfig.typecheck.json']);
check('lint (eslint)', 'npx', ['eslint', '.']);
check('format (prettier --check)', 'npx', ['prettier', '--check', '.', '--log-level', 'warn']);

// 3. Test bed. A bed that was already running (a developer's, or a debugging session's) is
// reused and left running afterwards: only a bed this run started is stopped at the end.
let testEnv = { ...env };
let testbedUp = false;
let startedBed = false;
if (!skipTestbed && built && existsSync(join(root, 'tools', 'testbed', 'dist', 'cli.js'))) {
  const before = run('node', ['tools/testbed/dist/cli.js', 'status'], { capture: true });
  const alreadyRunning = / healthy /.test(before.stdout ?? '');
  log(
    `testbed up (first run on a machine builds the servers, see docs/testbed.md for times; later runs start in seconds; ${minutesLeft()} min left)`,
  );
  const up = await runUntilDeadline('node', ['tools/testbed/dist/cli.js', 'up']);
  testbedUp = up.status === 0;
  startedBed = !alreadyRunning;
  if (up.timedOut) deadlineFailure('testbed up');
  else if (!testbedUp) {
    failed++;
    failures.push('testbed up');
  }
  const e = run('node', ['tools/testbed/dist/cli.js', 'env'], { capture: true });
  for (const line of (e.stdout ?? '').split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) testEnv[m[1]] = m[2].replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
  }
  // Suites must not skip silently when the bed is up: a missing variable is then a failure.
  if (testbedUp) testEnv.KOLLECT_TEST_REQUIRE_TESTBED = '1';
}

// 4. Every vitest project, one after the other: unit tests first, then the e2e suites alone,
// so the e2e timing assumptions (leases, ack waits) do not compete with unit tests for 2 cores.
const resultsDir = join(root, '.vitest-results');
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });
const projects = skipTestbed ? ['unit'] : ['unit', 'e2e'];
for (const project of projects) {
  const out = join(resultsDir, `${project}.json`);
  if (project === 'e2e' && !testbedUp) {
    log('e2e skipped: the test bed is not up (see above)');
    continue;
  }
  log(`vitest run --project ${project} (${minutesLeft()} min left before the deadline)`);
  const r = await runUntilDeadline(
    'npx',
    [
      'vitest',
      'run',
      '--project',
      project,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${out}`,
    ],
    { env: testEnv },
  );
  if (r.timedOut) {
    deadlineFailure(`vitest ${project}`);
    continue;
  }
  try {
    const results = JSON.parse(readFileSync(out, 'utf8'));
    passed += results.numPassedTests ?? 0;
    failed += results.numFailedTests ?? 0;
    // A test file that fails to load has no failed tests but is a failure.
    for (const file of results.testResults ?? []) {
      if (file.status === 'failed' && (file.assertionResults ?? []).every((a) => a.status !== 'failed')) {
        failed++;
        failures.push(`suite ${file.name}: ${String(file.message ?? '').split('\n')[0]}`);
      }
      for (const a of file.assertionResults ?? []) {
        if (a.status === 'failed') failures.push(`${file.name.replace(root + '/', '')} > ${a.fullName}`);
      }
    }
  } catch (err) {
    failed++;
    failures.push(`vitest (${project}) produced no results: ${err.message}`);
  }
}

// 5. Stop the bed this run started (unless asked to keep it for a debugging session), also when
// its `up` failed or was stopped at the deadline: services it did start would otherwise linger.
if (startedBed && !keepTestbed) {
  log('testbed down');
  run('node', ['tools/testbed/dist/cli.js', 'down']);
}

if (failures.length) {
  console.log('\nFailures:');
  for (const f of failures) console.log(`  - ${f}`);
}
log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
