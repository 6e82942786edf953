import {
  type JsonPathNode,
  type JsonPathOperand,
  type JsonPathStep,
  type JsonPathTemplate,
  JsonPathSyntaxError,
  hasJsonPathFilter,
  parseJsonPath,
  toJsonPathTemplate,
} from '@kollect/crd-types';

/**
 * kubectl-style JSONPath evaluation (k8s.io/client-go/util/jsonpath) over the AST of the
 * admission parser in `@kollect/crd-types`, so admission and the extractor accept exactly the
 * same paths.
 *
 * Semantics follow client-go with `AllowMissingKeys(false)`, except where noted:
 * - a named field missing from every input is "not found" (extraction maps it to null); an index
 *   past the end, indexing or filtering a non-array, a zero step, comparing several values in a
 *   filter are other errors;
 * - null values are skipped by field, index, wildcard and recursive steps (as Go's `Indirect`);
 * - `range … end` yields the first result set of its body for its first element (only the first
 *   result set of a template is ever used);
 * - differences, for determinism and fewer surprises: map members (`.*`, `..`) are visited in
 *   sorted key order (Go: random); `.*` and `..` treat strings as leaves (Go iterates bytes);
 *   inside a filter a missing field means "no match" (kubectl's default
 *   `--allow-missing-template-keys`) and comparing values of different types is "no match" (Go:
 *   an error); an explicit `$` in a filter operand is the document root (Go: ignored, i.e. the
 *   element).
 */

/** A named field does not exist: extraction maps this to null (SEED-SPEC §4.1). */
export class JsonPathNotFoundError extends Error {
  constructor(readonly field: string) {
    super(`${field} is not found`);
    this.name = 'JsonPathNotFoundError';
  }
}

/** Any other evaluation error (index out of bounds, indexing a map as an array, …). */
export class JsonPathEvalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonPathEvalError';
  }
}

/** A profile path compiled for evaluation. */
export interface CompiledJsonPath {
  /** The path as written in the profile. */
  readonly source: string;
  readonly template: JsonPathTemplate;
  /** Uses a filter `[?(…)]` (admission warns about those; SEED-SPEC §3.3). */
  readonly hasFilter: boolean;
}

/**
 * Compile a profile path: `$.a.b` is rewritten to `{.a.b}`, `{…}` is used as is (SEED-SPEC §4.1).
 * A template without any action (e.g. a bare `spec.replicas`) is rejected: kubectl would print it
 * as literal text. Throws `JsonPathSyntaxError` from `@kollect/crd-types`.
 */
export function compileJsonPath(path: string): CompiledJsonPath {
  const text = toJsonPathTemplate(path);
  const template = parseJsonPath(text);
  if (template.nodes.every((n) => n.type === 'text')) {
    throw new JsonPathSyntaxError(
      'the path has no {…} action, so it would only return its own text; write $.field or {.field}',
      0,
      text,
    );
  }
  return { source: path, template, hasFilter: hasJsonPathFilter(template) };
}

