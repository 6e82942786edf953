import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';
import { redactSecrets } from '@kollect/contracts';

export type { Logger } from 'pino';

/** Log levels, pino's names. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Keys whose values never reach a log, at any depth and in any spelling (`dbPassword`,
 * `client_secret`, `Authorization`, `accessToken`): the key is lower-cased, `-`/`_` removed, and
 * matched against these endings.
 */
const SECRET_KEY_RE =
  /(password|passwd|^pass|secret|token|apikey|authorization|^auth|credentials?|privatekey|dsn|cookie|connectionstring|sslkey|sessionkey)$/;

/** True when a field name looks like it holds a credential. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY_RE.test(key.toLowerCase().replace(/[-_]/g, ''));
}

/**
 * pino `redact` paths for the common credential fields (fast, compiled by pino). The deep scrub in
 * {@link scrubLogValue} also catches other spellings, deeper nesting and credentials embedded in
 * strings (URLs with userinfo, `password=` pairs, bearer tokens).
 */
export const REDACT_PATHS: readonly string[] = (() => {
  const keys = [
    'password',
    'passwd',
    'pass',
    'secret',
    'token',
    'apiKey',
    'api_key',
    'authorization',
    'Authorization',
    'dsn',
    'credentials',
    'privateKey',
    'private_key',
    'clientSecret',
    'client_secret',
    'accessToken',
    'access_token',
    'refreshToken',
    'secretAccessKey',
    'sessionToken',
    'cookie',
    'connectionString',
  ];
  const out: string[] = [];
  for (const k of keys) out.push(k, `*.${k}`, `*.*.${k}`);
  out.push(
    'req.headers.authorization',
    'req.headers.cookie',
    'headers.authorization',
    'headers.Authorization',
  );
  return out;
})();

export const REDACTED = '[Redacted]';

/** Replace credential-like fields and credentials inside strings, recursively (depth-bounded). */
export function scrubLogValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (value instanceof Error) {
    const out: Record<string, unknown> = {
      type: value.name,
      message: redactSecrets(value.message),
      ...(value.stack ? { stack: redactSecrets(value.stack) } : {}),
    };
    for (const [k, v] of Object.entries(value))
      out[k] = isSecretKey(k) ? REDACTED : scrubLogValue(v, depth + 1);
    if (value.cause !== undefined) out['cause'] = scrubLogValue(value.cause, depth + 1);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => scrubLogValue(v, depth + 1));
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] =
      isSecretKey(k) && v !== undefined && v !== null && v !== '' ? REDACTED : scrubLogValue(v, depth + 1);
  }
  return out;
}

/** Options of {@link createLogger}. */
export interface LoggerSetup {
  /** Service name, bound to every line (`service`). */
  service: string;
  level?: LogLevel;
  /** Extra fields bound to every line (`cluster`, `pod`). */
  base?: Record<string, unknown>;
  /** Where to write (tests); default stdout. */
  destination?: DestinationStream;
}

/**
 * A JSON logger (pino) for a Kollect service: `{level, time, service, msg, …}` per line, ISO
 * time, `err` serialised, and secrets removed — by key (`password`, `token`, `authorization`,
 * `dsn`, …, any depth) and by value (URLs with userinfo, bearer tokens, `password=` pairs).
 * Child loggers bind the usual context: `log.child({ cluster, gvr, inventory, sink, target })`.
 */
export function createLogger(setup: LoggerSetup): Logger {
  const opts: LoggerOptions = {
    level: setup.level ?? 'info',
    base: { service: setup.service, ...(setup.base ?? {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    formatters: {
      level: (label) => ({ level: label }),
      log: (obj) => scrubLogValue(obj) as Record<string, unknown>,
      bindings: (b) => scrubLogValue(b) as Record<string, unknown>,
    },
    hooks: {
      // The message text can carry a credential too (an error message with a DSN).
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === 'string' ? redactSecrets(a) : a)) as typeof args;
        method.apply(this, scrubbed);
      },
    },
  };
  return setup.destination ? pino(opts, setup.destination) : pino(opts);
}

/** Context keys services bind on child loggers (structured log keys of SEED-SPEC §10.3). */
export interface LogContext {
  cluster?: string;
  gvr?: string;
  inventory?: string;
  sink?: string;
  target?: string;
  partition?: number;
  error_class?: string;
}

/** `log.child(ctx)` with the context keys typed. */
export function withContext(log: Logger, ctx: LogContext): Logger {
  return log.child(ctx);
}
