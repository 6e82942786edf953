import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { gcsMode, GcsCredentialError, parseServiceAccountKey } from './index.js';

const creds = (roles: Record<string, string>) => ({ credentials: { data: {}, roles, version: '1' } });

describe('gcs sink', () => {
  it('picks the JSON API for a key file or no Secret, and the HMAC interop for HMAC keys only', () => {
    expect(gcsMode(creds({ credentialsJson: '{}' }))).toBe('json');
    expect(gcsMode(creds({}))).toBe('json');
    expect(gcsMode(creds({ accessKeyId: 'GOOG1', secretAccessKey: 's' }))).toBe('hmac');
    expect(gcsMode(creds({ credentialsJson: '{}', accessKeyId: 'GOOG1', secretAccessKey: 's' }))).toBe(
      'json',
    );
  });
  it('validates credentials.json without echoing it', () => {
    const pk = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(
      parseServiceAccountKey(
        JSON.stringify({ type: 'service_account', client_email: 'a@b', private_key: pk }),
      ).client_email,
    ).toBe('a@b');
    let err: unknown;
    try {
      parseServiceAccountKey('{"type":"authorized_user","refresh_token":"secret-refresh-token"}');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GcsCredentialError);
    expect(String(err)).not.toContain('secret-refresh-token');
  });
});
