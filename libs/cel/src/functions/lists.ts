import type { Environment } from '@marcbachmann/cel-js';
import { UnsignedInt } from '@marcbachmann/cel-js/evaluator';
import { celCompare, celEquals, evalError, typeName } from '../values.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Kubernetes' CEL list library (`sum`, `min`, `max`, `isSorted`, `indexOf`, `lastIndexOf`) and
 * the cheap parts of cel-go's lists extension (`distinct`, `flatten`, `reverse`, `slice`, `sort`).
 */
export function registerListFunctions(env: Environment): void {
  env.registerFunction('list.sum(): dyn', (list: unknown[]) => sum(list));
  env.registerFunction('list.min(): dyn', (list: unknown[]) => extreme(list, -1, 'min'));
  env.registerFunction('list.max(): dyn', (list: unknown[]) => extreme(list, 1, 'max'));
  env.registerFunction('list.isSorted(): bool', (list: unknown[]) => {
    for (let i = 1; i < list.length; i++) if (celCompare(list[i - 1], list[i]) > 0) return false;
    return true;
  });
  env.registerFunction('list.indexOf(dyn): int', (list: unknown[], v: unknown) => {
    for (let i = 0; i < list.length; i++) if (celEquals(list[i], v)) return BigInt(i);
    return -1n;
  });
  env.registerFunction('list.lastIndexOf(dyn): int', (list: unknown[], v: unknown) => {
    for (let i = list.length - 1; i >= 0; i--) if (celEquals(list[i], v)) return BigInt(i);
    return -1n;
  });

  env.registerFunction('list.distinct(): list', (list: unknown[]) => {
    const out: unknown[] = [];
    for (const v of list) if (!out.some((x) => celEquals(x, v))) out.push(v);
    return out;
  });
  env.registerFunction('list.flatten(): list', (list: unknown[]) => flatten(list, 1));
  env.registerFunction('list.flatten(int): list', (list: unknown[], depth: bigint) => {
    if (depth < 0n) throw evalError('flatten: the depth must not be negative');
    return flatten(list, Number(depth));
  });
  env.registerFunction('list.reverse(): list', (list: unknown[]) => [...list].reverse());
  env.registerFunction('list.slice(int, int): list', (list: unknown[], start: bigint, end: bigint) => {
    if (start < 0n || end < 0n) throw evalError(`slice: negative index (${start}, ${end})`);
    if (start > end) throw evalError(`slice: start ${start} is after end ${end}`);
    if (end > BigInt(list.length))
      throw evalError(`slice: end ${end} is past the list length ${list.length}`);
    return list.slice(Number(start), Number(end));
  });
  env.registerFunction('list.sort(): list', (list: unknown[]) => [...list].sort(celCompare));
}

function sum(list: unknown[]): unknown {
  if (list.length === 0) return 0n;
  const first = list[0];
  if (typeof first === 'bigint') {
    let total = 0n;
    for (const v of list) {
      if (typeof v !== 'bigint') throw mixed('sum', first, v);
      total += v;
    }
    if (total < INT64_MIN || total > INT64_MAX) throw evalError('sum: int64 overflow');
    return total;
  }
  if (typeof first === 'number') {
    let total = 0;
    for (const v of list) {
      if (typeof v !== 'number') throw mixed('sum', first, v);
      total += v;
    }
    return total;
  }
  if (first instanceof UnsignedInt) {
    let total = 0n;
    for (const v of list) {
      if (!(v instanceof UnsignedInt)) throw mixed('sum', first, v);
      total += v.value;
    }
    return new UnsignedInt(total);
  }
  throw evalError(`sum: cannot add values of type ${typeName(first)}`);
}

function extreme(list: unknown[], sign: 1 | -1, name: string): unknown {
  if (list.length === 0) throw evalError(`${name}: the list is empty`);
  let best = list[0];
  for (let i = 1; i < list.length; i++) {
    if (celCompare(list[i], best) * sign > 0) best = list[i];
  }
  return best;
}

function flatten(list: unknown[], depth: number): unknown[] {
  const out: unknown[] = [];
  for (const v of list) {
    if (Array.isArray(v) && depth > 0) out.push(...flatten(v, depth - 1));
    else out.push(v);
  }
  return out;
}

function mixed(fn: string, a: unknown, b: unknown): Error {
  return evalError(`${fn}: the list mixes ${typeName(a)} and ${typeName(b)}`);
}
