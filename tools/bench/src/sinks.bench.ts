/**
 * Snapshot sink benchmark against the test bed's real servers: export latency and bytes written
 * for 10k and 100k rows, first export and a 1% incremental change, per backend (git document
 * yaml, git perResource yaml, s3 json, s3 parquet, gcs json), driven through the framework
 * (`SinkRunner`) exactly as the worker drives it. Every number is also printed as a ratio against
 * a baseline measured in the same run: serialising the same generation to the compact envelope
 * JSON in memory (no I/O), the cheapest thing any export must at least do.
 *
 *   npm run testbed -- up git s3 gcs && eval "$(npm run -s testbed -- env)"
 *   npm run -w @kollect/bench sinks [-- --rows 10000,100000 --only git-document,s3-json]
 *
 * Prints numbers only; nothing here asserts timing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEnvelope, envelopeJson, type InventoryRef } from '@kollect/contracts';
import type { CompiledSink } from '@kollect/plan';
import {
  MaterializedStore,
  SinkRunner,
  type SinkCredentials,
  type SinkFactory,
  type SinkLogger,
} from '@kollect/sink';
import { gcsSinkFactory } from '@kollect/sink-gcs';
import { gitSinkFactory } from '@kollect/sink-git';
import { s3SinkFactory } from '@kollect/sink-s3';
import { InventoryModel, makeItems } from '@kollect/sink-testing';

const quiet: SinkLogger = { debug() {}, info() {}, warn() {}, error() {} };
const env = (k: string): string => {
  const v = process.env[k];
  if (!v) {
    console.error(`missing ${k}: eval "$(npm run -s testbed -- env)"`);
    process.exit(2);
  }
  return v;
};
function argList(name: string, fallback: string[]): string[] {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string).split(',') : fallback;
}
const ROWS = argList('rows', ['10000', '100000']).map(Number);
const ONLY = argList('only', []);
const unique = (p: string) => `${p}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

interface Target {
  name: string;
  factory: SinkFactory;
  make(): Promise<{ sink: CompiledSink; credentials: SinkCredentials }>;
}

async function gitRepo(): Promise<string> {
  const auth = Buffer.from(
    `${env('KOLLECT_TEST_GIT_USERNAME')}:${env('KOLLECT_TEST_GIT_PASSWORD')}`,
  ).toString('base64');
  const r = await fetch(env('KOLLECT_TEST_GIT_ADMIN_URL'), {
    method: 'POST',
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: unique('bench') }),
  });
  return ((await r.json()) as { url: string }).url;
}
const gitCreds = (): SinkCredentials => {
  const username = env('KOLLECT_TEST_GIT_USERNAME');
  const password = env('KOLLECT_TEST_GIT_PASSWORD');
  return { data: { username, password }, roles: { username, password }, version: '1' };
};
const s3Creds = (): SinkCredentials => {
  const a = env('KOLLECT_TEST_S3_ACCESS_KEY');
  const s = env('KOLLECT_TEST_S3_SECRET_KEY');
  return {
    data: { accessKeyID: a, secretAccessKey: s },
    roles: { accessKeyId: a, secretAccessKey: s },
    version: '1',
  };
};
const sinkOf = (type: string, spec: Record<string, unknown>): CompiledSink => ({
  ref: { family: 'snapshot', namespace: 'bench', name: unique(type) },
  uid: 'u',
  generation: 1,
  type,
  spec: { type, ...spec },
});

const targets: Target[] = [
  {
    name: 'git-document',
    factory: gitSinkFactory,
    make: async () => ({
      sink: sinkOf('git', { endpoint: await gitRepo(), git: {} }),
      credentials: gitCreds(),
    }),
  },
  {
    name: 'git-perResource',
    factory: gitSinkFactory,
    make: async () => ({
      sink: sinkOf('git', { endpoint: await gitRepo(), git: {}, layout: { mode: 'perResource' } }),
      credentials: gitCreds(),
    }),
  },
  {
    name: 's3-json',
    factory: s3SinkFactory,
    make: async () => ({
      sink: sinkOf('s3', { endpoint: `${env('KOLLECT_TEST_S3_ENDPOINT')}/${unique('bench')}/x` }),
      credentials: s3Creds(),
    }),
  },
  {
    name: 's3-parquet',
    factory: s3SinkFactory,
    make: async () => ({
      sink: sinkOf('s3', {
        endpoint: `${env('KOLLECT_TEST_S3_ENDPOINT')}/${unique('bench')}/x`,
        objectStore: { format: 'parquet' },
      }),
      credentials: s3Creds(),
    }),
  },
  {
    name: 'gcs-json',
    factory: gcsSinkFactory,
    make: async () => ({
      sink: sinkOf('gcs', {
        endpoint: `${env('KOLLECT_TEST_GCS_ENDPOINT')}/${unique('bench')}/x`,
        options: { project: process.env['KOLLECT_TEST_GCS_PROJECT'] ?? 'kollect-test' },
      }),
      credentials: { data: {}, roles: {}, version: '1' },
    }),
  },
].filter((t) => ONLY.length === 0 || ONLY.includes(t.name));

function baselineMs(model: InventoryModel, g: number): number {
  const t0 = performance.now();
  const f = model.full(g);
  envelopeJson(
    buildEnvelope({ items: f.items, exportedAt: f.exportedAt, presorted: { checksum: f.checksum } }),
  );
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'kollect-bench-sinks-'));
  const inv: InventoryRef = { kind: 'KollectInventory', namespace: 'bench', name: 'web' };
  console.log('backend           rows     phase        ms      bytes      baseline ms  ratio');
  for (const rows of ROWS) {
    for (const t of targets) {
      const { sink: compiled, credentials } = await t.make();
      const sink = t.factory.create({
        sink: compiled,
        cluster: 'bench',
        credentials,
        workDir,
        signal: new AbortController().signal,
        log: quiet,
        allowPrivateEndpoints: true,
      });
      await sink.connect();
      const model = new InventoryModel(inv, 'bench');
      const runner = new SinkRunner({
        sink,
        sinkName: t.name,
        full: model,
        store: new MaterializedStore(),
        clusterLabel: 'bench',
        log: quiet,
      });
      const phases: [string, () => void][] = [
        ['first', () => model.push(makeItems(rows))],
        [
          '1% change',
          () =>
            model.push(
              makeItems(rows, {
                image: (i) =>
                  i % 100 === 0 ? 'registry.example/app:patched' : `registry.example/app:${i % 7}`,
              }),
            ),
        ],
      ];
      for (const [phase, step] of phases) {
        step();
        const base = baselineMs(model, model.current);
        const msg = model.message(model.current);
        const t0 = performance.now();
        const out = await runner.handle(msg);
        const ms = performance.now() - t0;
        if (out.outcome === 'failed') throw out.error;
        console.log(
          `${t.name.padEnd(17)} ${String(rows).padStart(6)}   ${phase.padEnd(10)} ${ms.toFixed(0).padStart(7)} ${String(out.bytes).padStart(10)}   ${base.toFixed(0).padStart(10)}  ${(ms / base).toFixed(1).padStart(6)}x`,
        );
      }
      await sink.close();
    }
  }
  rmSync(workDir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
