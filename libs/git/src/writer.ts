import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { inventoryKey, rowKeyString, type InventoryRef, type Item } from '@kollect/contracts';
import {
  documentPath,
  indexPath,
  itemFile,
  itemPath,
  LayoutError,
  pruneCandidates,
  renderCommitMessage,
  renderFiles,
  renderValue,
  indexValue,
  resolveLayout,
  TRAILERS,
  DEFAULT_CLUSTER_LABEL,
  type CommitTemplates,
  type ResolvedLayout,
  type SnapshotFormat,
} from '@kollect/layout';
import {
  KeyedMutex,
  SinkConflict,
  SinkDataInvalid,
  SinkNeedsFullSnapshot,
  type AppliedPosition,
  type ApplyResult,
  type FullSnapshot,
  type ProbeResult,
  type ReplaceContext,
  type SinkCapabilities,
  type SinkLogger,
  type SnapshotDiff,
  type BaseState,
} from '@kollect/sink';
import { GitAuthEnv, type GitCredentials } from './auth.js';
import type { GitRemote } from './endpoint.js';
import { gitError } from './errors.js';
import { blobId, GitMirror, type Author, type FileOp } from './mirror.js';

/** Everything the writer needs; built by the git and gitlab sinks from the spec and Secret. */
export interface GitWriterConfig {
  /** `family/namespace/name`, for errors and logs. */
  sinkName: string;
  /** Sink object name (`{sink}` in templates). */
  sinkShortName: string;
  remote: GitRemote;
  credentials: GitCredentials;
  /** Persistent scratch directory of the worker; mirrors live under `<workDir>/git-mirrors`. */
  workDir: string;
  depth: number;
  pushPolicy: 'Commit' | 'ForcePush';
  author: Author;
  templates: CommitTemplates;
  /** The sink spec (layout, pathTemplate, git.prune). */
  spec: Record<string, unknown>;
  format: SnapshotFormat;
  /** Start a missing branch from this one (GitLab merge-request mode). */
  baseBranch?: string;
  /** Deadline of one git command (default 120 s, the seed's whole-export timeout). */
  timeoutMs?: number;
  log: SinkLogger;
  signal?: AbortSignal;
}

/** Process-wide: one writer at a time per (remote, branch), whichever sink object it belongs to. */
const REMOTE_LOCKS = new KeyedMutex();

/** Positions at a known head are immutable; cache them (bounded). */
const MAX_CACHED_POSITIONS = 10_000;

/**
 * Writes inventory generations into one branch of one remote as commits: renders files with
 * `@kollect/layout`, builds the commit with plumbing in a persistent bare mirror, records the
 * position in trailers, pushes (fast-forward, or forced), and on a rejected push fetches,
 * rebuilds the same change on the new head and pushes once more.
 */
export class GitSnapshotWriter {
  private readonly c: GitWriterConfig;
  private auth: GitAuthEnv | undefined;
  private mirror: GitMirror | undefined;
  private head: string | null = null;
  private headAt = 0;
  private readonly positions = new Map<string, AppliedPosition | null>();
  /** Last inferred layout per inventory when `layout.mode` is unset (for empty generations). */
  private readonly inferred = new Map<string, ResolvedLayout>();

  constructor(config: GitWriterConfig) {
    this.c = { timeoutMs: 120_000, ...config };
  }

  /** Document layouts rewrite one file (not incremental); tree layouts apply diffs given N-1. */
  get capabilities(): SinkCapabilities {
    const explicit = (this.c.spec['layout'] as { mode?: string } | undefined)?.mode;
    const tree = explicit
      ? explicit !== 'document'
      : [...this.inferred.values()].some((l) => l.mode !== 'document');
    return {
      kind: 'snapshot-store',
      formats: ['yaml', 'json', 'ndjson'],
      incremental: tree,
      diffNeedsBase: tree,
    };
  }

  private lockKey(): string {
    return `${this.c.remote.url}#${this.c.remote.branch ?? ''}`;
  }

  private m(): GitMirror {
    if (!this.mirror) throw new Error('git writer used before connect()');
    return this.mirror;
  }

  /** Prepare the bare mirror (no network). */
  async connect(): Promise<void> {
    try {
      this.auth?.dispose();
      const id = createHash('sha256')
        .update(`${this.c.remote.url}#${this.c.remote.branch ?? ''}`)
        .digest('hex')
        .slice(0, 20);
      this.auth = new GitAuthEnv(this.c.remote, this.c.credentials, this.c.workDir);
      this.mirror = new GitMirror({
        remote: this.c.remote,
        dir: join(this.c.workDir, 'git-mirrors', `${id}.git`),
        auth: this.auth,
        depth: this.c.depth,
        timeoutMs: this.c.timeoutMs as number,
        ...(this.c.signal ? { signal: this.c.signal } : {}),
        ...(this.c.baseBranch ? { baseBranch: this.c.baseBranch } : {}),
      });
      await REMOTE_LOCKS.run(this.lockKey(), () => this.m().ensure());
    } catch (err) {
      throw gitError(this.c.sinkName, err);
    }
  }

