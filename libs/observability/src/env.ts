import { defineError } from '@kollect/contracts';

/** A missing or malformed environment variable (the service cannot start). */
export const ConfigInvalid = defineError(
  'KOLLECT_ERR_CONFIG',
  'terminal',
  (detail: string) => `invalid configuration: ${detail}`,
  'ConfigInvalid',
);

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parse `500ms`, `30s`, `5m`, `1h`, `1h30m` into milliseconds; `undefined` when malformed. */
export function parseDurationMs(v: string): number | undefined {
  const s = v.trim();
  if (s === '0') return 0;
  let total = 0;
  let rest = s;
  const part = /^(\d+(?:\.\d+)?)(ms|s|m|h)/;
  if (!rest) return undefined;
  while (rest) {
    const m = part.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}

/**
 * Typed access to environment variables with clear errors ("KOLLECT_NATS_URL is required").
 * Values that are set but empty count as unset. Secrets read through it are never echoed in errors.
 */
export interface EnvConfig {
  /** A required string. */
  string(name: string): string;
  /** An optional string with a default. */
  string(name: string, fallback: string): string;
  optional(name: string): string | undefined;
  int(name: string, fallback?: number, range?: { min?: number; max?: number }): number;
  bool(name: string, fallback?: boolean): boolean;
  /** `30s`, `5m`, `500ms`, `1h` → milliseconds. */
  durationMs(name: string, fallback?: number): number;
  /** Comma-separated list, trimmed, empty items dropped. */
  list(name: string, fallback?: string[]): string[];
  oneOf<T extends string>(name: string, values: readonly T[], fallback?: T): T;
}

/** Read configuration from `env` (default `process.env`). */
export function envConfig(env: Record<string, string | undefined> = process.env): EnvConfig {
  const raw = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const required = (name: string, what: string): never => {
    throw ConfigInvalid(`${name} is required (${what})`);
  };
  function string(name: string, fallback?: string): string {
    return raw(name) ?? fallback ?? required(name, 'a string');
  }
  return {
    string: string as EnvConfig['string'],
    optional: raw,
    int(name, fallback, range) {
      const v = raw(name);
      if (v === undefined) return fallback ?? required(name, 'an integer');
      if (!/^-?\d+$/.test(v)) throw ConfigInvalid(`${name} must be an integer, got ${JSON.stringify(v)}`);
      const n = Number(v);
      if (range?.min !== undefined && n < range.min)
        throw ConfigInvalid(`${name} must be >= ${range.min}, got ${n}`);
      if (range?.max !== undefined && n > range.max)
        throw ConfigInvalid(`${name} must be <= ${range.max}, got ${n}`);
      return n;
    },
    bool(name, fallback) {
      const v = raw(name)?.toLowerCase();
      if (v === undefined) return fallback ?? required(name, 'true or false');
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw ConfigInvalid(`${name} must be true or false, got ${JSON.stringify(v)}`);
    },
    durationMs(name, fallback) {
      const v = raw(name);
      if (v === undefined) return fallback ?? required(name, 'a duration like 30s');
      const ms = parseDurationMs(v);
      if (ms === undefined)
        throw ConfigInvalid(`${name} must be a duration like 500ms, 30s, 5m or 1h, got ${JSON.stringify(v)}`);
      return ms;
    },
    list(name, fallback) {
      const v = raw(name);
      if (v === undefined) return fallback ?? required(name, 'a comma-separated list');
      return v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    },
    oneOf(name, values, fallback) {
      const v = raw(name);
      if (v === undefined) return fallback ?? required(name, `one of ${values.join(', ')}`);
      if (!(values as readonly string[]).includes(v)) {
        throw ConfigInvalid(`${name} must be one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
      }
      return v as (typeof values)[number];
    },
  };
}
