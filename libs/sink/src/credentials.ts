import type { CompiledSink } from '@kollect/plan';
import { SinkSecretResolveFailed } from './errors.js';
import type { CredentialRole, SinkCredentials } from './types.js';

/**
 * Credential resolution (SEED-SPEC §15.14, ARCHITECTURE.md invariant 7): which Secrets a sink
 * needs, and how their keys map onto canonical roles per sink type. Pure: the worker reads the
 * Secrets (and watches them for rotation) and calls {@link resolveCredentials}.
 */

/** A Secret the worker must read for a sink. */
export interface SecretNeed {
  /** `credentials` (the sink's main Secret) or `ca` (tls.caSecretRef). */
  purpose: 'credentials' | 'ca';
  namespace: string;
  name: string;
  /** Spec field that referenced it, for messages. */
  field: string;
}

/** Secret contents as read from the API (values already base64-decoded). */
export interface SecretData {
  data: Record<string, string>;
  resourceVersion: string;
}

interface Ref {
  name?: unknown;
  namespace?: unknown;
}

/** Key aliases per role, tried in order (first present wins). */
const ROLE_KEYS: Record<CredentialRole, readonly string[]> = {
  token: ['token'],
  username: ['username'],
  password: ['password'],
  sshPrivateKey: ['ssh-privatekey', 'identity', 'id_rsa'],
  knownHosts: ['known_hosts'],
  accessKeyId: ['accessKeyID', 'AWS_ACCESS_KEY_ID'],
  secretAccessKey: ['secretAccessKey', 'AWS_SECRET_ACCESS_KEY'],
  sessionToken: ['sessionToken', 'AWS_SESSION_TOKEN'],
  credentialsJson: ['credentials.json'],
  dsn: ['dsn', 'url', 'connectionString', 'DATABASE_URL'],
  uri: ['uri', 'url', 'connectionString', 'MONGODB_URI'],
};

/** Roles each sink type reads. */
const TYPE_ROLES: Record<string, readonly CredentialRole[]> = {
  git: ['token', 'username', 'password', 'sshPrivateKey', 'knownHosts'],
  gitlab: ['token', 'username', 'password', 'sshPrivateKey', 'knownHosts'],
  s3: ['accessKeyId', 'secretAccessKey', 'sessionToken'],
  gcs: ['credentialsJson', 'accessKeyId', 'secretAccessKey'],
  postgres: ['dsn'],
  mongodb: ['uri'],
  bigquery: ['credentialsJson'],
  kafka: ['username', 'password', 'token'],
  nats: ['token', 'username', 'password'],
};

/** CA keys tried in a `tls.caSecretRef` Secret (SEED-SPEC §3.1). */
export const CA_SECRET_KEYS = ['tls.crt', 'ca.crt', 'ca.pem'] as const;

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

function refOf(v: unknown): Ref | undefined {
  const o = obj(v);
  return o && typeof o['name'] === 'string' && o['name'] !== '' ? o : undefined;
}

/**
 * The credentials Secret reference that wins for a sink type: the type's own ref
 * (`git.auth.secretRef`, `postgres.databaseRef`, `mongodb.databaseRef`, `bigquery.secretRef`,
 * `kafka.secretRef`, `nats.secretRef`) beats `spec.secretRef`. Returns the spec field too.
 */
export function credentialsRef(sink: CompiledSink): { ref: Ref; field: string } | undefined {
  const spec = sink.spec;
  const typeBlock = obj(spec[sink.type]);
  const candidates: [unknown, string][] = [];
  switch (sink.type) {
    case 'git':
      candidates.push([obj(typeBlock?.['auth'])?.['secretRef'], 'spec.git.auth.secretRef']);
      break;
    case 'gitlab':
      // GitLab reuses the git block for auth when present.
      candidates.push([obj(obj(spec['git'])?.['auth'])?.['secretRef'], 'spec.git.auth.secretRef']);
      break;
    case 'postgres':
    case 'mongodb':
      candidates.push([typeBlock?.['databaseRef'], `spec.${sink.type}.databaseRef`]);
      break;
    case 'bigquery':
    case 'kafka':
    case 'nats':
      candidates.push([typeBlock?.['secretRef'], `spec.${sink.type}.secretRef`]);
      break;
  }
  candidates.push([spec['secretRef'], 'spec.secretRef']);
  for (const [v, field] of candidates) {
    const ref = refOf(v);
    if (ref) return { ref, field };
  }
  return undefined;
}

