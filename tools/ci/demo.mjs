#!/usr/bin/env node
// `npm run demo` — the main job. Until the pipeline core lands (issue "pipeline core"), this
// installs and builds, starts the real test bed, and says plainly what is and is not available.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
const run = (cmd, argv) => spawnSync(cmd, argv, { cwd: root, env, stdio: 'inherit' }).status ?? 1;

if (!existsSync(join(root, 'node_modules'))) run('npm', ['ci', '--no-audit', '--no-fund']);
if (run('npx', ['tsc', '-b']) !== 0) process.exit(1);
const demo = join(root, 'tools', 'demo', 'dist', 'main.js');
if (existsSync(demo)) {
  process.exit(run('node', [demo, ...process.argv.slice(2)]));
}
console.log(
  'Kollect demo: the pipeline services are not built yet (see `issues`), so there is nothing to run.',
);
console.log('Available now: the data contract (libs/contracts), the CRD schemas (crds/, docs/reference/),');
console.log('and the test bed (`npm run testbed -- up`, then `npm run testbed -- status`).');
process.exit(0);
