import { describe, expect, it } from 'vitest';
import { deployment } from './__fixtures__/objects.js';
import { JsonPathSyntaxError } from '@kollect/crd-types';
import { JsonPathEvalError, compileJsonPath, evaluateJsonPath, jsonPathWarnings } from './jsonpath.js';

const d = deployment();
const single = deployment({ containers: [{ name: 'only', image: 'nginx:1.27' }] });
const none = deployment({ containers: [] });
const extra = {
  metadata: {
    labels: { 'app.kubernetes.io/name': 'web', app: 'x' },
    annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-05-02' },
  },
  spec: { nothing: null, list: [10, 20, 30, 40, 50], nested: { a: { image: 'deep' } } },
};

const evalPath = (path: string, obj: unknown): unknown => evaluateJsonPath(compileJsonPath(path), obj);

describe('kubectl JSONPath cardinality (SEED-SPEC §4.1, §15.3)', () => {
  it.each([
    ['one match is a scalar', '$.spec.template.spec.containers[0].image', d, 'ghcr.io/acme/api:1.2.3'],
    [
      'two matches are an array',
      '$.spec.template.spec.containers[*].image',
      d,
      ['ghcr.io/acme/api:1.2.3', 'envoyproxy/envoy:v1.30.1'],
    ],
    [
      '[*] over a one-element list is a scalar',
      '$.spec.template.spec.containers[*].image',
      single,
      'nginx:1.27',
    ],
    ['[*] over an empty list is null', '$.spec.template.spec.containers[*].image', none, null],
    ['a missing field is null', '$.spec.paused', d, null],
    ['a field below a missing field is null', '$.spec.missing.deeper', d, null],
    ['a field below null is null', '$.spec.nothing.x', extra, null],
    ['a field holding null is null', '$.spec.nothing', extra, null],
    ['a map is returned as is', '$.spec.selector.matchLabels', d, { app: 'web-api' }],
    ['an integer stays a number', '$.spec.replicas', d, 3],
    ['brace syntax is used as is', '{.metadata.name}', d, 'web-api'],
    ['only the first result set counts', '{.metadata.name}{.metadata.namespace}', d, 'web-api'],
    ['text before an action is the first result set', 'name={.metadata.name}', d, 'name='],
    ['$ alone is the whole object', '$', extra, extra],
    ['{.} is the whole object', '{.}', extra, extra],
    [
      'range yields the first result set of its first element',
      '{range .spec.template.spec.containers[*]}{.name}{end}',
      d,
      'api',
    ],
    [
      'range over nothing falls through to the next action',
      '{range .spec.template.spec.containers[*]}{.name}{end}{.kind}',
      none,
      'Deployment',
    ],
    ['a quoted literal action', '{"fixed"}{.kind}', d, 'fixed'],
  ])('%s: %s', (_what, path, obj, want) => {
    expect(evalPath(path, obj)).toEqual(want);
  });
});

describe('kubectl JSONPath features', () => {
  it.each([
    ['bracketed key with dots is one key', "$.metadata.labels['app.kubernetes.io/name']", 'web'],
    ['double-quoted bracketed key', '$.metadata.labels["app.kubernetes.io/name"]', 'web'],
    [
      'escaped dots in a field',
      '{.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}',
      '2024-05-02',
    ],
    ['negative index', '$.spec.list[-1]', 50],
    ['slice', '$.spec.list[1:3]', [20, 30]],
    ['slice with step', '$.spec.list[0:5:2]', [10, 30, 50]],
    ['open slice', '$.spec.list[3:]', [40, 50]],
    ['negative slice start', '$.spec.list[-2:]', [40, 50]],
    ['empty slice is null', '$.spec.list[2:2]', null],
    ['union of indexes', '$.spec.list[0,4]', [10, 50]],
    ['union of keys', "$.metadata.labels['app','app.kubernetes.io/name']", ['x', 'web']],
    ['recursive descent', '$..image', 'deep'],
    ['wildcard over a map in sorted key order', '$.metadata.labels.*', ['x', 'web']],
  ])('%s: %s', (_what, path, want) => {
    expect(evalPath(path, extra)).toEqual(want);
  });

  it.each([
    [
      'filter by equality',
      '$.spec.template.spec.containers[?(@.name == "envoy")].image',
      'envoyproxy/envoy:v1.30.1',
    ],
    ['filter by inequality', "$.spec.template.spec.containers[?(@.name!='envoy')].name", 'api'],
    [
      'filter by number',
      '$.spec.template.spec.containers[0].ports[?(@.containerPort >= 8000)].protocol',
      'TCP',
    ],
    ['filter on existence', '$.spec.template.spec.containers[?(@.ports)].name', 'api'],
    [
      'filter where some elements lack the field',
      '$.spec.template.spec.containers[?(@.ports[0].containerPort == 8080)].name',
      'api',
    ],
    ['filter on conditions', '$.status.conditions[?(@.type=="Available")].status', 'True'],
    [
      'filter against the document root',
      '$.spec.template.spec.containers[?(@.name == $.spec.template.spec.containers[1].name)].image',
      'envoyproxy/envoy:v1.30.1',
    ],
    ['filter comparing to null', '$.spec.template.spec.containers[?(@.name != null)].name', ['api', 'envoy']],
    ['filter with no match is null', '$.status.conditions[?(@.type=="Nope")].status', null],
    [
      'recursive descent collects every image',
      '$..image',
      ['ghcr.io/acme/api:1.2.3', 'envoyproxy/envoy:v1.30.1'],
    ],
  ])('%s: %s', (_what, path, want) => {
    expect(evalPath(path, d)).toEqual(want);
  });

  it('reports filter paths for the admission warning', () => {
    expect(jsonPathWarnings(compileJsonPath('$.a[?(@.b == "c")].d'))).toHaveLength(1);
    expect(jsonPathWarnings(compileJsonPath('$.a[0].d'))).toEqual([]);
  });
});

describe('kubectl JSONPath errors', () => {
  it.each([
    ['an index past the end', '$.spec.template.spec.containers[2].image', /out of bounds/],
    ['indexing a map', '$.metadata.labels[0]', /not an array/],
    ['filtering a map', '$.metadata[?(@.x)]', /cannot be filtered/],
    [
      'comparing a list in a filter',
      '$.spec.template.spec.containers[?(@.env[*].name == "x")].name',
      /one value/,
    ],
  ])('%s is an evaluation error (not "not found")', (_what, path, message) => {
    expect(() => evalPath(path, d)).toThrow(JsonPathEvalError);
    expect(() => evalPath(path, d)).toThrow(message);
  });

  it.each([
    ['a bare path without $ or braces', 'spec.replicas'],
    ['an unclosed action', '{.spec.replicas'],
    ['an unterminated bracket', '$.spec.list[0'],
    ['range without end', '{range .items[*]}{.name}'],
    ['an unsupported filter operator', '$.a[?(@.b = "c")]'],
    ['an invalid index', '$.a[x]'],
    ['text only', 'hello'],
    ['an unknown identifier', '{.a foo}'],
  ])('rejects %s at parse time', (_what, path) => {
    expect(() => compileJsonPath(path)).toThrow(JsonPathSyntaxError);
  });
});
