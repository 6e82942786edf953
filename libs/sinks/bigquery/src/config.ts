import type { CompiledSink } from '@kollect/plan';
import { SinkConfigInvalid, SinkSecretResolveFailed, type SinkCredentials } from '@kollect/sink';

/** Settings of one BigQuery sink, read from the compiled spec (pure; no I/O). */

/** `spec.options` keys read by this backend. */
export const OPTION_EMULATOR = 'bigquery.emulator';

/** The bookkeeping table in the sink's dataset. */
export const EXPORTS_TABLE = 'kollect_exports';

export type ProvisioningMode = 'ensure' | 'existing';

export interface BigQuerySettings {
  /** `family/namespace/name`, for messages. */
  sinkName: string;
  project: string;
  dataset: string;
  table: string;
  location?: string;
  mode: ProvisioningMode;
  /** `spec.endpoint`: an API endpoint other than bigquery.googleapis.com (private endpoint, emulator). */
  endpoint?: string;
  /**
   * `spec.options["bigquery.emulator"]="true"`: talk to an emulator at `spec.endpoint` with a
   * static bearer token (Secret key `token`, else `emulator`) instead of Google credentials.
   */
  emulator: boolean;
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function sinkNameOf(sink: CompiledSink): string {
  return `${sink.ref.family}/${sink.ref.namespace}/${sink.ref.name}`;
}

/** Project IDs: 6–30 lowercase letters, digits and hyphens (optionally `domain.com:` scoped). */
const PROJECT = /^([a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
/** Datasets: letters, digits, underscores, at most 1,024. */
const DATASET = /^[A-Za-z0-9_]{1,1024}$/;
/**
 * Tables: letters, digits, underscores and hyphens. BigQuery accepts more (spaces, Unicode), but
 * names are spliced into SQL inside backticks, so anything else is refused.
 */
const TABLE = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,1023}$/;

/** Parse the sink spec. Throws `InvalidSinkConfig` (terminal) naming the field. */
export function bigquerySettings(sink: CompiledSink): BigQuerySettings {
  const sinkName = sinkNameOf(sink);
  const b = obj(sink.spec['bigquery']);
  const str = (k: string): string => {
    const v = b[k];
    if (typeof v !== 'string' || v === '')
      throw SinkConfigInvalid(sinkName, `spec.bigquery.${k}`, 'is required');
    return v;
  };
  const project = str('project');
  const dataset = str('dataset');
  const table = str('table');
  if (!PROJECT.test(project))
    throw SinkConfigInvalid(
      sinkName,
      'spec.bigquery.project',
      `${JSON.stringify(project)} is not a project ID (6–30 lowercase letters, digits, hyphens)`,
    );
  if (!DATASET.test(dataset))
    throw SinkConfigInvalid(
      sinkName,
      'spec.bigquery.dataset',
      `${JSON.stringify(dataset)} may contain only letters, digits and underscores`,
    );
  if (!TABLE.test(table))
    throw SinkConfigInvalid(
      sinkName,
      'spec.bigquery.table',
      `${JSON.stringify(table)} may contain only letters, digits, underscores and hyphens`,
    );
  if (table === EXPORTS_TABLE)
    throw SinkConfigInvalid(
      sinkName,
      'spec.bigquery.table',
      `"${EXPORTS_TABLE}" is the bookkeeping table of every Kollect sink in the dataset; choose another name`,
    );
  const modeRaw = obj(sink.spec['provisioning'])['mode'];
  if (modeRaw !== undefined && modeRaw !== 'ensure' && modeRaw !== 'existing')
    throw SinkConfigInvalid(
      sinkName,
      'spec.provisioning.mode',
      `must be ensure or existing, got ${JSON.stringify(modeRaw)}`,
    );
  const endpoint =
    typeof sink.spec['endpoint'] === 'string' && sink.spec['endpoint'] !== ''
      ? sink.spec['endpoint']
      : undefined;
  const em = obj(sink.spec['options'])[OPTION_EMULATOR];
  if (em !== undefined && em !== 'true' && em !== 'false')
    throw SinkConfigInvalid(
      sinkName,
      `spec.options["${OPTION_EMULATOR}"]`,
      `must be "true" or "false", got ${JSON.stringify(em)}`,
    );
  if (em === 'true' && endpoint === undefined)
    throw SinkConfigInvalid(
      sinkName,
      `spec.options["${OPTION_EMULATOR}"]`,
      'needs spec.endpoint (the emulator URL)',
    );
  const location = typeof b['location'] === 'string' && b['location'] !== '' ? b['location'] : undefined;
  return {
    sinkName,
    project,
    dataset,
    table,
    ...(location !== undefined ? { location } : {}),
    mode: modeRaw === 'existing' ? 'existing' : 'ensure',
    ...(endpoint !== undefined ? { endpoint } : {}),
    emulator: em === 'true',
  };
}

/** A service-account (or other) credentials JSON from the Secret, parsed; undefined = ADC. */
export function credentialsJsonOf(
  sinkName: string,
  credentials: SinkCredentials,
  hasSecret: boolean,
): Record<string, unknown> | undefined {
  const raw = credentials.roles.credentialsJson ?? credentials.data['credentials.json'];
  if (raw === undefined || raw === '') {
    if (hasSecret)
      throw SinkSecretResolveFailed(
        sinkName,
        'the Secret referenced by spec.bigquery.secretRef has no key credentials.json; put a service-account key there, or remove secretRef to use Application Default Credentials / Workload Identity',
      );
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw SinkSecretResolveFailed(sinkName, 'credentials.json in the Secret is not valid JSON');
  }
  const o = obj(parsed);
  if (typeof o['type'] !== 'string')
    throw SinkSecretResolveFailed(
      sinkName,
      'credentials.json in the Secret has no "type" (expected a service_account key or another Google credentials file)',
    );
  if (
    o['type'] === 'service_account' &&
    (typeof o['client_email'] !== 'string' || typeof o['private_key'] !== 'string')
  )
    throw SinkSecretResolveFailed(
      sinkName,
      'credentials.json is a service_account key without client_email or private_key',
    );
  return o;
}
