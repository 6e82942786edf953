import { gunzipSync } from 'node:zlib';
import { HELM_RELEASE_PREFIX, resolveHelmReleaseField } from '@kollect/crd-types';

/**
 * `helm:release.<field>` paths (SEED-SPEC §4.1): read a field of a Helm 3 release stored in a
 * Secret (`type: helm.sh/release.v1`). The Secret's `data.release` is base64 (as all Secret data)
 * of base64 of the release JSON, usually gzipped (magic bytes `1f 8b 08`).
 */

/** Largest decompressed release accepted (a defence against gzip bombs). */
export const MAX_RELEASE_BYTES = 32 * 1024 * 1024;

/** A compiled helm path. */
export interface HelmPath {
  readonly source: string;
  /** Dotted segments after alias resolution. */
  readonly segments: readonly string[];
}

/** A helm path that cannot be used. */
export class HelmPathError extends Error {
  constructor(
    readonly source: string,
    detail: string,
  ) {
    super(`helm path ${JSON.stringify(source)}: ${detail}`);
    this.name = 'HelmPathError';
  }
}

/** The release payload could not be decoded. */
export class HelmDecodeError extends Error {
  constructor(detail: string) {
    super(`cannot decode the Helm release: ${detail}`);
    this.name = 'HelmDecodeError';
  }
}

/**
 * Compile `helm:release.<field>` with the admission resolver of `@kollect/crd-types` (aliases
 * apply to the whole field; denied fields and their children are refused), so admission and the
 * extractor agree.
 */
export function compileHelmPath(path: string): HelmPath {
  const trimmed = path.trim();
  if (!trimmed.startsWith(HELM_RELEASE_PREFIX)) {
    throw new HelmPathError(path, `must start with ${JSON.stringify(HELM_RELEASE_PREFIX)}`);
  }
  const r = resolveHelmReleaseField(trimmed.slice(HELM_RELEASE_PREFIX.length));
  if (!r.ok) throw new HelmPathError(path, r.error);
  return { source: path, segments: r.path };
}

/**
 * Decode the release of a Helm release Secret. Call once per object and reuse the result for
 * every helm attribute.
 */
export function decodeHelmRelease(secret: unknown): unknown {
  const data = (secret as { data?: unknown } | null)?.data;
  const encoded = (data as { release?: unknown } | null | undefined)?.release;
  if (typeof encoded !== 'string') {
    throw new HelmDecodeError(
      'the object has no data.release (is it a Helm 3 release Secret, type helm.sh/release.v1?)',
    );
  }
  // Secret data is base64; the release inside is base64 again.
  const inner = Buffer.from(encoded, 'base64').toString('latin1');
  let payload = Buffer.from(inner, 'base64');
  if (payload.length === 0) throw new HelmDecodeError('data.release is empty or not base64');
  if (payload[0] === 0x1f && payload[1] === 0x8b && payload[2] === 0x08) {
    try {
      payload = gunzipSync(payload, { maxOutputLength: MAX_RELEASE_BYTES });
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new HelmDecodeError(
        code === 'ERR_BUFFER_TOO_LARGE'
          ? `the decompressed release is larger than ${MAX_RELEASE_BYTES} bytes`
          : 'the gzip stream is corrupt',
      );
    }
  }
  try {
    return JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    throw new HelmDecodeError('the payload is not JSON');
  }
}

/** Read a compiled path from a decoded release; a missing field is null (SEED-SPEC §4.1). */
export function readHelmField(release: unknown, path: HelmPath): unknown {
  let cur: unknown = release;
  for (const seg of path.segments) {
    if (Array.isArray(cur) && /^\d+$/.test(seg)) {
      cur = cur[Number(seg)];
    } else if (cur !== null && typeof cur === 'object' && !Array.isArray(cur)) {
      cur = Object.prototype.hasOwnProperty.call(cur, seg)
        ? (cur as Record<string, unknown>)[seg]
        : undefined;
    } else {
      return null;
    }
    if (cur === undefined) return null;
  }
  return cur;
}
