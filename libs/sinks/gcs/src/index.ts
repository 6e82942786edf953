/**
 * @packageDocumentation
 * The `gcs` snapshot sink (SEED-SPEC §5.5). Two modes, chosen by the Secret:
 * - `credentials.json` (a service-account key), or no Secret at all (Workload Identity through the
 *   metadata server): the native GCS JSON API;
 * - `accessKeyID`/`secretAccessKey` (HMAC keys): the S3-interop XML API, the seed's only mode.
 * Keys, bodies and the position in object metadata are shared with the s3 sink
 * (`@kollect/object-store`).
 */
import {
  ObjectSnapshotSink,
  objectPreview,
  objectSinkSettings,
  S3ObjectClient,
  type ObjectStoreClient,
} from '@kollect/object-store';
import type { CompiledSink } from '@kollect/plan';
import { SinkConfigInvalid, type SinkContext, type SinkFactory, type SinkPreview } from '@kollect/sink';
import { GcsJsonClient } from './json-client.js';
import { GcsCredentialError, GcsTokenSource, parseServiceAccountKey } from './token.js';

/** The public GCS endpoint (JSON API and XML interop). */
export const GCS_ENDPOINT = 'https://storage.googleapis.com';

/** Which API a gcs sink uses with these credentials. */
export function gcsMode(ctx: Pick<SinkContext, 'credentials'>): 'json' | 'hmac' {
  const r = ctx.credentials.roles;
  return !r.credentialsJson && r.accessKeyId && r.secretAccessKey ? 'hmac' : 'json';
}

export const gcsSinkFactory: SinkFactory = {
  type: 'gcs',
  family: 'snapshot',
  capabilities: { kind: 'object-store', formats: ['json', 'parquet'], incremental: false },
  create(ctx: SinkContext): ObjectSnapshotSink {
    const settings = objectSinkSettings(ctx.sink);
    const name = `${ctx.sink.ref.family}/${ctx.sink.ref.namespace}/${ctx.sink.ref.name}`;
    const r = ctx.credentials.roles;
    const endpoint = settings.location.endpoint ?? GCS_ENDPOINT;
    const tls = {
      ...(ctx.credentials.caPem ? { caPem: ctx.credentials.caPem } : {}),
      ...((ctx.sink.spec['tls'] as { insecureSkipVerify?: unknown } | undefined)?.insecureSkipVerify === true
        ? { insecureSkipVerify: true }
        : {}),
    };
    let client: ObjectStoreClient;
    if (gcsMode(ctx) === 'hmac') {
      client = new S3ObjectClient({
        bucket: settings.location.bucket,
        endpoint,
        region: 'auto',
        credentials: { accessKeyId: r.accessKeyId as string, secretAccessKey: r.secretAccessKey as string },
        checksums: 'when_required',
        ...tls,
      });
    } else {
      let tokens: GcsTokenSource | undefined;
      try {
        const key = r.credentialsJson ? parseServiceAccountKey(r.credentialsJson) : undefined;
        // An emulator endpoint without a key gets no Authorization header; GCS itself gets
        // Workload Identity tokens from the metadata server.
        tokens = key || !settings.location.endpoint ? new GcsTokenSource(key) : undefined;
      } catch (err) {
        if (err instanceof GcsCredentialError)
          throw SinkConfigInvalid(name, 'secret credentials.json', err.message);
        throw err;
      }
      const project = (ctx.sink.spec['options'] as Record<string, unknown> | undefined)?.['project'];
      client = new GcsJsonClient({
        endpoint,
        bucket: settings.location.bucket,
        ...(typeof project === 'string' ? { project } : {}),
        ...(tokens ? { tokens } : {}),
        ...tls,
      });
    }
    return new ObjectSnapshotSink('gcs', name, ctx.cluster, settings, client, ctx.log);
  },
  preview(sink: CompiledSink, cluster: string): SinkPreview {
    return objectPreview(sink, cluster);
  },
};

export { GcsJsonClient, GcsHttpError } from './json-client.js';
export { GcsTokenSource, GcsCredentialError, parseServiceAccountKey } from './token.js';
