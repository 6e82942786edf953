import { describe, expect, it } from 'vitest';
import { errorClassOf } from '@kollect/contracts';
import {
  KubeConflict,
  KubeForbidden,
  KubeNotFound,
  KubeRequestRejected,
  KubeResourceExpired,
  KubeUnavailable,
  httpStatusOf,
  kubeErrorFor,
} from './errors.js';

describe('kubeErrorFor', () => {
  it('maps apiserver answers to declared errors with their HTTP status', () => {
    const cases: [number, { is(e: unknown): boolean }][] = [
      [410, KubeResourceExpired],
      [401, KubeForbidden],
      [403, KubeForbidden],
      [404, KubeNotFound],
      [409, KubeConflict],
      [429, KubeUnavailable],
      [503, KubeUnavailable],
      [422, KubeRequestRejected],
    ];
    for (const [status, factory] of cases) {
      const err = kubeErrorFor('GET /x', status, { message: 'm' });
      expect(factory.is(err), String(status)).toBe(true);
      expect(httpStatusOf(err)).toBe(status);
    }
  });

  it('treats an Expired reason as 410 whatever the code', () => {
    expect(
      KubeResourceExpired.is(kubeErrorFor('WATCH /x', 500, { reason: 'Expired', message: 'too old' })),
    ).toBe(true);
  });

  it('classifies forbidden as forbidden and unavailable as transient', () => {
    expect(errorClassOf(kubeErrorFor('GET /x', 403, undefined))).toBe('forbidden');
    expect(errorClassOf(kubeErrorFor('GET /x', 502, undefined))).toBe('transient');
  });

  it('scrubs credentials echoed in a Status message', () => {
    const err = kubeErrorFor('GET /x', 400, { message: 'bad header Authorization: Bearer abcdefghijklmnop' });
    expect(err.message).not.toContain('abcdefghijklmnop');
  });
});