  async close(): Promise<void> {
    this.auth?.dispose();
    this.auth = undefined;
    this.mirror = undefined;
  }

  /** `git ls-remote`: reachability, TLS and credentials. */
  async probe(): Promise<ProbeResult> {
    const t0 = Date.now();
    try {
      if (!this.mirror) await this.connect();
      await this.m().lsRemote();
      return { ok: true, message: `reachable: ${this.c.remote.url}`, latencyMs: Date.now() - t0 };
    } catch (err) {
      const e = gitError(this.c.sinkName, err);
      return {
        ok: false,
        message: e.message,
        latencyMs: Date.now() - t0,
        errorClass: e.errorClass === 'terminal' ? 'terminal' : 'transient',
        reason: 'ConnectionTestFailed',
      };
    }
  }

  private async fetchHead(maxAgeMs: number): Promise<string | null> {
    if (this.headAt > 0 && Date.now() - this.headAt <= maxAgeMs) return this.head;
    this.head = await this.m().fetch();
    this.headAt = Date.now();
    return this.head;
  }

  private async positionAt(
    head: string | null,
    cluster: string,
    inv: InventoryRef,
  ): Promise<AppliedPosition | null> {
    if (!head) return null;
    const invKey = inventoryKey(inv);
    const label = cluster || DEFAULT_CLUSTER_LABEL;
    const key = `${head}\u0000${label}\u0000${invKey}`;
    if (this.positions.has(key)) return this.positions.get(key) ?? null;
    const found = await this.m().findCommit(
      head,
      (t) => t[TRAILERS.inventory] === invKey && t[TRAILERS.cluster] === label,
    );
    let pos: AppliedPosition | null = null;
    if (found) {
      const g = Number(found.trailers[TRAILERS.exportGeneration]);
      if (Number.isInteger(g))
        pos = { exportGeneration: g, checksum: found.trailers[TRAILERS.checksum] ?? '' };
    }
    if (this.positions.size >= MAX_CACHED_POSITIONS) this.positions.clear();
    this.positions.set(key, pos);
    return pos;
  }

  /** The generation recorded by the newest commit of (cluster, inventory) on the branch. */
  async lastApplied(cluster: string, inv: InventoryRef): Promise<AppliedPosition | null> {
    try {
      return await REMOTE_LOCKS.run(this.lockKey(), async () =>
        this.positionAt(await this.fetchHead(0), cluster, inv),
      );
    } catch (err) {
      throw gitError(this.c.sinkName, err);
    }
  }

  private layoutFor(
    inv: InventoryRef,
    cluster: string,
    sample: () => Iterable<Item>,
    hasItems: boolean,
  ): ResolvedLayout {
    const key = `${cluster}\u0000${inventoryKey(inv)}`;
    const explicit = (this.c.spec['layout'] as { mode?: string } | undefined)?.mode;
    if (!explicit && !hasItems) {
      const prev = this.inferred.get(key);
      if (prev) return prev;
    }
    const layout = resolveLayout(this.c.spec, this.c.format, sample);
    if (!explicit) this.inferred.set(key, layout);
    return layout;
  }

