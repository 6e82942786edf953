import { envelopeJson, inventoryKey, type InventoryRef, type KollectError } from '@kollect/contracts';
import type { CompiledSink } from '@kollect/plan';
import {
  envelopeOf,
  objectKey,
  parquetKey,
  resolveFormat,
  DEFAULT_CLUSTER_LABEL,
  joinKey,
} from '@kollect/layout';
import {
  classifySinkError,
  SinkConfigInvalid,
  SinkNeedsFullSnapshot,
  type AppliedPosition,
  type ApplyResult,
  type FullSnapshot,
  type ProbeResult,
  type Sink,
  type SinkCapabilities,
  type SinkLogger,
  type SinkPreview,
} from '@kollect/sink';
import type { ObjectStoreClient } from './client.js';
import { parseObjectEndpoint, type ObjectLocation } from './location.js';
import { DEFAULT_HOT_ATTRIBUTES, renderParquet } from './parquet.js';

/** Object metadata recording the position (lower-case, as S3 and GCS return them). */
export const OBJECT_METADATA = {
  exportGeneration: 'kollect-export-generation',
  checksum: 'kollect-checksum',
  inventory: 'kollect-inventory',
  cluster: 'kollect-cluster',
  schemaVersion: 'kollect-schema-version',
} as const;

export interface ObjectSinkSettings {
  location: ObjectLocation;
  format: 'json' | 'parquet';
  pathTemplate?: string;
  hotAttributes: readonly string[];
  provisioning: 'ensure' | 'existing';
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function sinkName(sink: CompiledSink): string {
  return `${sink.ref.family}/${sink.ref.namespace}/${sink.ref.name}`;
}

/** Read the object-store settings of an s3/gcs sink (terminal config errors). */
export function objectSinkSettings(sink: CompiledSink): ObjectSinkSettings {
  const spec = sink.spec;
  let location: ObjectLocation;
  try {
    location = parseObjectEndpoint(typeof spec['endpoint'] === 'string' ? spec['endpoint'] : '');
  } catch (err) {
    throw SinkConfigInvalid(sinkName(sink), 'spec.endpoint', (err as Error).message);
  }
  const format = resolveFormat(sink.type, spec);
  if (format !== 'json' && format !== 'parquet') {
    throw SinkConfigInvalid(
      sinkName(sink),
      'spec.serialization.format',
      `${format} is not implemented for ${sink.type} sinks; use json or parquet`,
    );
  }
  const os = obj(spec['objectStore']);
  const hot = Array.isArray(os['hotAttributes'])
    ? os['hotAttributes'].filter((x): x is string => typeof x === 'string')
    : [...DEFAULT_HOT_ATTRIBUTES];
  return {
    location,
    format,
    ...(typeof spec['pathTemplate'] === 'string' ? { pathTemplate: spec['pathTemplate'] } : {}),
    hotAttributes: hot,
    provisioning: obj(spec['provisioning'])['mode'] === 'existing' ? 'existing' : 'ensure',
  };
}

/**
 * A snapshot sink over any {@link ObjectStoreClient}: each export rewrites the inventory's object
 * (the JSON envelope, or a Parquet file per CR generation) and records its position in the
 * object's metadata, which `lastApplied` reads back with HeadObject. Not incremental: the
 * framework hands it whole generations.
 */
export class ObjectSnapshotSink implements Sink {
  readonly capabilities: SinkCapabilities = {
    kind: 'object-store',
    formats: ['json', 'parquet'],
    incremental: false,
  };

  constructor(
    readonly type: string,
    private readonly name: string,
    private readonly cluster: string,
    private readonly settings: ObjectSinkSettings,
    private readonly client: ObjectStoreClient,
    private readonly log: SinkLogger,
  ) {}

  private fail(err: unknown): KollectError {
    return classifySinkError(this.name, err);
  }

  async connect(): Promise<void> {
    try {
      if (await this.client.bucketExists()) return;
      if (this.settings.provisioning === 'existing') {
        throw SinkConfigInvalid(
          this.name,
          'spec.endpoint',
          `bucket ${this.settings.location.bucket} does not exist (provisioning.mode: existing)`,
        );
      }
      await this.client.createBucket();
      this.log.info(
        { sink: this.name, bucket: this.settings.location.bucket },
        'created bucket (provisioning.mode: ensure)',
      );
    } catch (err) {
      throw this.fail(err);
    }
  }

  private label(): string {
    return this.cluster || DEFAULT_CLUSTER_LABEL;
  }

  /** Where the JSON document of an inventory lives. */
  jsonKey(inv: InventoryRef, generation: number): string {
    return objectKey(this.settings.location.prefix, this.settings.pathTemplate, {
      cluster: this.cluster,
      inventory: inv,
      generation,
    });
  }

  /** The Parquet partition directory of an inventory (every CR generation's file lives in it). */
  parquetDir(inv: InventoryRef): string {
    const k = parquetKey(this.settings.location.prefix, {
      cluster: this.cluster,
      inventory: inv,
      generation: 0,
    });
    return k.slice(0, k.lastIndexOf('/') + 1);
  }

