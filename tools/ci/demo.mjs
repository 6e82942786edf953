#!/usr/bin/env node
// `npm run demo` — the main job. Installs (when node_modules is missing), builds, and runs the demo
// (tools/demo): the real test bed, the sample scenario and every Kollect service as its own process.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
const run = (cmd, argv) => spawnSync(cmd, argv, { cwd: root, env, stdio: 'inherit' }).status ?? 1;

if (!existsSync(join(root, 'node_modules'))) {
  if (run('npm', ['ci', '--no-audit', '--no-fund']) !== 0) process.exit(1);
}
console.log('building…');
if (run('npx', ['tsc', '-b']) !== 0) process.exit(1);
process.exit(run('node', [join(root, 'tools', 'demo', 'dist', 'main.js'), ...process.argv.slice(2)]));
