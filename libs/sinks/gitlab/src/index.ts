/**
 * @packageDocumentation
 * The `gitlab` snapshot sink. Unlike the seed (forced push, fixed message), it is the git sink's
 * writer with every `git.*` setting honoured (push policy, commit templates, author, auth), plus
 * `gitlab.mergeRequest.mode: merge_request`: each inventory gets one stable branch
 * `<branchPrefix>/<namespace>/<name>` forked from `targetBranch`, and a merge request is opened
 * through the GitLab REST API v4 when none is open.
 */
import { inventoryKey, inventoryPathNamespace, type InventoryRef } from '@kollect/contracts';
import {
  GitSink,
  GitSnapshotWriter,
  gitPreview,
  gitSettings,
  gitWriterConfig,
  type GitSettings,
} from '@kollect/git';
import type { CompiledSink } from '@kollect/plan';
import {
  SinkConfigInvalid,
  type AppliedPosition,
  type ApplyResult,
  type FullSnapshot,
  type ProbeResult,
  type ReplaceContext,
  type Sink,
  type SinkCapabilities,
  type SinkContext,
  type SinkFactory,
  type SinkPreview,
  type SnapshotDiff,
} from '@kollect/sink';
import { GitLabApi, gitlabProject } from './api.js';

export interface MergeRequestSettings {
  targetBranch: string;
  branchPrefix: string;
  titleTemplate: string;
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** `gitlab.mergeRequest` when its mode is `merge_request`, else undefined (direct pushes). */
export function mergeRequestSettings(sink: CompiledSink): MergeRequestSettings | undefined {
  const mr = obj(obj(sink.spec['gitlab'])['mergeRequest']);
  if (mr['mode'] !== 'merge_request') return undefined;
  if (typeof mr['targetBranch'] !== 'string' || !mr['targetBranch']) {
    throw SinkConfigInvalid(
      `${sink.ref.family}/${sink.ref.namespace}/${sink.ref.name}`,
      'spec.gitlab.mergeRequest.targetBranch',
      'required when mode is merge_request',
    );
  }
  return {
    targetBranch: mr['targetBranch'],
    branchPrefix:
      typeof mr['branchPrefix'] === 'string' && mr['branchPrefix'] ? mr['branchPrefix'] : 'kollect',
    titleTemplate:
      typeof mr['titleTemplate'] === 'string' && mr['titleTemplate']
        ? mr['titleTemplate']
        : 'kollect inventory export: {namespace}/{name}',
  };
}

/** The stable feature branch of an inventory: `<prefix>/<namespace>/<name>`. */
export function featureBranch(prefix: string, inv: InventoryRef): string {
  return `${prefix}/${inventoryPathNamespace(inv)}/${inv.name}`;
}

/** A gitlab sink in merge-request mode: one writer (branch) per inventory. */
export class GitLabMergeRequestSink implements Sink {
  readonly type = 'gitlab';
  private readonly writers = new Map<string, GitSnapshotWriter>();
  private readonly api: GitLabApi;

  constructor(
    private readonly ctx: SinkContext,
    private readonly settings: GitSettings,
    private readonly mr: MergeRequestSettings,
  ) {
    const name = `${ctx.sink.ref.family}/${ctx.sink.ref.namespace}/${ctx.sink.ref.name}`;
    const token = ctx.credentials.roles.token ?? ctx.credentials.roles.password;
    if (!token)
      throw SinkConfigInvalid(
        name,
        'secret',
        'merge_request mode needs a GitLab token under the Secret key token (or password)',
      );
    const apiOverride = obj(ctx.sink.spec['options'])['apiUrl'];
    const p = gitlabProject(settings.remote.url, typeof apiOverride === 'string' ? apiOverride : undefined);
    this.api = new GitLabApi({ ...p, token, sinkName: name });
  }

  get capabilities(): SinkCapabilities {
    const first = this.writers.values().next().value as GitSnapshotWriter | undefined;
    return (
      first?.capabilities ?? {
        kind: 'snapshot-store',
        formats: ['yaml', 'json', 'ndjson'],
        incremental: false,
      }
    );
  }

