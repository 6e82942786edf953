import { describe, expect, it } from 'vitest';
import type { ConsumerConfig } from '@nats-io/jetstream';
import { describeChanges, planConsumerBind } from './consumer-bind.js';
import { consumerConfig } from './consumer.js';

/** What the server returns for a durable the runner created with `opts` (plus server fields). */
function onServer(
  opts: Parameters<typeof consumerConfig>[0],
  extra: Record<string, unknown> = {},
): Partial<ConsumerConfig> {
  return {
    ...consumerConfig(opts),
    replay_policy: 'instant',
    max_waiting: 512,
    num_replicas: 0,
    metadata: { '_nats.ver': '2.15.2', '_nats.level': '1', '_nats.req.level': '0' },
    ...extra,
  } as Partial<ConsumerConfig>;
}

const base = { stream: 'S', durable: 'extractor', filterSubjects: 'p.kollect.obj.>' } as const;

describe('binding to an existing durable', () => {
  it('binds without a request when only server-owned fields differ', () => {
    const p = planConsumerBind(onServer(base), consumerConfig(base));
    expect(p.action).toBe('bind');
    expect(p.changes).toEqual([]);
    expect(p.kept).toEqual([]);
  });

  it('updates max_ack_pending in place and keeps the fields it does not manage', () => {
    const p = planConsumerBind(
      onServer({ ...base, maxAckPending: 2048 }),
      consumerConfig({ ...base, maxAckPending: 1000 }),
    );
    expect(p.action).toBe('update');
    expect(p.changes).toEqual([{ field: 'max_ack_pending', existing: 2048, wanted: 1000 }]);
    expect(p.config).toMatchObject({ max_ack_pending: 1000, max_waiting: 512, replay_policy: 'instant' });
    // Server-owned metadata is not sent back.
    expect(p.config.metadata).toBeUndefined();
  });

  it('switches between one filter and several, clearing the other field', () => {
    const p = planConsumerBind(onServer(base), consumerConfig({ ...base, filterSubjects: ['a.>', 'b.>'] }));
    expect(p.action).toBe('update');
    expect(p.config.filter_subject).toBeUndefined();
    expect(p.config.filter_subjects).toEqual(['a.>', 'b.>']);
    const back = planConsumerBind(
      onServer({ ...base, filterSubjects: ['a.>', 'b.>'] }),
      consumerConfig({ ...base, filterSubjects: 'a.>' }),
    );
    expect(back.config.filter_subjects).toBeUndefined();
    expect(back.config.filter_subject).toBe('a.>');
  });

  it('treats filters as a set (order and the single/list form do not matter)', () => {
    const p = planConsumerBind(
      onServer({ ...base, filterSubjects: ['b.>', 'a.>'] }),
      consumerConfig({ ...base, filterSubjects: ['a.>', 'b.>'] }),
    );
    expect(p.action).toBe('bind');
  });

  it('removes a backoff and a priority group the runner no longer asks for', () => {
    const p = planConsumerBind(
      onServer({ ...base, backoffMs: [1000, 2000], priorityGroup: 'owners' }),
      consumerConfig(base),
    );
    expect(p.action).toBe('update');
    expect(p.changes.map((c) => c.field).sort()).toEqual([
      'backoff',
      'priority_groups',
      'priority_policy',
      'priority_timeout',
    ]);
    expect(p.config.backoff).toBeUndefined();
    expect(p.config.priority_groups).toBeUndefined();
  });

  it('keeps the start position of an existing durable instead of recreating it', () => {
    const p = planConsumerBind(
      onServer({ ...base, deliverPolicy: 'new' }),
      consumerConfig({ ...base, deliverPolicy: 'all' }),
    );
    expect(p.action).toBe('bind');
    expect(p.kept).toEqual([{ field: 'deliver_policy', existing: 'new', wanted: 'all' }]);
    expect(p.config.deliver_policy).toBe('new');
  });

  it('keeps the start position while updating other settings', () => {
    const p = planConsumerBind(
      onServer(base, { deliver_policy: 'by_start_sequence', opt_start_seq: 42 }),
      consumerConfig({ ...base, ackWaitMs: 5000 }),
    );
    expect(p.action).toBe('update');
    expect(p.config).toMatchObject({ deliver_policy: 'by_start_sequence', opt_start_seq: 42, ack_wait: 5e9 });
  });

  it('refuses what the server cannot change in place: ack policy and push consumers', () => {
    const ack = planConsumerBind(onServer(base, { ack_policy: 'all' }), consumerConfig(base));
    expect(ack.action).toBe('incompatible');
    expect(describeChanges(ack.incompatible)).toBe('ack_policy: "all" -> "explicit"');
    const push = planConsumerBind(onServer(base, { deliver_subject: '_INBOX.x' }), consumerConfig(base));
    expect(push.action).toBe('incompatible');
    expect(push.incompatible[0]?.field).toBe('deliver_subject');
  });

  it('keeps user metadata in sync and ignores server metadata', () => {
    const p = planConsumerBind(
      onServer({ ...base, metadata: { sink: 'a' } }, { metadata: { sink: 'a', '_nats.ver': '2.15.2' } }),
      consumerConfig({ ...base, metadata: { sink: 'b' } }),
    );
    expect(p.changes).toEqual([{ field: 'metadata', existing: { sink: 'a' }, wanted: { sink: 'b' } }]);
    expect(p.config.metadata).toEqual({ sink: 'b' });
  });
});
