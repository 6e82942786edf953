import { ANNOTATIONS } from '../constants.js';
import type { KollectProfile } from '../kinds.js';
import { formatPath } from '../path.js';
import type { GroupVersionKind } from '../schema/common.js';
import { checkAttributePath, pathReadsSecretData } from './attribute-path.js';
import { JsonPathSyntaxError, parseJsonPath, toJsonPathTemplate } from './jsonpath.js';
import { issue, type AdmissionIssue } from './types.js';

/** Whether a GVK is the core `Secret` kind (group `""` or `core`; kind compared case-insensitively). */
export function isCoreSecret(gvk: GroupVersionKind): boolean {
  const group = (gvk.group ?? '').toLowerCase();
  return (group === '' || group === 'core') && gvk.kind.toLowerCase() === 'secret';
}

const annotationTrue = (
  obj: { metadata: { annotations?: Record<string, string> | undefined } },
  key: string,
) => obj.metadata.annotations?.[key] === 'true';

/**
 * Admission rules of a KollectProfile that the schema cannot express: attribute paths compile or
 * parse, Secret guards, prune-rule warnings and metric references.
 */
export function admitProfile(profile: KollectProfile): AdmissionIssue[] {
  const out: AdmissionIssue[] = [];
  const { spec } = profile;
  const attributes = spec.attributes ?? [];
  attributes.forEach((a, i) =>
    out.push(...checkAttributePath(a.path, formatPath(['spec', 'attributes', i, 'path']))),
  );

  if (isCoreSecret(spec.targetGVK)) {
    if (!annotationTrue(profile, ANNOTATIONS.allowSecretExtraction)) {
      attributes.forEach((a, i) => {
        if (pathReadsSecretData(a.path)) {
          out.push(
            issue(
              formatPath(['spec', 'attributes', i, 'path']),
              'SecretExtractionNotAllowed',
              `path "${a.path}" reads Secret data; add the annotation ${ANNOTATIONS.allowSecretExtraction}: "true" to the profile if exporting it is intended`,
            ),
          );
        }
      });
    }
    if (spec.export?.mode === 'Resource' && !annotationTrue(profile, ANNOTATIONS.allowFullResourceExport)) {
      out.push(
        issue(
          'spec.export.mode',
          'FullResourceExportNotAllowed',
          `Resource export of Secrets copies their data; add the annotation ${ANNOTATIONS.allowFullResourceExport}: "true" to the profile if that is intended`,
        ),
      );
    }
  }

  const prune = spec.export?.prune;
  (prune?.jsonPaths ?? []).forEach((jp, i) => {
    const at = formatPath(['spec', 'export', 'prune', 'jsonPaths', i]);
    try {
      parseJsonPath(
        toJsonPathTemplate(jp.startsWith('$') || jp.startsWith('{') ? jp : `$.${jp.replace(/^\./, '')}`),
      );
    } catch (err) {
      const detail = err instanceof JsonPathSyntaxError ? err.detail : String(err);
      out.push(
        issue(
          at,
          'JSONPathParseFailed',
          `prune path does not parse: ${detail}; write e.g. .metadata.annotations or $.status.conditions[0]`,
        ),
      );
      return;
    }
    if (jp.includes('*') || jp.includes('[?(')) {
      out.push(
        issue(
          at,
          'PruneRuleIgnored',
          `prune path "${jp}" uses a wildcard or filter and is ignored; list concrete paths or use jsonPointers`,
          'warning',
        ),
      );
    }
  });
  (prune?.cel ?? []).forEach((_, i) => {
    out.push(
      issue(
        formatPath(['spec', 'export', 'prune', 'cel', i]),
        'PruneRuleIgnored',
        'export.prune.cel is reserved and not enforced yet; this rule has no effect',
        'warning',
      ),
    );
  });

  const names = new Set(attributes.map((a) => a.name));
  (spec.metrics ?? []).forEach((m, i) => {
    if (!names.has(m.path)) {
      out.push(
        issue(
          formatPath(['spec', 'metrics', i, 'path']),
          'MetricAttributeUnknown',
          `metric path "${m.path}" must name an attribute of spec.attributes (${[...names].join(', ') || 'none defined'})`,
        ),
      );
    }
    (m.labels ?? []).forEach((label, j) => {
      if (!names.has(label)) {
        out.push(
          issue(
            formatPath(['spec', 'metrics', i, 'labels', j]),
            'MetricAttributeUnknown',
            `metric label "${label}" must name an attribute of spec.attributes`,
          ),
        );
      }
    });
  });
  return out;
}
