import { compileCel } from './cel.js';
import { HELM_RELEASE_PREFIX, helmFieldIsConfig, resolveHelmReleaseField } from './helm.js';
import {
  hasJsonPathFilter,
  jsonPathFieldNames,
  JsonPathSyntaxError,
  parseJsonPath,
  toJsonPathTemplate,
  type JsonPathTemplate,
} from './jsonpath.js';
import { issue, type AdmissionIssue } from './types.js';

/** The prefix that selects CEL in an attribute path. */
export const CEL_PREFIX = 'cel:';

/** An attribute path split by language (SEED-SPEC §4.1: chosen by prefix after trimming). */
export type AttributePath =
  | { readonly language: 'cel'; readonly expression: string }
  | { readonly language: 'helm'; readonly field: string }
  | { readonly language: 'jsonpath'; readonly template: string };

/** Decide the language of an attribute path. JSONPath `$.a` is returned in template form `{.a}`. */
export function classifyAttributePath(path: string): AttributePath {
  const p = path.trim();
  if (p.startsWith(CEL_PREFIX)) return { language: 'cel', expression: p.slice(CEL_PREFIX.length).trim() };
  if (p.startsWith(HELM_RELEASE_PREFIX))
    return { language: 'helm', field: p.slice(HELM_RELEASE_PREFIX.length) };
  return { language: 'jsonpath', template: toJsonPathTemplate(p) };
}

/**
 * Check that an attribute path compiles or parses. Returns errors and warnings located at `at`
 * (the field path of the attribute's `path`).
 */
export function checkAttributePath(path: string, at: string): AdmissionIssue[] {
  const p = path.trim();
  if (p === '')
    return [
      issue(
        at,
        'InvalidAttributePath',
        'path must not be empty: use $.field, cel:<expr> or helm:release.<field>',
      ),
    ];
  if (/^object\s*[.[]/.test(p)) {
    return [
      issue(
        at,
        'CelPrefixRequired',
        `"${p}" looks like CEL but has no "cel:" prefix; write "cel:${p}" (or JSONPath such as "$.${p.replace(/^object\s*\.?/, '')}")`,
      ),
    ];
  }
  const c = classifyAttributePath(p);
  if (c.language === 'cel') {
    const r = compileCel(c.expression);
    return r.ok ? [] : [issue(at, 'CelCompileFailed', `CEL expression does not compile: ${r.error}`)];
  }
  if (c.language === 'helm') {
    const r = resolveHelmReleaseField(c.field);
    return r.ok
      ? []
      : [
          issue(
            at,
            r.denied ? 'HelmFieldDenied' : 'HelmFieldInvalid',
            `${r.error}; use e.g. helm:release.chartVersion or helm:release.status`,
          ),
        ];
  }
  let tpl: JsonPathTemplate;
  try {
    tpl = parseJsonPath(c.template);
  } catch (err) {
    const detail =
      err instanceof JsonPathSyntaxError ? `${err.detail} (offset ${err.position})` : String(err);
    return [
      issue(
        at,
        'JSONPathParseFailed',
        `JSONPath does not parse: ${detail}; write e.g. $.spec.replicas or {.spec.replicas}, or prefix CEL with "cel:"`,
      ),
    ];
  }
  if (tpl.nodes.length === 0 || tpl.nodes.every((n) => n.type === 'text')) {
    return [
      issue(
        at,
        'JSONPathParseFailed',
        `"${p}" contains no JSONPath expression; write e.g. $.spec.replicas or {.spec.replicas}`,
      ),
    ];
  }
  if (hasJsonPathFilter(tpl)) {
    return [
      issue(
        at,
        'JSONPathFilterDeprecated',
        'JSONPath filter expressions [?(…)] are accepted for now but will be rejected in a future release; use a cel: expression such as cel:object.spec.containers.filter(c, c.name == "app")',
        'warning',
      ),
    ];
  }
  return [];
}

/** CEL member accesses of a field named `data`: `.data`, `["data"]`, `['data']`, `.?data`. */
const CEL_DATA_ACCESS = /(\.\??\s*data\b)|(\[\s*\??\s*["']data["']\s*\])/i;

/**
 * Whether an attribute path reads Secret payload: any JSONPath or CEL path segment named `data`
 * (case-insensitive), or a Helm release `config` field. Such paths on a core Secret profile need
 * the annotation `kollect.dev/allow-secret-extraction: "true"`.
 */
export function pathReadsSecretData(path: string): boolean {
  const c = classifyAttributePath(path);
  if (c.language === 'helm') return helmFieldIsConfig(c.field);
  if (c.language === 'cel') return CEL_DATA_ACCESS.test(c.expression);
  try {
    return jsonPathFieldNames(parseJsonPath(c.template)).some((n) => n.toLowerCase() === 'data');
  } catch {
    // Unparseable paths are rejected elsewhere; treat them as reading data to stay on the safe side.
    return /data/i.test(c.template);
  }
}
