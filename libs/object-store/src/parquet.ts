import { parquetWriteBuffer } from 'hyparquet-writer';
import { canonicalJson, inventoryPathNamespace, type Item } from '@kollect/contracts';
import type { SnapshotDocument } from '@kollect/layout';

/** Default hot attributes promoted to `attr_*` columns (SEED-SPEC §5.5). */
export const DEFAULT_HOT_ATTRIBUTES = ['image', 'version'] as const;

/** `attr_<name>`: lower-cased, `-` and `.` become `_`. */
export function hotColumnName(attr: string): string {
  return `attr_${attr.toLowerCase().replace(/[-.]/g, '_')}`;
}

function hotValue(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return canonicalJson(v);
  return String(v);
}

/** Microseconds since the epoch of an RFC 3339 timestamp with up to nanosecond digits. */
export function rfc3339Micros(s: string): bigint {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return BigInt(Date.parse(s) || 0) * 1000n;
  const whole = BigInt(Date.parse(`${m[1]}${m[3]}`)) * 1000n;
  const frac = ((m[2] ?? '') + '000000').slice(0, 6);
  return whole + BigInt(frac);
}

/**
 * One Parquet file per generation (SEED-SPEC §5.5): one row per item with columns `cluster,
 * inventory_namespace, inventory_name, target_namespace, target_name, namespace, name, uid,
 * group (optional), api_version, kind, exported_at (timestamp µs, UTC), attributes (JSON)`,
 * plus an optional string column `attr_<name>` per hot attribute.
 */
export function renderParquet(
  doc: SnapshotDocument,
  hotAttributes: readonly string[] = DEFAULT_HOT_ATTRIBUTES,
): Buffer {
  const items = doc.items as Item[];
  const n = items.length;
  const col = <T>(f: (i: Item) => T): T[] => items.map(f);
  const exportedAt = rfc3339Micros(doc.exportedAt);
  const str = (name: string, data: (string | null)[], nullable = false) => ({
    name,
    data,
    nullable,
  });
  const hot = [...new Set(hotAttributes)].map((a) =>
    str(
      hotColumnName(a),
      col((i) => hotValue(i.attributes[a])),
      true,
    ),
  );
  const columnData = [
    str('cluster', new Array<string>(n).fill(doc.cluster)),
    str('inventory_namespace', new Array<string>(n).fill(inventoryPathNamespace(doc.inventory))),
    str('inventory_name', new Array<string>(n).fill(doc.inventory.name)),
    str(
      'target_namespace',
      col((i) => i.targetNamespace),
    ),
    str(
      'target_name',
      col((i) => i.targetName),
    ),
    str(
      'namespace',
      col((i) => i.namespace),
    ),
    str(
      'name',
      col((i) => i.name),
    ),
    str(
      'uid',
      col((i) => i.uid),
    ),
    str(
      'group',
      col((i) => (i.group === '' ? null : i.group)),
      true,
    ),
    str(
      'api_version',
      col((i) => (i.group ? `${i.group}/${i.version}` : i.version)),
    ),
    str(
      'kind',
      col((i) => i.kind),
    ),
    { name: 'exported_at', data: new Array<bigint>(n).fill(exportedAt), nullable: false },
    {
      name: 'attributes',
      data: col((i) => Buffer.from(canonicalJson(i.attributes ?? {}), 'utf8')),
      nullable: false,
    },
    ...hot,
  ];
  const schema = [
    { name: 'root', num_children: columnData.length },
    ...columnData.map((c) => {
      if (c.name === 'exported_at') {
        return {
          name: c.name,
          type: 'INT64' as const,
          repetition_type: 'REQUIRED' as const,
          logical_type: { type: 'TIMESTAMP' as const, isAdjustedToUTC: true, unit: 'MICROS' as const },
        };
      }
      if (c.name === 'attributes') {
        // Pre-encoded canonical JSON: the writer's JSON converted type would stringify again.
        return {
          name: c.name,
          type: 'BYTE_ARRAY' as const,
          repetition_type: 'REQUIRED' as const,
          logical_type: { type: 'JSON' as const },
        };
      }
      return {
        name: c.name,
        type: 'BYTE_ARRAY' as const,
        converted_type: 'UTF8' as const,
        repetition_type: c.nullable ? ('OPTIONAL' as const) : ('REQUIRED' as const),
      };
    }),
  ];
  const buf = parquetWriteBuffer({
    columnData,
    schema,
    rowGroupSize: 100_000,
    kvMetadata: [
      { key: 'kollect.schemaVersion', value: 'kollect.dev/v1alpha1' },
      { key: 'kollect.checksum', value: doc.checksum },
      { key: 'kollect.exportGeneration', value: String(doc.exportGeneration) },
    ],
    createdBy: 'kollect',
  });
  return Buffer.from(buf);
}
