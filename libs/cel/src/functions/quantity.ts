import type { Environment } from '@marcbachmann/cel-js';
import { evalError } from '../values.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const SUFFIX: Record<string, [bigint, bigint]> = {
  // [numerator, denominator] multipliers
  n: [1n, 1_000_000_000n],
  u: [1n, 1_000_000n],
  m: [1n, 1000n],
  '': [1n, 1n],
  k: [1000n, 1n],
  M: [1_000_000n, 1n],
  G: [1_000_000_000n, 1n],
  T: [1_000_000_000_000n, 1n],
  P: [1_000_000_000_000_000n, 1n],
  E: [1_000_000_000_000_000_000n, 1n],
  Ki: [1n << 10n, 1n],
  Mi: [1n << 20n, 1n],
  Gi: [1n << 30n, 1n],
  Ti: [1n << 40n, 1n],
  Pi: [1n << 50n, 1n],
  Ei: [1n << 60n, 1n],
};

const QUANTITY_RE = /^([+-]?)(\d+\.?\d*|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/**
 * A Kubernetes resource quantity (`500m`, `1.5Gi`, `2e3`) held exactly as a reduced fraction.
 * The CEL type is `kubernetes.Quantity`, as in Kubernetes' own CEL quantity library.
 */
export class Quantity {
  readonly num: bigint;
  readonly den: bigint;
  /** The text it was parsed from, if it was not computed. */
  readonly text: string | undefined;

  constructor(num: bigint, den: bigint, text?: string) {
    if (den < 0n) [num, den] = [-num, -den];
    const g = gcd(num, den) || 1n;
    this.num = num / g;
    this.den = den / g;
    this.text = text;
  }

  static parse(text: string): Quantity | undefined {
    const m = QUANTITY_RE.exec(text.trim());
    if (m === null || text.length > 64) return undefined;
    const [, sign, digits, exp, suffix] = m as unknown as [string, string, string, string?, string?];
    const [intPart = '', fracPart = ''] = digits.split('.');
    let num = BigInt((intPart || '0') + fracPart);
    let den = 10n ** BigInt(fracPart.length);
    if (exp !== undefined) {
      const e = Number(exp.slice(1));
      if (Math.abs(e) > 100) return undefined;
      if (e >= 0) num *= 10n ** BigInt(e);
      else den *= 10n ** BigInt(-e);
    } else {
      const [mn, md] = SUFFIX[suffix ?? ''] as [bigint, bigint];
      num *= mn;
      den *= md;
    }
    if (sign === '-') num = -num;
    return new Quantity(num, den, text.trim());
  }

  compare(other: Quantity): number {
    const l = this.num * other.den;
    const r = other.num * this.den;
    return l < r ? -1 : l > r ? 1 : 0;
  }

  add(other: Quantity): Quantity {
    return new Quantity(this.num * other.den + other.num * this.den, this.den * other.den);
  }

  /**
   * The exact decimal form. Denominators only ever hold factors 2 and 5 (decimal and binary
   * suffixes, sums of those), so the expansion terminates.
   */
  toString(): string {
    if (this.text !== undefined) return this.text;
    if (this.den === 1n) return this.num.toString();
    const negative = this.num < 0n;
    const abs = negative ? -this.num : this.num;
    const whole = abs / this.den;
    let rem = abs % this.den;
    let frac = '';
    for (let i = 0; rem !== 0n && i < 80; i++) {
      rem *= 10n;
      frac += (rem / this.den).toString();
      rem %= this.den;
    }
    return `${negative ? '-' : ''}${whole}.${frac}`;
  }
}

function parseOrThrow(text: string): Quantity {
  const q = Quantity.parse(text);
  if (q === undefined)
    throw evalError(`quantity: ${JSON.stringify(text.slice(0, 64))} is not a Kubernetes quantity`);
  return q;
}

const Q = 'kubernetes.Quantity';

/**
 * Kubernetes' CEL quantity library: `quantity(string)`, `isQuantity(string)`, and on a quantity
 * `isInteger()`, `asInteger()`, `asApproximateFloat()`, `sign()`, `add`/`sub` (quantity or int),
 * `isGreaterThan`, `isLessThan`, `compareTo`.
 */
export function registerQuantityFunctions(env: Environment): void {
  env.registerType(Q, Quantity);
  env.registerFunction(`quantity(string): ${Q}`, (s: string) => parseOrThrow(s));
  env.registerFunction('isQuantity(string): bool', (s: string) => Quantity.parse(s) !== undefined);
  env.registerFunction(`${Q}.isInteger(): bool`, (q: Quantity) => q.den === 1n);
  env.registerFunction(`${Q}.asInteger(): int`, (q: Quantity) => {
    if (q.den !== 1n) throw evalError(`asInteger: ${q.toString()} is not an integer`);
    if (q.num < INT64_MIN || q.num > INT64_MAX) throw evalError('asInteger: int64 overflow');
    return q.num;
  });
  env.registerFunction(`${Q}.asApproximateFloat(): double`, (q: Quantity) => Number(q.num) / Number(q.den));
  env.registerFunction(`${Q}.sign(): int`, (q: Quantity) => (q.num > 0n ? 1n : q.num < 0n ? -1n : 0n));
  env.registerFunction(`${Q}.add(${Q}): ${Q}`, (a: Quantity, b: Quantity) => a.add(b));
  env.registerFunction(`${Q}.add(int): ${Q}`, (a: Quantity, b: bigint) => a.add(new Quantity(b, 1n)));
  env.registerFunction(`${Q}.sub(${Q}): ${Q}`, (a: Quantity, b: Quantity) =>
    a.add(new Quantity(-b.num, b.den)),
  );
  env.registerFunction(`${Q}.sub(int): ${Q}`, (a: Quantity, b: bigint) => a.add(new Quantity(-b, 1n)));
  env.registerFunction(`${Q}.isGreaterThan(${Q}): bool`, (a: Quantity, b: Quantity) => a.compare(b) > 0);
  env.registerFunction(`${Q}.isLessThan(${Q}): bool`, (a: Quantity, b: Quantity) => a.compare(b) < 0);
  env.registerFunction(`${Q}.compareTo(${Q}): int`, (a: Quantity, b: Quantity) => BigInt(a.compare(b)));
}
