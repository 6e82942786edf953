import { type InventoryRef, type Item } from '@kollect/contracts';
import type { CompiledSink } from '@kollect/plan';
import {
  documentPath,
  renderTemplate,
  resolveFormat,
  resolveLayout,
  itemPath,
  DEFAULT_COMMIT_SUBJECT,
  DEFAULT_AUTHOR,
  type CommitTemplates,
  type SnapshotFormat,
} from '@kollect/layout';
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
  type SinkPreview,
  type SnapshotDiff,
} from '@kollect/sink';
import type { GitCredentials } from './auth.js';
import { parseGitEndpoint, type GitRemote } from './endpoint.js';
import type { Author } from './mirror.js';
import { GitSnapshotWriter, type GitWriterConfig } from './writer.js';

/** The git settings of a git/gitlab sink spec, with defaults applied (SEED-SPEC §3.8). */
export interface GitSettings {
  remote: GitRemote;
  depth: number;
  pushPolicy: 'Commit' | 'ForcePush';
  author: Author;
  templates: CommitTemplates;
  format: SnapshotFormat;
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function sinkName(sink: CompiledSink): string {
  return `${sink.ref.family}/${sink.ref.namespace}/${sink.ref.name}`;
}

/** Read the `git` block (and endpoint) of a git or gitlab sink. Throws a terminal config error. */
export function gitSettings(sink: CompiledSink, branchOverride?: string): GitSettings {
  const spec = sink.spec;
  const g = obj(spec['git']);
  const endpoint = typeof spec['endpoint'] === 'string' ? spec['endpoint'] : '';
  if (!endpoint) throw SinkConfigInvalid(sinkName(sink), 'spec.endpoint', 'a git remote URL is required');
  let remote: GitRemote;
  try {
    remote = parseGitEndpoint(
      endpoint,
      branchOverride ?? (typeof g['branch'] === 'string' ? g['branch'] : undefined),
    );
  } catch (err) {
    throw SinkConfigInvalid(sinkName(sink), 'spec.endpoint', (err as Error).message);
  }
  const format = resolveFormat(sink.type, spec);
  if (!['yaml', 'json', 'ndjson'].includes(format)) {
    throw SinkConfigInvalid(
      sinkName(sink),
      'spec.serialization.format',
      `${format} is not supported by ${sink.type} sinks (yaml, json, ndjson)`,
    );
  }
  const author = obj(g['author']);
  return {
    remote,
    depth: typeof g['cloneDepth'] === 'number' && g['cloneDepth'] >= 1 ? g['cloneDepth'] : 1,
    pushPolicy: g['pushPolicy'] === 'ForcePush' ? 'ForcePush' : 'Commit',
    author: {
      name: typeof author['name'] === 'string' && author['name'] ? author['name'] : DEFAULT_AUTHOR.name,
      email: typeof author['email'] === 'string' && author['email'] ? author['email'] : DEFAULT_AUTHOR.email,
    },
    templates: {
      ...(typeof g['commitMessage'] === 'string' ? { subject: g['commitMessage'] } : {}),
      ...(typeof g['commitBody'] === 'string' ? { body: g['commitBody'] } : {}),
      ...(Array.isArray(g['commitTrailers'])
        ? { trailers: g['commitTrailers'].filter((t): t is string => typeof t === 'string') }
        : {}),
    },
    format,
  };
}

/** Git credentials from the resolved Secret roles and TLS settings. */
export function gitCredentials(ctx: SinkContext): GitCredentials {
  const r = ctx.credentials.roles;
  const tls = obj(ctx.sink.spec['tls']);
  const authType = obj(obj(ctx.sink.spec['git'])['auth'])['type'];
  const c: GitCredentials = {};
  if (authType !== 'ssh') {
    if (r.username) c.username = r.username;
    if (r.password) c.password = r.password;
    if (r.token) c.token = r.token;
  }
  if (r.sshPrivateKey) c.sshPrivateKey = r.sshPrivateKey;
  if (r.knownHosts) c.knownHosts = r.knownHosts;
  if (ctx.credentials.caPem) c.caPem = ctx.credentials.caPem;
  if (tls['insecureSkipVerify'] === true) c.insecureSkipVerify = true;
  return c;
}

/** Writer configuration for a git/gitlab sink context. */
export function gitWriterConfig(ctx: SinkContext, settings: GitSettings): GitWriterConfig {
  return {
    sinkName: sinkName(ctx.sink),
    sinkShortName: ctx.sink.ref.name,
    remote: settings.remote,
    credentials: gitCredentials(ctx),
    workDir: ctx.workDir,
    depth: settings.depth,
    pushPolicy: settings.pushPolicy,
    author: settings.author,
    templates: settings.templates,
    spec: ctx.sink.spec,
    format: settings.format,
    log: ctx.log,
    signal: ctx.signal,
  };
}

/**
 * A `Sink` over {@link GitSnapshotWriter}: what the git sink is, and what the gitlab sink
 * extends with merge requests.
 */
export class GitSink implements Sink {
  readonly type: string;
  protected readonly writer: GitSnapshotWriter;
  protected readonly ctx: SinkContext;

