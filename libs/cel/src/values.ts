import { EvaluationError, Optional } from '@marcbachmann/cel-js';
import { Duration, UnsignedInt } from '@marcbachmann/cel-js/evaluator';

/**
 * Helpers over cel-js runtime values: ints are `bigint`, uints `UnsignedInt`, doubles `number`,
 * timestamps `Date`, durations `Duration`, bytes `Uint8Array`, lists arrays, maps plain objects
 * or `Map`s, optionals `Optional`.
 */

export function evalError(message: string): EvaluationError {
  return new EvaluationError(message);
}

/** A numeric CEL value as a comparable pair; undefined for non-numbers. */
function numeric(v: unknown): bigint | number | undefined {
  if (typeof v === 'bigint' || typeof v === 'number') return v;
  if (v instanceof UnsignedInt) return v.value;
  return undefined;
}

function compareNumeric(a: bigint | number, b: bigint | number): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  const x = Number(a);
  const y = Number(b);
  if (Number.isNaN(x) || Number.isNaN(y)) throw evalError('NaN is not ordered');
  return x < y ? -1 : x > y ? 1 : 0;
}

function isMapLike(v: unknown): v is Record<string, unknown> | Map<unknown, unknown> {
  if (v instanceof Map) return true;
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function mapEntries(v: Record<string, unknown> | Map<unknown, unknown>): [unknown, unknown][] {
  return v instanceof Map ? [...v.entries()] : Object.entries(v);
}

/** CEL equality: numbers compare across int/uint/double; lists and maps compare deeply. */
export function celEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) {
    if (typeof na === 'number' && Number.isNaN(na)) return false;
    if (typeof nb === 'number' && Number.isNaN(nb)) return false;
    return compareNumeric(na, nb) === 0;
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => celEquals(x, b[i]));
  }
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof Duration && b instanceof Duration) return a.seconds === b.seconds && a.nanos === b.nanos;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }
  if (a instanceof Optional && b instanceof Optional) {
    return a.hasValue() === b.hasValue() && (!a.hasValue() || celEquals(a.value(), b.value()));
  }
  if (isMapLike(a) && isMapLike(b)) {
    const ea = mapEntries(a);
    const eb = new Map(mapEntries(b).map(([k, v]) => [String(k), v]));
    return (
      ea.length === eb.size && ea.every(([k, v]) => eb.has(String(k)) && celEquals(v, eb.get(String(k))))
    );
  }
  return false;
}

/**
 * CEL ordering for the comparable types: numbers (across int/uint/double), strings (by code
 * point), bools, timestamps, durations and bytes. Throws for anything else or a mixed pair.
 */
export function celCompare(a: unknown, b: unknown): number {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) return compareNumeric(na, nb);
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (a instanceof Date && b instanceof Date) return Math.sign(a.getTime() - b.getTime());
  if (a instanceof Duration && b instanceof Duration) {
    if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
    return Math.sign(a.nanos - b.nanos);
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number) ? -1 : 1;
    return Math.sign(a.length - b.length);
  }
  throw evalError(`values of types ${typeName(a)} and ${typeName(b)} cannot be compared`);
}

/** Compare strings by Unicode code point (CEL/Go order), not UTF-16 code unit. */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const cx = x.value.codePointAt(0) as number;
    const cy = y.value.codePointAt(0) as number;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

/** The CEL type name of a runtime value, for error messages (never the value itself). */
export function typeName(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'bigint':
      return 'int';
    case 'number':
      return 'double';
    case 'boolean':
      return 'bool';
    case 'object':
      if (v === null) return 'null_type';
      if (Array.isArray(v) || v instanceof Set) return 'list';
      if (v instanceof UnsignedInt) return 'uint';
      if (v instanceof Date) return 'google.protobuf.Timestamp';
      if (v instanceof Duration) return 'google.protobuf.Duration';
      if (v instanceof Uint8Array) return 'bytes';
      if (v instanceof Optional) return 'optional';
      if (isMapLike(v)) return 'map';
      return (v.constructor as { name?: string } | undefined)?.name ?? 'object';
    default:
      return typeof v;
  }
}

export { isMapLike, mapEntries };
