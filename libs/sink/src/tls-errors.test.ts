import { describe, expect, it } from 'vitest';
import { classifySinkError, tlsVerifyFailure } from './errors.js';

/** Node's shape of a TLS socket error: OpenSSL's code on the error. */
function tlsErr(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('TLS verification failures', () => {
  it.each([
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'CERT_HAS_EXPIRED',
  ])('%s is terminal and names tls.caBundle / tls.caSecretRef', (code) => {
    const e = classifySinkError('snapshot/a/b', tlsErr(code, 'unable to verify the first certificate'));
    expect(e.errorClass).toBe('terminal');
    expect(e.reason).toBe('InvalidSinkConfig');
    expect(e.message).toContain('spec.tls');
    expect(e.message).toMatch(/set tls\.caBundle or tls\.caSecretRef/);
    expect(e.message).toContain(code);
  });

  it('is found in the cause chain (fetch: TypeError "fetch failed" caused by the socket error)', () => {
    const wrapped = new TypeError('fetch failed', {
      cause: tlsErr('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
    });
    expect(tlsVerifyFailure(wrapped)?.kind).toBe('untrusted');
    const e = classifySinkError('snapshot/a/b', wrapped);
    expect(e.errorClass).toBe('terminal');
    expect(e.message).toMatch(/tls\.caBundle or tls\.caSecretRef/);
  });

  it('a certificate for another host points at the endpoint, not at the CA', () => {
    const e = classifySinkError(
      'snapshot/a/b',
      tlsErr('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"),
    );
    expect(e.errorClass).toBe('terminal');
    expect(e.message).toContain('spec.endpoint');
    expect(e.message).not.toMatch(/caBundle/);
  });

  it('network errors without a TLS code stay transient', () => {
    expect(tlsVerifyFailure(tlsErr('ECONNRESET', 'socket hang up'))).toBeUndefined();
    expect(classifySinkError('s', tlsErr('ECONNRESET', 'socket hang up')).errorClass).toBe('transient');
  });
});
