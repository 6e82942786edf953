/** Where snapshot objects go (SEED-SPEC §5.5 endpoint forms). */
export interface ObjectLocation {
  bucket: string;
  /** Key prefix without leading/trailing `/` ("" = bucket root). */
  prefix: string;
  /**
   * A custom endpoint (`https://host[:port]`) addressed path-style (MinIO, GCS interop); undefined
   * for `s3://`/`gs://`/bare `bucket/prefix`, which use the provider's default endpoint.
   */
  endpoint?: string;
}

/**
 * Parse `s3://bucket/prefix`, `gs://bucket/prefix`, `https://host[:port]/bucket/prefix` (custom
 * endpoint, path-style) or `bucket/prefix`.
 */
export function parseObjectEndpoint(raw: string): ObjectLocation {
  const s = raw.trim();
  let endpoint: string | undefined;
  let path: string;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s);
  if (scheme) {
    const sch = (scheme[1] as string).toLowerCase();
    if (sch === 's3' || sch === 'gs') {
      path = s.slice(scheme[0].length);
    } else if (sch === 'http' || sch === 'https') {
      const u = new URL(s);
      if (u.username || u.password)
        throw new TypeError('the endpoint must not contain credentials; use spec.secretRef');
      endpoint = `${u.protocol}//${u.host}`;
      path = decodeURIComponent(u.pathname);
    } else {
      throw new TypeError(
        `unsupported object-store endpoint scheme ${sch}://; use s3://, gs://, https:// or bucket/prefix`,
      );
    }
  } else {
    path = s;
  }
  const parts = path.split('/').filter((p) => p !== '');
  const bucket = parts.shift();
  if (!bucket) throw new TypeError(`the endpoint ${JSON.stringify(raw)} names no bucket`);
  return { bucket, prefix: parts.join('/'), ...(endpoint ? { endpoint } : {}) };
}
