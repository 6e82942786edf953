/**
 * Bus micro-benchmark against a real NATS server: publish throughput awaiting each ack versus the
 * bounded-window AsyncPublisher, and consume throughput of the durable consumer runner.
 *
 *   KOLLECT_TEST_NATS_URL=nats://127.0.0.1:4222 npm run -w @kollect/bench bus [-- --messages 20000 --size 1024]
 *
 * Works in an isolated topology (unique prefix) and deletes it afterwards. Prints numbers only.
 */
import { randomBytes } from 'node:crypto';
import {
  AsyncPublisher,
  busNames,
  connectBus,
  ensureTopology,
  publishBytes,
  runConsumer,
} from '@kollect/bus';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const MESSAGES = arg('messages', 20_000);
const SIZE = arg('size', 1024);
const url = process.env['KOLLECT_TEST_NATS_URL'];
if (!url) {
  console.error('KOLLECT_TEST_NATS_URL is required (eval "$(npm run -s testbed -- env)")');
  process.exit(2);
}

const bus = await connectBus({ servers: url, name: 'bench-bus' });
const names = busNames(`bench${randomBytes(3).toString('hex')}`);
await ensureTopology(bus.jsm, { names });
const body = new Uint8Array(SIZE).fill(120);
const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en')} msgs/s`;
console.log(`nats-server ${bus.serverVersion()}, ${MESSAGES} messages of ${SIZE} B`);

try {
  const awaited = Math.min(MESSAGES, 5000);
  let t = performance.now();
  for (let i = 0; i < awaited; i++) {
    await publishBytes(bus, names.subject(`kollect.status.bench.a${i % 100}`), body, { msgId: `a${i}` });
  }
  console.log(`publish, await each ack   ${rate(awaited, performance.now() - t)} (${awaited} msgs)`);

  for (const window of [64, 256]) {
    const pub = new AsyncPublisher(bus, { window });
    t = performance.now();
    for (let i = 0; i < MESSAGES; i++) {
      await pub.publishBytes(names.subject(`kollect.obj.bench.w${window}.u${i}`), body, {
        msgId: `w${window}-${i}`,
      });
    }
    const failures = await pub.flush();
    console.log(
      `publish, window ${String(window).padEnd(4)}      ${rate(MESSAGES, performance.now() - t)} (failures ${failures.length})`,
    );
  }

  let n = 0;
  t = performance.now();
  const r = runConsumer({
    bus,
    stream: names.streams.objects,
    durable: 'bench',
    filterSubjects: names.subject('kollect.obj.bench.w64.*'),
    batch: 500,
    handler: async () => {
      n++;
    },
  });
  while (n < MESSAGES) await new Promise((res) => setTimeout(res, 5));
  console.log(`consume + ack (runner)    ${rate(MESSAGES, performance.now() - t)}`);
  await r.stop();
} finally {
  for (const s of Object.values(names.streams)) await bus.jsm.streams.delete(s).catch(() => undefined);
  for (const b of Object.values(names.buckets)) {
    await bus.jsm.streams.delete(b === names.buckets.full ? `OBJ_${b}` : `KV_${b}`).catch(() => undefined);
  }
  await bus.close();
}
