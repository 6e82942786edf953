import { describe, expect, it } from 'vitest';
import {
  hasJsonPathFilter,
  jsonPathFieldNames,
  JsonPathSyntaxError,
  parseJsonPath,
  toJsonPathTemplate,
} from './jsonpath.js';

describe('toJsonPathTemplate', () => {
  it('rewrites $.a.b to {.a.b} and leaves templates alone', () => {
    expect(toJsonPathTemplate('$.spec.replicas')).toBe('{.spec.replicas}');
    expect(toJsonPathTemplate("$['a.b']")).toBe("{['a.b']}");
    expect(toJsonPathTemplate('{.metadata.name}')).toBe('{.metadata.name}');
  });
});

describe('parseJsonPath', () => {
  it('parses fields, indexes and wildcards into steps', () => {
    expect(parseJsonPath('{.spec.template.spec.containers[0].image}').nodes).toEqual([
      {
        type: 'path',
        root: '$',
        steps: [
          { type: 'field', name: 'spec' },
          { type: 'field', name: 'template' },
          { type: 'field', name: 'spec' },
          { type: 'field', name: 'containers' },
          { type: 'index', index: 0 },
          { type: 'field', name: 'image' },
        ],
      },
    ]);
    expect(parseJsonPath('{.items[*].metadata.name}').nodes[0]).toMatchObject({
      steps: [{ type: 'field', name: 'items' }, { type: 'wildcard' }, {}, {}],
    });
  });

  it('reads escaped dots and quoted keys as one field name', () => {
    const t = parseJsonPath(
      "{.metadata.labels.app\\.kubernetes\\.io/name}{.metadata.annotations['example.com/x']}",
    );
    expect(jsonPathFieldNames(t)).toEqual([
      'metadata',
      'labels',
      'app.kubernetes.io/name',
      'metadata',
      'annotations',
      'example.com/x',
    ]);
  });

  it('parses slices, unions, negative indexes and recursive descent', () => {
    const steps = (src: string) =>
      (parseJsonPath(src).nodes[0] as { readonly steps: readonly unknown[] }).steps;
    expect(steps('{.a[1:3]}')[1]).toEqual({ type: 'slice', start: 1, end: 3 });
    expect(steps('{.a[::2]}')[1]).toEqual({ type: 'slice', step: 2 });
    expect(steps('{.a[-1]}')[1]).toEqual({ type: 'index', index: -1 });
    expect(steps('{.a[0,2]}')[1]).toEqual({ type: 'indices', indices: [0, 2] });
    expect(steps("{.a['x','y']}")[1]).toEqual({ type: 'fields', names: ['x', 'y'] });
    expect(steps('{..name}')).toEqual([{ type: 'recursive' }, { type: 'field', name: 'name' }]);
    expect(steps('{.metadata.*}')[1]).toEqual({ type: 'wildcard' });
  });

  it('parses filters with comparisons and existence checks', () => {
    const t = parseJsonPath('{.status.conditions[?(@.type=="Ready")].status}');
    expect(hasJsonPathFilter(t)).toBe(true);
    const filter = (t.nodes[0] as { readonly steps: readonly { type: string; predicate?: unknown }[] })
      .steps[2];
    expect(filter).toEqual({
      type: 'filter',
      predicate: {
        left: { type: 'path', root: '@', steps: [{ type: 'field', name: 'type' }] },
        op: '==',
        right: { type: 'literal', value: 'Ready' },
      },
    });
    expect(parseJsonPath('{.items[?(@.spec.replicas >= 2)]}').nodes).toHaveLength(1);
    expect(parseJsonPath('{.items[?(@.metadata.labels)]}').nodes).toHaveLength(1);
  });

  it('parses text, literals and range blocks', () => {
    const t = parseJsonPath('{range .items[*]}{.metadata.name}{"\\n"}{end}');
    expect(t.nodes).toHaveLength(1);
    expect(t.nodes[0]).toMatchObject({
      type: 'range',
      body: [{ type: 'path' }, { type: 'literal', value: '\n' }],
    });
    expect(parseJsonPath('name={.metadata.name}').nodes[0]).toEqual({ type: 'text', text: 'name=' });
    expect(parseJsonPath('{$.a}').nodes[0]).toMatchObject({ root: '$' });
  });

  it.each([
    ['{.spec.', 'expected a field name'],
    ['{.spec', 'unclosed "{"'],
    ['{.a[}', 'expected an index'],
    ['{.a[0}', 'unclosed "["'],
    ['{.a[]}', 'empty "[]"'],
    ['{.a[?(@.x ==)]}', 'expected "@", "$" or a literal'],
    ["{.a['x}", 'unterminated quoted string'],
    ['{range .a}{.b}', 'without a matching "{end}"'],
    ['{end}', 'without a matching "{range}"'],
    ['{.a[::0]}', 'step must not be 0'],
    ['{.a b}', 'unexpected "b"'],
  ])('rejects %j (%s)', (src, detail) => {
    expect(() => parseJsonPath(src)).toThrow(JsonPathSyntaxError);
    expect(() => parseJsonPath(src)).toThrow(detail);
  });

  it('reports the offset of the error', () => {
    try {
      parseJsonPath('{.a[x]}');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(JsonPathSyntaxError);
      expect((err as JsonPathSyntaxError).position).toBe(4);
    }
  });
});
