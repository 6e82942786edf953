/**
 * Independent readers for the sink conformance suite: they read what a backend holds with the
 * backend's own tools (git CLI, PyYAML, S3 GetObject, pyarrow…), never through the sink code.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYamlJs } from 'yaml';
import type { InventoryRef, Item } from '@kollect/contracts';
import { testbedEnv } from '../support/testbed.js';

const execFileP = promisify(execFile);

/** An Item as read from a file (group may be absent). */
export function toItem(v: Record<string, unknown>): Item {
  return {
    targetNamespace: String(v['targetNamespace']),
    targetName: String(v['targetName']),
    namespace: String(v['namespace'] ?? ''),
    name: String(v['name']),
    group: typeof v['group'] === 'string' ? v['group'] : '',
    version: String(v['version']),
    kind: String(v['kind']),
    uid: String(v['uid']),
    attributes: (v['attributes'] as Record<string, unknown>) ?? {},
  };
}

function run(cmd: string, args: string[], input: string | Buffer, env?: NodeJS.ProcessEnv): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0
        ? resolve(Buffer.concat(out))
        : reject(new Error(`${cmd} exited ${code}: ${Buffer.concat(err).toString().slice(-2000)}`)),
    );
    p.stdin.end(input);
  });
}

let pyYaml: boolean | undefined;
/** Parse many YAML documents; PyYAML's C loader when present (the `yaml` package is slow at 100k rows). */
export async function parseYamlDocs(docs: string[]): Promise<unknown[]> {
  if (pyYaml === undefined) {
    try {
      await execFileP('python3', ['-c', 'import yaml; assert yaml.__with_libyaml__']);
      pyYaml = true;
    } catch {
      pyYaml = false;
    }
  }
  if (!pyYaml) return docs.map((d) => parseYamlJs(d) as unknown);
  const script =
    'import sys, json, yaml\nfor line in sys.stdin:\n    d = json.loads(line)\n    sys.stdout.write(json.dumps(yaml.load(d, Loader=yaml.CSafeLoader)) + "\\n")\n';
  const out = await run('python3', ['-c', script], docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  return out
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
}

/** Git access for the reader: an in-memory auth header, like any CI job would do. */
export interface GitReaderAuth {
  username: string;
  password: string;
}

function gitEnv(url: string, auth: GitReaderAuth): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `http.${url}.extraHeader`,
    GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`,
  };
}

/** The branch head of a remote ('' when the branch does not exist). */
export async function gitRemoteHead(url: string, auth: GitReaderAuth, branch = 'main'): Promise<string> {
  const { stdout } = await execFileP('git', ['ls-remote', url, `refs/heads/${branch}`], {
    env: gitEnv(url, auth),
  });
  return stdout.split('\t')[0]?.trim() ?? '';
}

export interface GitLayoutForReader {
  mode: 'document' | 'tree';
  format: 'yaml' | 'json' | 'ndjson';
  /** document: the file path; tree: the directory holding this cluster's rows. */
  path(cluster: string, inventory: InventoryRef): string;
  /** Tree layouts: files under `path` that are not rows (e.g. the split index). */
  exclude?: RegExp;
}

/**
 * Clone the branch (bare, shallow) and parse the inventory's files; the export generation comes
 * from the `Kollect-Export-Generation` trailer of the newest matching commit.
 */
export async function readGit(
  url: string,
  auth: GitReaderAuth,
  layout: GitLayoutForReader,
  cluster: string,
  inventory: InventoryRef,
  branch = 'main',
): Promise<{ items: Item[]; exportGeneration?: number } | null> {
  const dir = mkdtempSync(join(tmpdir(), 'kollect-reader-'));
  const env = gitEnv(url, auth);
  try {
    const head = await gitRemoteHead(url, auth, branch);
    if (!head) return null;
    await execFileP('git', ['clone', '--quiet', '--bare', '--depth', '50', '--branch', branch, url, dir], {
      env,
      maxBuffer: 1 << 30,
    });
    const log = (
      await execFileP('git', ['--git-dir', dir, 'log', '--format=%(trailers:unfold,only)%x1e', branch], {
        env,
        maxBuffer: 1 << 28,
      })
    ).stdout;
    let exportGeneration: number | undefined;
    const invKey = `${inventory.kind}/${inventory.namespace}/${inventory.name}`;
    for (const rec of log.split('\x1e')) {
      if (rec.includes(`Kollect-Inventory: ${invKey}`) && rec.includes(`Kollect-Cluster: ${cluster}`)) {
        const m = /Kollect-Export-Generation: (\d+)/.exec(rec);
        if (m) exportGeneration = Number(m[1]);
        break;
      }
    }
    const p = layout.path(cluster, inventory);
    const ls = (
      await execFileP('git', ['--git-dir', dir, 'ls-tree', '-r', '-z', branch, '--', p], {
        env,
        maxBuffer: 1 << 30,
      })
    ).stdout;
    const entries = ls
      .split('\0')
      .filter(Boolean)
      .map((rec) => {
        const [meta, path] = rec.split('\t') as [string, string];
        return { sha: meta.split(' ')[2] as string, path };
      })
      .filter((e) => !layout.exclude || !layout.exclude.test(e.path));
    if (entries.length === 0)
      return layout.mode === 'tree'
        ? { items: [], ...(exportGeneration !== undefined ? { exportGeneration } : {}) }
        : null;
    const contents = await catBlobs(
      dir,
      entries.map((e) => e.sha),
    );
    let items: Item[];
    if (layout.mode === 'document') {
      const text = contents[0] as string;
      if (layout.format === 'json') {
        const env2 = JSON.parse(text) as { items: Record<string, unknown>[]; exportGeneration?: number };
        items = env2.items.map(toItem);
      } else if (layout.format === 'ndjson') {
        items = text
          .split('\n')
          .filter(Boolean)
          .map((l) => toItem(JSON.parse(l) as Record<string, unknown>));
      } else {
        const [list] = await parseYamlDocs([text]);
        items = ((list as Record<string, unknown>[] | null) ?? []).map(toItem);
      }
    } else if (layout.format === 'yaml') {
      items = (await parseYamlDocs(contents)).map((v) => toItem(v as Record<string, unknown>));
    } else {
      items = contents.map((c) => toItem(JSON.parse(c) as Record<string, unknown>));
    }
    return { items, ...(exportGeneration !== undefined ? { exportGeneration } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function catBlobs(dir: string, shas: string[]): Promise<string[]> {
  const out = await run('git', ['--git-dir', dir, 'cat-file', '--batch'], shas.join('\n') + '\n');
  const res: string[] = [];
  let pos = 0;
  for (let i = 0; i < shas.length; i++) {
    const nl = out.indexOf(10, pos);
    const header = out.subarray(pos, nl).toString('utf8').split(' ');
    const size = Number(header[2]);
    res.push(out.subarray(nl + 1, nl + 1 + size).toString('utf8'));
    pos = nl + 1 + size + 1;
  }
  return res;
}

/**
 * The python of the test bed's pyarrow venv (`KOLLECT_TEST_PYTHON`; the bed builds it into its
 * cache on `up`, pinned). Throws, naming the variable, when the bed did not publish it.
 */
export function pyarrowPython(): string {
  return testbedEnv.python;
}

/** Run a Python snippet with the pyarrow venv; stdin gets `input`, stdout is returned. */
export async function runPyarrow(script: string, input: Buffer | string): Promise<string> {
  const py = pyarrowPython();
  // One thread: pyarrow's pools have aborted at interpreter exit on this loaded 2-core machine.
  const env = { ...process.env, OMP_NUM_THREADS: '1', ARROW_NUM_THREADS: '1' };
  const pre = 'import pyarrow as _pa\n_pa.set_cpu_count(1)\n_pa.set_io_thread_count(1)\n';
  try {
    return (await run(py, ['-c', pre + script], input, env)).toString('utf8');
  } catch (err) {
    if (!/exited null/.test(String(err))) throw err;
    return (await run(py, ['-c', pre + script], input, env)).toString('utf8');
  }
}

/**
 * Parquet rows → Items with pyarrow (not the writer's library). Also checks the seed's columns
 * and the cluster/inventory partition values.
 */
export async function readParquetItems(body: Buffer, cluster: string, inv: InventoryRef): Promise<Item[]> {
  const script = [
    'import sys, json, io',
    'import pyarrow.parquet as pq',
    't = pq.read_table(io.BytesIO(sys.stdin.buffer.read()))',
    'cols = t.column_names',
    'need = ["cluster","inventory_namespace","inventory_name","target_namespace","target_name","namespace","name","uid","group","api_version","kind","exported_at","attributes"]',
    'missing = [c for c in need if c not in cols]',
    'assert not missing, "missing columns: %s" % missing',
    'assert str(t.schema.field("exported_at").type) == "timestamp[us, tz=UTC]", str(t.schema.field("exported_at").type)',
    'rows = t.to_pylist()',
    'out = []',
    'for r in rows:',
    '    r["exported_at"] = r["exported_at"].isoformat()',
    '    out.append(r)',
    'sys.stdout.write(json.dumps(out))',
  ].join('\n');
  const rows = JSON.parse(await runPyarrow(script, body)) as Record<string, unknown>[];
  const invNs = inv.kind === 'KollectClusterInventory' ? 'cluster' : inv.namespace;
  return rows.map((r) => {
    if (r['cluster'] !== cluster || r['inventory_namespace'] !== invNs || r['inventory_name'] !== inv.name) {
      throw new Error(
        `parquet row partition mismatch: ${JSON.stringify([r['cluster'], r['inventory_namespace'], r['inventory_name']])}`,
      );
    }
    const group = typeof r['group'] === 'string' ? r['group'] : '';
    const apiVersion = String(r['api_version']);
    const attrs = JSON.parse(String(r['attributes'])) as Record<string, unknown>;
    const image = attrs['image'];
    if (typeof image === 'string' && 'attr_image' in r && r['attr_image'] !== image)
      throw new Error(`attr_image ${String(r['attr_image'])} != ${image}`);
    return {
      targetNamespace: String(r['target_namespace']),
      targetName: String(r['target_name']),
      namespace: String(r['namespace']),
      name: String(r['name']),
      group,
      version: group ? apiVersion.slice(group.length + 1) : apiVersion,
      kind: String(r['kind']),
      uid: String(r['uid']),
      attributes: attrs,
    };
  });
}