  private async writer(inv: InventoryRef): Promise<GitSnapshotWriter> {
    const key = inventoryKey(inv);
    let w = this.writers.get(key);
    if (!w) {
      const branch = featureBranch(this.mr.branchPrefix, inv);
      w = new GitSnapshotWriter({
        ...gitWriterConfig(this.ctx, { ...this.settings, remote: { ...this.settings.remote, branch } }),
        baseBranch: this.mr.targetBranch,
      });
      await w.connect();
      this.writers.set(key, w);
    }
    return w;
  }

  async connect(): Promise<void> {}

  async lastApplied(inv: InventoryRef): Promise<AppliedPosition | null> {
    return (await this.writer(inv)).lastApplied(this.ctx.cluster, inv);
  }

  private async afterWrite(inv: InventoryRef, res: ApplyResult): Promise<ApplyResult> {
    if (!res.changed) return res;
    const title = this.mr.titleTemplate
      .replace(/\{namespace\}/g, inventoryPathNamespace(inv))
      .replace(/\{name\}/g, inv.name);
    const { mr, created } = await this.api.ensureMergeRequest(
      featureBranch(this.mr.branchPrefix, inv),
      this.mr.targetBranch,
      title,
      `Inventory ${inventoryKey(inv)} exported by Kollect sink ${this.ctx.sink.ref.name}.`,
    );
    if (created)
      this.ctx.log.info(
        { sink: this.ctx.sink.ref.name, inventory: inventoryKey(inv), mergeRequest: mr.iid },
        'opened merge request',
      );
    return { ...res, location: `${res.location ?? ''} !${mr.iid}` };
  }

  async applyDiff(diff: SnapshotDiff): Promise<ApplyResult> {
    return this.afterWrite(diff.inventory, await (await this.writer(diff.inventory)).applyDiff(diff));
  }

  async replace(snapshot: FullSnapshot, ctx?: ReplaceContext): Promise<ApplyResult> {
    return this.afterWrite(
      snapshot.inventory,
      await (await this.writer(snapshot.inventory)).replace(snapshot, ctx),
    );
  }

  async probe(): Promise<ProbeResult> {
    const t0 = Date.now();
    const w = new GitSnapshotWriter(
      gitWriterConfig(this.ctx, {
        ...this.settings,
        remote: { ...this.settings.remote, branch: this.mr.targetBranch },
      }),
    );
    const git = await w.probe();
    await w.close();
    if (!git.ok) return git;
    try {
      const p = await this.api.project();
      return {
        ok: true,
        message: `reachable: ${this.settings.remote.url}; GitLab project ${p.path_with_namespace}`,
        latencyMs: Date.now() - t0,
      };
    } catch (err) {
      const e = err as { message: string; errorClass?: string };
      return {
        ok: false,
        message: e.message,
        latencyMs: Date.now() - t0,
        errorClass: e.errorClass === 'terminal' ? 'terminal' : 'transient',
        reason: 'ConnectionTestFailed',
      };
    }
  }

  async close(): Promise<void> {
    for (const w of this.writers.values()) await w.close();
    this.writers.clear();
  }
}

export const gitlabSinkFactory: SinkFactory = {
  type: 'gitlab',
  family: 'snapshot',
  capabilities: {
    kind: 'snapshot-store',
    formats: ['yaml', 'json', 'ndjson'],
    incremental: true,
    diffNeedsBase: true,
  },
  create(ctx: SinkContext): Sink {
    const settings = gitSettings(ctx.sink);
    const mr = mergeRequestSettings(ctx.sink);
    return mr ? new GitLabMergeRequestSink(ctx, settings, mr) : new GitSink(ctx, settings);
  },
  preview(sink: CompiledSink, cluster: string): SinkPreview {
    const p = gitPreview(sink, cluster);
    const mr = mergeRequestSettings(sink);
    if (mr) {
      p.details['gitlab'] = {
        mergeRequestBranch: featureBranch(mr.branchPrefix, {
          kind: 'KollectInventory',
          namespace: 'team-a',
          name: 'api',
        }),
        targetBranch: mr.targetBranch,
      };
    }
    return p;
  },
};

export { GitLabApi, gitlabProject, type MergeRequest } from './api.js';
