import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { subjects } from '@kollect/contracts';
import { TopologyConflict } from './errors.js';
import { busNames, type BusNames } from './names.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Limits of one stream. `-1` means unlimited (the NATS convention); ages are milliseconds, 0 = forever. */
export interface StreamLimits {
  maxAgeMs?: number;
  maxBytes?: number;
  /** Largest single message the stream accepts; -1 = the server's max_payload decides. */
  maxMsgSize?: number;
  duplicateWindowMs?: number;
}

/**
 * Options of {@link ensureTopology}. Byte limits default to unlimited (-1) because JetStream
 * *reserves* a stream's `max_bytes` against the server's `max_file_store` when the stream is
 * created: generous defaults would fail on a small server ("insufficient storage resources").
 * Age limits and per-subject compaction bound the data instead; set byte limits to fit your disk.
 */
export interface TopologyOptions {
  /** Names to use (see {@link busNames}); a string is a prefix. Default: the contract names. */
  names?: BusNames | string;
  /** Stream replicas (1 for a single server, 3 for a cluster). */
  replicas?: number;
  /** `file` (default, survives restarts) or `memory` (tests only). */
  storage?: 'file' | 'memory';
  /** KOLLECT_OBJECTS: the compacted mirror. Default: no age or byte limit, dedupe 2 min. */
  objects?: StreamLimits & {
    /** Let publishers set a per-message TTL (`Nats-TTL`, server >= 2.11), e.g. to expire tombstones. */
    allowMsgTtl?: boolean;
  };
  /** KOLLECT_ROWS: the extractor -> aggregator work queue. Default: no limit; discard new when one is set. */
  rows?: StreamLimits;
  /** KOLLECT_SNAPSHOTS: public snapshot diffs. Default: 7 days, discard old. */
  snapshots?: StreamLimits;
  /** KOLLECT_STATUS: status reports. Default: 1 hour. */
  status?: StreamLimits;
  /** kollect_plan: compiled plans. Default history 5. */
  plan?: { history?: number; maxBytes?: number };
  /** kollect_rows: materialised row tables. Values are bounded by the server's max_payload. */
  rowsBucket?: { maxBytes?: number; maxValueSize?: number };
  /** kollect_state: sync states and generations. */
  state?: { maxBytes?: number };
  /** kollect_leases: partition leases; every key expires `ttlMs` after its last renewal (default 15 s). */
  leases?: { ttlMs?: number };
  /** kollect_full object store: full snapshots, expire after `ttlMs` (default 24 h). */
  full?: { ttlMs?: number; maxBytes?: number };
}

/** What {@link ensureTopology} did to each stream (KV buckets and object stores are streams too). */
export interface TopologyReport {
  names: BusNames;
  created: string[];
  updated: string[];
  unchanged: string[];
}

/** Backing stream name of a KV bucket. */
export function kvStreamName(bucket: string): string {
  return `KV_${bucket}`;
}

/** Backing stream name of an object store. */
export function objStreamName(store: string): string {
  return `OBJ_${store}`;
}

function ms(v: number): number {
  return v <= 0 ? 0 : nanos(v);
}

/**
 * The desired stream configurations, pure (unit-tested). Decisions, documented in
 * docs/operations.md:
 * - KOLLECT_OBJECTS keeps the last message per subject (`max_msgs_per_subject: 1`), so it *is* the
 *   compacted mirror of the cluster; discard old; direct get for last-per-subject reads.
 * - KOLLECT_ROWS is a **work queue**: a row is gone once its aggregator acked it (the aggregator's
 *   KV table is the durable state), the server refuses a second consumer overlapping a
 *   partition's subjects (one writer per partition, enforced), and `discard: new` makes a full
 *   stream push back on the extractor instead of silently dropping unprocessed rows.
 * - KOLLECT_SNAPSHOTS is limits-based with an age/size window: several independent consumers
 *   (sink workers, teams' own automation) read it; a reader that falls out of the window asks for
 *   a full snapshot (invariant 5).
 */
