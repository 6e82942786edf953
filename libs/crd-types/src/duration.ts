import { MAX_EXPORT_INTERVAL_MS } from './constants.js';

/**
 * Go-style duration strings as accepted by `metav1.Duration`: one or more `<number><unit>`
 * groups (`30s`, `1h`, `1m30s`, `1.5h`, `250ms`) or the bare `0`. Units: `h m s ms us ns`.
 * No sign: every Kollect duration is non-negative.
 */
export const DURATION_PATTERN = '^(0|([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+)$';

const GROUP = /([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)/gy;

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Thrown by {@link parseDuration} for a string that is not a Go-style duration. */
export class DurationSyntaxError extends Error {
  override readonly name = 'DurationSyntaxError';
  constructor(readonly input: string) {
    super(`invalid duration "${input}": use Go syntax such as 30s, 5m, 1h or 1m30s`);
  }
}

/**
 * Parse a Go-style duration (`30s`, `1h`, `1m30s`, `0s`, `0`) into milliseconds.
 * Sub-millisecond units yield fractional milliseconds.
 *
 * @throws {@link DurationSyntaxError} when the string is not a duration.
 */
export function parseDuration(input: string): number {
  const s = input.trim();
  if (s === '0') return 0;
  if (s === '') throw new DurationSyntaxError(input);
  GROUP.lastIndex = 0;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    GROUP.lastIndex = pos;
    const m = GROUP.exec(s);
    if (!m) throw new DurationSyntaxError(input);
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    pos = GROUP.lastIndex;
  }
  return total;
}

/** Like {@link parseDuration} but returns `undefined` instead of throwing. */
export function tryParseDuration(input: string): number | undefined {
  try {
    return parseDuration(input);
  } catch {
    return undefined;
  }
}

/** True when `input` parses and lies within the export interval range 0…24h. */
export function isExportInterval(input: string): boolean {
  const ms = tryParseDuration(input);
  return ms !== undefined && ms >= 0 && ms <= MAX_EXPORT_INTERVAL_MS;
}

/**
 * Format milliseconds the way Go prints a `time.Duration` (`1h0m0s`, `1m30s`, `30s`, `250ms`, `0s`),
 * so messages echo durations in the same notation users write.
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const totalSeconds = ms / 1000;
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds - h * 3600) / 60);
  const s = Math.round((totalSeconds - h * 3600 - m * 60) * 1000) / 1000;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
