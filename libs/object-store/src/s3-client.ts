import { Agent as HttpsAgent } from 'node:https';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ObjectHead, ObjectStoreClient } from './client.js';

export interface S3ClientOptions {
  bucket: string;
  /** Custom endpoint (path-style); undefined = the AWS default. */
  endpoint?: string;
  region: string;
  /** Static keys from the Secret; undefined = the SDK default chain (env, IRSA, instance role…). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  caPem?: string;
  insecureSkipVerify?: boolean;
  /** Bodies above this go multipart (default 16 MiB). */
  multipartThreshold?: number;
  /** GCS interop rejects the SDK's default CRC checksums on uploads. */
  checksums?: 'when_supported' | 'when_required';
}

function status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** S3 (and S3-compatible) access with `@aws-sdk/client-s3`; multipart through `@aws-sdk/lib-storage`. */
export class S3ObjectClient implements ObjectStoreClient {
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly threshold: number;

  constructor(o: S3ClientOptions) {
    this.bucket = o.bucket;
    this.threshold = o.multipartThreshold ?? 16 * 1024 * 1024;
    const cfg: S3ClientConfig = {
      region: o.region,
      forcePathStyle: o.endpoint !== undefined,
      maxAttempts: 3,
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      ...(o.credentials ? { credentials: o.credentials } : {}),
      ...(o.checksums === 'when_required'
        ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
        : {}),
    };
    if (o.caPem || o.insecureSkipVerify) {
      cfg.requestHandler = new NodeHttpHandler({
        httpsAgent: new HttpsAgent({
          keepAlive: true,
          ...(o.caPem ? { ca: o.caPem } : {}),
          rejectUnauthorized: !o.insecureSkipVerify,
        }),
      });
    }
    this.s3 = new S3Client(cfg);
  }

  async bucketExists(): Promise<boolean> {
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return true;
    } catch (err) {
      if (status(err) === 404) return false;
      throw err;
    }
  }

  async createBucket(): Promise<void> {
    try {
      await this.s3.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'BucketAlreadyOwnedByYou' || status(err) === 409) return;
      throw err;
    }
  }

  async put(
    key: string,
    body: Buffer,
    contentType: string,
    metadata: Record<string, string>,
  ): Promise<{ etag: string }> {
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, Metadata: metadata },
      partSize: Math.max(5 * 1024 * 1024, this.threshold),
      queueSize: 2,
      leavePartsOnError: false,
    });
    const out = await upload.done();
    return { etag: 'ETag' in out && typeof out.ETag === 'string' ? out.ETag : '' };
  }

  async head(key: string): Promise<ObjectHead | null> {
    try {
      const h = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      const md: Record<string, string> = {};
      for (const [k, v] of Object.entries(h.Metadata ?? {})) md[k.toLowerCase()] = v;
      return { etag: h.ETag ?? '', size: h.ContentLength ?? 0, metadata: md };
    } catch (err) {
      if (status(err) === 404) return null;
      throw err;
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return Buffer.from(
        await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
    } catch (err) {
      if (status(err) === 404) return null;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  close(): void {
    this.s3.destroy();
  }
}