export function desiredStreams(opts: TopologyOptions = {}): StreamConfig[] {
  const names = resolveNames(opts.names);
  const storage = opts.storage === 'memory' ? StorageType.Memory : StorageType.File;
  const num_replicas = opts.replicas ?? 1;
  const base = { storage, num_replicas, allow_direct: true };
  const o = opts.objects ?? {};
  const r = opts.rows ?? {};
  const s = opts.snapshots ?? {};
  const st = opts.status ?? {};
  const objects: Partial<StreamConfig> = {
    ...base,
    name: names.streams.objects,
    description: 'Kollect: compacted mirror of watched Kubernetes objects (internal)',
    subjects: [names.subject(subjects.objectsAll)],
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: 1,
    max_age: ms(o.maxAgeMs ?? 0),
    max_bytes: o.maxBytes ?? -1,
    max_msg_size: o.maxMsgSize ?? -1,
    duplicate_window: ms(o.duplicateWindowMs ?? 2 * MINUTE),
    ...(o.allowMsgTtl ? { allow_msg_ttl: true } : {}),
  };
  const rows: Partial<StreamConfig> = {
    ...base,
    name: names.streams.rows,
    description: 'Kollect: row changes, extractor -> aggregator, one consumer per partition (internal)',
    subjects: [names.subject(subjects.rowsAll)],
    retention: RetentionPolicy.Workqueue,
    discard: DiscardPolicy.New,
    max_age: ms(r.maxAgeMs ?? 0),
    max_bytes: r.maxBytes ?? -1,
    max_msg_size: r.maxMsgSize ?? -1,
    duplicate_window: ms(r.duplicateWindowMs ?? 2 * MINUTE),
  };
  const snapshots: Partial<StreamConfig> = {
    ...base,
    name: names.streams.snapshots,
    description:
      'Kollect: inventory snapshot generations (public, kollect.snap.<cluster>.<namespace>.<inventory>)',
    subjects: [names.subject(subjects.snapshotsAll)],
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: ms(s.maxAgeMs ?? 7 * DAY),
    max_bytes: s.maxBytes ?? -1,
    max_msg_size: s.maxMsgSize ?? -1,
    duplicate_window: ms(s.duplicateWindowMs ?? 2 * MINUTE),
  };
  const status: Partial<StreamConfig> = {
    ...base,
    name: names.streams.status,
    description: 'Kollect: status reports for the controller (internal)',
    subjects: [names.subject(subjects.statusAll)],
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: ms(st.maxAgeMs ?? HOUR),
    max_bytes: st.maxBytes ?? -1,
    max_msg_size: st.maxMsgSize ?? -1,
    duplicate_window: ms(st.duplicateWindowMs ?? 2 * MINUTE),
  };
  const kv = (bucket: string, description: string, history: number, extra: Partial<StreamConfig>) => ({
    ...base,
    name: kvStreamName(bucket),
    description,
    subjects: [`$KV.${bucket}.>`],
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
    max_msgs_per_subject: history,
    allow_rollup_hdrs: true,
    deny_delete: true,
    max_age: 0,
    max_bytes: -1,
    max_msg_size: -1,
    ...extra,
  });
  const full = opts.full ?? {};
  return [
    objects,
    rows,
    snapshots,
    status,
    kv(names.buckets.plan, 'Kollect: compiled plan', opts.plan?.history ?? 5, {
      max_bytes: opts.plan?.maxBytes ?? -1,
    }),
    kv(names.buckets.rows, 'Kollect: materialised row tables (aggregator owner writes only)', 1, {
      max_bytes: opts.rowsBucket?.maxBytes ?? -1,
      max_msg_size: opts.rowsBucket?.maxValueSize ?? -1,
    }),
    kv(names.buckets.state, 'Kollect: sync states and generations', 1, {
      max_bytes: opts.state?.maxBytes ?? -1,
    }),
    kv(names.buckets.leases, 'Kollect: partition leases', 1, {
      max_age: ms(opts.leases?.ttlMs ?? 15_000),
    }),
    {
      ...base,
      name: objStreamName(names.buckets.full),
      description: 'Kollect: full snapshots of inventory generations',
      subjects: [`$O.${names.buckets.full}.C.>`, `$O.${names.buckets.full}.M.>`],
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.New,
      allow_rollup_hdrs: true,
      max_age: ms(full.ttlMs ?? DAY),
      max_bytes: full.maxBytes ?? -1,
      max_msg_size: -1,
    },
  ] as StreamConfig[];
}

