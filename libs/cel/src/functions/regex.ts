import type { Environment } from '@marcbachmann/cel-js';
import { evalError } from '../values.js';

const CACHE_LIMIT = 256;
const cache = new Map<string, RegExp>();

/**
 * A compiled global regex for a pattern, cached. The patterns are JavaScript RegExp syntax (as
 * cel-js' own `matches`), not RE2: most RE2 patterns mean the same, but inline flags such as
 * `(?i)` are not supported.
 */
function regexFor(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, 'gu');
    } catch {
      throw evalError(`invalid regular expression ${JSON.stringify(pattern.slice(0, 100))}`);
    }
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(pattern, re);
  }
  re.lastIndex = 0;
  return re;
}

/** Kubernetes' CEL regex library: `find` and `findAll`. */
export function registerRegexFunctions(env: Environment): void {
  env.registerFunction('string.find(string): string', (s: string, pattern: string) => {
    const m = regexFor(pattern).exec(s);
    return m === null ? '' : m[0];
  });
  env.registerFunction('string.findAll(string): list<string>', (s: string, pattern: string) =>
    findAll(s, pattern, -1),
  );
  env.registerFunction('string.findAll(string, int): list<string>', (s: string, pattern: string, n: bigint) =>
    findAll(s, pattern, Number(n)),
  );
}

function findAll(s: string, pattern: string, limit: number): string[] {
  if (limit === 0) return [];
  const out: string[] = [];
  for (const m of s.matchAll(regexFor(pattern))) {
    out.push(m[0]);
    if (limit > 0 && out.length >= limit) break;
  }
  return out;
}
