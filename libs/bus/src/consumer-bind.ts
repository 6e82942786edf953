import type { ConsumerConfig } from '@nats-io/jetstream';

/**
 * Binding a runner to a durable that may already exist with another configuration (a rolling
 * upgrade changed a setting, an operator edited it by hand). Pure: decides what to send, given
 * the durable's current configuration and the one the runner wants.
 *
 * The rules, and why:
 * - Fields the runner manages (ack wait, max deliver, max ack pending, backoff, filters, metadata,
 *   priority group) are brought to the wanted values with an in-place update: the server keeps
 *   the consumer's position (delivered/ack floor, pending acks), so nothing is redelivered or lost.
 * - The start position (`deliver_policy`, `opt_start_seq`, `opt_start_time`) only says where a
 *   *new* durable starts; an existing durable's position is its ack floor. A different start
 *   position is therefore kept as it is (reported, not changed): recreating the durable to change
 *   it would throw that position away.
 * - Anything else the server cannot change in place (ack policy, push vs pull) makes the bind
 *   fail loudly. Recreating the durable is not done automatically: replicas of a shared durable
 *   would delete it under each other (and under an older version still running), and a recreate
 *   redelivers or skips work depending on the stream. The error names the fields and the remedy.
 */

/** One field whose value on the server differs from the wanted one. */
export interface ConsumerFieldChange {
  field: string;
  existing: unknown;
  wanted: unknown;
}

/** What to do with an existing durable (see {@link planConsumerBind}). */
export interface ConsumerBindPlan {
  /** `bind`: already as wanted; `update`: update in place; `incompatible`: cannot be changed in place. */
  action: 'bind' | 'update' | 'incompatible';
  /** The configuration to send with an update: the existing one with the managed fields replaced. */
  config: Partial<ConsumerConfig>;
  /** Managed fields the update changes. */
  changes: ConsumerFieldChange[];
  /** Start-position fields that differ and are kept as they are on the server. */
  kept: ConsumerFieldChange[];
  /** Fields that differ and cannot be changed in place (action `incompatible`). */
  incompatible: ConsumerFieldChange[];
}

type Cfg = Partial<ConsumerConfig> & Record<string, unknown>;

/** Server-owned metadata keys (`_nats.ver`, `_nats.level`, …): never ours to compare or send. */
const isServerMetadataKey = (k: string): boolean => k.startsWith('_nats.');

function filtersOf(c: Cfg): string[] {
  const all = [
    ...(typeof c.filter_subject === 'string' && c.filter_subject !== '' ? [c.filter_subject] : []),
    ...(Array.isArray(c.filter_subjects) ? c.filter_subjects : []),
  ];
  return [...new Set(all)].sort();
}

function userMetadata(c: Cfg): Record<string, string> {
  const out: Record<string, string> = {};
  // Plain code-unit order: localeCompare would load the ICU collator (~0.1 s on the first call).
  for (const [k, v] of Object.entries(c.metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!isServerMetadataKey(k)) out[k] = v;
  }
  return out;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const policy = (v: unknown): string => (typeof v === 'string' && v !== '' ? v : 'none');

/** A managed field: how to read it in comparable form, and how to write the wanted value. */
interface Managed {
  field: string;
  read: (c: Cfg) => unknown;
  /** Copy the wanted value into the update config (deleting it when the runner does not set it). */
  write: (out: Cfg, wanted: Cfg) => void;
}

const plain = (field: keyof ConsumerConfig & string, read: (v: unknown) => unknown = (v) => v): Managed => ({
  field,
  read: (c) => read(c[field]),
  write: (out, wanted) => {
    const v: unknown = wanted[field];
    if (v === undefined) delete out[field];
    else (out as Record<string, unknown>)[field] = v;
  },
});

const MANAGED: Managed[] = [
  plain('ack_wait', num),
  plain('max_deliver', num),
  plain('max_ack_pending', num),
  plain('backoff', list),
  {
    field: 'filter_subjects',
    read: filtersOf,
    write: (out, wanted) => {
      delete out.filter_subject;
      delete out.filter_subjects;
      if (wanted.filter_subject !== undefined) out.filter_subject = wanted.filter_subject;
      if (wanted.filter_subjects !== undefined) out.filter_subjects = wanted.filter_subjects;
    },
  },
  {
    field: 'metadata',
    read: userMetadata,
    write: (out, wanted) => {
      const md = userMetadata(wanted);
      if (Object.keys(md).length > 0) out.metadata = md;
      else delete out.metadata;
    },
  },
  plain('priority_groups', list),
  plain('priority_policy', policy),
  plain('priority_timeout', num),
];

/** Start position: meaningful only when a durable is created. */
const START_FIELDS = ['deliver_policy', 'opt_start_seq', 'opt_start_time'] as const;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Decide how to bind to an existing durable whose configuration is `existing`, when the runner
 * wants `wanted` (from `consumerConfig`). Pure.
 */
export function planConsumerBind(
  existing: Partial<ConsumerConfig>,
  wanted: Partial<ConsumerConfig>,
): ConsumerBindPlan {
  const ex = existing as Cfg;
  const wa = wanted as Cfg;
  const changes: ConsumerFieldChange[] = [];
  const kept: ConsumerFieldChange[] = [];
  const incompatible: ConsumerFieldChange[] = [];

  for (const m of MANAGED) {
    const a = m.read(ex);
    const b = m.read(wa);
    if (!same(a, b)) changes.push({ field: m.field, existing: a, wanted: b });
  }
  for (const f of START_FIELDS) {
    // The runner sets only deliver_policy; an unset wanted field means "the server's default".
    const b = wa[f];
    if (b !== undefined && !same(ex[f], b)) kept.push({ field: f, existing: ex[f], wanted: b });
  }
  if (wa.ack_policy !== undefined && ex.ack_policy !== wa.ack_policy)
    incompatible.push({ field: 'ack_policy', existing: ex.ack_policy, wanted: wa.ack_policy });
  if (typeof ex.deliver_subject === 'string' && ex.deliver_subject !== '')
    incompatible.push({ field: 'deliver_subject', existing: ex.deliver_subject, wanted: '(pull consumer)' });

  const config: Cfg = { ...ex };
  for (const m of MANAGED) m.write(config, wa);
  // Server-owned metadata is recomputed by the server; sending it back is pointless.
  if (config.metadata) {
    const md = userMetadata(config);
    if (Object.keys(md).length > 0) config.metadata = md;
    else delete config.metadata;
  }
  const action = incompatible.length > 0 ? 'incompatible' : changes.length > 0 ? 'update' : 'bind';
  return { action, config, changes, kept, incompatible };
}

/** `field: existing -> wanted` for messages and logs. */
export function describeChanges(changes: readonly ConsumerFieldChange[]): string {
  return changes
    .map((c) => `${c.field}: ${JSON.stringify(c.existing)} -> ${JSON.stringify(c.wanted)}`)
    .join(', ');
}
