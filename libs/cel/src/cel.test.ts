import { describe, expect, it } from 'vitest';
import {
  CelCompileError,
  CelCostExceeded,
  CelEngine,
  CelTimeout,
  compileCheck,
  toCelInput,
  toJsonValue,
} from './index.js';

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web-api',
    namespace: 'team-a',
    labels: { app: 'web', 'app.kubernetes.io/part-of': 'shop' },
    creationTimestamp: '2024-05-01T10:00:00Z',
  },
  spec: {
    replicas: 3,
    template: {
      spec: {
        containers: [
          {
            name: 'api',
            image: 'ghcr.io/acme/api:1.2.3',
            resources: { limits: { cpu: '500m', memory: '256Mi' } },
          },
          {
            name: 'envoy',
            image: 'envoyproxy/envoy:v1.30',
            resources: { limits: { cpu: '1', memory: '1Gi' } },
          },
        ],
      },
    },
  },
  status: { availableReplicas: 2, ratio: 0.5 },
};

function run(expr: string, object: unknown = deployment, engine = new CelEngine()): unknown {
  const r = engine.evaluate(engine.compile(expr), toCelInput(object));
  if (!r.ok) throw r.error;
  return r.value;
}

describe('toCelInput', () => {
  it('makes integer arithmetic on JSON numbers work', () => {
    expect(run('object.spec.replicas + 1')).toBe(4);
    expect(run('object.spec.replicas * object.status.availableReplicas')).toBe(6);
  });

  it('keeps fractional numbers as doubles', () => {
    expect(run('object.status.ratio * 2.0')).toBe(1);
  });

  it('does not modify the input object', () => {
    const obj = { spec: { replicas: 3 } };
    toCelInput(obj);
    expect(typeof obj.spec.replicas).toBe('number');
  });

  it('treats a JSON key named __proto__ as data', () => {
    const obj = JSON.parse('{"spec":{"__proto__":{"x":1}}}') as unknown;
    expect(run('has(object.spec.x)', obj)).toBe(false);
    expect(run('object.spec["__proto__"].x', obj)).toBe(1);
  });
});

describe('evaluation results are plain JSON', () => {
  it.each([
    ['size(object.spec.template.spec.containers)', 2],
    [
      'object.spec.template.spec.containers.map(c, c.image)',
      ['ghcr.io/acme/api:1.2.3', 'envoyproxy/envoy:v1.30'],
    ],
    ['object.metadata.labels', { app: 'web', 'app.kubernetes.io/part-of': 'shop' }],
    ['9223372036854775807', '9223372036854775807'],
    ['-9007199254740991', -9007199254740991],
    ['b"hi"', 'aGk='],
    ['timestamp("2024-05-01T10:00:00Z")', '2024-05-01T10:00:00Z'],
    ['timestamp("2024-05-01T10:00:00.250Z")', '2024-05-01T10:00:00.25Z'],
    ['duration("90m")', '5400s'],
    ['object.spec.?paused', null],
    ['object.metadata.?name', 'web-api'],
    ['{1: "a", true: "b"}', { '1': 'a', true: 'b' }],
    ['1.0 / 0.0', 'Infinity'],
    ['type(1)', 'int'],
    ['null', null],
    ['[1, "a", 2.5]', [1, 'a', 2.5]],
    ['3u', 3],
  ])('%s', (expr, want) => {
    expect(run(expr)).toEqual(want);
  });

  it('toJsonValue rejects values without a JSON form', () => {
    expect(() => toJsonValue(Symbol('x'))).toThrow(/no JSON form/);
  });
});

