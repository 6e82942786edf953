/**
 * Canonical JSON: the one serializer used everywhere a checksum or golden byte sequence matters.
 *
 * It reproduces the bytes of Go's `encoding/json` for the data Kollect exports (SEED-SPEC §5.2,
 * §15.2), so checksums computed by the Go original and by Kollect agree:
 * - no insignificant whitespace;
 * - object keys sorted by UTF-8 byte order (Go sorts map keys that way);
 * - `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029`;
 * - lone UTF-16 surrogates (invalid UTF-8 on the Go side) replaced by U+FFFD;
 * - `undefined` object members are omitted; `undefined` inside arrays becomes `null`;
 * - `bigint` is written as an integer (CEL results carry int64 as bigint).
 *
 * Structs with a fixed field order (Item, Envelope) are written by their own functions in this
 * library; this module handles free maps such as `attributes`.
 */

const ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

// The characters Go escapes that JSON.stringify leaves alone, plus surrogates (possibly lone).
const NEEDS_FIX_TEST = /[<>&\u2028\u2029\ud800-\udfff]/;

/** Serialize a string exactly as Go's encoding/json does (with HTML escaping on). */
export function canonicalString(s: string): string {
  if (!NEEDS_FIX_TEST.test(s)) return JSON.stringify(s);
  const fixed = s.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    '\ufffd',
  );
  return JSON.stringify(fixed).replace(/[<>&\u2028\u2029]/g, (c) => ESCAPES[c] ?? c);
}

/** Compare two strings by their UTF-8 byte sequences (Go's string order), not UTF-16 code units. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // Surrogates (U+D800–U+DFFF) encode code points above U+FFFF, which sort after U+E000–U+FFFF in UTF-8.
    const sa = ca >= 0xd800 && ca <= 0xdfff;
    const sb = cb >= 0xd800 && cb <= 0xdfff;
    if (sa === sb) return ca < cb ? -1 : 1;
    return sa ? 1 : -1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Format a finite number the way Go's encoding/json formats a float64. */
export function canonicalNumber(n: number): string {
  if (!Number.isFinite(n)) {
    throw new TypeError(`canonical JSON cannot encode the non-finite number ${n}`);
  }
  // Go prints negative zero with its sign; JS does not.
  if (Object.is(n, -0)) return '-0';
  // Both use the shortest round-trip digits and switch to exponent form below 1e-6 and from 1e21
  // on, with the same exponent spelling ("1e-7", "1e+21"), so String() is exact here.
  return String(n);
}

/** Write any JSON-like value canonically (sorted keys everywhere). */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out);
  return out.join('');
}

function write(value: unknown, out: string[]): void {
  switch (typeof value) {
    case 'string':
      out.push(canonicalString(value));
      return;
    case 'number':
      out.push(canonicalNumber(value));
      return;
    case 'bigint':
      out.push(value.toString());
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'undefined':
      out.push('null');
      return;
    case 'object':
      break;
    default:
      throw new TypeError(`canonical JSON cannot encode a value of type ${typeof value}`);
  }
  if (value === null) {
    out.push('null');
    return;
  }
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      write(value[i], out);
    }
    out.push(']');
    return;
  }
  if (value instanceof Uint8Array) {
    // Go encodes []byte as base64.
    out.push(JSON.stringify(Buffer.from(value).toString('base64')));
    return;
  }
  if (value instanceof Date) {
    out.push(JSON.stringify(value.toISOString()));
    return;
  }
  if (value instanceof Map) {
    write(Object.fromEntries(value), out);
    return;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort(compareUtf8);
  out.push('{');
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    if (i > 0) out.push(',');
    out.push(canonicalString(k), ':');
    write(obj[k], out);
  }
  out.push('}');
}
