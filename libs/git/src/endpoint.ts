/** A git remote as configured on a sink: URL without fragment, and the branch. */
export interface GitRemote {
  url: string;
  /** `git.branch`, else the `#branch=` fragment; undefined = the remote's default branch. */
  branch: string | undefined;
  transport: 'http' | 'ssh' | 'file';
}

/**
 * Parse a git endpoint (`https://host/repo.git#branch=x`, `ssh://git@host/repo`,
 * `git@host:org/repo.git`). `git.branch` beats the fragment. URL userinfo is refused: credentials
 * belong in the Secret.
 */
export function parseGitEndpoint(endpoint: string, branch?: string): GitRemote {
  let url = endpoint.trim();
  let fragmentBranch: string | undefined;
  const hash = url.indexOf('#');
  if (hash >= 0) {
    const frag = url.slice(hash + 1);
    url = url.slice(0, hash);
    const m = /(?:^|&)branch=([^&]+)/.exec(frag);
    if (m) fragmentBranch = decodeURIComponent(m[1] as string);
  }
  let transport: GitRemote['transport'];
  if (/^https?:\/\//i.test(url)) {
    transport = 'http';
    const u = new URL(url);
    if (u.username || u.password) {
      throw new TypeError(
        'the endpoint URL must not contain credentials; put them in the Secret referenced by spec.secretRef',
      );
    }
  } else if (/^ssh:\/\//i.test(url) || /^[A-Za-z0-9._-]+@[^:/]+:/.test(url)) {
    transport = 'ssh';
  } else if (/^file:\/\//i.test(url)) {
    transport = 'file';
  } else {
    throw new TypeError(
      `unsupported git endpoint ${JSON.stringify(url)}: use https://, ssh:// or user@host:path`,
    );
  }
  return { url, branch: branch || fragmentBranch || undefined, transport };
}
