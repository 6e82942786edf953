/**
 * @packageDocumentation
 * Git plumbing shared by the git and gitlab sinks: endpoint parsing, credentials in memory, a
 * persistent bare mirror, fast-import commits, trailer lookup and push with one retry.
 */
export { parseGitEndpoint, type GitRemote } from './endpoint.js';
export { GitAuthEnv, GitAuthConfigError, type GitCredentials } from './auth.js';
export { runGit, git, GitCommandError, type GitResult, type GitRunOptions } from './exec.js';
export {
  GitMirror,
  blobId,
  type FileOp,
  type Author,
  type MirrorOptions,
  type CommitTrailers,
} from './mirror.js';
export { gitError } from './errors.js';
export { GitSnapshotWriter, type GitWriterConfig } from './writer.js';
export {
  GitSink,
  gitSettings,
  gitCredentials,
  gitWriterConfig,
  gitPreview,
  type GitSettings,
} from './sink.js';
