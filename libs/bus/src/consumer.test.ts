import { describe, expect, it } from 'vitest';
import { consumerConfig } from './consumer.js';

describe('consumer configuration', () => {
  it('creates an explicit-ack durable with the given limits', () => {
    const c = consumerConfig({
      stream: 'S',
      durable: 'd',
      filterSubjects: 'a.>',
      maxDeliver: 3,
      ackWaitMs: 2000,
    });
    expect(c).toMatchObject({
      durable_name: 'd',
      ack_policy: 'explicit',
      deliver_policy: 'all',
      max_deliver: 3,
      ack_wait: 2e9,
      max_ack_pending: 1000,
      filter_subject: 'a.>',
    });
    expect(c.filter_subjects).toBeUndefined();
  });

  it('uses filter_subjects for several filters', () => {
    const c = consumerConfig({ stream: 'S', durable: 'd', filterSubjects: ['a.>', 'b.>'] });
    expect(c.filter_subjects).toEqual(['a.>', 'b.>']);
    expect(c.filter_subject).toBeUndefined();
  });

  it('refuses a backoff list as long as maxDeliver (the server would reject it)', () => {
    expect(() => consumerConfig({ stream: 'S', durable: 'd', maxDeliver: 2, backoffMs: [1, 2] })).toThrow(
      RangeError,
    );
    expect(
      consumerConfig({ stream: 'S', durable: 'd', maxDeliver: 3, backoffMs: [1000, 2000] }).backoff,
    ).toEqual([1e9, 2e9]);
  });

  it('declares a pinned-client priority group when asked', () => {
    const c = consumerConfig({ stream: 'S', durable: 'd', priorityGroup: 'owners', priorityTimeoutMs: 5000 });
    expect(c).toMatchObject({
      priority_groups: ['owners'],
      priority_policy: 'pinned_client',
      priority_timeout: 5e9,
    });
  });
});
