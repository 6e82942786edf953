import type { KollectDatabaseSink, KollectEventSink, KollectSnapshotSink } from '../kinds.js';
import { formatPath } from '../path.js';
import { checkEndpoint, type EndpointForm } from './endpoint.js';
import { intervalBelowFloor } from './scope.js';
import { issue, type AdmissionContext, type AdmissionIssue } from './types.js';

type AnySink = KollectSnapshotSink | KollectDatabaseSink | KollectEventSink;

/** Substrings that make an `options` key look like a credential (compared case-insensitively). */
export const SECRET_LIKE_OPTION_KEYS: readonly string[] = [
  'password',
  'passwd',
  'secret',
  'token',
  'apikey',
  'api_key',
  'accesskey',
  'access_key',
  'secretkey',
  'secret_key',
  'privatekey',
  'private_key',
  'credential',
];

/** Whether an `options` key looks like a credential and must be supplied through `secretRef` instead. */
export function isSecretLikeOptionKey(key: string): boolean {
  const k = key.trim().toLowerCase();
  return SECRET_LIKE_OPTION_KEYS.some((s) => k.includes(s));
}

/**
 * Whether a branch name is a safe short ref: starts with a letter or digit; only letters, digits,
 * `.`, `_`, `/`, `-`; no `..`, `//`, `refs/` prefix, trailing `/` or `.`, `.lock` suffix. The CRD
 * enforces the same on `git.branch`; this function also covers `#branch=` in the endpoint.
 */
export function isSafeGitRef(ref: string): boolean {
  return (
    /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(ref) &&
    ref.length <= 255 &&
    !ref.includes('..') &&
    !ref.includes('//') &&
    !ref.endsWith('.lock') &&
    !ref.endsWith('.') &&
    !ref.endsWith('/') &&
    !ref.startsWith('refs/')
  );
}

function endpointIssues(sink: AnySink, ctx: AdmissionContext): AdmissionIssue[] {
  const out: AdmissionIssue[] = [];
  const check = (value: string | undefined, form: EndpointForm, path: string) => {
    if (value === undefined || value.trim() === '') return;
    const why = checkEndpoint(value, form, ctx);
    if (why) out.push(issue(path, 'EndpointForbidden', why));
  };
  const spec = sink.spec;
  switch (spec.type) {
    case 'git':
    case 'gitlab': {
      check(spec.endpoint, 'git', 'spec.endpoint');
      const m = /#branch=([^&]*)/.exec(spec.endpoint ?? '');
      if (m && !isSafeGitRef(decodeURIComponent(m[1] ?? ''))) {
        out.push(
          issue(
            'spec.endpoint',
            'InvalidGitRef',
            `branch "${m[1]}" in the endpoint fragment is not a safe branch name; use e.g. #branch=main or set git.branch`,
          ),
        );
      }
      break;
    }
    case 's3':
    case 'gcs':
      check(spec.endpoint, 'objectStore', 'spec.endpoint');
      break;
    case 'nats':
      if (spec.nats?.url) check(spec.nats.url, 'url', 'spec.nats.url');
      else check(spec.endpoint, 'url', 'spec.endpoint');
      break;
    case 'kafka':
      check(spec.endpoint, 'broker', 'spec.endpoint');
      (spec.kafka?.brokers ?? []).forEach((b, i) =>
        check(b, 'broker', formatPath(['spec', 'kafka', 'brokers', i])),
      );
      break;
    default:
      check(spec.endpoint, 'url', 'spec.endpoint');
  }
  return out;
}

function effectiveFormat(sink: AnySink): string {
  const spec = sink.spec;
  if (spec.serialization?.format) return spec.serialization.format;
  if (spec.type === 's3' || spec.type === 'gcs') return spec.objectStore?.format ?? 'json';
  return spec.type === 'git' || spec.type === 'gitlab' ? 'yaml' : 'json';
}

