import { canonicalString } from './canonical-json.js';
import { checksumSortedItems } from './checksum.js';
import { itemJson, parseItem, sortItems, type Item } from './item.js';
import type { InventoryRef } from './inventory.js';
import { formatRfc3339Nano } from './time.js';

/** The export schema version carried by every envelope and public message. */
export const SCHEMA_VERSION = 'kollect.dev/v1alpha1';

/**
 * A whole snapshot document (SEED-SPEC §5.2 + CONTRACT.md). Key order on the wire:
 * schemaVersion, checksum, generation (omitted when 0), itemCount, exportedAt, cluster (omitted
 * when ""), inventory, exportGeneration, items. The seed's fields keep the seed's relative order;
 * `inventory` and `exportGeneration` are additive and sit before `items` so that streaming
 * readers see all metadata first.
 */
export interface Envelope {
  schemaVersion: typeof SCHEMA_VERSION;
  checksum: string;
  /** The inventory CR's metadata.generation; 0 = omitted. */
  generation: number;
  itemCount: number;
  /** RFC 3339 with nanoseconds, UTC. */
  exportedAt: string;
  /** Fleet partition label; "" = omitted. */
  cluster: string;
  inventory?: InventoryRef;
  /** Per (cluster, inventory): +1 on each export whose checksum changed. */
  exportGeneration?: number;
  items: Item[];
}

/** Inputs for {@link buildEnvelope}. */
export interface EnvelopeInput {
  items: readonly Item[];
  exportedAt: Date | bigint | string;
  generation?: number;
  cluster?: string;
  inventory?: InventoryRef;
  exportGeneration?: number;
  /** Pass when the items are already sorted and the checksum known, to skip the work. */
  presorted?: { checksum: string };
}

/** Build an envelope: items sorted canonically, checksum and count filled in. */
export function buildEnvelope(input: EnvelopeInput): Envelope {
  const items = input.presorted ? [...input.items] : sortItems(input.items);
  const checksum = input.presorted?.checksum ?? checksumSortedItems(items);
  const env: Envelope = {
    schemaVersion: SCHEMA_VERSION,
    checksum,
    generation: input.generation ?? 0,
    itemCount: items.length,
    exportedAt: typeof input.exportedAt === 'string' ? input.exportedAt : formatRfc3339Nano(input.exportedAt),
    cluster: input.cluster ?? '',
    items,
  };
  if (input.inventory) env.inventory = input.inventory;
  if (input.exportGeneration !== undefined) env.exportGeneration = input.exportGeneration;
  return env;
}

/** The canonical, compact JSON of an envelope. */
export function envelopeJson(env: Envelope): string {
  let s = '{"schemaVersion":' + canonicalString(env.schemaVersion);
  s += ',"checksum":' + canonicalString(env.checksum);
  if (env.generation) s += ',"generation":' + String(env.generation);
  s += ',"itemCount":' + String(env.itemCount);
  s += ',"exportedAt":' + canonicalString(env.exportedAt);
  if (env.cluster) s += ',"cluster":' + canonicalString(env.cluster);
  if (env.inventory) {
    s += ',"inventory":{"kind":' + canonicalString(env.inventory.kind);
    s += ',"namespace":' + canonicalString(env.inventory.namespace);
    s += ',"name":' + canonicalString(env.inventory.name) + '}';
  }
  if (env.exportGeneration !== undefined) s += ',"exportGeneration":' + String(env.exportGeneration);
  s += ',"items":[';
  for (let i = 0; i < env.items.length; i++) {
    if (i > 0) s += ',';
    s += itemJson(env.items[i] as Item);
  }
  return s + ']}';
}

/** Error thrown when a document is neither a supported envelope nor a legacy item array. */
export class EnvelopeFormatError extends Error {
  override name = 'EnvelopeFormatError';
}

/**
 * Read a snapshot document: an envelope (detected by a non-empty `schemaVersion`; any version
 * other than {@link SCHEMA_VERSION} is an error) or a legacy bare array of items.
 */
export function parseEnvelope(doc: unknown): Envelope {
  if (Array.isArray(doc)) {
    const items = doc.map((x, i) => parseItem(x, `items[${i}]`));
    return buildEnvelope({ items, exportedAt: '' });
  }
  if (typeof doc !== 'object' || doc === null) {
    throw new EnvelopeFormatError('snapshot document must be an envelope object or an array of items');
  }
  const d = doc as Record<string, unknown>;
  const version = d['schemaVersion'];
  if (typeof version !== 'string' || version === '') {
    throw new EnvelopeFormatError('snapshot document has no schemaVersion');
  }
  if (version !== SCHEMA_VERSION) {
    throw new EnvelopeFormatError(
      `unsupported schemaVersion ${JSON.stringify(version)}; this reader understands ${SCHEMA_VERSION}`,
    );
  }
  const rawItems = d['items'] ?? [];
  if (!Array.isArray(rawItems)) throw new EnvelopeFormatError('items: expected an array');
  const items = rawItems.map((x, i) => parseItem(x, `items[${i}]`));
  const env: Envelope = {
    schemaVersion: SCHEMA_VERSION,
    checksum: typeof d['checksum'] === 'string' ? d['checksum'] : '',
    generation: typeof d['generation'] === 'number' ? d['generation'] : 0,
    itemCount: typeof d['itemCount'] === 'number' ? d['itemCount'] : items.length,
    exportedAt: typeof d['exportedAt'] === 'string' ? d['exportedAt'] : '',
    cluster: typeof d['cluster'] === 'string' ? d['cluster'] : '',
    items,
  };
  const inv = d['inventory'];
  if (inv && typeof inv === 'object') env.inventory = inv as InventoryRef;
  if (typeof d['exportGeneration'] === 'number') env.exportGeneration = d['exportGeneration'];
  return env;
}
