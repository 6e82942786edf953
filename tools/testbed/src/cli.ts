#!/usr/bin/env node
/**
 * kollect test bed CLI — `npm run testbed -- <command>` (see docs/testbed.md).
 *
 *   up [svc...]        build (cached) and start services (all by default) + dependencies; reuses running ones
 *   down               stop every service (data is kept; ports are reused next time)
 *   status [svc...]    one line per service: "<name> healthy|down <detail>"; exit 1 if any is down
 *   env [--json]       shell export lines with KOLLECT_TEST_* (use: eval "$(npm run -s testbed -- env)")
 *   stop|kill|start|restart <svc...>   fault hooks (SIGTERM | SIGKILL of the process group | start | stop+start)
 *   build [component...]               build components into the cache without starting anything
 *   logs <svc> [lines]                 print the tail of a service's log files
 *   clean                              down, then delete the data root (not the build cache)
 */
import { build, clean, down, envShell, envVars, kill, restart, start, status, stop, up } from './bed.js';
import { COMPONENTS, componentDir, type ComponentName } from './components.js';
import { info, TestbedError } from './log.js';
import { cacheRoot, dataRoot } from './paths.js';
import { tailFile } from './proc.js';
import { isServiceName, SERVICE_NAMES, type ServiceName } from './state.js';
import { logFiles } from './bed.js';
import { SERVICES } from './services/index.js';

const USAGE = `usage: npm run testbed -- <command> [args]

  up [svc...]                   build (cached) and start services (default: all) with their dependencies
  down                          stop all services (data kept under ${dataRoot()})
  status [svc...]               "<name> healthy|down <detail>" per service (exit 1 if any is down)
  env [--json]                  print export lines:  eval "$(npm run -s testbed -- env)"
  stop|kill|start|restart <svc...>
                                fault hooks: SIGTERM | SIGKILL | start | stop+start
  build [component...]          build components into ${cacheRoot()}
  logs <svc> [lines]            tail of a service's logs
  clean                         down + delete the data root

services: ${SERVICE_NAMES.join(', ')}
components: ${Object.keys(COMPONENTS).join(', ')}
env: KOLLECT_TESTBED_ROOT (data root, default /tmp/kollect-testbed), XDG_CACHE_HOME (build cache parent)`;

function services(args: string[], allowEmpty: boolean): ServiceName[] {
  const bad = args.filter((a) => !isServiceName(a));
  if (bad.length)
    throw new TestbedError(
      `unknown service(s): ${bad.join(', ')}`,
      `services are: ${SERVICE_NAMES.join(', ')}`,
    );
  if (!allowEmpty && args.length === 0)
    throw new TestbedError('name at least one service', `services are: ${SERVICE_NAMES.join(', ')}`);
  return args as ServiceName[];
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case 'up':
      await up(services(args, true));
      return printStatus(await status(args.length ? services(args, true) : undefined), true);
    case 'down':
      await down();
      return 0;
    case 'status':
      return printStatus(await status(args.length ? services(args, true) : undefined), false);
    case 'env': {
      const vars = envVars();
      process.stdout.write(
        args.includes('--json') ? JSON.stringify(vars, null, 2) + '\n' : envShell(vars) + '\n',
      );
      return 0;
    }
    case 'stop':
      await stop(services(args, false));
      return 0;
    case 'kill':
      await kill(services(args, false));
      return 0;
    case 'start':
      await start(services(args, false));
      return 0;
    case 'restart':
      await restart(services(args, false));
      return 0;
    case 'build': {
      const names = (args.length ? args : Object.keys(COMPONENTS)) as ComponentName[];
      const bad = names.filter((n) => !(n in COMPONENTS));
      if (bad.length) throw new TestbedError(`unknown component(s): ${bad.join(', ')}`);
      await build(names);
      for (const n of names)
        if (COMPONENTS[n].source.kind !== 'system') info(`${n}: ${componentDir(COMPONENTS[n])}`);
      return 0;
    }
    case 'logs': {
      const [svc, n] = args;
      const [name] = services(svc ? [svc] : [], false);
      for (const f of logFiles(name!)) {
        process.stdout.write(`==> ${f} <==\n${tailFile(f, Number(n ?? 50))}\n`);
      }
      return 0;
    }
    case 'clean':
      await clean();
      return 0;
    case 'describe':
      for (const n of SERVICE_NAMES) process.stdout.write(`${n}: ${SERVICES[n].description}\n`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE + '\n');
      return cmd ? 0 : 2;
    default:
      process.stderr.write(`unknown command: ${cmd}\n${USAGE}\n`);
      return 2;
  }
}

function printStatus(lines: Awaited<ReturnType<typeof status>>, toStderr: boolean): number {
  const out = lines.map((l) => `${l.name} ${l.healthy ? 'healthy' : 'down'} ${l.detail}`).join('\n') + '\n';
  (toStderr ? process.stderr : process.stdout).write(out);
  const rss = lines.reduce((n, l) => n + l.rss, 0);
  if (rss > 0)
    process.stderr.write(
      `[testbed] total resident memory of running services: ${Math.round(rss / 2 ** 20)} MiB\n`,
    );
  return lines.every((l) => l.healthy) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof TestbedError) {
      process.stderr.write(`[testbed] ERROR: ${e.message}\n${e.hint ? `[testbed] hint: ${e.hint}\n` : ''}`);
    } else {
      process.stderr.write(
        `[testbed] unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
      );
    }
    process.exit(1);
  },
);