/** Warnings admission returns for a path (SEED-SPEC §3.3). */
export function jsonPathWarnings(jp: CompiledJsonPath): string[] {
  return jp.hasFilter
    ? [
        `JSONPath ${JSON.stringify(jp.source)} uses a filter expression [?(…)]; filters are accepted for now but will be rejected in a future release (use a cel: path instead)`,
      ]
    : [];
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function sortedValues(o: Record<string, unknown>): unknown[] {
  return Object.keys(o)
    .sort()
    .map((k) => o[k]);
}

interface Ctx {
  /** The document root (for `$` operands in filters). */
  readonly root: unknown;
  /** Missing fields yield nothing instead of throwing (inside filters). */
  readonly allowMissing: boolean;
}

function walkSteps(input: unknown[], steps: readonly JsonPathStep[], ctx: Ctx): unknown[] {
  let cur = input;
  for (const s of steps) cur = step(cur, s, ctx);
  return cur;
}

function step(input: unknown[], s: JsonPathStep, ctx: Ctx): unknown[] {
  switch (s.type) {
    case 'field':
      return evalField(input, s.name, ctx);
    case 'fields': {
      const out: unknown[] = [];
      for (const name of s.names) out.push(...evalField(input, name, ctx));
      return out;
    }
    case 'wildcard': {
      const out: unknown[] = [];
      for (const v of input) {
        if (Array.isArray(v)) out.push(...v);
        else if (isMap(v)) out.push(...sortedValues(v));
      }
      return out;
    }
    case 'recursive': {
      const out: unknown[] = [];
      for (const v of input) descend(v, out);
      return out;
    }
    case 'index':
      return evalSlice(input, s.index, undefined, undefined, true);
    case 'indices': {
      const out: unknown[] = [];
      for (const i of s.indices) out.push(...evalSlice(input, i, undefined, undefined, true));
      return out;
    }
    case 'slice':
      return evalSlice(input, s.start, s.end, s.step, false);
    case 'filter':
      return evalFilter(input, s, ctx);
  }
}

function evalField(input: unknown[], name: string, ctx: Ctx): unknown[] {
  if (input.length === 0) return [];
  const out: unknown[] = [];
  for (const v of input) {
    if (isMap(v) && hasOwn(v, name)) out.push(v[name]);
  }
  if (out.length === 0 && !ctx.allowMissing) throw new JsonPathNotFoundError(name);
  return out;
}

/** Pre-order: every non-empty container, then its children's containers (client-go's `..`). */
function descend(v: unknown, out: unknown[]): void {
  let children: unknown[];
  if (Array.isArray(v)) children = v;
  else if (isMap(v)) children = sortedValues(v);
  else return;
  if (children.length === 0) return;
  out.push(v);
  for (const c of children) descend(c, out);
}

/** client-go `evalArray`: `[n]` (single) and `[start:end:step]`. */
function evalSlice(
  input: unknown[],
  startParam: number | undefined,
  endParam: number | undefined,
  stepParam: number | undefined,
  single: boolean,
): unknown[] {
  const out: unknown[] = [];
  for (const v of input) {
    if (v === null || v === undefined) continue;
    if (!Array.isArray(v))
      throw new JsonPathEvalError(`${describe(v)} is not an array, so it cannot be indexed`);
    const len = v.length;
    let start = startParam ?? 0;
    if (start < 0) start += len;
    let end: number;
    if (single) end = start + 1;
    else {
      end = endParam ?? len;
      if (end < 0) end += len;
    }
    if (end === start) continue;
    if (start >= len || start < 0) {
      throw new JsonPathEvalError(`array index out of bounds: index ${start}, length ${len}`);
    }
    if (end > len || end < 0)
      throw new JsonPathEvalError(`array index out of bounds: index ${end - 1}, length ${len}`);
    if (start > end)
      throw new JsonPathEvalError(`starting index ${start} is greater than ending index ${end}`);
    const stride = stepParam ?? 1;
    if (stride <= 0) throw new JsonPathEvalError('step must be > 0');
    for (let i = start; i < end; i += stride) out.push(v[i]);
  }
  return out;
}

function evalFilter(input: unknown[], s: Extract<JsonPathStep, { type: 'filter' }>, ctx: Ctx): unknown[] {
  const lenient: Ctx = { root: ctx.root, allowMissing: true };
  const { left, op, right } = s.predicate;
  const out: unknown[] = [];
  for (const v of input) {
    if (!Array.isArray(v))
      throw new JsonPathEvalError(`${describe(v)} is not an array, so it cannot be filtered`);
    for (const el of v) {
      const lefts = operand(left, el, lenient);
      if (op === undefined || right === undefined) {
        if (lefts.length > 0) out.push(el);
        continue;
      }
      if (lefts.length === 0) continue;
      if (lefts.length > 1) throw new JsonPathEvalError('a filter can only compare one value at a time');
      const rights = operand(right, el, lenient);
      if (rights.length === 0) continue;
      if (rights.length > 1) throw new JsonPathEvalError('a filter can only compare one value at a time');
      if (compare(lefts[0], op, rights[0])) out.push(el);
    }
  }
  return out;
}

function operand(o: JsonPathOperand, el: unknown, ctx: Ctx): unknown[] {
  if (o.type === 'literal') return [o.value];
  return walkSteps([o.root === '$' ? ctx.root : el], o.steps, ctx);
}

function compare(a: unknown, op: '==' | '!=' | '<' | '<=' | '>' | '>=', b: unknown): boolean {
  if (op === '==') return jsonEquals(a, b);
  if (op === '!=') return !jsonEquals(a, b);
  let c: number;
  if (typeof a === 'number' && typeof b === 'number') c = a < b ? -1 : a > b ? 1 : 0;
  else if (typeof a === 'string' && typeof b === 'string') c = a < b ? -1 : a > b ? 1 : 0;
  else return false;
  switch (op) {
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

function jsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'a map';
  return `a ${typeof v}`;
}

/** The first result set of a list of template nodes on `data`, or undefined when there is none. */
function firstResultSet(nodes: readonly JsonPathNode[], data: unknown, root: unknown): unknown[] | undefined {
  const ctx: Ctx = { root, allowMissing: false };
  for (const n of nodes) {
    switch (n.type) {
      case 'text':
        return [n.text];
      case 'literal':
        return [n.value];
      // A template path is relative to the current value whatever its root marker: kubectl treats
      // `$` and `@` as no-ops, and inside `range` the current value is the element.
      case 'path':
        return walkSteps([data], n.steps, ctx);
      case 'range': {
        const items = walkSteps([data], n.steps, ctx);
        for (const item of items) {
          const r = firstResultSet(n.body, item, root);
          if (r !== undefined) return r;
        }
        break;
      }
    }
  }
  return undefined;
}

/**
 * The first result set of a path (kubectl's `FindResults(...)[0]`). Throws
 * {@link JsonPathNotFoundError} when a named field is missing and {@link JsonPathEvalError}
 * for other failures.
 */
export function findJsonPathResults(jp: CompiledJsonPath, data: unknown): unknown[] {
  return firstResultSet(jp.template.nodes, data, data) ?? [];
}

/**
 * Evaluate a path with the seed's cardinality rules (SEED-SPEC §4.1, §15.3): 0 results → null,
 * 1 → the value itself, ≥2 → an array of the values; "not found" → null. Other errors throw
 * {@link JsonPathEvalError}. Values are references into `data`.
 */
export function evaluateJsonPath(jp: CompiledJsonPath, data: unknown): unknown {
  let results: unknown[];
  try {
    results = findJsonPathResults(jp, data);
  } catch (err) {
    if (err instanceof JsonPathNotFoundError) return null;
    throw err;
  }
  if (results.length === 0) return null;
  if (results.length === 1) return results[0] ?? null;
  return results.map((r) => r ?? null);
}