describe('Kubernetes-style functions', () => {
  it.each([
    ['"web-api".replace("-", "_")', 'web_api'],
    ['"a-b-c".replace("-", "", 1)', 'ab-c'],
    ['"abc".replace("", "-")', '-a-b-c-'],
    ['"héllo".charAt(1)', 'é'],
    ['"abc".charAt(3)', ''],
    ['"héllo".reverse()', 'olléh'],
    ['strings.quote("a\\"b\\n")', '"a\\"b\\n"'],
    [
      '"%s has %d replicas (%.2f%%)".format([object.metadata.name, object.spec.replicas, 66.666])',
      'web-api has 3 replicas (66.67%)',
    ],
    ['"%x %X %o %b".format([255, "hi", 8, 5])', 'ff 6869 10 101'],
    ['"%e".format([1234.5])', '1.234500e+03'],
    ['"%s".format([["a", 1]])', '["a", 1]'],
    ['[3, 1, 2].sum()', 6],
    ['[1.5, 2.5].sum()', 4],
    ['[].sum()', 0],
    ['[3, 1, 2].min()', 1],
    ['["b", "c", "a"].max()', 'c'],
    ['[1, 2, 3].isSorted()', true],
    ['[1, 3, 2].isSorted()', false],
    ['["a", "b", "a"].indexOf("a")', 0],
    ['["a", "b", "a"].lastIndexOf("a")', 2],
    ['[1, 2].indexOf(2.0)', 1],
    ['object.spec.template.spec.containers.map(c, c.name).indexOf("envoy")', 1],
    ['object.metadata.name.indexOf("api")', 4],
    ['[1, 2, 1].distinct()', [1, 2]],
    ['[[1], [2, [3]]].flatten()', [1, 2, [3]]],
    ['[3, 1, 2].sort()', [1, 2, 3]],
    ['[1, 2, 3].slice(1, 3)', [2, 3]],
    ['[1, 2, 3].reverse()', [3, 2, 1]],
    ['"ghcr.io/acme/api:1.2.3".find("[0-9]+\\\\.[0-9]+")', '1.2'],
    ['"a1b22c333".findAll("[0-9]+")', ['1', '22', '333']],
    ['"a1b22c333".findAll("[0-9]+", 2)', ['1', '22']],
    ['"abc".find("x")', ''],
    ['quantity("500m").asApproximateFloat()', 0.5],
    ['quantity("256Mi").asInteger()', 268435456],
    ['quantity("1.5").isInteger()', false],
    ['quantity("1Gi").isGreaterThan(quantity("1G"))', true],
    ['quantity("500m").add(quantity("1.5")).asInteger()', 2],
    ['quantity("2e3").sub(1000).compareTo(quantity("1k"))', 0],
    ['quantity("-1").sign()', -1],
    ['quantity("500m")', '500m'],
    ['quantity("500m").add(quantity("250m"))', '0.75'],
    ['isQuantity("12Ki")', true],
    ['isQuantity("12KB")', false],
    [
      'object.spec.template.spec.containers.map(c, quantity(c.resources.limits.memory).asInteger()).sum()',
      268435456 + 1073741824,
    ],
  ])('%s', (expr, want) => {
    expect(run(expr)).toEqual(want);
  });

  it.each([
    ['"abc".charAt(4)', /out of range/],
    ['[].min()', /empty/],
    ['[1, "a"].sum()', /mixes int and string/],
    ['[1, "a"].sort()', /cannot be compared/],
    ['quantity("12KB")', /not a Kubernetes quantity/],
    ['quantity("1.5").asInteger()', /not an integer/],
    ['"%d".format(["x"])', /needs an int/],
    ['"%s %s".format(["x"])', /has no argument/],
    ['"abc".find("(")', /invalid regular expression/],
  ])('%s fails with a clear message', (expr, message) => {
    expect(() => run(expr)).toThrow(message);
  });
});

describe('compile', () => {
  it('caches by expression text', () => {
    const engine = new CelEngine();
    const a = engine.compile('object.spec.replicas');
    const b = engine.compile('object.spec.replicas');
    expect(a).toBe(b);
    expect(engine.cacheSize).toBe(1);
  });

  it('evicts the least recently used entry when full', () => {
    const engine = new CelEngine({ cacheSize: 2 });
    engine.compile('1');
    engine.compile('2');
    engine.compile('1');
    engine.compile('3');
    expect(engine.cacheSize).toBe(2);
    const again = engine.compile('1');
    expect(engine.compile('1')).toBe(again);
  });

  it('rejects syntax errors, unknown variables and unknown functions with a Kollect error', () => {
    const engine = new CelEngine();
    for (const expr of ['object.spec.', 'objects.spec', 'object.spec.replicas.frobnicate()', '']) {
      const r = engine.tryCompile(expr);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(CelCompileError.is(r.error)).toBe(true);
        expect(r.error.message).not.toContain('\n');
      }
    }
  });

  it('compileCheck reports the static type and enforces bool for predicates', () => {
    expect(compileCheck('object.spec.replicas > 1', { expect: 'bool' })).toEqual({
      valid: true,
      type: 'bool',
    });
    expect(compileCheck('object.spec.paused', { expect: 'bool' })).toEqual({ valid: true, type: 'dyn' });
    const notBool = compileCheck('size(object.metadata.labels)', { expect: 'bool' });
    expect(notBool.valid).toBe(false);
    const bad = compileCheck('object.(');
    expect(bad.valid).toBe(false);
    if (!bad.valid) expect(bad.message).toMatch(/KOLLECT|does not compile/);
  });
});