  /** Apply diff N on top of N-1 (tree layouts; the framework passes the N-1 rows as `base`). */
  async applyDiff(diff: SnapshotDiff): Promise<ApplyResult> {
    const base = diff.base;
    if (!base) throw SinkNeedsFullSnapshot('the git tree layout needs the rows of the previous generation');
    const layout = this.layoutFor(
      diff.inventory,
      diff.cluster,
      () => sampleOf(diff.upserts, base),
      diff.upserts.length > 0 || base.size > 0,
    );
    if (layout.mode === 'document')
      throw SinkNeedsFullSnapshot('the document layout rewrites the whole file');
    if (
      base.generation !== diff.generation &&
      /\{generation\}/.test(layout.resourceTemplate + layout.index.template)
    ) {
      throw SinkNeedsFullSnapshot('the paths contain {generation}, which changed');
    }
    const doc = { cluster: diff.cluster, inventory: diff.inventory, generation: diff.generation };
    return this.locked(async () => {
      const writes = new Map<string, string>();
      const deletes = new Set<string>();
      const upserted = new Set<string>();
      try {
        for (const it of diff.upserts) {
          const p = itemPath(layout, it, doc);
          if (writes.has(p))
            throw new LayoutError(`two rows render to ${p}; add {uid} or {kind} to layout.pathTemplate`);
          writes.set(p, itemFile(layout, it));
          upserted.add(rowKeyString(it));
          const old = base.get(it);
          if (old) {
            const op = itemPath(layout, old, { ...doc, generation: base.generation });
            if (op !== p) deletes.add(op);
          }
        }
        for (const k of diff.deletes) {
          const old = base.get(k);
          if (old) deletes.add(itemPath(layout, old, { ...doc, generation: base.generation }));
        }
        for (const p of writes.keys()) deletes.delete(p);
        if (layout.index.enabled) {
          const paths: string[] = [];
          const gone = new Set(diff.deletes.map(rowKeyString));
          for (const it of base.values()) {
            const k = rowKeyString(it);
            if (!gone.has(k) && !upserted.has(k)) paths.push(itemPath(layout, it, doc));
          }
          for (const p of writes.keys()) paths.push(p);
          paths.sort();
          const ip = indexPath(layout, doc);
          writes.set(
            ip,
            renderValue(
              layout.format,
              indexValue(
                {
                  ...doc,
                  exportGeneration: diff.exportGeneration,
                  checksum: diff.checksum,
                  exportedAt: diff.exportedAt,
                  items: new Array(diff.itemCount),
                },
                paths,
              ),
              { sortKeys: false },
            ),
          );
        }
      } catch (err) {
        if (err instanceof LayoutError) throw SinkDataInvalid(this.c.sinkName, err.message);
        throw err;
      }
      return this.commitAndPush({
        cluster: diff.cluster,
        inventory: diff.inventory,
        target: { exportGeneration: diff.exportGeneration, checksum: diff.checksum },
        expectFrom: diff.previousGeneration,
        message: this.message(layout, {
          ...diff,
          path: layout.index.enabled ? indexPath(layout, doc) : documentPath(layout, doc),
        }),
        ops: async (head) => {
          const paths = [...writes.keys(), ...deletes];
          const ids = head ? await this.m().blobIds(head, paths) : new Map<string, string | undefined>();
          const ops: FileOp[] = [];
          for (const [p, content] of writes)
            if (ids.get(p) !== blobId(content)) ops.push({ op: 'write', path: p, content });
          for (const p of deletes) if (ids.get(p) !== undefined) ops.push({ op: 'delete', path: p });
          return ops;
        },
      });
    });
  }

  /** Replace the inventory's files with a whole generation (only changed files are written). */
  async replace(snap: FullSnapshot, ctx: ReplaceContext = {}): Promise<ApplyResult> {
    const layout = this.layoutFor(
      snap.inventory,
      snap.cluster,
      () => snap.items.slice(0, 200),
      snap.items.length > 0,
    );
    let files: Map<string, string>;
    try {
      files = renderFiles(layout, snap);
    } catch (err) {
      if (err instanceof LayoutError) throw SinkDataInvalid(this.c.sinkName, err.message);
      throw err;
    }
    const doc = { cluster: snap.cluster, inventory: snap.inventory, generation: snap.generation };
    const owned = new Set<string>();
    if (ctx.base && layout.mode !== 'document') {
      for (const it of ctx.base.values())
        owned.add(itemPath(layout, it, { ...doc, generation: ctx.base.generation }));
    }
    if (ctx.base && layout.mode === 'document' && layout.prune) {
      owned.add(documentPath(layout, { ...doc, generation: ctx.base.generation }));
    }
    return this.locked(() =>
      this.commitAndPush({
        cluster: snap.cluster,
        inventory: snap.inventory,
        target: { exportGeneration: snap.exportGeneration, checksum: snap.checksum },
        message: this.message(layout, {
          ...snap,
          itemCount: snap.items.length,
          path:
            layout.index.enabled && layout.mode !== 'document'
              ? indexPath(layout, doc)
              : documentPath(layout, doc),
        }),
        ops: async (head) => {
          const ops: FileOp[] = [];
          if (layout.mode === 'document') {
            const paths = [...files.keys(), ...owned];
            const ids = head ? await this.m().blobIds(head, paths) : new Map<string, string | undefined>();
            for (const [p, content] of files)
              if (ids.get(p) !== blobId(content)) ops.push({ op: 'write', path: p, content });
            for (const p of owned)
              if (!files.has(p) && ids.get(p) !== undefined) ops.push({ op: 'delete', path: p });
            return ops;
          }
          const existing = head ? await this.m().treeFiles(head) : new Map<string, string>();
          if (layout.index.enabled && head) {
            // The previous index lists exactly what this inventory owned.
            const prevIndex = indexPath(layout, ctx.base ? { ...doc, generation: ctx.base.generation } : doc);
            for (const p of await this.readIndexPaths(head, prevIndex, layout.format)) owned.add(p);
          }
          for (const [p, content] of files)
            if (existing.get(p) !== blobId(content)) ops.push({ op: 'write', path: p, content });
          if (layout.prune) {
            for (const p of pruneCandidates(existing.keys(), new Set(files.keys()), owned)) {
              if (existing.has(p)) ops.push({ op: 'delete', path: p });
            }
          }
          return ops;
        },
      }),
    );
  }

