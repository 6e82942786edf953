import type { Environment } from '@marcbachmann/cel-js';
import { Optional } from '@marcbachmann/cel-js';
import { Duration, UnsignedInt } from '@marcbachmann/cel-js/evaluator';
import { formatRfc3339Nano } from '@kollect/contracts';
import { compareCodePoints, evalError, isMapLike, mapEntries, typeName } from '../values.js';

/**
 * String functions of cel-go's strings extension that cel-js 8 lacks: `charAt`, `replace`,
 * `reverse`, `format` and `strings.quote`. (cel-js already has `indexOf`, `lastIndexOf`,
 * `lowerAscii`, `upperAscii`, `split`, `substring`, `trim`, `join`.)
 * Indexes count Unicode code points, as in cel-go.
 */
export function registerStringFunctions(env: Environment, captureEvaluator: (ev: unknown) => void): void {
  env.registerFunction('string.charAt(int): string', (s: string, index: bigint) => {
    const cps = Array.from(s);
    if (index < 0n || index > BigInt(cps.length)) {
      throw evalError(`charAt: index ${index} out of range for a string of length ${cps.length}`);
    }
    return cps[Number(index)] ?? '';
  });

  env.registerFunction('string.replace(string, string): string', (s: string, from: string, to: string) =>
    replace(s, from, to, -1),
  );
  env.registerFunction(
    'string.replace(string, string, int): string',
    (s: string, from: string, to: string, n: bigint) => replace(s, from, to, Number(n)),
  );

  // A plain function (not an arrow): cel-js calls handlers with `this` = its evaluator, which the
  // engine needs once to install the cost/timeout meter (see engine.ts).
  env.registerFunction('string.reverse(): string', function (this: unknown, s: string) {
    captureEvaluator(this);
    return Array.from(s).reverse().join('');
  });

  env.registerFunction('string.format(list): string', (s: string, args: unknown[]) => format(s, args));

  class StringsNamespace {}
  env.registerType('StringsNamespace', StringsNamespace);
  env.registerConstant('strings', 'StringsNamespace', new StringsNamespace());
  env.registerFunction('StringsNamespace.quote(string): string', (_ns: unknown, s: string) => quote(s));
}

function replace(s: string, from: string, to: string, n: number): string {
  if (n === 0) return s;
  if (from === '') {
    // Go's strings.Replace with an empty needle inserts `to` at every code point boundary.
    const cps = Array.from(s);
    let out = '';
    let done = 0;
    for (let i = 0; i <= cps.length; i++) {
      if (n < 0 || done < n) {
        out += to;
        done++;
      }
      if (i < cps.length) out += cps[i];
    }
    return out;
  }
  if (n < 0) return s.split(from).join(to);
  let out = '';
  let rest = s;
  for (let i = 0; i < n; i++) {
    const at = rest.indexOf(from);
    if (at < 0) break;
    out += rest.slice(0, at) + to;
    rest = rest.slice(at + from.length);
  }
  return out + rest;
}

const QUOTE_ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\\': '\\\\',
  '"': '\\"',
};

/** `strings.quote`: a double-quoted CEL string literal; lone surrogates become U+FFFD. */
function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp >= 0xd800 && cp <= 0xdfff) out += '\ufffd';
    else out += QUOTE_ESCAPES[ch] ?? ch;
  }
  return out + '"';
}

/**
 * `"…".format([args])` (cel-go strings ext): `%s` any value, `%d` int/uint, `%f`/`%.Nf` and
 * `%e`/`%.Ne` numbers (default precision 6), `%b` / `%o` ints, `%x` / `%X` ints, strings and
 * bytes, `%%` a percent sign.
 */
export function format(template: string, args: readonly unknown[]): string {
  let out = '';
  let argIndex = 0;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i] as string;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    i++;
    if (template[i] === '%') {
      out += '%';
      continue;
    }
    let precision: number | undefined;
    if (template[i] === '.') {
      let digits = '';
      while (i + 1 < template.length && /[0-9]/.test(template[i + 1] as string)) digits += template[++i];
      if (digits === '') throw evalError('format: a precision needs digits, e.g. %.2f');
      precision = Number(digits);
      i++;
    }
    const verb = template[i];
    if (verb === undefined) throw evalError('format: the template ends inside a % clause');
    if (argIndex >= args.length) {
      throw evalError(`format: clause %${verb} has no argument (index ${argIndex}, ${args.length} given)`);
    }
    const arg = args[argIndex++];
    if (precision !== undefined && verb !== 'f' && verb !== 'e') {
      throw evalError(`format: precision is only allowed for %f and %e, not %${verb}`);
    }
    out += formatClause(verb, arg, precision);
  }
  return out;
}

