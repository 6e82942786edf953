import { describe, expect, it } from 'vitest';
import { classifyPgError } from './errors.js';

const pgErr = (code: string, message = 'boom') => Object.assign(new Error(message), { code });

describe('postgres error classes', () => {
  it.each([
    ['28P01', 'terminal', 'AuthenticationFailed'],
    ['28000', 'terminal', 'AuthenticationFailed'],
    ['42501', 'terminal', 'AuthenticationFailed'],
    ['3D000', 'terminal', 'InvalidSinkConfig'],
    ['42P01', 'terminal', 'InvalidSinkConfig'],
    ['22P05', 'terminal', 'ExportTerminal'],
    ['23505', 'transient', 'Conflict'],
    ['40P01', 'transient', 'Conflict'],
    ['57014', 'transient', 'Timeout'],
    ['57P01', 'transient', 'SinkUnavailable'],
    ['53100', 'transient', 'SinkUnavailable'],
    ['08006', 'transient', 'SinkUnavailable'],
  ])('SQLSTATE %s is %s (%s)', (code, cls, reason) => {
    const e = classifyPgError('database/a/b', pgErr(code), 'KollectInventory/a/web');
    expect(e.errorClass).toBe(cls);
    expect(e.reason).toBe(reason);
  });

  it('network errors are transient and TLS set-up problems terminal', () => {
    expect(
      classifyPgError(
        's',
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      ).errorClass,
    ).toBe('transient');
    expect(classifyPgError('s', new Error('The server does not support SSL connections')).errorClass).toBe(
      'terminal',
    );
    expect(classifyPgError('s', new Error('self-signed certificate in certificate chain')).errorClass).toBe(
      'terminal',
    );
    expect(classifyPgError('s', new Error('timeout expired')).errorClass).toBe('transient');
  });

  it('an untrusted server certificate is terminal and names tls.caBundle / tls.caSecretRef', () => {
    // the shape pg rejects with: the TLS socket's error, OpenSSL's code on it
    const e = classifyPgError(
      'database/a/b',
      Object.assign(new Error('unable to verify the first certificate'), {
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      }),
    );
    expect(e.errorClass).toBe('terminal');
    expect(e.reason).toBe('InvalidSinkConfig');
    expect(e.message).toMatch(/set tls\.caBundle or tls\.caSecretRef/);
    const host = classifyPgError(
      'database/a/b',
      Object.assign(new Error("Hostname/IP does not match certificate's altnames"), {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      }),
    );
    expect(host.errorClass).toBe('terminal');
    expect(host.message).toMatch(/does not name the endpoint's host/);
  });

  it('scrubs credentials from server messages', () => {
    const e = classifyPgError(
      's',
      pgErr('28P01', 'password authentication failed for postgres://kollect:hunter2xyz@db/x'),
    );
    expect(e.message).not.toContain('hunter2xyz');
  });
});