describe('runtime failures, limits and counters', () => {
  const many = { items: Array.from({ length: 3000 }, (_, i) => i) };

  it('counts a runtime error as error and keeps the message small and single-line', () => {
    const engine = new CelEngine();
    const r = engine.evaluate(engine.compile('object.spec.paused == true'), toCelInput(deployment));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.kind).toBe('error');
      expect(r.error.code).toBe('KOLLECT_ERR_CEL_EVAL');
      expect(r.error.message).toMatch(/No such key: paused/);
      expect(r.error.message).not.toContain('\n');
    }
    expect(engine.counters).toEqual({ success: 0, error: 1, timeout: 0, cost_exceeded: 0 });
  });

  it('stops an expression that exceeds the cost limit', () => {
    const engine = new CelEngine({ limits: { costLimit: 10_000, timeoutMs: 60_000 } });
    const p = engine.compile('object.items.map(a, object.items.map(b, a + b)).size()');
    const r = engine.evaluate(p, toCelInput(many));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.kind).toBe('cost_exceeded');
      expect(CelCostExceeded.is(r.error)).toBe(true);
      expect(r.cost).toBe(10_000);
    }
    expect(engine.counters.cost_exceeded).toBe(1);
  });

  it('meters every sub-expression, so cost grows with the work done', () => {
    const engine = new CelEngine();
    const small = engine.evaluate(
      engine.compile('object.items.map(x, x * 2)'),
      toCelInput({ items: [1, 2] }),
    );
    const large = engine.evaluate(
      engine.compile('object.items.map(x, x * 2)'),
      toCelInput({ items: [1, 2, 3, 4] }),
    );
    expect(small.ok && large.ok).toBe(true);
    expect(large.cost).toBeGreaterThan(small.cost);
    expect(small.cost).toBeGreaterThan(0);
  });

  it('does not let exists() swallow a cost trip', () => {
    const engine = new CelEngine({ limits: { costLimit: 500, timeoutMs: 60_000 } });
    const p = engine.compile('object.items.exists(x, object.items.filter(y, y == x).size() > 5000)');
    const r = engine.evaluate(p, toCelInput(many));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.kind).toBe('cost_exceeded');
  });

  it('charges for large strings, so doubling a string hits the limit', () => {
    const engine = new CelEngine({ limits: { costLimit: 5_000, timeoutMs: 60_000 } });
    const doubling = Array.from({ length: 24 }, (_, i) => `cel.bind(s${i + 1}, s${i} + s${i}, `).join('');
    const expr = `cel.bind(s0, "0123456789abcdef", ${doubling}size(s24)${')'.repeat(25)}`;
    const r = engine.evaluate(engine.compile(expr), toCelInput({}));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.kind).toBe('cost_exceeded');
  });

  it('stops an expression that runs past the timeout', () => {
    const engine = new CelEngine({ limits: { costLimit: Number.MAX_SAFE_INTEGER, timeoutMs: 1 } });
    const p = engine.compile('object.items.map(a, object.items.map(b, a + b)).size()');
    const r = engine.evaluate(p, toCelInput(many));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.kind).toBe('timeout');
      expect(CelTimeout.is(r.error)).toBe(true);
    }
    expect(engine.counters.timeout).toBe(1);
  });

  it('evaluates normally after a tripped evaluation', () => {
    const engine = new CelEngine({ limits: { costLimit: 100, timeoutMs: 60_000 } });
    engine.evaluate(engine.compile('object.items.map(x, x).size()'), toCelInput(many));
    const r = engine.evaluate(engine.compile('object.items[0] + 1'), toCelInput(many));
    expect(r).toMatchObject({ ok: true, value: 1 });
  });

  it('evaluateBool rejects a non-bool result', () => {
    const engine = new CelEngine();
    const r = engine.evaluateBool(engine.compile('object.spec.replicas'), toCelInput(deployment));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('KOLLECT_ERR_CEL_RESULT');
    const t = engine.evaluateBool(engine.compile('object.spec.replicas >= 3'), toCelInput(deployment));
    expect(t).toMatchObject({ ok: true, value: true });
    expect(engine.counters).toMatchObject({ success: 1, error: 1 });
  });

  it('per-call limits override the engine defaults', () => {
    const engine = new CelEngine();
    const p = engine.compile('object.items.map(x, x).size()');
    expect(engine.evaluate(p, toCelInput(many)).ok).toBe(true);
    expect(engine.evaluate(p, toCelInput(many), { costLimit: 50 }).ok).toBe(false);
  });
});