  private async currentKey(inv: InventoryRef): Promise<string | undefined> {
    if (this.settings.format === 'json') {
      // {generation} in a JSON path template: the newest generation's key is unknown here; the
      // template without it is the common case and the seed's default.
      return this.jsonKey(inv, 0);
    }
    const keys = await this.client.list(this.parquetDir(inv));
    let best: { g: number; key: string } | undefined;
    for (const k of keys) {
      const m = /generation=(\d+)\.parquet$/.exec(k);
      if (m && (!best || Number(m[1]) > best.g)) best = { g: Number(m[1]), key: k };
    }
    return best?.key;
  }

  async lastApplied(inv: InventoryRef): Promise<AppliedPosition | null> {
    try {
      const key = await this.currentKey(inv);
      if (!key) return null;
      const h = await this.client.head(key);
      if (!h) return null;
      if (
        h.metadata[OBJECT_METADATA.inventory] !== inventoryKey(inv) ||
        h.metadata[OBJECT_METADATA.cluster] !== this.label()
      ) {
        // Someone else's object at our key (a fleet without {cluster} in the template): not ours.
        return null;
      }
      const g = Number(h.metadata[OBJECT_METADATA.exportGeneration]);
      return Number.isInteger(g)
        ? { exportGeneration: g, checksum: h.metadata[OBJECT_METADATA.checksum] ?? '' }
        : null;
    } catch (err) {
      throw this.fail(err);
    }
  }

  async applyDiff(): Promise<ApplyResult> {
    throw SinkNeedsFullSnapshot('object-store sinks rewrite the whole object');
  }

  async replace(snap: FullSnapshot): Promise<ApplyResult> {
    try {
      const cur = await this.lastApplied(snap.inventory);
      if (cur && cur.exportGeneration >= snap.exportGeneration) return { changed: false, bytes: 0 };
      const doc = { ...snap, cluster: this.label() };
      const metadata = {
        [OBJECT_METADATA.exportGeneration]: String(snap.exportGeneration),
        [OBJECT_METADATA.checksum]: snap.checksum,
        [OBJECT_METADATA.inventory]: inventoryKey(snap.inventory),
        [OBJECT_METADATA.cluster]: this.label(),
        [OBJECT_METADATA.schemaVersion]: 'kollect.dev/v1alpha1',
      };
      let key: string;
      let body: Buffer;
      let contentType: string;
      if (this.settings.format === 'parquet') {
        key = parquetKey(this.settings.location.prefix, {
          cluster: this.cluster,
          inventory: snap.inventory,
          generation: snap.generation,
        });
        body = renderParquet(doc, this.settings.hotAttributes);
        contentType = 'application/vnd.apache.parquet';
      } else {
        key = this.jsonKey(snap.inventory, snap.generation);
        body = Buffer.from(envelopeJson(envelopeOf(doc)), 'utf8');
        contentType = 'application/json';
      }
      await this.client.put(key, body, contentType, metadata);
      return { changed: true, bytes: body.length, location: `${this.settings.location.bucket}/${key}` };
    } catch (err) {
      throw this.fail(err);
    }
  }

  async probe(): Promise<ProbeResult> {
    const t0 = Date.now();
    try {
      const exists = await this.client.bucketExists();
      if (!exists && this.settings.provisioning === 'existing') {
        return {
          ok: false,
          message: `bucket ${this.settings.location.bucket} does not exist`,
          latencyMs: Date.now() - t0,
          errorClass: 'terminal',
          reason: 'ConnectionTestFailed',
        };
      }
      return {
        ok: true,
        message: `bucket ${this.settings.location.bucket} ${exists ? 'reachable' : 'absent; it is created on the first export'}`,
        latencyMs: Date.now() - t0,
      };
    } catch (err) {
      const e = this.fail(err);
      return {
        ok: false,
        message: e.message,
        latencyMs: Date.now() - t0,
        errorClass: e.errorClass === 'terminal' ? 'terminal' : 'transient',
        reason: 'ConnectionTestFailed',
      };
    }
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

/** The side-effect-free preview of an s3/gcs sink (SEED-SPEC §9.5). */
export function objectPreview(sink: CompiledSink, cluster: string): SinkPreview {
  const s = objectSinkSettings(sink);
  const inv: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'api' };
  const key =
    s.format === 'parquet'
      ? parquetKey(s.location.prefix, { cluster, inventory: inv, generation: 1 })
      : objectKey(s.location.prefix, s.pathTemplate, { cluster, inventory: inv, generation: 1 });
  const warnings: string[] = [];
  const ser = obj(obj(sink.spec)['serialization'])['format'];
  const osf = obj(obj(sink.spec)['objectStore'])['format'];
  if (typeof ser === 'string' && typeof osf === 'string' && ser !== osf)
    warnings.push(`serialization.format ${ser} overrides objectStore.format ${osf}`);
  if (s.format === 'parquet')
    warnings.push(
      `parquet: one file per inventory CR generation; hot attributes as columns ${s.hotAttributes.map((a) => `attr_${a}`).join(', ')}`,
    );
  if (s.provisioning === 'existing') warnings.push('provisioning.mode existing: the bucket must exist');
  return {
    provisioningMode: s.provisioning,
    serializationFormat: s.format,
    warnings,
    details: { objectPath: joinKey(s.location.bucket, key) },
  };
}
