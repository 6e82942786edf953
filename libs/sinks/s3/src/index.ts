/**
 * @packageDocumentation
 * The `s3` snapshot sink (SEED-SPEC §5.5): key = prefix + `pathTemplate` (default
 * `inventory/{namespace}/{name}.json`), body = the envelope (`application/json`) or Parquet
 * (hive path), the position in object metadata (read back with HeadObject), multipart above
 * 16 MiB, path-style for custom endpoints, credentials from the Secret or the SDK chain.
 */
import { ObjectSnapshotSink, objectPreview, objectSinkSettings, S3ObjectClient } from '@kollect/object-store';
import type { CompiledSink } from '@kollect/plan';
import type { SinkContext, SinkFactory, SinkPreview } from '@kollect/sink';

/** Region: `options.region`, else `AWS_REGION`, else `us-east-1` (the seed's default). */
export function s3Region(sink: CompiledSink): string {
  const opts = sink.spec['options'];
  const r =
    typeof opts === 'object' && opts !== null ? (opts as Record<string, unknown>)['region'] : undefined;
  return typeof r === 'string' && r ? r : process.env['AWS_REGION'] || 'us-east-1';
}

export const s3SinkFactory: SinkFactory = {
  type: 's3',
  family: 'snapshot',
  capabilities: { kind: 'object-store', formats: ['json', 'parquet'], incremental: false },
  create(ctx: SinkContext): ObjectSnapshotSink {
    const settings = objectSinkSettings(ctx.sink);
    const r = ctx.credentials.roles;
    const tls = ctx.sink.spec['tls'] as { insecureSkipVerify?: boolean } | undefined;
    const client = new S3ObjectClient({
      bucket: settings.location.bucket,
      region: s3Region(ctx.sink),
      ...(settings.location.endpoint ? { endpoint: settings.location.endpoint } : {}),
      ...(r.accessKeyId && r.secretAccessKey
        ? {
            credentials: {
              accessKeyId: r.accessKeyId,
              secretAccessKey: r.secretAccessKey,
              ...(r.sessionToken ? { sessionToken: r.sessionToken } : {}),
            },
          }
        : {}),
      ...(ctx.credentials.caPem ? { caPem: ctx.credentials.caPem } : {}),
      ...(tls?.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
    });
    const name = `${ctx.sink.ref.family}/${ctx.sink.ref.namespace}/${ctx.sink.ref.name}`;
    return new ObjectSnapshotSink('s3', name, ctx.cluster, settings, client, ctx.log);
  },
  preview(sink: CompiledSink, cluster: string): SinkPreview {
    return objectPreview(sink, cluster);
  },
};
