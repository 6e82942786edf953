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

// 3. Test bed.
let testEnv = { ...env };
let testbedUp = false;
if (!skipTestbed && built && existsSync(join(root, 'tools', 'testbed', 'dist', 'cli.js'))) {
  log('testbed up (first run on a machine builds the servers; later runs start in seconds)');
  const up = run('node', ['tools/testbed/dist/cli.js', 'up']);
  testbedUp = up.status === 0;
  if (!testbedUp) {
    failed++;
    failures.push('testbed up');
  }
  const e = run('node', ['tools/testbed/dist/cli.js', 'env'], { capture: true });
  for (const line of (e.stdout ?? '').split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) testEnv[m[1]] = m[2].replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
  }
}

// 4. Every vitest project.
const resultsDir = join(root, '.vitest-results');
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });
const projects = skipTestbed ? ['--project', 'unit'] : [];
log(`vitest run ${projects.join(' ') || '(unit + e2e)'}`);
run(
  'npx',
  [
    'vitest',
    'run',
    ...projects,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${join(resultsDir, 'results.json')}`,
  ],
  { env: testEnv },
);
try {
  const results = JSON.parse(readFileSync(join(resultsDir, 'results.json'), 'utf8'));
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
  failures.push(`vitest produced no results: ${err.message}`);
}

// 5. Stop the bed (unless asked to keep it for a debugging session).
if (testbedUp && !keepTestbed) {
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
