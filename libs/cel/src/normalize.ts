import { Optional } from '@marcbachmann/cel-js';
import { Duration, UnsignedInt } from '@marcbachmann/cel-js/evaluator';
import { formatRfc3339Nano } from '@kollect/contracts';
import { Quantity } from './functions/quantity.js';
import { isMapLike, mapEntries, typeName } from './values.js';

/** A plain JSON value: what rows carry. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Raised by {@link toJsonValue} for a value with no JSON form. */
export class UnsupportedCelValueError extends Error {
  constructor(readonly celType: string) {
    super(`a value of type ${celType} has no JSON form`);
    this.name = 'UnsupportedCelValueError';
  }
}

/**
 * Normalise a CEL result to plain JSON, so rows never carry engine types:
 *
 * | CEL value | JSON |
 * | --- | --- |
 * | int / uint (BigInt) | a number when it is a safe integer (|n| ≤ 2^53−1), otherwise its decimal string |
 * | double | the number; NaN, +Inf, −Inf become the strings `"NaN"`, `"Infinity"`, `"-Infinity"`; −0 becomes 0 |
 * | string, bool, null | themselves |
 * | list | array (elements normalised) |
 * | map | object; keys become strings (`1` → `"1"`, `true` → `"true"`) |
 * | bytes | base64 string (standard alphabet, padded) |
 * | timestamp | RFC 3339 UTC, fraction without trailing zeros (`2025-01-02T03:04:05.5Z`) |
 * | duration | seconds with a fraction, as CEL's `string(duration)` (`"5400s"`, `"1.5s"`) |
 * | optional | its value, or null when empty |
 * | kubernetes.Quantity | its string form (`"500m"`) |
 * | type | its name (`"int"`) |
 *
 * Anything else throws {@link UnsupportedCelValueError}.
 */
export function toJsonValue(v: unknown): JsonValue {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (Number.isNaN(v)) return 'NaN';
      if (v === Infinity) return 'Infinity';
      if (v === -Infinity) return '-Infinity';
      return Object.is(v, -0) ? 0 : v;
    case 'bigint':
      return bigintToJson(v);
    case 'undefined':
      return null;
    case 'object': {
      if (v === null) return null;
      if (Array.isArray(v)) return v.map(toJsonValue);
      if (v instanceof Optional) return v.hasValue() ? toJsonValue(v.value()) : null;
      if (v instanceof UnsignedInt) return bigintToJson(v.value);
      if (v instanceof Date) {
        if (Number.isNaN(v.getTime())) throw new UnsupportedCelValueError('invalid timestamp');
        return formatRfc3339Nano(v);
      }
      if (v instanceof Duration) return v.toString();
      if (v instanceof Uint8Array)
        return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
      if (v instanceof Quantity) return v.toString();
      if (v instanceof Set) return [...v].map(toJsonValue);
      if (isMapLike(v)) {
        const out: Record<string, JsonValue> = {};
        for (const [k, x] of mapEntries(v)) {
          const key = typeof k === 'string' ? k : String(toJsonValue(k));
          const value = toJsonValue(x);
          if (key === '__proto__') {
            Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
          } else {
            out[key] = value;
          }
        }
        return out;
      }
      // cel-js type values (`type(x)`) are frozen Type objects with a name.
      const name = (v as { name?: unknown }).name;
      if (v.constructor?.name === 'Type' && typeof name === 'string') return name;
      throw new UnsupportedCelValueError(typeName(v));
    }
    default:
      throw new UnsupportedCelValueError(typeof v);
  }
}

function bigintToJson(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v.toString();
}
