import {
  BUS_SCHEMA_VERSION,
  gvrString,
  inventoryKey,
  sinkKey,
  subjects,
  type AggregatorStatusReport,
  type ExtractionStatusReport,
  type SinkStatusReport,
  type WatcherStatusReport,
} from '@kollect/contracts';
import type { Bus, BusNames } from '@kollect/bus';
import {
  applyExtractionReport,
  applySinkReport,
  targetKey,
  watchStateKey,
  type SinkExportState,
  type TargetFailureState,
  type WatchSpec,
} from '@kollect/plan';

/** Which worker sent a report (the `<source>` token of `kollect.status.<source>.<cluster>`). */
export type ReportSource = 'sink' | 'aggregator' | 'extractor' | 'watcher';

/** What a report touched, so the controller resyncs only that status. */
export type ReportEffect =
  | { kind: 'inventory'; key: string }
  | { kind: 'target'; key: string }
  | { kind: 'watch' }
  | { kind: 'ignored'; why: string };

/**
 * The controller's memory of worker reports, folded with the pure reducers of `@kollect/plan`.
 * Every replica keeps it warm (reports are read by an ordered consumer, which changes nothing on
 * the server), so a new leader writes correct status at once.
 */
export class RuntimeState {
  /** inventoryKey → sinkKey → state. */
  readonly sinks = new Map<string, Map<string, SinkExportState>>();
  /** inventoryKey → last aggregator report. */
  readonly aggregator = new Map<string, AggregatorStatusReport>();
  /** targetKey → failures. */
  readonly failures = new Map<string, TargetFailureState>();
  /** watchStateKey → last watcher report. */
  readonly watches = new Map<string, WatcherStatusReport>();
  readonly #fingerprint: (targetKey: string) => string | undefined;

  /** `fingerprint` gives a target's current definition fingerprint (undefined before the first compile). */
  constructor(fingerprint: (targetKey: string) => string | undefined) {
    this.#fingerprint = fingerprint;
  }

  apply(source: ReportSource, body: unknown): ReportEffect {
    const r = body as { schemaVersion?: unknown } | null;
    if (!r || r.schemaVersion !== BUS_SCHEMA_VERSION)
      return { kind: 'ignored', why: `schemaVersion ${String(r?.schemaVersion)}` };
    switch (source) {
      case 'sink': {
        const s = body as SinkStatusReport;
        const inv = inventoryKey(s.inventory);
        let m = this.sinks.get(inv);
        if (!m) this.sinks.set(inv, (m = new Map()));
        const k = sinkKey(s.sink);
        m.set(k, applySinkReport(m.get(k), s));
        return { kind: 'inventory', key: inv };
      }
      case 'aggregator': {
        const a = body as AggregatorStatusReport;
        const inv = inventoryKey(a.inventory);
        const prev = this.aggregator.get(inv);
        // Reports of one inventory come from its one owner, in order; after a takeover the new
        // owner starts from the persisted generation, so a lower export generation is stale.
        if (prev && a.exportGeneration < prev.exportGeneration && a.planGeneration <= prev.planGeneration) {
          return { kind: 'ignored', why: 'stale aggregator report' };
        }
        this.aggregator.set(inv, a);
        return { kind: 'inventory', key: inv };
      }
      case 'extractor': {
        const e = body as ExtractionStatusReport;
        const tk = targetKey(e.target);
        // Before the first compile the fingerprint is unknown: adopt whatever comes first ('*').
        const fp = this.#fingerprint(tk) ?? '*';
        const prev = this.failures.get(tk);
        const base = prev && prev.fingerprint === '*' ? { ...prev, fingerprint: fp } : prev;
        this.failures.set(tk, applyExtractionReport(base, fp, e));
        return { kind: 'target', key: tk };
      }
      case 'watcher': {
        const w = body as WatcherStatusReport;
        this.watches.set(watchStateKey(w.gvr, w.namespace), w);
        return { kind: 'watch' };
      }
      default:
        return { kind: 'ignored', why: `unknown source ${String(source)}` };
    }
  }

