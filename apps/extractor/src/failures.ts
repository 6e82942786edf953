import {
  BUS_SCHEMA_VERSION,
  gvrString,
  type ExtractionStatusReport,
  type ObjectMessage,
  type TargetRef,
} from '@kollect/contracts';
import type { ExtractionFailure, ExtractionPlan } from '@kollect/extract';

/** The status reason of a failure outcome (CR condition vocabulary). */
export function failureReason(outcome: string, code = ''): string {
  if (code === 'KOLLECT_ERR_BUS_PAYLOAD_TOO_LARGE') return 'PayloadTooLarge';
  switch (outcome) {
    case 'cost_exceeded':
      return 'CostLimitExceeded';
    case 'timeout':
      return 'EvaluationTimeout';
    case 'invalid_object':
      return 'InvalidObject';
    default:
      return 'ExtractionFailed';
  }
}

type Failed = ExtractionStatusReport['failed'][number];

/** One target that could not produce a row for one object (extraction or publish). */
export interface TargetFailure {
  targetKey: string;
  target: TargetRef;
  uid: string;
  namespace: string;
  name: string;
  /** Status reason, e.g. `ExtractionFailed`, `CostLimitExceeded`, `PayloadTooLarge`. */
  reason: string;
  /** Already scrubbed; never holds attribute values. */
  message: string;
  errorClass: string;
}

/** The ledger form of an extraction failure of `@kollect/extract`. */
export function targetFailure(f: ExtractionFailure): TargetFailure {
  const reason = (f as { reason?: string }).reason ?? failureReason(f.outcome, f.code);
  return {
    targetKey: f.targetKey,
    target: { kind: f.target.kind, namespace: f.target.namespace, name: f.target.name },
    uid: f.uid,
    namespace: f.namespace,
    name: f.name,
    reason,
    message: f.message,
    errorClass: f.errorClass,
  };
}

function targetKeyOf(t: TargetRef): string {
  return `${t.kind}/${t.namespace}/${t.name}`;
}

/**
 * Extraction failures per target, as **transitions** for the controller
 * (`ExtractionStatusReport`): an object that starts failing is reported in `failed`, one that
 * stops failing (success, no longer matching, deleted) in `cleared`.
 *
 * Extractors are stateless and any replica may see the next version of an object that failed on
 * another, so the set of known failures is shared: every replica also reads the reports of the
 * others (the status subject) and feeds them to {@link observe}. A replica therefore clears a
 * failure it never saw itself. Reports are batched per target and sent by {@link drain}.
 */
export class FailureLedger {
  readonly #cluster: string;
  /** Known failing uids per target key (from every replica). */
  readonly #known = new Map<string, Map<string, Failed>>();
  readonly #refs = new Map<string, TargetRef>();
  /** Transitions not yet reported, per target key. */
  readonly #pending = new Map<string, { failed: Map<string, Failed>; cleared: Set<string> }>();
  #planGeneration = 0;

  constructor(cluster: string) {
    this.#cluster = cluster;
  }

  /** Failing objects known now, per target (tests, metrics). */
  failing(): Map<string, number> {
    return new Map([...this.#known].map(([k, m]) => [k, m.size]));
  }

  #slot(key: string): { failed: Map<string, Failed>; cleared: Set<string> } {
    let p = this.#pending.get(key);
    if (!p) this.#pending.set(key, (p = { failed: new Map(), cleared: new Set() }));
    return p;
  }

  /** Record what one object message produced. */
  record(
    x: ExtractionPlan,
    msg: Pick<ObjectMessage, 'gvr' | 'uid'>,
    failures: readonly TargetFailure[],
  ): void {
    this.#planGeneration = x.plan.generation;
    const failedNow = new Map<string, TargetFailure>();
    for (const f of failures) failedNow.set(f.targetKey, f);
    for (const [key, f] of failedNow) {
      this.#refs.set(key, f.target);
      const entry: Failed = {
        uid: f.uid,
        namespace: f.namespace,
        name: f.name,
        reason: f.reason,
        message: f.message,
      };
      let known = this.#known.get(key);
      if (!known) this.#known.set(key, (known = new Map()));
      const prev = known.get(f.uid);
      if (prev && prev.reason === entry.reason && prev.message === entry.message) continue;
      known.set(f.uid, entry);
      const slot = this.#slot(key);
      slot.cleared.delete(f.uid);
      slot.failed.set(f.uid, entry);
    }
    // Every other target of this GVR processed the object fine (or it no longer concerns them).
    let gvrKey: string;
    try {
      gvrKey = gvrString(msg.gvr);
    } catch {
      return;
    }
    for (const t of x.targetsByGvr.get(gvrKey) ?? []) {
      if (failedNow.has(t.key)) continue;
      const known = this.#known.get(t.key);
      if (!known?.has(msg.uid)) continue;
      known.delete(msg.uid);
      this.#refs.set(t.key, { kind: t.target.kind, namespace: t.target.namespace, name: t.target.name });
      const slot = this.#slot(t.key);
      slot.failed.delete(msg.uid);
      slot.cleared.add(msg.uid);
    }
  }

  /** Learn from a report (another replica's or our own echo). */
  observe(r: ExtractionStatusReport): void {
    const key = targetKeyOf(r.target);
    let known = this.#known.get(key);
    if (!known) this.#known.set(key, (known = new Map()));
    for (const f of r.failed) known.set(f.uid, f);
    for (const uid of r.cleared) known.delete(uid);
  }

  /** The plan redefined these targets: the controller forgets their failures; so do we. */
  forgetTargets(keys: Iterable<string>): void {
    for (const k of keys) {
      this.#known.delete(k);
      this.#pending.delete(k);
    }
  }

  /** The reports to send now (one per target with transitions), clearing them. */
  drain(at = new Date()): ExtractionStatusReport[] {
    const out: ExtractionStatusReport[] = [];
    for (const [key, p] of this.#pending) {
      const target = this.#refs.get(key);
      if (!target || (p.failed.size === 0 && p.cleared.size === 0)) continue;
      out.push({
        schemaVersion: BUS_SCHEMA_VERSION,
        cluster: this.#cluster,
        target,
        planGeneration: this.#planGeneration,
        failed: [...p.failed.values()],
        cleared: [...p.cleared],
        at: at.toISOString(),
      });
    }
    this.#pending.clear();
    return out;
  }
}
