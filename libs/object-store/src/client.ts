/** A stored object's head: ETag and user metadata (keys lower-case). */
export interface ObjectHead {
  etag: string;
  size: number;
  metadata: Record<string, string>;
}

/**
 * The few object operations snapshot sinks need, implemented over S3 (AWS, MinIO, GCS HMAC
 * interop) and the GCS JSON API. Errors keep the provider's HTTP status (`status` or
 * `$metadata.httpStatusCode`) so that `classifySinkError` can classify them.
 */
export interface ObjectStoreClient {
  /** Bucket reachable with these credentials (the probe). Resolves false when it does not exist. */
  bucketExists(): Promise<boolean>;
  createBucket(): Promise<void>;
  put(
    key: string,
    body: Buffer,
    contentType: string,
    metadata: Record<string, string>,
  ): Promise<{ etag: string }>;
  head(key: string): Promise<ObjectHead | null>;
  get(key: string): Promise<Buffer | null>;
  /** Keys under a prefix (every page). */
  list(prefix: string): Promise<string[]>;
  delete(key: string): Promise<void>;
  close(): void;
}
