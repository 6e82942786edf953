#!/usr/bin/env node
/**
 * Follow the public snapshot subjects (`kollect.snap.<cluster>.<namespace>.<inventory>`) without
 * the `nats` CLI: one line per snapshot generation, each folded onto the previous one and its
 * checksum verified the way a sink would (`SnapshotFeed` of @kollect/stack). Reads the snapshot
 * stream from its start, then live, until Ctrl-C.
 *
 *   eval "$(npm run -s testbed -- env)" && node tools/demo/dist/subscribe.js --cluster demo
 *
 * Options: --server <url> (default $KOLLECT_NATS_URL, else $KOLLECT_TEST_NATS_URL), --prefix <p>
 * (bus prefix of an isolated install, default none), --cluster <name> (default every cluster).
 */
import { busNames, connectBus } from '@kollect/bus';
import { encodeToken, subjects } from '@kollect/contracts';
import { SnapshotFeed } from '@kollect/stack';
import { changeLine, styles } from './render.js';

const USAGE =
  'usage: node tools/demo/dist/subscribe.js [--server <nats-url>] [--prefix <bus-prefix>] [--cluster <name>]';

function parseArgs(argv: string[]): {
  server: string | undefined;
  prefix: string;
  cluster: string | undefined;
} {
  const out = {
    server: process.env['KOLLECT_NATS_URL'] || process.env['KOLLECT_TEST_NATS_URL'] || undefined,
    prefix: '',
    cluster: undefined as string | undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--server') out.server = value();
    else if (a === '--prefix') out.prefix = value();
    else if (a === '--cluster') out.cluster = value();
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!args.server)
    throw new Error(
      `no NATS server: pass --server or export KOLLECT_TEST_NATS_URL (eval "$(npm run -s testbed -- env)")\n${USAGE}`,
    );
  const s = styles(process.stdout.isTTY === true);
  const bus = await connectBus({ servers: args.server, name: 'kollect-demo-subscribe' });
  const filter = args.cluster ? `kollect.snap.${encodeToken(args.cluster)}.>` : undefined;
  const feed = await SnapshotFeed.start(bus, busNames(args.prefix), {
    onChange: (c) => console.log(changeLine(c, s)),
    ...(filter ? { filter } : {}),
  });
  console.log(s.dim(`following ${filter ?? subjects.snapshotsAll} on ${args.server} (Ctrl-C stops)`));
  const stop = (): void => {
    void feed
      .stop()
      .then(() => bus.close())
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
