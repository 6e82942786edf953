import { MongoClient, type Collection, type Db, type MongoClientOptions } from 'mongodb';
import { inventoryKey, itemJson, KollectError, parseItem, type InventoryRef } from '@kollect/contracts';
import type { CompiledSink } from '@kollect/plan';
import {
  credentialsRef,
  SinkNeedsFullSnapshot,
  type AppliedPosition,
  type ApplyResult,
  type FullSnapshot,
  type ProbeResult,
  type Sink,
  type SinkCapabilities,
  type SinkContext,
  type SinkCredentials,
  type SnapshotDiff,
} from '@kollect/sink';
import {
  EXPORTS_COLLECTION,
  mongoSettings,
  sinkNameOf,
  tlsOptions,
  uriOf,
  type MongoSettings,
} from './config.js';
import {
  awkwardKey,
  batches,
  exportDocument,
  exportId,
  ROW_INDEX_KEYS,
  ROW_INDEX_NAME,
  rowDocuments,
  rowId,
  sameIndexKeys,
  scopeFilter,
  SEED_INDEX_KEYS,
  type ExportDocument,
  type RowDocument,
} from './documents.js';
import {
  classifyMongoError,
  MongoCollectionMissing,
  MongoFieldNameRefused,
  MongoIndexConflict,
} from './errors.js';

/** The canonical Item JSON of a stored payload (document or JSON text); undefined when it is not an Item. */
function canonicalPayload(p: unknown): string | undefined {
  try {
    return itemJson(parseItem(typeof p === 'string' ? JSON.parse(p) : p));
  } catch {
    return undefined;
  }
}

/** Capabilities of the MongoDB backend: rows are replaced and deleted individually. */
export const MONGODB_CAPABILITIES: SinkCapabilities = {
  kind: 'relational',
  formats: ['json'],
  incremental: true,
};

/** Documents per write command (SEED-SPEC §5.7: bulk writes in batches). */
export const BATCH = 1000;

/** Client limits per sink; the URI may override them (e.g. `serverSelectionTimeoutMS`). */
export const CLIENT = {
  serverSelectionTimeoutMS: 30_000,
  connectTimeoutMS: 30_000,
  maxPoolSize: 4,
} as const;

/**
 * The MongoClient options of a sink: {@link CLIENT} limits unless the URI sets them (the driver
 * prefers an options object over the URI, so a limit the URI names is left out), and TLS from
 * spec.tls (the CA PEM the worker resolved; never a file named in the URI).
 */
export function mongoClientOptions(
  uri: string,
  sink: CompiledSink,
  credentials: SinkCredentials,
): MongoClientOptions {
  const q = uri.indexOf('?');
  const inUri = new Set(
    q < 0 ? [] : [...new URLSearchParams(uri.slice(q + 1)).keys()].map((k) => k.toLowerCase()),
  );
  const limits = Object.fromEntries(Object.entries(CLIENT).filter(([k]) => !inUri.has(k.toLowerCase())));
  return {
    ...limits,
    appName: 'kollect-sink',
    // Writes are idempotent by _id; a retried write after a network blip is harmless.
    retryWrites: true,
    ...tlsOptions(sink, credentials),
  };
}

/**
 * One MongoDB sink object. There are no multi-document transactions (a standalone server and
 * FerretDB have none), so every write runs rows first and records the position in
 * `kollect_exports` last: a crash in between leaves the old position, and the export is applied
 * again (row writes are idempotent by `_id`). Readers may briefly see a partly applied export.
 */
export class MongoSink implements Sink {
  readonly type = 'mongodb';
  readonly capabilities = MONGODB_CAPABILITIES;
  private readonly ctx: SinkContext;
  private readonly sinkName: string;
  private settings?: MongoSettings;
  private client?: MongoClient;
  private provisioned = false;

  constructor(ctx: SinkContext) {
    this.ctx = ctx;
    this.sinkName = sinkNameOf(ctx.sink);
  }