  private async readIndexPaths(head: string, path: string, format: SnapshotFormat): Promise<string[]> {
    const buf = await this.m().readFile(head, path);
    if (!buf) return [];
    const text = buf.toString('utf8');
    try {
      if (format === 'yaml') {
        // The index is written by us: `paths:` followed by `- <path>` lines.
        const i = text.indexOf('\npaths:\n');
        if (i < 0) return [];
        return text
          .slice(i + 8)
          .split('\n')
          .filter((l) => l.startsWith('- '))
          .map((l) => {
            const v = l.slice(2);
            return v.startsWith('"') ? (JSON.parse(v) as string) : v;
          });
      }
      const v = JSON.parse(text) as { paths?: unknown };
      return Array.isArray(v.paths) ? v.paths.filter((p): p is string => typeof p === 'string') : [];
    } catch {
      return [];
    }
  }

  private message(
    _layout: ResolvedLayout,
    v: {
      cluster: string;
      inventory: InventoryRef;
      generation: number;
      exportGeneration: number;
      itemCount: number;
      checksum: string;
      exportedAt: string;
      path: string;
    },
  ): string {
    return renderCommitMessage(this.c.templates, { ...v, sink: this.c.sinkShortName });
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return REMOTE_LOCKS.run(this.lockKey(), async () => {
      try {
        return await fn();
      } catch (err) {
        throw gitError(this.c.sinkName, err);
      }
    });
  }

  /**
   * Build ops on the current head, commit, push; on a rejected push fetch, re-check the position
   * and rebuild on the new head once. Nothing to change → no commit (success).
   */
  private async commitAndPush(w: {
    cluster: string;
    inventory: InventoryRef;
    target: AppliedPosition;
    /** For diffs: the generation the branch must hold for this inventory. */
    expectFrom?: number;
    message: string;
    ops: (head: string | null) => Promise<FileOp[]>;
  }): Promise<ApplyResult> {
    const mirror = this.m();
    let head = await this.fetchHead(2000);
    for (let attempt = 0; attempt < 2; attempt++) {
      const pos = await this.positionAt(head, w.cluster, w.inventory);
      if (pos && pos.exportGeneration >= w.target.exportGeneration) {
        return { changed: false, bytes: 0, ...(head ? { location: head } : {}) };
      }
      if (w.expectFrom !== undefined && (pos?.exportGeneration ?? 0) !== w.expectFrom) {
        throw SinkNeedsFullSnapshot(
          `the branch holds generation ${pos?.exportGeneration ?? 'none'}, not ${w.expectFrom}`,
        );
      }
      const ops = await w.ops(head);
      if (ops.length === 0) return { changed: false, bytes: 0, ...(head ? { location: head } : {}) };
      const sha = await mirror.commit(head, ops, w.message, this.c.author, new Date());
      const res = await mirror.push(sha, this.c.pushPolicy === 'ForcePush');
      if (res === 'ok') {
        this.head = sha;
        this.headAt = Date.now();
        const label = w.cluster || DEFAULT_CLUSTER_LABEL;
        this.positions.set(`${sha}\u0000${label}\u0000${inventoryKey(w.inventory)}`, w.target);
        await mirror
          .gcAuto()
          .catch((err: unknown) =>
            this.c.log.warn({ sink: this.c.sinkName, err: String(err) }, 'git gc --auto failed'),
          );
        let bytes = 0;
        for (const op of ops) if (op.op === 'write') bytes += Buffer.byteLength(op.content);
        return { changed: true, bytes, location: sha };
      }
      this.c.log.info(
        { sink: this.c.sinkName, inventory: inventoryKey(w.inventory) },
        'push rejected (non-fast-forward); fetching and rebuilding once',
      );
      head = await this.fetchHead(0);
    }
    throw SinkConflict(this.c.sinkName, 'the branch moved twice while pushing');
  }
}

function sampleOf(upserts: readonly Item[], base: BaseState): Item[] {
  const out = upserts.slice(0, 100);
  for (const it of base.values()) {
    if (out.length >= 200) break;
    out.push(it);
  }
  return out;
}
