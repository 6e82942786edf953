/**
 * Parser for kubectl JSONPath templates (the `-o jsonpath=` dialect), as used by profile
 * attribute paths. It only parses; the evaluator lives in libs/cel and walks this AST.
 *
 * Grammar (informal):
 *   template  := ( text | '{' action '}' )*
 *   action    := 'range' path | 'end' | quoted-string | path
 *   path      := ('$' | '@')? step*
 *   step      := '.' field | '.*' | '..' (field | '*' | bracket) | bracket
 *   field     := chars up to '.', '[', '}', ' ' or ',' — `\.` escapes a dot (`app\.kubernetes\.io/name`)
 *   bracket   := '[' ( '*' | int (',' int)* | [int] ':' [int] [':' int] | quoted (',' quoted)* | '?(' predicate ')' ) ']'
 *   predicate := operand ( op operand )?      op := == | != | < | <= | > | >=
 *   operand   := path starting with '@' or '$' | number | quoted-string | true | false | null
 *
 * Attribute paths written as `$.a.b` are rewritten to `{.a.b}` first ({@link toJsonPathTemplate}).
 */

/** One step of a path. */
export type JsonPathStep =
  | { readonly type: 'field'; readonly name: string }
  | { readonly type: 'fields'; readonly names: readonly string[] }
  | { readonly type: 'wildcard' }
  | { readonly type: 'recursive' }
  | { readonly type: 'index'; readonly index: number }
  | { readonly type: 'indices'; readonly indices: readonly number[] }
  | { readonly type: 'slice'; readonly start?: number; readonly end?: number; readonly step?: number }
  | { readonly type: 'filter'; readonly predicate: JsonPathPredicate };

/** A value inside a filter: a path relative to the current element (`@`) or the root (`$`), or a literal. */
export type JsonPathOperand =
  | { readonly type: 'path'; readonly root: '@' | '$'; readonly steps: readonly JsonPathStep[] }
  | { readonly type: 'literal'; readonly value: string | number | boolean | null };

export type JsonPathComparison = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** `[?(left op right)]`, or `[?(left)]` (existence / truthiness) when `op` is absent. */
export interface JsonPathPredicate {
  readonly left: JsonPathOperand;
  readonly op?: JsonPathComparison;
  readonly right?: JsonPathOperand;
}

/** A top-level node of a template. */
export type JsonPathNode =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'path'; readonly root: '@' | '$'; readonly steps: readonly JsonPathStep[] }
  | { readonly type: 'literal'; readonly value: string }
  | {
      readonly type: 'range';
      readonly root: '@' | '$';
      readonly steps: readonly JsonPathStep[];
      readonly body: readonly JsonPathNode[];
    };

/** A parsed template: text and actions in source order. */
export interface JsonPathTemplate {
  readonly source: string;
  readonly nodes: readonly JsonPathNode[];
}

/** Thrown by {@link parseJsonPath}; `position` is the offset into the template. */
export class JsonPathSyntaxError extends Error {
  override readonly name = 'JsonPathSyntaxError';
  constructor(
    readonly detail: string,
    readonly position: number,
    readonly source: string,
  ) {
    super(`invalid JSONPath ${JSON.stringify(source)} at offset ${position}: ${detail}`);
  }
}

/** Rewrite an attribute path to template form: `$.a.b` → `{.a.b}`; `{…}` and others unchanged. */
export function toJsonPathTemplate(path: string): string {
  const p = path.trim();
  if (p.startsWith('$.') || p.startsWith('$[')) return `{${p.slice(1)}}`;
  if (p === '$') return '{}';
  return p;
}

/** Parse a kubectl JSONPath template into an AST. @throws {@link JsonPathSyntaxError} */
export function parseJsonPath(template: string): JsonPathTemplate {
  const p = new Parser(template);
  const nodes = p.template(false);
  return { source: template, nodes };
}

/** True when the template uses a filter expression (`[?(…)]`). */
export function hasJsonPathFilter(template: JsonPathTemplate): boolean {
  const stepsHaveFilter = (steps: readonly JsonPathStep[]): boolean => steps.some((s) => s.type === 'filter');
  const nodeHas = (n: JsonPathNode): boolean =>
    n.type === 'path'
      ? stepsHaveFilter(n.steps)
      : n.type === 'range'
        ? stepsHaveFilter(n.steps) || n.body.some(nodeHas)
        : false;
  return template.nodes.some(nodeHas);
}

