import { describe, expect, it } from 'vitest';
import { BUCKETS, STREAMS, subjects } from '@kollect/contracts';
import { busNames } from './names.js';

describe('bus names', () => {
  it('uses the contract names unchanged without a prefix', () => {
    const n = busNames();
    expect(n.streams).toEqual(STREAMS);
    expect(n.buckets).toEqual(BUCKETS);
    expect(n.subject(subjects.objectsAll)).toBe('kollect.obj.>');
  });

  it('isolates every name and subject under a prefix, reversibly', () => {
    const n = busNames('t1');
    expect(n.streams.objects).toBe('t1_KOLLECT_OBJECTS');
    expect(n.buckets.rows).toBe('t1_kollect_rows');
    const s = n.subject('kollect.row.3.x');
    expect(s).toBe('t1.kollect.row.3.x');
    expect(n.contractSubject(s)).toBe('kollect.row.3.x');
    expect(() => n.contractSubject('kollect.row.3.x')).toThrow(/not under bus prefix/);
  });

  it('refuses prefixes that would break stream or subject names', () => {
    expect(() => busNames('a.b')).toThrow(/must match/);
    expect(() => busNames('a b')).toThrow(/must match/);
  });
});
