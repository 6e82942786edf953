import { KollectError } from '@kollect/contracts';
import {
  SinkAuthFailed,
  SinkConfigInvalid,
  SinkUnavailable,
  SinkTimeout,
  classifySinkError,
} from '@kollect/sink';
import { GitAuthConfigError } from './auth.js';
import { GitCommandError } from './exec.js';

const AUTH_RE =
  /Authentication failed|HTTP 401|HTTP 403|returned error: 40[13]|could not read Username|could not read Password|Permission denied|invalid credentials|access denied|Invalid username or password/i;
const HOSTKEY_RE =
  /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No [A-Z0-9-]+ host key is known/i;
const NOTFOUND_RE =
  /repository .*not found|HTTP 404|returned error: 404|does not appear to be a git repository|Repository not found/i;
const TLS_RE =
  /SSL certificate problem|server certificate verification failed|certificate verify failed|unable to get local issuer/i;

/** Map a git failure onto the contract's classes, with a message that says what to do. */
export function gitError(sink: string, err: unknown): KollectError {
  if (err instanceof KollectError) return err;
  if (err instanceof GitAuthConfigError)
    return SinkConfigInvalid(sink, 'secret', err.message, { cause: err });
  if (err instanceof GitCommandError) {
    const s = err.stderr;
    if (err.timedOut) return SinkTimeout(sink, `git ${err.args[0] ?? ''}`, 0, { cause: err });
    if (HOSTKEY_RE.test(s)) {
      return SinkConfigInvalid(
        sink,
        'known_hosts',
        `the SSH host key of the remote is not in the Secret's known_hosts (${lastLine(s)})`,
        { cause: err },
      );
    }
    if (AUTH_RE.test(s)) return SinkAuthFailed(sink, lastLine(s), { cause: err });
    if (TLS_RE.test(s)) {
      return SinkConfigInvalid(
        sink,
        'spec.tls',
        `TLS verification failed (${lastLine(s)}); set tls.caBundle or tls.caSecretRef`,
        { cause: err },
      );
    }
    if (NOTFOUND_RE.test(s)) {
      return SinkConfigInvalid(sink, 'spec.endpoint', `the repository was not found (${lastLine(s)})`, {
        cause: err,
      });
    }
    return SinkUnavailable(sink, lastLine(s) || err.message, { cause: err });
  }
  return classifySinkError(sink, err);
}

function lastLine(s: string): string {
  const lines = s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('hint:'));
  return lines.slice(-2).join(' ');
}
