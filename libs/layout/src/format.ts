/**
 * Serialization formats and their precedence (SEED-SPEC §5.4, §15.9):
 * `serialization.format` → `objectStore.format` → the type default (yaml for git/gitlab, json
 * otherwise).
 */
export type SnapshotFormat = 'yaml' | 'json' | 'ndjson' | 'parquet' | 'csv';

const GIT_TYPES = new Set(['git', 'gitlab']);

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function block(spec: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const v = spec[key];
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
}

/** The effective format of a sink spec. */
export function resolveFormat(type: string, spec: Record<string, unknown>): SnapshotFormat {
  const f =
    str(block(spec, 'serialization')?.['format']) ??
    str(block(spec, 'objectStore')?.['format']) ??
    (GIT_TYPES.has(type) ? 'yaml' : 'json');
  return f as SnapshotFormat;
}

/** File extension of a format (never `.yml`). */
export function extensionOf(format: SnapshotFormat): string {
  switch (format) {
    case 'yaml':
      return '.yaml';
    case 'ndjson':
      return '.ndjson';
    case 'parquet':
      return '.parquet';
    case 'csv':
      return '.csv';
    default:
      return '.json';
  }
}