  /** Parse settings and credentials (terminal errors) and build the client; no I/O. */
  private prepare(): { client: MongoClient; settings: MongoSettings } {
    if (this.client && this.settings) return { client: this.client, settings: this.settings };
    const settings = mongoSettings(this.ctx.sink);
    const field = credentialsRef(this.ctx.sink)?.field ?? 'spec.mongodb.databaseRef';
    const uri = uriOf(this.sinkName, this.ctx.credentials, field);
    let client: MongoClient;
    try {
      client = new MongoClient(uri, mongoClientOptions(uri, this.ctx.sink, this.ctx.credentials));
    } catch (err) {
      throw classifyMongoError(this.sinkName, err);
    }
    this.settings = settings;
    this.client = client;
    return { client, settings };
  }

  private db(): Db {
    const { client, settings } = this.prepare();
    return client.db(settings.database);
  }

  private rows(): Collection<RowDocument> {
    return this.db().collection<RowDocument>(this.prepare().settings.collection);
  }

  private exports(): Collection<ExportDocument> {
    return this.db().collection<ExportDocument>(EXPORTS_COLLECTION);
  }

  private ns(): string {
    const s = this.prepare().settings;
    return `${s.database}.${s.collection}`;
  }

  /** Run a driver call, classifying whatever it throws. */
  private async io<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (SinkNeedsFullSnapshot.is(err)) throw err;
      throw classifyMongoError(this.sinkName, err);
    }
  }

  async connect(): Promise<void> {
    const { client, settings } = this.prepare();
    if (this.provisioned) return;
    await this.io(() => client.connect());
    if (settings.mode === 'ensure') await this.ensure();
    else await this.preflight();
    this.provisioned = true;
  }

  /** `provisioning.mode: ensure`: the collection and the unique identity index; the seed's index is replaced. */
  private async ensure(): Promise<void> {
    const { settings } = this.prepare();
    const db = this.db();
    await this.io(async () => {
      const exists =
        (await db.listCollections({ name: settings.collection }, { nameOnly: true }).toArray()).length > 0;
      if (!exists) {
        await db.createCollection(settings.collection).catch((err: unknown) => {
          // 48 NamespaceExists: another replica created it first.
          if ((err as { code?: unknown }).code !== 48) throw err;
        });
      }
      const col = this.rows();
      for (const ix of await col.indexes()) {
        const key = ix.key as Record<string, unknown>;
        if (ix.unique && ix.name && sameIndexKeys(key, SEED_INDEX_KEYS)) {
          // Without cluster in it, two clusters' rows collide (SEED-SPEC §15.7).
          await col.dropIndex(ix.name);
          this.ctx.log.warn(
            { sink: this.sinkName, ns: this.ns(), index: ix.name },
            "dropped the seed's unique index (no cluster); replacing it",
          );
        } else if (ix.name === ROW_INDEX_NAME && !(ix.unique && sameIndexKeys(key, ROW_INDEX_KEYS))) {
          throw MongoIndexConflict(
            this.sinkName,
            this.ns(),
            `an index named ${ROW_INDEX_NAME} exists with other keys or options (${JSON.stringify(key)}); drop it so Kollect can create its unique identity index`,
          );
        }
      }
      await col.createIndex(Object.fromEntries(ROW_INDEX_KEYS.map((k) => [k, 1])), {
        unique: true,
        name: ROW_INDEX_NAME,
      });
    });
  }

  /** `provisioning.mode: existing`: no admin calls; the collection must exist. */
  private async preflight(): Promise<void> {
    const { settings } = this.prepare();
    const db = this.db();
    await this.io(async () => {
      const exists =
        (await db.listCollections({ name: settings.collection }, { nameOnly: true }).toArray()).length > 0;
      if (!exists) throw MongoCollectionMissing(this.sinkName, this.ns());
      const indexes = await this.rows().indexes();
      if (
        !indexes.some((ix) => ix.unique && sameIndexKeys(ix.key as Record<string, unknown>, ROW_INDEX_KEYS))
      )
        this.ctx.log.warn(
          { sink: this.sinkName, ns: this.ns() },
          `no unique index on (${ROW_INDEX_KEYS.join(', ')}); rows are still keyed by _id`,
        );
    });
  }

  async lastApplied(inventory: InventoryRef): Promise<AppliedPosition | null> {
    await this.connect();
    return this.position(inventory);
  }

  private async position(inventory: InventoryRef): Promise<AppliedPosition | null> {
    const { settings } = this.prepare();
    const doc = await this.io(() =>
      this.exports().findOne({ _id: exportId(this.ctx.cluster, inventory, settings.collection) }),
    );
    return doc ? { exportGeneration: Number(doc.export_generation), checksum: String(doc.checksum) } : null;
  }

  async applyDiff(diff: SnapshotDiff): Promise<ApplyResult> {
    await this.connect();
    const { settings } = this.prepare();
    const inv = diff.inventory;
    // No transaction to lock the position in: re-read it right before writing, so a second
    // writer that moved the collection is noticed (the framework then replaces).
    const pos = await this.position(inv);
    if (pos && pos.exportGeneration >= diff.exportGeneration) return this.result(false, 0);
    if (!pos || pos.exportGeneration !== diff.previousGeneration)
      throw SinkNeedsFullSnapshot(
        `collection ${this.ns()} holds generation ${pos?.exportGeneration ?? 'none'} of ${inventoryKey(inv)}, the diff applies on top of ${diff.previousGeneration}`,
      );
    const at = new Date(diff.exportedAt);
    const docs = rowDocuments(diff.upserts, inv, this.ctx.cluster, at, settings.payload);
    const ids = diff.deletes.map((k) => rowId(this.ctx.cluster, inv, k));
    await this.deleteIds(ids);
    const bytes = await this.write(docs);
    await this.record(inv, diff.exportGeneration, diff.checksum, diff.itemCount, at);
    return this.result(true, bytes);
  }

  async replace(snapshot: FullSnapshot): Promise<ApplyResult> {
    await this.connect();
    const { settings } = this.prepare();
    const inv = snapshot.inventory;
    const pos = await this.position(inv);
    if (pos && pos.exportGeneration > snapshot.exportGeneration) return this.result(false, 0);
    const at = new Date(snapshot.exportedAt);
    const docs = rowDocuments(snapshot.items, inv, this.ctx.cluster, at, settings.payload);
    // One read of the scope decides everything: documents that are not in the snapshot go
    // (whatever their _id: a collection written by the seed has ObjectIds), new ones are
    // inserted, changed ones replaced, unchanged ones left alone (exported_at keeps the time
    // their content last changed, as in the Postgres sink).
    const existing = await this.io(() =>
      this.rows()
        .find(scopeFilter(this.ctx.cluster, inv), {
          projection: { _id: 1, payload: 1, resource_namespace: 1 },
        })
        .toArray(),
    );
    const have = new Map<unknown, { payload: unknown; resource_namespace: unknown }>();
    for (const d of existing) have.set(d._id, d);
    const keep = new Set(docs.map((d) => d._id));
    const fresh: RowDocument[] = [];
    const changed: RowDocument[] = [];
    for (const d of docs) {
      const h = have.get(d._id);
      if (!h) fresh.push(d);
      else if (
        h.resource_namespace !== d.resource_namespace ||
        canonicalPayload(h.payload) !== canonicalPayload(d.payload)
      )
        changed.push(d);
    }
    await this.deleteIds([...have.keys()].filter((id) => !keep.has(id as string)));
    let bytes = await this.insert(fresh);
    bytes += await this.write(changed);
    await this.record(inv, snapshot.exportGeneration, snapshot.checksum, snapshot.items.length, at);
    return this.result(true, bytes);
  }

  /** Inventory deleted: remove its rows and its position (SEED-SPEC §15.6). */
  async forget(inventory: InventoryRef): Promise<ApplyResult> {
    await this.connect();
    const { settings } = this.prepare();
    const rows = await this.io(() => this.rows().deleteMany(scopeFilter(this.ctx.cluster, inventory)));
    const pos = await this.io(() =>
      this.exports().deleteOne({ _id: exportId(this.ctx.cluster, inventory, settings.collection) }),
    );
    return this.result(rows.deletedCount + pos.deletedCount > 0, 0);
  }

  private result(changed: boolean, bytes: number): ApplyResult {
    return { changed, bytes, location: this.ns() };
  }

  private async deleteIds(ids: readonly unknown[]): Promise<void> {
    const col = this.rows();
    for (const b of batches(ids, BATCH)) await this.io(() => col.deleteMany({ _id: { $in: b as string[] } }));
  }

  /**
   * Write documents by `_id`, a batch at a time: delete the batch's ids, then insert the batch.
   * On FerretDB (the test bed) a bulk of 1,000 `replaceOne` upserts took minutes, while
   * `deleteMany` + `insertMany` of the same batch take well under a second; on MongoDB both are
   * fast. A row being replaced is absent between the two commands of its batch.
   */
  private async write(docs: readonly RowDocument[]): Promise<number> {
    const col = this.rows();
    let bytes = 0;
    for (const b of batches(docs, BATCH)) {
      await this.io(() => col.deleteMany({ _id: { $in: b.map((d) => d._id) } }));
      bytes += await this.insert(b);
    }
    return bytes;
  }

  /** Insert documents known to be absent, a batch at a time. */
  private async insert(docs: readonly RowDocument[]): Promise<number> {
    const col = this.rows();
    let bytes = 0;
    for (const b of batches(docs, BATCH)) {
      try {
        await col.insertMany(b, { ordered: false });
      } catch (err) {
        throw this.explain(err, b);
      }
      for (const d of b)
        bytes += typeof d.payload === 'string' ? d.payload.length : JSON.stringify(d.payload).length;
    }
    return bytes;
  }

  /** Classify a failed insert and, for a refused field name, name the object and the attribute. */
  private explain(err: unknown, batch: readonly RowDocument[]): KollectError {
    const e = classifyMongoError(this.sinkName, err);
    if (!MongoFieldNameRefused.is(e)) return e;
    for (const d of batch) {
      const key = typeof d.payload === 'string' ? undefined : awkwardKey(d.payload.attributes);
      if (key) {
        const it = d.payload as { kind: string; namespace: string; name: string };
        const where = `attribute ${key} of ${it.kind} ${it.namespace ? `${it.namespace}/` : ''}${it.name}`;
        return MongoFieldNameRefused(this.sinkName, (err as Error).message.split('\n')[0] ?? '', where, {
          cause: err,
        });
      }
    }
    return e;
  }

  private async record(
    inv: InventoryRef,
    gen: number,
    checksum: string,
    count: number,
    at: Date,
  ): Promise<void> {
    const { settings } = this.prepare();
    const doc = exportDocument(this.ctx.cluster, inv, settings.collection, gen, checksum, count, at);
    await this.io(() => this.exports().replaceOne({ _id: doc._id }, doc, { upsert: true }));
  }

  async probe(): Promise<ProbeResult> {
    const started = Date.now();
    try {
      const { client, settings } = this.prepare();
      await this.io(async () => {
        await client.connect();
        await client.db(settings.database).command({ ping: 1 });
      });
      if (settings.mode === 'existing') await this.preflight();
      return {
        ok: true,
        message: `connected to MongoDB (ping ok), database ${settings.database}${settings.mode === 'existing' ? `; collection ${settings.collection} exists` : ''}`,
        latencyMs: Date.now() - started,
      };
    } catch (err) {
      const e = err instanceof KollectError ? err : classifyMongoError(this.sinkName, err);
      return {
        ok: false,
        message: e.message,
        latencyMs: Date.now() - started,
        errorClass: e.errorClass === 'transient' || e.errorClass === 'forbidden' ? e.errorClass : 'terminal',
        reason: e.reason === 'SecretResolveFailed' ? 'SecretResolveFailed' : 'ConnectionTestFailed',
      };
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.provisioned = false;
    if (client) await client.close().catch(() => undefined);
  }
}
