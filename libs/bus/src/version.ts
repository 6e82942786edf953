/** A parsed `major.minor.patch` server version (pre-release suffixes are ignored). */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
}

/** Parse `2.11.0`, `v2.12.1-RC.1`, … Throws on anything else. */
export function parseSemVer(v: string): SemVer {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v.trim());
  if (!m) throw new Error(`not a version: ${JSON.stringify(v)}`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/** Negative, zero or positive like a sort comparator. */
export function compareSemVer(a: string | SemVer, b: string | SemVer): number {
  const x = typeof a === 'string' ? parseSemVer(a) : a;
  const y = typeof b === 'string' ? parseSemVer(b) : b;
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch;
}

/** True when `have` is at least `need`. */
export function versionAtLeast(have: string, need: string): boolean {
  return compareSemVer(have, need) >= 0;
}

/** Minimum server versions of the JetStream features Kollect uses. */
export const FEATURE_MIN_VERSION = {
  /** Consumer `priority_groups` with `pinned_client` (partition ownership by pinning). */
  pinnedConsumers: '2.11.0',
  /** `Nats-Expected-Last-Subject-Sequence-Subject` (fenced KV writes) and per-message TTL. */
  fencedWrites: '2.11.0',
  /** Several filter subjects on one consumer. */
  multiFilter: '2.10.0',
} as const;