export function resolveNames(names: BusNames | string | undefined): BusNames {
  return typeof names === 'object' ? names : busNames(names ?? '');
}

/** Fields the server cannot change on an existing stream. */
const IMMUTABLE: (keyof StreamConfig)[] = ['storage', 'retention'];
/** Fields we reconcile; anything else on the live stream (set by an operator) is left alone. */
const MUTABLE: (keyof StreamConfig)[] = [
  'description',
  'subjects',
  'discard',
  'max_msgs_per_subject',
  'max_age',
  'max_bytes',
  'max_msg_size',
  'duplicate_window',
  'allow_direct',
  'allow_rollup_hdrs',
  'deny_delete',
  'num_replicas',
  'allow_msg_ttl',
];

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** The fields of `live` that differ from `want` (only those we manage). Pure. */
export function streamDrift(
  want: Partial<StreamConfig>,
  live: StreamConfig,
): { immutable: string[]; mutable: string[] } {
  const immutable = IMMUTABLE.filter((k) => want[k] !== undefined && !same(want[k], live[k]));
  const mutable = MUTABLE.filter((k) => {
    if (want[k] === undefined) return false;
    // The server reports duplicate_window capped at max_age; booleans default to false.
    if (typeof want[k] === 'boolean') return Boolean(want[k]) !== Boolean(live[k]);
    if (k === 'duplicate_window' && live.max_age > 0 && (want[k] as number) > live.max_age) return false;
    return !same(want[k], live[k]);
  });
  return { immutable: immutable as string[], mutable: mutable as string[] };
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | null> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return null;
    if (err instanceof Error && err.message === 'stream not found') return null;
    throw err;
  }
}

/**
 * Create or update every stream, KV bucket and object store Kollect uses, idempotently: a
 * missing stream is created, a stream whose managed limits drifted is updated in place, and an
 * immutable difference (storage, retention) fails with {@link TopologyConflict} rather than
 * deleting data. Safe to run from every service at startup, concurrently.
 */
export async function ensureTopology(
  jsm: JetStreamManager,
  opts: TopologyOptions = {},
): Promise<TopologyReport> {
  const names = resolveNames(opts.names);
  const report: TopologyReport = { names, created: [], updated: [], unchanged: [] };
  for (const want of desiredStreams({ ...opts, names })) {
    await ensureStream(jsm, want, report);
  }
  return report;
}

async function ensureStream(
  jsm: JetStreamManager,
  want: StreamConfig,
  report: TopologyReport,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const live = await streamInfo(jsm, want.name);
    if (!live) {
      try {
        await jsm.streams.add(want);
        report.created.push(want.name);
        return;
      } catch (err) {
        // Another service created it at the same moment: reconcile against what it made.
        if (attempt < 2 && err instanceof Error && /already in use/i.test(err.message)) continue;
        throw TopologyConflict(want.name, err instanceof Error ? err.message : String(err), { cause: err });
      }
    }
    const drift = streamDrift(want, live.config);
    if (drift.immutable.length) {
      throw TopologyConflict(want.name, `immutable settings differ (${drift.immutable.join(', ')})`);
    }
    if (!drift.mutable.length) {
      report.unchanged.push(want.name);
      return;
    }
    const update = { ...live.config };
    for (const k of drift.mutable) (update as Record<string, unknown>)[k] = want[k as keyof StreamConfig];
    try {
      await jsm.streams.update(want.name, update);
    } catch (err) {
      throw TopologyConflict(
        want.name,
        `update of ${drift.mutable.join(', ')} refused: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    report.updated.push(want.name);
    return;
  }
}