/** Every Secret the worker must read (and watch) for this sink; namespaces default to the sink's. */
export function secretNeeds(sink: CompiledSink): SecretNeed[] {
  const needs: SecretNeed[] = [];
  const ns = (r: Ref): string =>
    typeof r.namespace === 'string' && r.namespace !== '' ? r.namespace : sink.ref.namespace;
  const cred = credentialsRef(sink);
  if (cred)
    needs.push({
      purpose: 'credentials',
      namespace: ns(cred.ref),
      name: cred.ref.name as string,
      field: cred.field,
    });
  const ca = refOf(obj(sink.spec['tls'])?.['caSecretRef']);
  if (ca)
    needs.push({ purpose: 'ca', namespace: ns(ca), name: ca.name as string, field: 'spec.tls.caSecretRef' });
  return needs;
}

/** `namespace/name` of a Secret need, the key of the map given to {@link resolveCredentials}. */
export function secretKey(need: Pick<SecretNeed, 'namespace' | 'name'>): string {
  return `${need.namespace}/${need.name}`;
}

/**
 * Build the credentials of a sink from the Secrets the worker read (keyed by
 * {@link secretKey}). A referenced Secret that is missing, or a CA Secret without any CA key,
 * is a terminal `SecretResolveFailed`; a sink without a Secret gets empty credentials (the
 * backend then uses its ambient chain, e.g. the AWS SDK default chain).
 */
export function resolveCredentials(
  sink: CompiledSink,
  secrets: ReadonlyMap<string, SecretData | undefined>,
): SinkCredentials {
  const sinkName = `${sink.ref.family}/${sink.ref.namespace}/${sink.ref.name}`;
  let data: Record<string, string> = {};
  const versions: string[] = [];
  let caPem: string | undefined;
  for (const need of secretNeeds(sink)) {
    const s = secrets.get(secretKey(need));
    if (!s) {
      throw SinkSecretResolveFailed(
        sinkName,
        `Secret ${secretKey(need)} referenced by ${need.field} was not found; create it in namespace ${need.namespace} or fix the reference`,
      );
    }
    versions.push(`${secretKey(need)}@${s.resourceVersion}`);
    if (need.purpose === 'credentials') {
      data = { ...s.data };
    } else {
      const key = CA_SECRET_KEYS.find((k) => typeof s.data[k] === 'string' && s.data[k] !== '');
      if (!key) {
        throw SinkSecretResolveFailed(
          sinkName,
          `Secret ${secretKey(need)} referenced by spec.tls.caSecretRef has none of the keys ${CA_SECRET_KEYS.join(', ')}`,
        );
      }
      caPem = s.data[key];
    }
  }
  const inline = obj(sink.spec['tls'])?.['caBundle'];
  if (typeof inline === 'string' && inline !== '') caPem = decodeCaBundle(inline);
  const roles: Partial<Record<CredentialRole, string>> = {};
  for (const role of TYPE_ROLES[sink.type] ?? (Object.keys(ROLE_KEYS) as CredentialRole[])) {
    const key = ROLE_KEYS[role].find((k) => typeof data[k] === 'string' && data[k] !== '');
    if (key) roles[role] = data[key] as string;
  }
  return { data, roles, ...(caPem !== undefined ? { caPem } : {}), version: versions.join(',') };
}

/** `tls.caBundle` is a CRD `bytes` field (base64 in JSON); accept raw PEM as well. */
function decodeCaBundle(v: string): string {
  if (v.includes('-----BEGIN')) return v;
  return Buffer.from(v, 'base64').toString('utf8');
}

/**
 * Decode the `data` map of a Kubernetes Secret (base64 values) and merge `stringData` if a
 * test double returns it.
 */
export function decodeSecretData(secret: {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = v;
  return out;
}

/**
 * Watches the Secrets of the sinks and reports changes, so that a rotation rebuilds the
 * backend. Implemented by the worker over the Kubernetes API.
 */
export interface SecretWatcher {
  /** Current contents (undefined = not found). */
  get(namespace: string, name: string): Promise<SecretData | undefined>;
  /** Call `onChange` whenever one of the Secrets changes or disappears; returns an unsubscribe. */
  watch(
    secrets: readonly Pick<SecretNeed, 'namespace' | 'name'>[],
    onChange: (key: string) => void,
  ): () => void;
}
