import { spawn } from 'node:child_process';
import { redactSecrets } from '@kollect/contracts';

/** Result of one git invocation. */
export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface GitRunOptions {
  cwd?: string;
  env: NodeJS.ProcessEnv;
  input?: Iterable<Buffer | string> | AsyncIterable<Buffer | string>;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Thrown when git exits non-zero; `stderr` is already scrubbed of credentials. */
export class GitCommandError extends Error {
  override name = 'GitCommandError';
  constructor(
    readonly args: readonly string[],
    readonly code: number,
    readonly stderr: string,
    readonly timedOut = false,
  ) {
    super(
      `git ${args[0] ?? ''} ${timedOut ? 'timed out' : `exited ${code}`}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
    );
  }
}

/**
 * Run git with a private environment (no terminal prompts, no system config) and a deadline.
 * Never throws for a non-zero exit: callers decide (a rejected push is not an error).
 */
export function runGit(args: readonly string[], opts: GitRunOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: opts.cwd, env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    const onAbort = (): void => {
      child.kill('SIGKILL');
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const stderr = redactSecrets(Buffer.concat(err).toString('utf8'));
      if (timedOut) {
        reject(new GitCommandError(args, -1, stderr, true));
        return;
      }
      resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr });
    });
    child.stdin.on('error', () => {
      // git may exit before reading all input (e.g. on a bad stream); the exit code tells.
    });
    if (opts.input) {
      void (async () => {
        try {
          for await (const chunk of opts.input as AsyncIterable<Buffer | string>) {
            if (!child.stdin.write(chunk))
              await new Promise<void>((r) => child.stdin.once('drain', () => r()));
          }
        } catch {
          // handled by the exit code
        } finally {
          child.stdin.end();
        }
      })();
    } else {
      child.stdin.end();
    }
  });
}

/** Run git and throw {@link GitCommandError} on a non-zero exit. */
export async function git(args: readonly string[], opts: GitRunOptions): Promise<Buffer> {
  const r = await runGit(args, opts);
  if (r.code !== 0) throw new GitCommandError(args, r.code, r.stderr);
  return r.stdout;
}
