/**
 * Redaction of attribute values (SEED-SPEC §4.3): applied before a row leaves the extractor, so
 * sinks never see secrets.
 */

/** Built-in deny keys (the seed's list). */
export const BUILTIN_SCRUB_KEYS: readonly string[] = Object.freeze([
  'password',
  'passwd',
  'secret',
  'token',
  'apikey',
  'api_key',
  'privatekey',
  'private_key',
  'credential',
  'auth',
  'clientsecret',
  'connectionstring',
]);

/** The value that replaces a redacted one. */
export interface RedactedValue {
  redacted: true;
  reason: 'sensitive-key';
}

function redacted(): RedactedValue {
  return { redacted: true, reason: 'sensitive-key' };
}

/**
 * A key's comparable form: lower case without `-`, `_`, `.` and whitespace, so `api_key`,
 * `apiKey`, `API-KEY` and `api.key` are the same key.
 */
export function normalizeScrubKey(key: string): string {
  return key.toLowerCase().replace(/[-_.\s]/g, '');
}

const CACHE_LIMIT = 10_000;

/**
 * Redacts sensitive keys in JSON values. A map key is sensitive when its normalised form equals
 * a deny key, or ends with a deny key longer than 2 characters (`githubToken`, `dbPassword` and
 * `oauth` are; `author` is not). Credential carriers are redacted too: a `valueFrom` holding a
 * `secretKeyRef`, any `secretKeyRef` or `secretRef` key, and a `tls` map that holds `key`.
 * Maps and arrays are walked recursively; the value passed in is never a key itself, so
 * top-level attribute names are not checked.
 */
export class Scrubber {
  readonly keys: readonly string[];
  readonly #deny: ReadonlySet<string>;
  readonly #suffixes: readonly string[];
  readonly #cache = new Map<string, boolean>();

  constructor(keys: Iterable<string>) {
    const deny = new Set<string>();
    for (const k of keys) {
      const n = normalizeScrubKey(k);
      if (n !== '') deny.add(n);
    }
    this.#deny = deny;
    this.#suffixes = [...deny].filter((k) => k.length > 2);
    this.keys = [...deny].sort();
  }

  /** The built-in keys plus extra ones (operator `--scrub-keys`, profile `prune.scrubKeys`). */
  static withBuiltins(...extra: (readonly string[] | undefined)[]): Scrubber {
    return new Scrubber([...BUILTIN_SCRUB_KEYS, ...extra.flatMap((e) => e ?? [])]);
  }

  /** Whether a map key names a sensitive value by itself. */
  isSensitiveKey(key: string): boolean {
    let hit = this.#cache.get(key);
    if (hit !== undefined) return hit;
    const n = normalizeScrubKey(key);
    hit =
      this.#deny.has(n) ||
      n === 'secretkeyref' ||
      n === 'secretref' ||
      this.#suffixes.some((s) => n.endsWith(s));
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(key, hit);
    return hit;
  }

  /**
   * Return `value` with sensitive members replaced. Never mutates; returns the same reference
   * where nothing below needed redaction.
   */
  scrub(value: unknown): unknown {
    return this.#walk(value);
  }

  #walk(value: unknown): unknown {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const v = value[i] as unknown;
        const w = this.#walk(v);
        if (w !== v) {
          out ??= value.slice();
          out[i] = w;
        }
      }
      return out ?? value;
    }
    const map = value as Record<string, unknown>;
    let out: Record<string, unknown> | undefined;
    for (const key of Object.keys(map)) {
      const v = map[key];
      const w = this.#redactsMember(key, v) ? redacted() : this.#walk(v);
      if (w !== v) {
        out ??= copyMap(map);
        setMember(out, key, w);
      }
    }
    return out ?? value;
  }

  #redactsMember(key: string, v: unknown): boolean {
    if (this.isSensitiveKey(key)) return true;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
    if (key === 'valueFrom') return Object.prototype.hasOwnProperty.call(v, 'secretKeyRef');
    if (normalizeScrubKey(key) === 'tls') return Object.prototype.hasOwnProperty.call(v, 'key');
    return false;
  }
}

/** Set an own member; a key named `__proto__` stays data. */
export function setMember(o: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    o[key] = value;
  }
}

function copyMap(map: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(map)) setMember(out, key, map[key]);
  return out;
}
