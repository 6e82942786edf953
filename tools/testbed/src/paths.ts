import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** tools/testbed (works from both src/ and dist/). */
export const TESTBED_DIR = resolve(here, '..');
/** Repository root. */
export const REPO_ROOT = resolve(TESTBED_DIR, '..', '..');
/** Wrapper Go modules, one per Go component (ours, committed). */
export const GO_MODULES_DIR = join(TESTBED_DIR, 'go');
/** The Maven pom that resolves the Kafka broker jars. */
export const KAFKA_POM = join(TESTBED_DIR, 'kafka', 'pom.xml');
/** Compiled git smart-HTTP server entry point (dist/git-server.js). */
export const GIT_SERVER_JS = join(TESTBED_DIR, 'dist', 'git-server.js');
/** Compiled TLS front entry point (dist/tls-front.js). */
export const TLS_FRONT_JS = join(TESTBED_DIR, 'dist', 'tls-front.js');
/** Compiled CLI. */
export const CLI_JS = join(TESTBED_DIR, 'dist', 'cli.js');

/** Scratch root holding every service's data, logs and the state file. */
export function dataRoot(): string {
  return resolve(process.env['KOLLECT_TESTBED_ROOT'] || '/tmp/kollect-testbed');
}

/** Build cache: `${XDG_CACHE_HOME:-~/.cache}/kollect-testbed/<component>-<version>/`. */
export function cacheRoot(): string {
  const base = process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return resolve(base, 'kollect-testbed');
}

export function serviceDir(service: string): string {
  return join(dataRoot(), service);
}

export function stateFile(): string {
  return join(dataRoot(), 'state.json');
}