  constructor(ctx: SinkContext, settings: GitSettings = gitSettings(ctx.sink)) {
    this.type = ctx.sink.type;
    this.ctx = ctx;
    this.writer = new GitSnapshotWriter(gitWriterConfig(ctx, settings));
  }

  get capabilities(): SinkCapabilities {
    return this.writer.capabilities;
  }

  connect(): Promise<void> {
    return this.writer.connect();
  }

  lastApplied(inventory: InventoryRef): Promise<AppliedPosition | null> {
    return this.writer.lastApplied(this.ctx.cluster, inventory);
  }

  applyDiff(diff: SnapshotDiff): Promise<ApplyResult> {
    return this.writer.applyDiff(diff);
  }

  replace(snapshot: FullSnapshot, ctx?: ReplaceContext): Promise<ApplyResult> {
    return this.writer.replace(snapshot, ctx);
  }

  probe(): Promise<ProbeResult> {
    return this.writer.probe();
  }

  close(): Promise<void> {
    return this.writer.close();
  }
}

/** Two synthetic Deployments `api` and `web`, the preview's sample input (SEED-SPEC §9.5). */
function sampleItems(): Item[] {
  return ['api', 'web'].map((name) => ({
    targetNamespace: 'team-a',
    targetName: 'deployments',
    namespace: 'team-a',
    name,
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    uid: `00000000-0000-0000-0000-00000000000${name === 'api' ? 1 : 2}`,
    attributes: { image: `registry.example/${name}:1.0` },
  }));
}

/** The side-effect-free preview of a git/gitlab sink (SEED-SPEC §9.5). */
export function gitPreview(sink: CompiledSink, cluster: string): SinkPreview {
  const settings = gitSettings(sink);
  const inv: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'api' };
  const items = sampleItems();
  const layout = resolveLayout(sink.spec, settings.format, () => items);
  const doc = { cluster, inventory: inv, generation: 1 };
  const path = documentPath(layout, doc);
  const vars = {
    inventory: inv,
    cluster,
    generation: 1,
    exportGeneration: 1,
    itemCount: 42,
    checksum: 'sha256:a1b2c3d4e5f6',
    exportedAt: '2026-01-01T00:00:00Z',
    sink: sink.ref.name,
    path,
  };
  const warnings: string[] = [];
  if (settings.pushPolicy === 'ForcePush')
    warnings.push('git.pushPolicy ForcePush overwrites the branch history on every export');
  if (!obj(sink.spec['serialization'])['format'])
    warnings.push('serialization.format is unset: git sinks default to yaml');
  if (
    typeof sink.spec['pathTemplate'] === 'string' &&
    sink.spec['pathTemplate'].endsWith('.json') &&
    settings.format !== 'json'
  ) {
    warnings.push(`pathTemplate ends in .json but the format is ${settings.format}`);
  }
  if (layout.content === 'manifest')
    warnings.push('layout.content=manifest needs rows from a profile with export.mode: Resource');
  if (layout.mode !== 'document')
    warnings.push('tree layouts prune files of vanished rows (within the directories written each round)');
  return {
    provisioningMode:
      typeof obj(sink.spec['provisioning'])['mode'] === 'string'
        ? (obj(sink.spec['provisioning'])['mode'] as string)
        : 'ensure',
    serializationFormat: settings.format,
    warnings,
    details: {
      objectPath: path,
      git: {
        sampleCommitSubject: renderTemplate(settings.templates.subject || DEFAULT_COMMIT_SUBJECT, vars),
        ...(settings.templates.body
          ? { sampleCommitBody: renderTemplate(settings.templates.body, vars) }
          : {}),
      },
      layout: {
        mode: layout.mode,
        content: layout.content,
        prune: layout.prune,
        samplePaths:
          layout.mode === 'document' ? [path] : items.map((it) => itemPath(layout, it, doc)).slice(0, 3),
      },
    },
  };
}
