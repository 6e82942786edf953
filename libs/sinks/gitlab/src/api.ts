import { SinkAuthFailed, SinkConfigInvalid, SinkUnavailable } from '@kollect/sink';
import type { KollectError } from '@kollect/contracts';

/** The merge-request calls of the GitLab REST API v4 this sink makes. */
export interface GitLabApiOptions {
  /** `https://gitlab.example.com/api/v4` (derived from the endpoint, or `options.apiUrl`). */
  apiUrl: string;
  /** `group/subgroup/project` (URL-encoded into the project id). */
  projectPath: string;
  /** Personal/project access token with scopes `api` and `write_repository`. */
  token: string;
  sinkName: string;
  caPem?: string;
}

export interface MergeRequest {
  iid: number;
  web_url?: string;
  state: string;
  source_branch: string;
  target_branch: string;
  title: string;
}

/** Derive the API root and project path from a GitLab HTTPS or SSH remote. */
export function gitlabProject(remoteUrl: string, apiUrl?: string): { apiUrl: string; projectPath: string } {
  let host: string;
  let path: string;
  let origin: string;
  const scp = /^(?:[^@/]+@)?([^:/]+):(.+)$/.exec(remoteUrl);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(remoteUrl)) {
    const u = new URL(remoteUrl);
    host = u.host;
    path = u.pathname;
    origin = u.protocol === 'http:' ? `http://${host}` : `https://${u.hostname}`;
  } else if (scp) {
    host = scp[1] as string;
    path = scp[2] as string;
    origin = `https://${host}`;
  } else {
    throw new TypeError(`cannot derive the GitLab project from ${JSON.stringify(remoteUrl)}`);
  }
  const projectPath = path
    .replace(/^\/+/, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '');
  return { apiUrl: (apiUrl ?? `${origin}/api/v4`).replace(/\/+$/, ''), projectPath };
}

/** A thin client for the merge-request endpoints, with errors mapped to the contract classes. */
export class GitLabApi {
  constructor(private readonly o: GitLabApiOptions) {}

  private url(path: string): string {
    return `${this.o.apiUrl}/projects/${encodeURIComponent(this.o.projectPath)}${path}`;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url(path), {
        method,
        headers: {
          'PRIVATE-TOKEN': this.o.token,
          accept: 'application/json',
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw SinkUnavailable(this.o.sinkName, `GitLab API ${this.o.apiUrl}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const text = await res.text();
    if (!res.ok) throw this.error(res.status, text, `${method} ${path.split('?')[0]}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private error(status: number, text: string, what: string): KollectError {
    let msg = text.slice(0, 200);
    try {
      const v = JSON.parse(text) as { message?: unknown; error?: unknown };
      msg = JSON.stringify(v.message ?? v.error ?? msg);
    } catch {
      // not JSON
    }
    if (status === 401 || status === 403)
      return SinkAuthFailed(
        this.o.sinkName,
        `GitLab API ${what}: HTTP ${status} ${msg}; the token needs scopes api and write_repository`,
      );
    if (status === 404)
      return SinkConfigInvalid(
        this.o.sinkName,
        'spec.endpoint',
        `GitLab project ${this.o.projectPath} not found at ${this.o.apiUrl} (${what})`,
      );
    if (status >= 500 || status === 429)
      return SinkUnavailable(this.o.sinkName, `GitLab API ${what}: HTTP ${status} ${msg}`);
    return SinkConfigInvalid(
      this.o.sinkName,
      'spec.gitlab.mergeRequest',
      `GitLab API ${what}: HTTP ${status} ${msg}`,
    );
  }

  /** The project (checks reachability, token and project path; the probe). */
  project(): Promise<{ id: number; path_with_namespace: string }> {
    return this.call('GET', '');
  }

  /** Open merge requests from `source` into `target`. */
  openMergeRequests(source: string, target: string): Promise<MergeRequest[]> {
    const q = new URLSearchParams({ state: 'opened', source_branch: source, target_branch: target });
    return this.call('GET', `/merge_requests?${q}`);
  }

  createMergeRequest(
    source: string,
    target: string,
    title: string,
    description: string,
  ): Promise<MergeRequest> {
    return this.call('POST', '/merge_requests', {
      source_branch: source,
      target_branch: target,
      title,
      description,
      remove_source_branch: false,
    });
  }

  /** Open a merge request unless one is open already; returns it and whether it was created. */
  async ensureMergeRequest(
    source: string,
    target: string,
    title: string,
    description: string,
  ): Promise<{ mr: MergeRequest; created: boolean }> {
    const open = await this.openMergeRequests(source, target);
    if (open[0]) return { mr: open[0], created: false };
    try {
      return { mr: await this.createMergeRequest(source, target, title, description), created: true };
    } catch (err) {
      // 409: another replica opened it a moment ago.
      const again = await this.openMergeRequests(source, target);
      if (again[0]) return { mr: again[0], created: false };
      throw err;
    }
  }
}
