import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { binPath } from '../components.js';
import type { Health, ServiceDef } from './types.js';

function bsonPing(): Buffer {
  const parts: Buffer[] = [];
  // { ping: 1 (int32), $db: "admin" }
  parts.push(Buffer.from([0x10]), Buffer.from('ping\0'), Buffer.from([1, 0, 0, 0]));
  const db = Buffer.from('admin\0');
  const len = Buffer.alloc(4);
  len.writeInt32LE(db.length);
  parts.push(Buffer.from([0x02]), Buffer.from('$db\0'), len, db, Buffer.from([0]));
  const body = Buffer.concat(parts);
  const size = Buffer.alloc(4);
  size.writeInt32LE(body.length + 4);
  return Buffer.concat([size, body]);
}

/** Sends an OP_MSG {ping: 1} and checks for ok: 1 in the reply. */
export function mongoPing(port: number, timeoutMs = 3000): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const doc = bsonPing();
    const msg = Buffer.alloc(16 + 4 + 1 + doc.length);
    msg.writeInt32LE(msg.length, 0);
    msg.writeInt32LE(7, 4); // requestID
    msg.writeInt32LE(0, 8);
    msg.writeInt32LE(2013, 12); // OP_MSG
    msg.writeUInt32LE(0, 16); // flagBits
    msg.writeUInt8(0, 20); // section kind 0
    doc.copy(msg, 21);
    const s = createConnection({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    const fail = (e: Error) => {
      s.destroy();
      reject(e);
    };
    s.setTimeout(timeoutMs, () => fail(new Error('ping timed out')));
    s.once('error', fail);
    s.once('connect', () => s.write(msg));
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 4 || buf.length < buf.readInt32LE(0)) return;
      s.destroy();
      // look for the double element "ok" == 1.0 in the reply document
      const i = buf.indexOf(Buffer.from([0x01, 0x6f, 0x6b, 0x00]), 21);
      resolve(i > 0 && buf.readDoubleLE(i + 4) === 1);
    });
  });
}

/**
 * MongoDB wire protocol: FerretDB v1 built from its Go module (through its embeddable package and our
 * tools/testbed/go/ferretdb/main.go, see there why), SQLite backend under the data root.
 */
export const mongo: ServiceDef = {
  name: 'mongo',
  description: 'FerretDB v1.24.2 (github.com/FerretDB/FerretDB), SQLite backend, MongoDB wire protocol',
  deps: [],
  components: ['ferretdb'],
  portNames: ['mongo'],
  startTimeoutMs: 30_000,
  stopSignal: 'SIGTERM',
  async prepare(ctx) {
    const data = join(ctx.dir, 'data');
    mkdirSync(data, { recursive: true });
    return {
      cmd: binPath('ferretdb'),
      args: [
        `--listen-addr=127.0.0.1:${ctx.ports['mongo']}`,
        '--handler=sqlite',
        `--sqlite-url=file:${data}/`,
        '--log-level=warn',
      ],
      cwd: ctx.dir,
      logFile: join(ctx.dir, 'ferretdb.log'),
    };
  },
  async health(ctx): Promise<Health> {
    try {
      const ok = await mongoPing(ctx.ports['mongo']!);
      return { ok, detail: ok ? 'ping ok' : 'ping answered without ok: 1' };
    } catch (e) {
      return { ok: false, detail: (e as Error).message };
    }
  },
  env(ctx) {
    return { KOLLECT_TEST_MONGO_URI: `mongodb://127.0.0.1:${ctx.ports['mongo']}/` };
  },
  where(ctx) {
    return `mongodb://127.0.0.1:${ctx.ports['mongo']}/`;
  },
};
