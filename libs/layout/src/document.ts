import {
  buildEnvelope,
  envelopeJson,
  formatRfc3339Seconds,
  itemJson,
  SCHEMA_VERSION,
  type Envelope,
  type InventoryRef,
  type Item,
} from '@kollect/contracts';
import type { SnapshotFormat } from './format.js';
import { toYaml } from './yaml.js';

/** One whole generation, as the layouts see it (items canonically sorted). */
export interface SnapshotDocument {
  inventory: InventoryRef;
  cluster: string;
  generation: number;
  exportGeneration: number;
  checksum: string;
  exportedAt: string;
  items: readonly Item[];
}

/** The envelope of a snapshot (SEED-SPEC §5.2 + CONTRACT.md additions). */
export function envelopeOf(doc: SnapshotDocument): Envelope {
  return buildEnvelope({
    items: doc.items,
    exportedAt: doc.exportedAt,
    generation: doc.generation,
    cluster: doc.cluster,
    inventory: doc.inventory,
    exportGeneration: doc.exportGeneration,
    presorted: { checksum: doc.checksum },
  });
}

/** An item as a plain JSON value in the contract's key order (sorted attributes, `group` omitted when ""). */
export function itemValue(item: Item): Record<string, unknown> {
  return JSON.parse(itemJson(item)) as Record<string, unknown>;
}

/** An item for the YAML emitter (which sorts keys itself): the item without an empty group. */
export function yamlItem(item: Item): Record<string, unknown> {
  if (item.group !== '') return item as unknown as Record<string, unknown>;
  const { group: _group, ...rest } = item;
  return rest;
}

/**
 * The `document` layout file (SEED-SPEC §5.4): `json` is the raw compact envelope; `yaml` a
 * YAML list of items without envelope (keys sorted); `ndjson` one compact item per line.
 */
export function renderDocument(format: SnapshotFormat, doc: SnapshotDocument): string {
  switch (format) {
    case 'json':
      return envelopeJson(envelopeOf(doc));
    case 'ndjson': {
      let s = '';
      for (const it of doc.items) s += itemJson(it) + '\n';
      return s;
    }
    case 'yaml':
      // The emitter sorts keys itself, so a shallow copy without an empty group is enough.
      return toYaml(doc.items.map(yamlItem));
    default:
      throw new TypeError(`format ${format} is not a document format of git sinks (yaml, json, ndjson)`);
  }
}

/** A single JSON-like value as a file of the given format (per-resource files, the index). */
export function renderValue(
  format: SnapshotFormat,
  value: unknown,
  opts: { sortKeys?: boolean } = {},
): string {
  switch (format) {
    case 'yaml':
      return toYaml(value, opts);
    case 'ndjson':
      return JSON.stringify(value) + '\n';
    default:
      return JSON.stringify(value, null, 2) + '\n';
  }
}

/** The split layout's index (SEED-SPEC §5.4): metadata plus every per-row path. */
export function indexValue(doc: SnapshotDocument, paths: readonly string[]): Record<string, unknown> {
  const at = Date.parse(doc.exportedAt);
  return {
    schemaVersion: SCHEMA_VERSION,
    itemCount: doc.items.length,
    checksum: doc.checksum,
    exportedAt: Number.isNaN(at) ? doc.exportedAt : formatRfc3339Seconds(new Date(at)),
    cluster: doc.cluster,
    paths: [...paths],
  };
}
