#!/usr/bin/env node
// The whole test suite in one command (README: `npm test`). Uses only Node built-ins so it can
// run before `npm ci`. Steps: install, build, lint, format check, start the test bed, run every
// vitest project (unit + e2e) against it, stop the test bed. Prints `N passed, N failed` last.
import { spawnSync } from 'node:child_process';
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
  log('testbed up (first run on a machine builds the servers; later runs start in seconds)');
  const up = run('node', ['tools/testbed/dist/cli.js', 'up']);
  testbedUp = up.status === 0;
  startedBed = !alreadyRunning;
  if (!testbedUp) {
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
  log(`vitest run --project ${project}`);
  run(
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

// 5. Stop the bed this run started (unless asked to keep it for a debugging session).
if (testbedUp && startedBed && !keepTestbed) {
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
