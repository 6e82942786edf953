/**
 * RFC 3339 timestamps as Go's `time.RFC3339Nano` prints them in UTC: fractional seconds with
 * trailing zeros removed (and no fraction at all when it is zero).
 */
export function formatRfc3339Nano(at: Date | bigint): string {
  let ms: number;
  let nanos: number;
  if (typeof at === 'bigint') {
    ms = Number(at / 1_000_000n);
    nanos = Number(at % 1_000_000_000n);
    if (nanos < 0) nanos += 1_000_000_000;
  } else {
    ms = at.getTime();
    nanos = (((ms % 1000) + 1000) % 1000) * 1_000_000;
  }
  const base = new Date(ms).toISOString().slice(0, 19);
  if (nanos === 0) return `${base}Z`;
  const frac = String(nanos).padStart(9, '0').replace(/0+$/, '');
  return `${base}.${frac}Z`;
}

/** RFC 3339 with whole seconds (UTC), as used by the Git index sidecar. */
export function formatRfc3339Seconds(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

/** Current wall-clock time in nanoseconds since the epoch (millisecond resolution, monotonic-ish tail). */
export function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