function warnings(sink: AnySink): AdmissionIssue[] {
  const out: AdmissionIssue[] = [];
  const warn = (path: string, reason: AdmissionIssue['reason'], message: string) =>
    out.push(issue(path, reason, message, 'warning'));
  const spec = sink.spec;
  const format = effectiveFormat(sink);
  if (spec.tls?.insecureSkipVerify)
    warn(
      'spec.tls.insecureSkipVerify',
      'TLSInsecure',
      'TLS certificate verification is off; the sink will report TLSInsecure=True. Prefer tls.caBundle or tls.caSecretRef',
    );
  if (spec.provisioning?.mode === 'existing')
    warn(
      'spec.provisioning.mode',
      'ProvisioningExistingWarning',
      'provisioning.mode=existing: Kollect creates nothing and only checks that the destination exists',
    );
  if (format === 'parquet')
    warn(
      'spec.serialization.format',
      'ParquetColumnsWarning',
      'parquet: exports are written with typed columns for objectStore.hotAttributes plus a JSON attributes column',
    );
  if (spec.type === 's3' || spec.type === 'gcs') {
    if (
      spec.serialization?.format &&
      spec.objectStore?.format &&
      spec.serialization.format !== spec.objectStore.format
    ) {
      warn(
        'spec.objectStore.format',
        'FormatPrecedenceWarning',
        `serialization.format (${spec.serialization.format}) takes precedence over objectStore.format (${spec.objectStore.format})`,
      );
    }
  }
  if (spec.type === 'git' || spec.type === 'gitlab') {
    if (!spec.serialization?.format)
      warn(
        'spec.serialization.format',
        'DefaultFormatWarning',
        'git and gitlab sinks default to yaml; set serialization.format: json to keep JSON envelope files',
      );
    if (format !== 'json' && (spec.pathTemplate ?? '').trim().endsWith('.json')) {
      warn(
        'spec.pathTemplate',
        'PathExtensionMismatch',
        `pathTemplate ends in .json but the format is ${format}; end it with {extension} instead`,
      );
    }
    if (spec.type === 'git' && spec.git?.pushPolicy === 'ForcePush')
      warn(
        'spec.git.pushPolicy',
        'ForcePushWarning',
        'ForcePush overwrites the branch history; use Commit to keep an audit trail',
      );
    const layout = spec.layout;
    if (layout?.content === 'manifest') {
      warn(
        'spec.layout.content',
        'ManifestContentWarning',
        'layout.content=manifest needs profiles with export.mode: Resource; rows without an embedded object fail to export',
      );
    }
    if (layout?.mode === 'perResource' || layout?.mode === 'split') {
      warn(
        'spec.layout.mode',
        'LayoutAutoPruneWarning',
        `layout.mode=${layout.mode} turns on pruning: files of rows that disappeared are deleted`,
      );
    }
  }
  return out;
}

/**
 * Admission rules of a family sink (any of the three kinds): SSRF guard on endpoints, secret-like
 * `options` keys, a safe `#branch=` fragment, the scope interval floor, and advisory warnings.
 * Type/block matching, format capability, `layout` placement, TLS exclusivity, path templates and
 * `git.branch` are enforced by the CRD schema (see `validate`).
 */
export function admitSink(sink: AnySink, ctx: AdmissionContext = {}): AdmissionIssue[] {
  const out = endpointIssues(sink, ctx);
  for (const key of Object.keys(sink.spec.options ?? {})) {
    if (isSecretLikeOptionKey(key)) {
      out.push(
        issue(
          formatPath(['spec', 'options', key]),
          'OptionKeyForbidden',
          `options must not carry credentials ("${key}" looks like one); put it in the Secret named by secretRef`,
        ),
      );
    }
  }
  const short = intervalBelowFloor(sink.spec.exportMinInterval, ctx.scope?.spec);
  if (short) out.push(issue('spec.exportMinInterval', 'ScopeIntervalTooShort', short));
  out.push(...warnings(sink));
  return out;
}
