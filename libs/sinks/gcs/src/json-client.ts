import { Agent, fetch as undiciFetch } from 'undici';
import type { ObjectHead, ObjectStoreClient } from '@kollect/object-store';
import type { GcsTokenSource } from './token.js';

/** An HTTP error of the GCS JSON API; `status` lets `classifySinkError` classify it. */
export class GcsHttpError extends Error {
  override name = 'GcsHttpError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface GcsJsonClientOptions {
  /** API root: `https://storage.googleapis.com` or an emulator. */
  endpoint: string;
  bucket: string;
  project?: string;
  /** Undefined: no Authorization header (an emulator reached without credentials). */
  tokens?: GcsTokenSource;
  /** Bodies above this use a resumable upload (default 8 MiB). */
  resumableThreshold?: number;
  /** Extra CA certificates (PEM) for the endpoint's server certificate (`spec.tls`). */
  caPem?: string;
  insecureSkipVerify?: boolean;
}

/**
 * The GCS JSON API (v1) over undici's fetch: the operations `ObjectSnapshotSink` needs. undici
 * (not the global fetch) because a custom CA needs a dispatcher, and Node's bundled fetch only
 * takes one of its own undici version.
 */
export class GcsJsonClient implements ObjectStoreClient {
  private readonly o: GcsJsonClientOptions;
  private readonly base: string;
  /** Own connection pool when `spec.tls` configures the handshake; closed with the client. */
  private readonly dispatcher: Agent | undefined;

  constructor(o: GcsJsonClientOptions) {
    this.o = o;
    this.base = o.endpoint.replace(/\/+$/, '');
    if (o.caPem !== undefined || o.insecureSkipVerify) {
      this.dispatcher = new Agent({
        connect: {
          // like the s3 client's https.Agent: the bundle replaces Node's roots for this pool
          ...(o.caPem !== undefined ? { ca: o.caPem } : {}),
          rejectUnauthorized: !o.insecureSkipVerify,
        },
      });
    }
  }

  private fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const opts = { ...init, ...(this.dispatcher ? { dispatcher: this.dispatcher } : {}) };
    // undici's Response implements the same WHATWG interface; only the declared types differ
    return undiciFetch(url, opts as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>;
  }

  private async headers(extra: Record<string, string> = {}): Promise<Record<string, string>> {
    const h: Record<string, string> = { ...extra };
    if (this.o.tokens) h['authorization'] = `Bearer ${await this.o.tokens.get()}`;
    return h;
  }

  private objUrl(key: string): string {
    return `${this.base}/storage/v1/b/${encodeURIComponent(this.o.bucket)}/o/${encodeURIComponent(key)}`;
  }

  private async check(res: Response, what: string, allow404 = false): Promise<Response | null> {
    if (res.ok) return res;
    if (allow404 && res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    const text = await res.text().catch(() => '');
    let msg = text.slice(0, 300);
    try {
      msg = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? msg;
    } catch {
      // not JSON
    }
    throw new GcsHttpError(`GCS ${what}: HTTP ${res.status} ${msg}`, res.status);
  }

  async bucketExists(): Promise<boolean> {
    const res = await this.fetch(`${this.base}/storage/v1/b/${encodeURIComponent(this.o.bucket)}`, {
      headers: await this.headers(),
    });
    return (await this.check(res, 'get bucket', true)) !== null;
  }

  async createBucket(): Promise<void> {
    const res = await this.fetch(
      `${this.base}/storage/v1/b?project=${encodeURIComponent(this.o.project ?? '')}`,
      {
        method: 'POST',
        headers: await this.headers({ 'content-type': 'application/json' }),
        body: JSON.stringify({ name: this.o.bucket }),
      },
    );
    if (res.status === 409) return;
    await this.check(res, 'create bucket');
  }

  async put(
    key: string,
    body: Buffer,
    contentType: string,
    metadata: Record<string, string>,
  ): Promise<{ etag: string }> {
    const meta = JSON.stringify({ name: key, contentType, metadata });
    const uploadBase = `${this.base}/upload/storage/v1/b/${encodeURIComponent(this.o.bucket)}/o`;
    let res: Response;
    if (body.length > (this.o.resumableThreshold ?? 8 * 1024 * 1024)) {
      const init = await this.fetch(`${uploadBase}?uploadType=resumable&name=${encodeURIComponent(key)}`, {
        method: 'POST',
        headers: await this.headers({
          'content-type': 'application/json; charset=UTF-8',
          'x-upload-content-type': contentType,
          'x-upload-content-length': String(body.length),
        }),
        body: meta,
      });
      await this.check(init, 'start resumable upload');
      const session = init.headers.get('location');
      await init.body?.cancel();
      if (!session) throw new GcsHttpError('GCS resumable upload: no session URL', 502);
      res = await this.fetch(session, {
        method: 'PUT',
        headers: await this.headers({ 'content-type': contentType }),
        body,
      });
    } else {
      const boundary = `kollect-${Math.random().toString(36).slice(2)}`;
      const multipart = Buffer.concat([
        Buffer.from(
          `--${boundary}\r\ncontent-type: application/json; charset=UTF-8\r\n\r\n${meta}\r\n--${boundary}\r\ncontent-type: ${contentType}\r\n\r\n`,
        ),
        body,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      res = await this.fetch(`${uploadBase}?uploadType=multipart`, {
        method: 'POST',
        headers: await this.headers({ 'content-type': `multipart/related; boundary=${boundary}` }),
        body: multipart,
      });
    }
    const ok = (await this.check(res, 'upload')) as Response;
    const out = (await ok.json()) as { etag?: string };
    return { etag: out.etag ?? '' };
  }

  async head(key: string): Promise<ObjectHead | null> {
    const res = await this.check(
      await this.fetch(this.objUrl(key), { headers: await this.headers() }),
      'get object metadata',
      true,
    );
    if (!res) return null;
    const o = (await res.json()) as { etag?: string; size?: string; metadata?: Record<string, string> };
    const md: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.metadata ?? {})) md[k.toLowerCase()] = v;
    return { etag: o.etag ?? '', size: Number(o.size ?? 0), metadata: md };
  }

  async get(key: string): Promise<Buffer | null> {
    const res = await this.check(
      await this.fetch(`${this.objUrl(key)}?alt=media`, { headers: await this.headers() }),
      'download',
      true,
    );
    return res ? Buffer.from(await res.arrayBuffer()) : null;
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const q = new URLSearchParams({ prefix, ...(token ? { pageToken: token } : {}) });
      const res = (await this.check(
        await this.fetch(`${this.base}/storage/v1/b/${encodeURIComponent(this.o.bucket)}/o?${q}`, {
          headers: await this.headers(),
        }),
        'list',
      )) as Response;
      const body = (await res.json()) as { items?: { name: string }[]; nextPageToken?: string };
      for (const i of body.items ?? []) keys.push(i.name);
      token = body.nextPageToken;
    } while (token);
    return keys;
  }

  async delete(key: string): Promise<void> {
    await this.check(
      await this.fetch(this.objUrl(key), { method: 'DELETE', headers: await this.headers() }),
      'delete',
      true,
    );
  }

  close(): void {
    void this.dispatcher?.close();
  }
}
