import { createSign } from 'node:crypto';

/** The fields of a service-account key file (`credentials.json`) that matter here. */
export interface ServiceAccountKey {
  type: 'service_account';
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
}

/** Thrown when the key file is unusable or the token endpoint refuses it (terminal). */
export class GcsCredentialError extends Error {
  override name = 'GcsCredentialError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

const SCOPE = 'https://www.googleapis.com/auth/devstorage.read_write';
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const METADATA_TOKEN_URL =
  'http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token';

/** Parse `credentials.json`; never echoes its content. */
export function parseServiceAccountKey(json: string): ServiceAccountKey {
  let v: Partial<ServiceAccountKey>;
  try {
    v = JSON.parse(json) as Partial<ServiceAccountKey>;
  } catch {
    throw new GcsCredentialError('credentials.json is not valid JSON');
  }
  if (
    v.type !== 'service_account' ||
    typeof v.client_email !== 'string' ||
    typeof v.private_key !== 'string'
  ) {
    throw new GcsCredentialError(
      'credentials.json must be a service-account key (type, client_email, private_key)',
    );
  }
  return v as ServiceAccountKey;
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

/**
 * OAuth2 access tokens for the GCS JSON API: a service-account key signs a JWT (RS256) that the
 * key's `token_uri` exchanges for a token (RFC 7523); without a key, the GKE/GCE metadata server
 * (Workload Identity) is asked. Tokens are cached until a minute before they expire.
 */
export class GcsTokenSource {
  private token: { value: string; expiresAt: number } | undefined;

  constructor(
    private readonly key: ServiceAccountKey | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<string> {
    if (this.token && this.token.expiresAt - 60_000 > this.now()) return this.token.value;
    const t = this.key ? await this.fromKey(this.key) : await this.fromMetadata();
    this.token = t;
    return t.value;
  }

  private async fromKey(key: ServiceAccountKey): Promise<{ value: string; expiresAt: number }> {
    const iat = Math.floor(this.now() / 1000);
    const aud = key.token_uri || DEFAULT_TOKEN_URI;
    const header = b64url(
      JSON.stringify({
        alg: 'RS256',
        typ: 'JWT',
        ...(key.private_key_id ? { kid: key.private_key_id } : {}),
      }),
    );
    const claims = b64url(JSON.stringify({ iss: key.client_email, scope: SCOPE, aud, iat, exp: iat + 3600 }));
    let sig: string;
    try {
      sig = createSign('RSA-SHA256')
        .update(`${header}.${claims}`)
        .sign(key.private_key)
        .toString('base64url');
    } catch {
      throw new GcsCredentialError('the private_key of credentials.json cannot sign (not a PEM RSA key)');
    }
    const res = await fetch(aud, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: `${header}.${claims}.${sig}`,
      }),
    });
    const body = (await res.json().catch(() => ({}))) as {
      access_token?: string;
      expires_in?: number;
      error?: string;
      error_description?: string;
    };
    if (!res.ok || !body.access_token) {
      const why = [body.error, body.error_description].filter(Boolean).join(': ') || `HTTP ${res.status}`;
      if (res.status === 400 || res.status === 401 || res.status === 403) {
        throw new GcsCredentialError(
          `the token endpoint rejected the service-account key of ${key.client_email} (${why})`,
          401,
        );
      }
      throw Object.assign(new Error(`token endpoint ${aud}: ${why}`), { status: res.status });
    }
    return { value: body.access_token, expiresAt: this.now() + (body.expires_in ?? 3600) * 1000 };
  }

  private async fromMetadata(): Promise<{ value: string; expiresAt: number }> {
    const res = await fetch(METADATA_TOKEN_URL, { headers: { 'Metadata-Flavor': 'Google' } });
    if (!res.ok)
      throw Object.assign(new Error(`metadata server token: HTTP ${res.status}`), { status: res.status });
    const body = (await res.json()) as { access_token: string; expires_in: number };
    return { value: body.access_token, expiresAt: this.now() + body.expires_in * 1000 };
  }
}
