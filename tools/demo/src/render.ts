import { checksumShort, type InventoryRef, type Item } from '@kollect/contracts';
import type { SnapshotChange } from '@kollect/stack';

/** ANSI styling when the output is a terminal (and NO_COLOR is unset), plain text otherwise. */
export function styles(tty: boolean): {
  bold(s: string): string;
  dim(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
} {
  const on = tty && !process.env['NO_COLOR'];
  const wrap = (code: string) => (s: string) => (on ? `\u001b[${code}m${s}\u001b[0m` : s);
  return { bold: wrap('1'), dim: wrap('2'), green: wrap('32'), yellow: wrap('33'), red: wrap('31') };
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const width = (s: string): number => s.replace(ANSI, '').length;

/** An aligned text table: the first row is the header; numeric-looking cells align right. */
export function table(rows: string[][], indent = '  '): string {
  const cols = Math.max(...rows.map((r) => r.length));
  const w = Array.from({ length: cols }, (_, c) => Math.max(...rows.map((r) => width(r[c] ?? ''))));
  const numeric = (s: string) => /^[0-9][0-9,/]*$/.test(s.replace(ANSI, ''));
  return rows
    .map(
      (r) =>
        indent +
        r
          .map((cell, c) => {
            const pad = ' '.repeat((w[c] ?? 0) - width(cell));
            return numeric(cell) ? pad + cell : cell + pad;
          })
          .join('  ')
          .trimEnd(),
    )
    .join('\n');
}

/** `team-a/team-inventory` or `(cluster)/platform-images`. */
export function invLabel(ref: InventoryRef): string {
  return ref.kind === 'KollectClusterInventory' ? `(cluster)/${ref.name}` : `${ref.namespace}/${ref.name}`;
}

/** A short, single-line rendering of attribute values (`image=nginx:1.27 images=[nginx:1.27,envoy:1.30]`). */
export function attrs(a: Record<string, unknown>, max = 90): string {
  const v = (x: unknown): string =>
    Array.isArray(x)
      ? `[${x.map(v).join(',')}]`
      : x && typeof x === 'object'
        ? `{${Object.entries(x as Record<string, unknown>)
            .map(([k, y]) => `${k}:${v(y)}`)
            .join(',')}}`
        : String(x);
  const s = Object.keys(a)
    .sort()
    .map((k) => `${k}=${v(a[k])}`)
    .join(' ');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** A few sample rows of an inventory: one per target first, then more in sorted order. */
export function sampleRows(items: Iterable<Item>, n: number): Item[] {
  const all = [...items].sort((a, b) =>
    `${a.targetName}/${a.namespace}/${a.name}`.localeCompare(`${b.targetName}/${b.namespace}/${b.name}`),
  );
  const picked: Item[] = [];
  const seen = new Set<string>();
  for (const i of all) {
    if (picked.length >= n) break;
    if (!seen.has(i.targetName)) {
      seen.add(i.targetName);
      picked.push(i);
    }
  }
  for (const i of all) {
    if (picked.length >= n) break;
    if (!picked.includes(i)) picked.push(i);
  }
  return picked;
}

/** Milliseconds as `1.2s` / `850ms`. */
export function dur(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms)}ms`;
}

/** A status condition as the demo reads it. */
export interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/**
 * The one condition worth showing for a Kollect object in the summary: a true `Degraded` first;
 * then for inventories `Synced` (it says whether and where rows are exported: `Exported`,
 * `Debounced`, or `NoExport` when no sink is bound — SEED-SPEC §3.6), for targets `Ready`.
 */
export function conditionToShow(
  kind: string,
  conditions: readonly ConditionView[],
): ConditionView | undefined {
  const degraded = conditions.find((c) => c.type === 'Degraded' && c.status === 'True');
  if (degraded) return degraded;
  const order = kind.endsWith('Inventory') ? ['Synced', 'Ready'] : ['Ready', 'Synced'];
  for (const type of order) {
    const c = conditions.find((x) => x.type === type);
    if (c) return c;
  }
  return undefined;
}

/** One line per applied snapshot generation: `+added ~updated -removed`, rows, checksum, a few names. */
export function changeLine(c: SnapshotChange, s: ReturnType<typeof styles>): string {
  const t = new Date().toISOString().slice(11, 19);
  const what = [
    c.added.length ? s.green(`+${c.added.length}`) : '',
    c.updated.length ? s.yellow(`~${c.updated.length}`) : '',
    c.removed.length ? s.red(`-${c.removed.length}`) : '',
  ]
    .filter(Boolean)
    .join(' ');
  const names = [...c.added, ...c.updated].map((i) => `${i.namespace}/${i.name}`);
  const detail = names.length
    ? s.dim(` ${[...new Set(names)].slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''}`)
    : '';
  return `  ${s.dim(t)}  ${invLabel(c.table.ref).padEnd(28)} generation ${String(c.message.exportGeneration).padStart(3)}  ${what || s.dim('(no row change)')}  ${c.table.rows.size} rows @ ${checksumShort(c.message.checksum)}${detail}`;
}
