import { InvalidJsonMessage } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** JSON-encode a message body. */
export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/** Decode a JSON body; throws {@link InvalidJsonMessage} (terminal) on bad UTF-8 or JSON. */
export function decodeJson<T = unknown>(data: Uint8Array, where: string): T {
  try {
    return JSON.parse(decoder.decode(data)) as T;
  } catch (err) {
    throw InvalidJsonMessage(where, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** `A-Z a-z 0-9 _ -`: kept as they are in a KV key segment. */
function keySafe(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x5f ||
    c === 0x2d
  );
}
const ALL_KEY_SAFE = /^[A-Za-z0-9_-]+$/;
/** `=HH` of every ASCII code (the escape of an unsafe ASCII character is one byte). */
const ASCII_ESCAPE = Array.from(
  { length: 128 },
  (_, b) => '=' + b.toString(16).toUpperCase().padStart(2, '0'),
);

/**
 * Encode one arbitrary string as one KV key segment, losslessly. KV keys allow only
 * `[-/_=.A-Za-z0-9]` and use `.` to separate segments, so: `A-Z a-z 0-9 _ -` stay as they are,
 * every other character becomes `=HH` per UTF-8 byte (upper-case hex; `=` itself is escaped), and
 * the empty string becomes a lone `=`. The result never contains `.`, `/`, `*` or `>`.
 */
export function encodeKvSegment(value: string): string {
  if (value === '') return '=';
  // Most segments (uids, partitions, plain names) need no escaping. The aggregator encodes a
  // key for every row it persists, so the rest is a scan over char codes, not a regex and an
  // encoder call per character.
  if (ALL_KEY_SAFE.test(value)) return value;
  let out = '';
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (keySafe(c)) continue;
    out += value.slice(from, i);
    if (c < 0x80) {
      out += ASCII_ESCAPE[c] as string;
    } else {
      // One code point (a surrogate pair takes two code units), as its UTF-8 bytes.
      const cp = value.codePointAt(i) as number;
      for (const b of encoder.encode(String.fromCodePoint(cp))) out += '=' + b.toString(16).toUpperCase();
      if (cp > 0xffff) i++;
    }
    from = i + 1;
  }
  return out + value.slice(from);
}

/** Inverse of {@link encodeKvSegment}. Throws on a malformed segment. */
export function decodeKvSegment(segment: string): string {
  if (segment === '=') return '';
  if (!segment.includes('=')) return segment;
  const bytes: number[] = [];
  for (let i = 0; i < segment.length;) {
    const c = segment[i] as string;
    if (c === '=') {
      const hex = segment.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) throw new Error(`malformed KV key segment ${JSON.stringify(segment)}`);
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else {
      bytes.push(c.charCodeAt(0));
      i += 1;
    }
  }
  return decoder.decode(Uint8Array.from(bytes));
}

/**
 * Build a KV key from arbitrary parts: each part goes through {@link encodeKvSegment} and the
 * parts are joined with `.`, so `kvKey('rows', 'team.a', 'my inv')` = `rows.team=2Ea.my=20inv`
 * and a watch on `rows.team=2Ea.>` selects one namespace.
 */
export function kvKey(...parts: string[]): string {
  if (parts.length === 0) throw new Error('kvKey needs at least one part');
  return parts.map(encodeKvSegment).join('.');
}

/** Inverse of {@link kvKey}: the original parts. */
export function parseKvKey(key: string): string[] {
  return key.split('.').map(decodeKvSegment);
}
