import type { KollectClusterScopeSpec, KollectScopeSpec } from '../schema/scope.js';
import type { GroupVersionKind } from '../schema/common.js';

/**
 * Stable reasons of admission issues. They double as condition reasons (`Degraded` reason on
 * the object), so never rename one; add new ones instead.
 */
export const ADMISSION_REASONS = [
  // schema (from validate())
  'InvalidSpec',
  // profile paths
  'InvalidAttributePath',
  'CelPrefixRequired',
  'CelCompileFailed',
  'JSONPathParseFailed',
  'JSONPathFilterDeprecated',
  'HelmFieldDenied',
  'HelmFieldInvalid',
  'PruneRuleIgnored',
  'MetricAttributeUnknown',
  // secret guards
  'SecretExtractionNotAllowed',
  'FullResourceExportNotAllowed',
  // sinks
  'EndpointForbidden',
  'OptionKeyForbidden',
  'InvalidGitRef',
  'ForcePushWarning',
  'ProvisioningExistingWarning',
  'FormatPrecedenceWarning',
  'ParquetColumnsWarning',
  'DefaultFormatWarning',
  'PathExtensionMismatch',
  'ManifestContentWarning',
  'LayoutAutoPruneWarning',
  'TLSInsecure',
  // inventories
  'InvalidSinkRef',
  'DuplicateSinkRef',
  'TooManySinkRefs',
  'SinkRefNamespaceForbidden',
  'MaxExportBytesExceeded',
  // scopes
  'ScopeGVKDenied',
  'ScopeNamespaceDenied',
  'ScopeIntervalTooShort',
  'ScopeSinkDenied',
  'ScopeStaticRefDenied',
  // install shape
  'TenantModeForbidden',
] as const;

/** A stable reason code; see {@link ADMISSION_REASONS}. */
export type AdmissionReason = (typeof ADMISSION_REASONS)[number];

/** One finding of an admission rule. */
export interface AdmissionIssue {
  /** Field path, e.g. `spec.attributes[0].path` (format: see `formatPath`). */
  readonly path: string;
  /** What is wrong, where, and what to do. */
  readonly message: string;
  /** `error` rejects the object; `warning` is reported and accepted. */
  readonly severity: 'error' | 'warning';
  readonly reason: AdmissionReason;
}

/** SSRF guard options for sink endpoints. */
export interface EndpointPolicy {
  /**
   * Allow loopback, private (RFC 1918), CGNAT, benchmark and IPv6 ULA addresses and
   * `localhost`. Off by default. The test bed runs every backend on 127.0.0.1, so the
   * controller passes its `--allow-private-endpoints` flag here. Cloud metadata hosts and
   * link-local addresses stay forbidden even then.
   */
  readonly allowPrivateEndpoints?: boolean;
  /** Allow `file://` endpoints (local bare Git repositories in tests and the one-shot CLI). Off by default. */
  readonly allowFileEndpoints?: boolean;
}

/** Everything besides the object itself that admission rules need. All fields are optional. */
export interface AdmissionContext extends EndpointPolicy {
  /** The operator runs with `--tenant-mode`: cluster-scoped kinds are rejected. */
  readonly tenantMode?: boolean;
  /** Operator cap for `maxExportBytes` (default 1,572,864). */
  readonly globalMaxExportBytes?: number;
  /**
   * The KollectScope that applies to the object's namespace (the smallest-named one; see
   * `effectiveScope`). Undefined means no scope: no ceiling.
   */
  readonly scope?: { readonly spec: KollectScopeSpec } | undefined;
  /** The KollectClusterScope that applies to cluster kinds (smallest name). */
  readonly clusterScope?: { readonly spec: KollectClusterScopeSpec } | undefined;
  /**
   * The `targetGVK` of the profile a target references, when the caller has resolved it, so
   * that the scope GVK ceiling can be checked for legacy targets without `resourceRules`.
   */
  readonly profileGVK?: GroupVersionKind | undefined;
}

/** Build an issue. */
export function issue(
  path: string,
  reason: AdmissionReason,
  message: string,
  severity: 'error' | 'warning' = 'error',
): AdmissionIssue {
  return { path, message, severity, reason };
}
