import { describe, expect, it } from 'vitest';
import { checkAttributePath, classifyAttributePath, pathReadsSecretData } from './attribute-path.js';
import { compileCel } from './cel.js';
import { resolveHelmReleaseField } from './helm.js';

const at = 'spec.attributes[0].path';

describe('checkAttributePath (SEED-SPEC §3.3, §4.1)', () => {
  it.each([
    '$.spec.template.spec.containers[0].image',
    '$.spec.template.spec.containers[*].image',
    '{.metadata.labels}',
    "{.metadata.annotations['example.com/owner']}",
    'cel:size(object.spec.template.spec.containers)',
    'cel: object.?spec.?replicas.orValue(1)',
    'cel:object.metadata.name.startsWith("web-")',
    'helm:release.chartVersion',
    'helm:release.info.status',
    'helm:release.config.image.tag',
  ])('accepts %s', (path) => {
    expect(checkAttributePath(path, at)).toEqual([]);
  });

  it.each([
    ['', 'InvalidAttributePath'],
    ['object.spec.replicas', 'CelPrefixRequired'],
    ['object["spec"]', 'CelPrefixRequired'],
    ['cel:object.spec.(', 'CelCompileFailed'],
    ['cel:obj.spec.replicas', 'CelCompileFailed'],
    ['cel:', 'CelCompileFailed'],
    ['$.spec.', 'JSONPathParseFailed'],
    ['{.spec.containers[}', 'JSONPathParseFailed'],
    ['spec.replicas', 'JSONPathParseFailed'],
    ['helm:release.manifest', 'HelmFieldDenied'],
    ['helm:release.chart.templates', 'HelmFieldDenied'],
    ['helm:release.chart.values.image', 'HelmFieldDenied'],
    ['helm:release.hooks', 'HelmFieldDenied'],
    ['helm:release.', 'HelmFieldInvalid'],
    ['helm:release.a..b', 'HelmFieldInvalid'],
  ])('rejects %j with reason %s at the path field', (path, reason) => {
    const issues = checkAttributePath(path, at);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path: at, reason, severity: 'error' });
  });

  it('tells the user to add cel: to a bare object.… path', () => {
    expect(checkAttributePath('object.status.phase', at)[0]?.message).toMatch(/cel:object.status.phase/);
  });

  it('warns about JSONPath filters but accepts them', () => {
    const issues = checkAttributePath('{.status.conditions[?(@.type=="Ready")].status}', at);
    expect(issues).toEqual([
      expect.objectContaining({ severity: 'warning', reason: 'JSONPathFilterDeprecated', path: at }),
    ]);
  });
});

describe('classifyAttributePath', () => {
  it('chooses the language by prefix after trimming', () => {
    expect(classifyAttributePath('  cel:object.x ')).toEqual({ language: 'cel', expression: 'object.x' });
    expect(classifyAttributePath('helm:release.status')).toEqual({ language: 'helm', field: 'status' });
    expect(classifyAttributePath('$.a')).toEqual({ language: 'jsonpath', template: '{.a}' });
  });
});

describe('pathReadsSecretData', () => {
  it.each([
    ['$.data.password', true],
    ['{.data}', true],
    ["{['data']['tls.key']}", true],
    ['cel:object.data.token', true],
    ['cel:object["data"]', true],
    ['cel:object.?data', true],
    ['helm:release.config', true],
    ['helm:release.config.db', true],
    ['$.metadata.name', false],
    ['$.metadata.annotations.metadata', false],
    ['cel:object.type', false],
    ['helm:release.chartVersion', false],
  ])('%s → %s', (path, expected) => {
    expect(pathReadsSecretData(path)).toBe(expected);
  });
});

describe('helm release fields', () => {
  it('resolves aliases to release JSON paths', () => {
    expect(resolveHelmReleaseField('chartVersion')).toEqual({
      ok: true,
      path: ['chart', 'metadata', 'version'],
    });
    expect(resolveHelmReleaseField('revision')).toEqual({ ok: true, path: ['version'] });
  });
});

describe('compileCel', () => {
  it('reports the inferred type and rejects unknown variables', () => {
    expect(compileCel('object.spec.replicas > 1')).toEqual({ ok: true, type: 'bool' });
    expect(compileCel('self.x')).toMatchObject({ ok: false, error: expect.stringMatching(/self/) });
  });
});