function formatClause(verb: string, arg: unknown, precision: number | undefined): string {
  switch (verb) {
    case 's':
      return formatString(arg, false);
    case 'd': {
      const i = integerOf(arg, 'd');
      return i.toString();
    }
    case 'f':
      return fixed(numberOf(arg, 'f'), precision ?? 6);
    case 'e':
      return exponent(numberOf(arg, 'e'), precision ?? 6);
    case 'b':
      return radix(integerOf(arg, 'b'), 2);
    case 'o':
      return radix(integerOf(arg, 'o'), 8);
    case 'x':
    case 'X': {
      let hex: string;
      if (typeof arg === 'string') hex = Buffer.from(arg, 'utf8').toString('hex');
      else if (arg instanceof Uint8Array) hex = Buffer.from(arg).toString('hex');
      else hex = radix(integerOf(arg, verb), 16);
      return verb === 'X' ? hex.toUpperCase() : hex;
    }
    default:
      throw evalError(`format: unknown clause %${verb}`);
  }
}

function integerOf(arg: unknown, verb: string): bigint {
  if (typeof arg === 'bigint') return arg;
  if (arg instanceof UnsignedInt) return arg.value;
  throw evalError(`format: %${verb} needs an int or uint, got ${typeName(arg)}`);
}

function numberOf(arg: unknown, verb: string): number {
  if (typeof arg === 'number') return arg;
  if (typeof arg === 'bigint') return Number(arg);
  if (arg instanceof UnsignedInt) return Number(arg.value);
  throw evalError(`format: %${verb} needs a number, got ${typeName(arg)}`);
}

function nonFinite(n: number): string | undefined {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return undefined;
}

function fixed(n: number, precision: number): string {
  return nonFinite(n) ?? n.toFixed(Math.min(precision, 100));
}

function exponent(n: number, precision: number): string {
  const special = nonFinite(n);
  if (special) return special;
  // Go prints at least two exponent digits: 1.000000e+03, JS prints 1.000000e+3.
  return n.toExponential(Math.min(precision, 100)).replace(/e([+-])(\d)$/, 'e$10$2');
}

function radix(i: bigint, base: number): string {
  return i < 0n ? `-${(-i).toString(base)}` : i.toString(base);
}

/** `%s` rendering; strings nested in lists and maps are quoted, as cel-go does. */
function formatString(v: unknown, nested: boolean): string {
  switch (typeof v) {
    case 'string':
      return nested ? quote(v) : v;
    case 'bigint':
    case 'boolean':
      return String(v);
    case 'number':
      return nonFinite(v) ?? String(v);
    case 'object': {
      if (v === null) return 'null';
      if (v instanceof UnsignedInt) return v.value.toString();
      if (v instanceof Uint8Array)
        return nested ? quote(Buffer.from(v).toString('utf8')) : Buffer.from(v).toString('utf8');
      if (v instanceof Date) return formatRfc3339Nano(v);
      if (v instanceof Duration) return v.toString();
      if (v instanceof Optional)
        return v.hasValue() ? `optional.of(${formatString(v.value(), true)})` : 'optional.none()';
      if (Array.isArray(v) || v instanceof Set)
        return `[${[...v].map((x) => formatString(x, true)).join(', ')}]`;
      if (isMapLike(v)) {
        const entries = mapEntries(v)
          .map(([k, x]) => [formatString(k, true), formatString(x, true)] as const)
          .sort((a, b) => compareCodePoints(a[0], b[0]));
        return `{${entries.map(([k, x]) => `${k}: ${x}`).join(', ')}}`;
      }
      if (typeof (v as { toString?: unknown }).toString === 'function') return String(v);
      return typeName(v);
    }
    default:
      return String(v);
  }
}
