/** `helm:release.<field>` paths read a field of a decoded Helm 3 release Secret. */
export const HELM_RELEASE_PREFIX = 'helm:release.';

/** Friendly names mapped to fields of the release JSON. */
export const HELM_FIELD_ALIASES: Readonly<Record<string, string>> = {
  releaseName: 'name',
  chartName: 'chart.metadata.name',
  chartVersion: 'chart.metadata.version',
  appVersion: 'chart.metadata.appVersion',
  revision: 'version',
  status: 'info.status',
  lastDeployed: 'info.last_deployed',
  namespace: 'namespace',
  config: 'config',
};

/** Release fields that are never exported (raw manifests and chart payloads), with their children. */
export const HELM_DENIED_FIELDS: readonly string[] = [
  'manifest',
  'hooks',
  'chart.templates',
  'chart.files',
  'chart.values',
  'chart.raw',
];

/** Result of {@link resolveHelmReleaseField}. */
export type HelmFieldResult =
  | { readonly ok: true; readonly path: readonly string[] }
  | { readonly ok: false; readonly denied: boolean; readonly error: string };

/**
 * Resolve the field part of a `helm:release.<field>` path (without the prefix): apply aliases
 * (only to the whole field), split on dots, and refuse denied fields.
 */
export function resolveHelmReleaseField(field: string): HelmFieldResult {
  const f = field.trim();
  if (f === '') return { ok: false, denied: false, error: 'missing field after "helm:release."' };
  const resolved = HELM_FIELD_ALIASES[f] ?? f;
  const segments = resolved.split('.');
  if (segments.some((s) => !/^[A-Za-z0-9_-]+$/.test(s))) {
    return {
      ok: false,
      denied: false,
      error: `"${f}" is not a dotted field path (letters, digits, "_" and "-" between dots)`,
    };
  }
  for (const denied of HELM_DENIED_FIELDS) {
    if (resolved === denied || resolved.startsWith(`${denied}.`)) {
      return {
        ok: false,
        denied: true,
        error: `release field "${resolved}" is not exportable (raw manifests, hooks and chart payloads are never exported)`,
      };
    }
  }
  return { ok: true, path: segments };
}

/** Whether a resolved release field is (inside) `config`, the user-supplied values that may hold secrets. */
export function helmFieldIsConfig(field: string): boolean {
  const resolved = HELM_FIELD_ALIASES[field.trim()] ?? field.trim();
  return resolved === 'config' || resolved.startsWith('config.');
}
