import { decodeSnapshotMessage, type FullSnapshotReply } from '@kollect/aggregate';
import { decodeJson, encodeJson, type Bus, type BusNames } from '@kollect/bus';
import {
  checksumItems,
  inventoryKey,
  rowKeyOf,
  rowKeyString,
  subjects,
  type InventoryRef,
  type Item,
  type RowKey,
  type SnapshotMessage,
} from '@kollect/contracts';

/** One inventory as a subscriber of the public snapshot subjects sees it: diffs folded into a table. */
export interface InventoryTable {
  ref: InventoryRef;
  /** The row table: `rowKeyString(key)` → item. */
  rows: Map<string, Item>;
  exportGeneration: number;
  checksum: string;
  itemCount: number;
  exportedAt: string;
  /** Snapshot messages applied (full or diff). */
  applied: number;
  /** Chain breaks, checksum or count mismatches found while folding (empty when all is well). */
  problems: string[];
  /** Every delete ever applied, with the generation that carried it. */
  deletes: { key: RowKey; exportGeneration: number }[];
  /** Every row key ever upserted with the last item seen for it (also after it was deleted). */
  everUpserted: Map<string, Item>;
}

/** What one applied snapshot changed (for live output). */
export interface SnapshotChange {
  table: InventoryTable;
  message: SnapshotMessage;
  added: Item[];
  updated: Item[];
  removed: RowKey[];
}

/** Options of {@link SnapshotFeed.start}. */
export interface SnapshotFeedOptions {
  /** Called after each applied snapshot. */
  onChange?: (change: SnapshotChange) => void;
  /** Subject filter under the public root (default every snapshot: `kollect.snap.>`). */
  filter?: string;
}

const decoder = new TextDecoder();

/**
 * A subscriber of the public snapshot subjects (`kollect.snap.>`, ARCHITECTURE.md §2 "Subscribing
 * is a feature"): reads the snapshot stream from its start with an ordered consumer, resolves
 * object-store references, and folds each inventory's generations into a row table the way a sink
 * would (invariant 5: a diff applies only on top of its previous generation; a gap is repaired by
 * asking for a full snapshot). Every generation's checksum and count are verified.
 */
export class SnapshotFeed {
  readonly #bus: Bus;
  readonly #names: BusNames;
  readonly #tables = new Map<string, InventoryTable>();
  readonly #opts: SnapshotFeedOptions;
  #stop: (() => void) | undefined;
  #done: Promise<void> = Promise.resolve();
  #error: unknown;
  #seen = 0;

  private constructor(bus: Bus, names: BusNames, opts: SnapshotFeedOptions) {
    this.#bus = bus;
    this.#names = names;
    this.#opts = opts;
  }

