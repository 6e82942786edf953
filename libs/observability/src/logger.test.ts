import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, isSecretKey, scrubLogValue, withContext } from './logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) {
        raw.push(l);
        lines.push(JSON.parse(l) as Record<string, unknown>);
      }
      cb();
    },
  });
  return { lines, raw, destination };
}

describe('logger', () => {
  it('writes JSON lines with level, time, service and the bound context', () => {
    const c = capture();
    const log = createLogger({ service: 'watcher', level: 'debug', destination: c.destination });
    withContext(log, { cluster: 'prod', gvr: 'apps/v1/deployments', inventory: 'team-a/prod' }).info(
      { n: 3 },
      'listed',
    );
    expect(c.lines[0]).toMatchObject({
      level: 'info',
      service: 'watcher',
      cluster: 'prod',
      gvr: 'apps/v1/deployments',
      inventory: 'team-a/prod',
      n: 3,
      msg: 'listed',
    });
    expect(typeof c.lines[0]!['time']).toBe('string');
  });

  it('never prints credential fields, whatever their spelling or depth', () => {
    const c = capture();
    const log = createLogger({ service: 's', destination: c.destination });
    log.info(
      {
        password: 'hunter2',
        sink: { dbPassword: 'pw-1', client_secret: 'cs-2', nested: { deep: { accessToken: 'tok-3' } } },
        headers: { Authorization: 'Bearer abcdefghijkl' },
        dsn: 'postgres://u:p@db/x',
        apiKey: 'ak-4',
        secretRef: 'my-secret-name',
      },
      'configured',
    );
    const out = c.raw.join('\n');
    for (const s of ['hunter2', 'pw-1', 'cs-2', 'tok-3', 'abcdefghijkl', 'u:p@', 'ak-4'])
      expect(out).not.toContain(s);
    // A reference to a Secret by name is not itself a secret.
    expect(out).toContain('my-secret-name');
  });

  it('removes credentials embedded in strings, messages and errors', () => {
    const c = capture();
    const log = createLogger({ service: 's', destination: c.destination });
    const err = new Error('connect postgres://admin:s3cr3t@db:5432/x failed');
    log.error({ err, url: 'https://user:pa55@git.example/repo.git' }, 'push to https://bob:tok9@h/r failed');
    const out = c.raw.join('\n');
    for (const s of ['s3cr3t', 'pa55', 'tok9']) expect(out).not.toContain(s);
    expect(out).toContain('postgres://***@db:5432/x');
    expect(c.lines[0]!['msg']).toBe('push to https://***@h/r failed');
  });

  it('redacts credentials bound on child loggers', () => {
    const c = capture();
    const log = createLogger({ service: 's', destination: c.destination }).child({
      token: 'child-tok',
      sink: 'git',
    });
    log.info('x');
    expect(c.raw.join('\n')).not.toContain('child-tok');
    expect(c.lines[0]!['sink']).toBe('git');
  });
});

describe('secret key detection', () => {
  it('matches credential-like names and spares ordinary ones', () => {
    for (const k of [
      'password',
      'PASSWORD',
      'db_password',
      'token',
      'githubToken',
      'apiKey',
      'api-key',
      'dsn',
      'Authorization',
      'clientSecret',
      'credentials',
      'privateKey',
    ]) {
      expect(isSecretKey(k), k).toBe(true);
    }
    for (const k of ['passthrough', 'secretRef', 'tokens', 'inventory', 'namespace', 'keyPath', 'author']) {
      expect(isSecretKey(k), k).toBe(false);
    }
  });

  it('leaves non-secret values untouched', () => {
    expect(scrubLogValue({ a: 1, b: ['x', { c: true }] })).toEqual({ a: 1, b: ['x', { c: true }] });
  });
});