  /**
   * Forget inventories and targets that no longer exist (reports about a CR arrive only after
   * the plan named it, which follows a compile that saw the CR, so nothing live is dropped), and
   * the reports of watches the published plan no longer needs (`watches`: its watch list), so a
   * stopped scope's last state — a failure, an oversized object — does not linger.
   */
  prune(
    inventories: ReadonlySet<string>,
    targets: ReadonlySet<string>,
    watches?: readonly WatchSpec[],
  ): void {
    for (const k of this.sinks.keys()) if (!inventories.has(k)) this.sinks.delete(k);
    for (const k of this.aggregator.keys()) if (!inventories.has(k)) this.aggregator.delete(k);
    for (const k of this.failures.keys()) if (!targets.has(k)) this.failures.delete(k);
    if (!watches) return;
    const specs = new Map(watches.map((w) => [gvrString(w.gvr), w]));
    for (const [k, w] of this.watches) {
      const spec = specs.get(gvrString(w.gvr));
      const needed =
        spec !== undefined &&
        (w.namespace === null || spec.namespaces === null || spec.namespaces.includes(w.namespace));
      if (!needed) this.watches.delete(k);
    }
  }

  /** Failures of a target, re-keyed to the current fingerprint when they were adopted before a compile. */
  failuresOf(targetKeyStr: string, fingerprint: string): TargetFailureState | undefined {
    const f = this.failures.get(targetKeyStr);
    if (f && f.fingerprint === '*') f.fingerprint = fingerprint;
    return f;
  }
}

/** The source of a report from its (contract) subject `kollect.status.<source>.<cluster>`. */
export function sourceOfSubject(contractSubject: string): ReportSource | undefined {
  const parts = contractSubject.split('.');
  const s = parts[2];
  return s === 'sink' || s === 'aggregator' || s === 'extractor' || s === 'watcher' ? s : undefined;
}

/** A running report reader. */
export interface ReportReader {
  stop(): Promise<void>;
  done: Promise<void>;
}

/**
 * Read every status report of this cluster — the retained window first, then live — through an
 * ephemeral ordered consumer (no server-side state to share or clean up; every replica reads).
 * Restarts itself when the consumer breaks.
 */
export function readReports(
  bus: Bus,
  names: BusNames,
  cluster: string,
  onReport: (source: ReportSource, body: unknown, streamSeq: number) => void,
  log: { warn(obj: object, msg?: string): void },
): ReportReader {
  const ctl = new AbortController();
  const filters = (['sink', 'aggregator', 'extractor', 'watcher'] as const).map((s) =>
    names.subject(subjects.status(s, cluster)),
  );
  let lastSeq = 0;
  const run = async (): Promise<void> => {
    while (!ctl.signal.aborted) {
      try {
        const consumer = await bus.js.consumers.get(names.streams.status, {
          filter_subjects: filters,
          // Resume after the last report handled when the consumer is recreated.
          ...(lastSeq > 0
            ? { deliver_policy: 'by_start_sequence' as const, opt_start_seq: lastSeq + 1 }
            : { deliver_policy: 'all' as const }),
        });
        const iter = await consumer.consume({ max_messages: 256 });
        const stop = (): void => void iter.stop();
        ctl.signal.addEventListener('abort', stop, { once: true });
        try {
          for await (const m of iter) {
            lastSeq = m.info.streamSequence;
            const source = sourceOfSubject(names.contractSubject(m.subject));
            if (!source) continue;
            let body: unknown;
            try {
              body = m.json();
            } catch {
              log.warn(
                { subject: m.subject, seq: m.info.streamSequence },
                'status report is not JSON; skipped',
              );
              continue;
            }
            onReport(source, body, m.info.streamSequence);
          }
        } finally {
          ctl.signal.removeEventListener('abort', stop);
        }
      } catch (err) {
        if (ctl.signal.aborted) return;
        log.warn({ err: String(err) }, 'status report reader broke; restarting');
      }
      if (!ctl.signal.aborted) await new Promise((r) => setTimeout(r, 1000));
    }
  };
  const done = run();
  return {
    done,
    async stop() {
      ctl.abort();
      await done;
    },
  };
}