  static async start(bus: Bus, names: BusNames, opts: SnapshotFeedOptions = {}): Promise<SnapshotFeed> {
    const feed = new SnapshotFeed(bus, names, opts);
    const consumer = await bus.js.consumers.get(names.streams.snapshots, {
      filter_subjects: names.subject(opts.filter ?? subjects.snapshotsAll),
    });
    const store = await bus.objm.open(names.buckets.full);
    const iter = await consumer.consume();
    feed.#stop = () => void iter.stop();
    feed.#done = (async () => {
      for await (const m of iter) {
        try {
          let msg = decodeSnapshotMessage(m.data);
          if (msg.objectRef) {
            const data = await store.getBlob(msg.objectRef.name);
            if (!data)
              throw new Error(`snapshot payload ${msg.objectRef.name} is missing from the object store`);
            msg = decodeSnapshotMessage(data);
          }
          feed.#seen++;
          await feed.#apply(msg);
        } catch (err) {
          feed.#error ??= err;
        }
      }
    })();
    return feed;
  }

  /** Snapshot messages received so far. */
  get received(): number {
    return this.#seen;
  }

  /** The first error the reader hit (a malformed message), if any. */
  get error(): unknown {
    return this.#error;
  }

  /** The table of an inventory (undefined before its first snapshot). */
  table(ref: InventoryRef): InventoryTable | undefined {
    return this.#tables.get(inventoryKey(ref));
  }

  tables(): InventoryTable[] {
    return [...this.#tables.values()];
  }

  async #apply(msg: SnapshotMessage): Promise<void> {
    const key = inventoryKey(msg.inventory);
    let t = this.#tables.get(key);
    if (!t) {
      t = {
        ref: msg.inventory,
        rows: new Map(),
        exportGeneration: 0,
        checksum: '',
        itemCount: 0,
        exportedAt: '',
        applied: 0,
        problems: [],
        deletes: [],
        everUpserted: new Map(),
      };
      this.#tables.set(key, t);
    }
    if (msg.exportGeneration <= t.exportGeneration) return; // redelivery of an applied generation
    if (msg.kind === 'diff' && msg.previousGeneration !== t.exportGeneration) {
      // A gap (we joined late, or the stream aged out): repair with the current full snapshot.
      const full = await this.requestFull(msg.inventory, msg.cluster).catch(() => undefined);
      if (full && full.exportGeneration >= msg.exportGeneration) {
        this.#replace(t, full);
        return;
      }
      t.problems.push(
        `gap: at generation ${t.exportGeneration}, got diff ${msg.previousGeneration}->${msg.exportGeneration}`,
      );
    }
    if (msg.kind === 'full') {
      this.#replace(t, msg);
      return;
    }
    const added: Item[] = [];
    const updated: Item[] = [];
    const removed: RowKey[] = [];
    for (const k of msg.deletes) {
      const ks = rowKeyString(k);
      if (t.rows.delete(ks)) removed.push(k);
      t.deletes.push({ key: k, exportGeneration: msg.exportGeneration });
    }
    for (const i of msg.upserts) {
      const ks = rowKeyString(rowKeyOf(i));
      (t.rows.has(ks) ? updated : added).push(i);
      t.rows.set(ks, i);
      t.everUpserted.set(ks, i);
    }
    this.#finish(t, msg, added, updated, removed);
  }

  #replace(t: InventoryTable, msg: SnapshotMessage): void {
    const before = t.rows;
    t.rows = new Map(msg.upserts.map((i) => [rowKeyString(rowKeyOf(i)), i]));
    const added: Item[] = [];
    const updated: Item[] = [];
    const removed: RowKey[] = [];
    for (const [k, i] of t.rows) {
      t.everUpserted.set(k, i);
      const old = before.get(k);
      if (!old) added.push(i);
      else if (JSON.stringify(old) !== JSON.stringify(i)) updated.push(i);
    }
    for (const [k, i] of before) if (!t.rows.has(k)) removed.push(rowKeyOf(i));
    this.#finish(t, msg, added, updated, removed);
  }

  #finish(t: InventoryTable, msg: SnapshotMessage, added: Item[], updated: Item[], removed: RowKey[]): void {
    t.exportGeneration = msg.exportGeneration;
    t.checksum = msg.checksum;
    t.itemCount = msg.itemCount;
    t.exportedAt = msg.exportedAt;
    t.applied++;
    if (checksumItems([...t.rows.values()]) !== msg.checksum)
      t.problems.push(`checksum mismatch at generation ${msg.exportGeneration}`);
    if (t.rows.size !== msg.itemCount)
      t.problems.push(
        `itemCount ${msg.itemCount} but ${t.rows.size} rows at generation ${msg.exportGeneration}`,
      );
    this.#opts.onChange?.({ table: t, message: msg, added, updated, removed });
  }

  /**
   * Ask the owning aggregator for the full snapshot of an inventory's current generation
   * (request/reply on `kollect.ctl.full.…`); retries while the owner is not ready.
   */
  async requestFull(ref: InventoryRef, cluster: string, timeoutMs = 15_000): Promise<SnapshotMessage> {
    const subject = this.#names.subject(subjects.fullSnapshotRequest(cluster, ref));
    const end = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < end) {
      try {
        const reply = await this.#bus.nc.request(subject, encodeJson({}), { timeout: 3000 });
        const r = decodeJson<FullSnapshotReply>(reply.data, subject);
        if (r.ok) {
          let snap = r.snapshot;
          if (snap.objectRef) {
            const store = await this.#bus.objm.open(this.#names.buckets.full);
            const data = await store.getBlob(snap.objectRef.name);
            if (!data)
              throw new Error(`full snapshot ${snap.objectRef.name} is missing from the object store`);
            snap = decodeSnapshotMessage(decoder.decode(data));
          }
          return snap;
        }
        last = `${r.reason}: ${r.message}`;
        await new Promise((res) => setTimeout(res, r.retryAfterMs ?? 1000));
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
        await new Promise((res) => setTimeout(res, 500));
      }
    }
    throw new Error(`no full snapshot of ${inventoryKey(ref)} within ${timeoutMs} ms (${last})`);
  }

  /** Stop reading. */
  async stop(): Promise<void> {
    this.#stop?.();
    await this.#done.catch(() => undefined);
  }
}