/** Every field name a template reads (including names inside filters), for guards such as Secret `data`. */
export function jsonPathFieldNames(template: JsonPathTemplate): string[] {
  const names: string[] = [];
  const fromSteps = (steps: readonly JsonPathStep[]): void => {
    for (const s of steps) {
      if (s.type === 'field') names.push(s.name);
      else if (s.type === 'fields') names.push(...s.names);
      else if (s.type === 'filter') {
        for (const o of [s.predicate.left, s.predicate.right]) if (o?.type === 'path') fromSteps(o.steps);
      }
    }
  };
  const fromNode = (n: JsonPathNode): void => {
    if (n.type === 'path') fromSteps(n.steps);
    else if (n.type === 'range') {
      fromSteps(n.steps);
      n.body.forEach(fromNode);
    }
  };
  template.nodes.forEach(fromNode);
  return names;
}

const FIELD_TERMINATORS = new Set([
  '.',
  '[',
  ']',
  '}',
  '{',
  ' ',
  '\t',
  '\n',
  ',',
  '(',
  ')',
  '=',
  '!',
  '<',
  '>',
  '"',
  "'",
]);

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  private fail(detail: string, at = this.pos): never {
    throw new JsonPathSyntaxError(detail, at, this.src);
  }
  private peek(offset = 0): string {
    return this.src[this.pos + offset] ?? '';
  }
  private eof(): boolean {
    return this.pos >= this.src.length;
  }
  private skipSpace(): void {
    while (/\s/.test(this.peek())) this.pos++;
  }
  private expect(ch: string): void {
    if (this.peek() !== ch)
      this.fail(this.eof() ? `expected "${ch}" before the end` : `expected "${ch}", found "${this.peek()}"`);
    this.pos++;
  }

  /** Parse text and actions until the end (or, inside `range`, until `{end}`). */
  template(inRange: boolean): JsonPathNode[] {
    const nodes: JsonPathNode[] = [];
    let text = '';
    while (!this.eof()) {
      const ch = this.peek();
      if (ch !== '{') {
        text += ch;
        this.pos++;
        continue;
      }
      if (text) nodes.push({ type: 'text', text });
      text = '';
      const start = this.pos;
      this.pos++;
      this.skipSpace();
      if (this.src.startsWith('end', this.pos) && this.afterWord(3)) {
        this.pos += 3;
        this.skipSpace();
        this.expect('}');
        if (!inRange) this.fail('"{end}" without a matching "{range}"', start);
        return nodes;
      }
      if (this.src.startsWith('range', this.pos) && this.afterWord(5)) {
        this.pos += 5;
        this.skipSpace();
        const { root, steps } = this.path();
        this.skipSpace();
        this.expect('}');
        const body = this.template(true);
        nodes.push({ type: 'range', root, steps, body });
        continue;
      }
      if (this.peek() === '"' || this.peek() === "'") {
        const value = this.quoted();
        this.skipSpace();
        this.expect('}');
        nodes.push({ type: 'literal', value });
        continue;
      }
      const { root, steps } = this.path();
      this.skipSpace();
      if (this.peek() !== '}') this.fail(this.eof() ? 'unclosed "{"' : `unexpected "${this.peek()}"`);
      this.pos++;
      nodes.push({ type: 'path', root, steps });
    }
    if (inRange) this.fail('"{range}" without a matching "{end}"');
    if (text) nodes.push({ type: 'text', text });
    return nodes;
  }

  private afterWord(len: number): boolean {
    const next = this.src[this.pos + len] ?? '';
    return next === '' || next === '}' || /\s/.test(next);
  }

  private path(): { root: '@' | '$'; steps: JsonPathStep[] } {
    let root: '@' | '$' = '$';
    if (this.peek() === '$' || this.peek() === '@') {
      root = this.peek() as '@' | '$';
      this.pos++;
    }
    const steps: JsonPathStep[] = [];
    for (;;) {
      const ch = this.peek();
      if (ch === '.') {
        if (this.peek(1) === '.') {
          this.pos += 2;
          steps.push({ type: 'recursive' });
          if (this.peek() === '[') continue;
          steps.push(this.fieldOrWildcard());
          continue;
        }
        this.pos++;
        if (this.peek() === '' || this.peek() === '}' || /\s/.test(this.peek())) {
          // `{.}` means the current object; a trailing dot after steps is an error.
          if (steps.length > 0) this.fail('expected a field name after "."');
          continue;
        }
        steps.push(this.fieldOrWildcard());
      } else if (ch === '[') {
        steps.push(this.bracket());
      } else {
        return { root, steps };
      }
    }
  }

  private fieldOrWildcard(): JsonPathStep {
    if (this.peek() === '*') {
      this.pos++;
      return { type: 'wildcard' };
    }
    const start = this.pos;
    let name = '';
    while (!this.eof()) {
      const ch = this.peek();
      if (ch === '\\' && this.peek(1) === '.') {
        name += '.';
        this.pos += 2;
        continue;
      }
      if (FIELD_TERMINATORS.has(ch)) break;
      name += ch;
      this.pos++;
    }
    if (name === '')
      this.fail(
        this.eof() ? 'expected a field name' : `expected a field name, found "${this.peek()}"`,
        start,
      );
    return { type: 'field', name };
  }

  private bracket(): JsonPathStep {
    const start = this.pos;
    this.expect('[');
    this.skipSpace();
    let step: JsonPathStep;
    const ch = this.peek();
    if (ch === '*') {
      this.pos++;
      step = { type: 'wildcard' };
    } else if (ch === '?') {
      this.pos++;
      this.expect('(');
      const predicate = this.predicate();
      this.skipSpace();
      this.expect(')');
      step = { type: 'filter', predicate };
    } else if (ch === "'" || ch === '"') {
      const names = [this.quoted()];
      this.skipSpace();
      while (this.peek() === ',') {
        this.pos++;
        this.skipSpace();
        if (this.peek() !== "'" && this.peek() !== '"') this.fail('expected a quoted key after ","');
        names.push(this.quoted());
        this.skipSpace();
      }
      step = names.length === 1 ? { type: 'field', name: names[0] as string } : { type: 'fields', names };
    } else if (ch === ']') {
      this.fail('empty "[]"', start);
    } else {
      step = this.indexOrSlice();
    }
    this.skipSpace();
    if (this.peek() !== ']')
      this.fail(
        this.eof() || this.peek() === '}' ? 'unclosed "["' : `unexpected "${this.peek()}" in brackets`,
      );
    this.pos++;
    return step;
  }

  private optionalInt(): number | undefined {
    this.skipSpace();
    const m = /^-?\d+/.exec(this.src.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    this.skipSpace();
    return Number(m[0]);
  }

  private indexOrSlice(): JsonPathStep {
    const first = this.optionalInt();
    if (this.peek() === ':') {
      this.pos++;
      const end = this.optionalInt();
      let step: number | undefined;
      if (this.peek() === ':') {
        this.pos++;
        step = this.optionalInt();
        if (step === 0) this.fail('slice step must not be 0');
      }
      return {
        type: 'slice',
        ...(first === undefined ? {} : { start: first }),
        ...(end === undefined ? {} : { end }),
        ...(step === undefined ? {} : { step }),
      };
    }
    if (first === undefined)
      this.fail(`expected an index, "*", a slice, a quoted key or a filter, found "${this.peek()}"`);
    if (this.peek() !== ',') return { type: 'index', index: first };
    const indices = [first];
    while (this.peek() === ',') {
      this.pos++;
      const n = this.optionalInt();
      if (n === undefined) this.fail('expected an index after ","');
      indices.push(n);
    }
    return { type: 'indices', indices };
  }

  private predicate(): JsonPathPredicate {
    this.skipSpace();
    const left = this.operand();
    this.skipSpace();
    const m = /^(==|!=|<=|>=|<|>)/.exec(this.src.slice(this.pos));
    if (!m) return { left };
    this.pos += m[0].length;
    this.skipSpace();
    const right = this.operand();
    return { left, op: m[0] as JsonPathComparison, right };
  }

  private operand(): JsonPathOperand {
    const ch = this.peek();
    if (ch === '@' || ch === '$') {
      const { root, steps } = this.path();
      return { type: 'path', root, steps };
    }
    if (ch === '"' || ch === "'") return { type: 'literal', value: this.quoted() };
    const num = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(this.src.slice(this.pos));
    if (num) {
      this.pos += num[0].length;
      return { type: 'literal', value: Number(num[0]) };
    }
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.src.startsWith(word, this.pos)) {
        this.pos += word.length;
        return { type: 'literal', value };
      }
    }
    return this.fail(
      this.eof() ? 'unterminated filter' : `expected "@", "$" or a literal in the filter, found "${ch}"`,
    );
  }

  private quoted(): string {
    const quote = this.peek();
    const start = this.pos;
    this.pos++;
    let out = '';
    while (!this.eof()) {
      const ch = this.peek();
      if (ch === '\\') {
        const next = this.peek(1);
        const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };
        out += escapes[next] ?? next;
        this.pos += 2;
        continue;
      }
      if (ch === quote) {
        this.pos++;
        return out;
      }
      out += ch;
      this.pos++;
    }
    return this.fail('unterminated quoted string', start);
  }
}
