import {
  checksumItems,
  formatRfc3339Nano,
  rowKeyOf,
  rowKeyString,
  sortItems,
  type InventoryRef,
  type Item,
  type SnapshotMessage,
} from '@kollect/contracts';
import { FullSnapshotUnavailable, type FullSnapshot, type FullSnapshotSource } from '@kollect/sink';

/**
 * A reference model of the aggregator for one (cluster, inventory): every generation's rows, the
 * diff messages between them, and full snapshots on request — the `FullSnapshotSource` the
 * conformance suite hands to the framework.
 */
export class InventoryModel implements FullSnapshotSource {
  private readonly gens: Item[][] = [[]];
  /** How many full snapshots were requested. */
  fetches = 0;

  constructor(
    readonly inventory: InventoryRef,
    readonly cluster: string,
    readonly crGeneration = 1,
  ) {}

  /** Record the next generation; returns its number. */
  push(items: readonly Item[]): number {
    this.gens.push(sortItems(items));
    return this.gens.length - 1;
  }

  get current(): number {
    return this.gens.length - 1;
  }

  items(g = this.current): Item[] {
    const it = this.gens[g];
    if (!it) throw new RangeError(`no generation ${g}`);
    return it;
  }

  checksum(g = this.current): string {
    return checksumItems(this.items(g));
  }

  full(g = this.current): FullSnapshot {
    return {
      inventory: this.inventory,
      cluster: this.cluster,
      generation: this.crGeneration,
      exportGeneration: g,
      checksum: this.checksum(g),
      exportedAt: formatRfc3339Nano(new Date(Date.UTC(2026, 0, 1) + g * 1000)),
      items: this.items(g),
    };
  }

  /** The bus message of generation `g`: the diff from g-1, or every row when `kind` is full. */
  message(g = this.current, kind: 'diff' | 'full' = 'diff'): SnapshotMessage {
    const cur = this.items(g);
    const prev = new Map((g > 0 ? this.items(g - 1) : []).map((i) => [rowKeyString(i), i]));
    const now = new Set(cur.map((i) => rowKeyString(i)));
    const upserts =
      kind === 'full'
        ? cur
        : cur.filter((i) => {
            const p = prev.get(rowKeyString(i));
            return !p || JSON.stringify(p) !== JSON.stringify(i);
          });
    const deletes =
      kind === 'full' ? [] : [...prev.entries()].filter(([k]) => !now.has(k)).map(([, i]) => rowKeyOf(i));
    const f = this.full(g);
    return {
      schemaVersion: 'kollect.dev/v1alpha1',
      kind,
      cluster: this.cluster,
      inventory: this.inventory,
      generation: this.crGeneration,
      exportGeneration: g,
      previousGeneration: g - 1,
      checksum: f.checksum,
      itemCount: cur.length,
      exportedAt: f.exportedAt,
      upserts,
      deletes,
    };
  }

  async fetch(_cluster: string, _inventory: InventoryRef, atLeast: number): Promise<FullSnapshot> {
    this.fetches++;
    if (this.current < atLeast)
      throw FullSnapshotUnavailable(this.inventory.name, `model is at ${this.current}, asked for ${atLeast}`);
    return this.full();
  }
}

/** Deterministic rows: `n` Deployments of one target, with a couple of attributes. */
export function makeItems(
  n: number,
  opts: { prefix?: string; image?: (i: number) => string; namespace?: string } = {},
): Item[] {
  const prefix = opts.prefix ?? 'app';
  const ns = opts.namespace ?? 'team-a';
  const out: Item[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      targetNamespace: ns,
      targetName: 'deployments',
      namespace: `${ns}-${i % 10}`,
      name: `${prefix}-${i}`,
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      uid: `${prefix}-uid-${i.toString(16).padStart(8, '0')}`,
      attributes: {
        image: opts.image ? opts.image(i) : `registry.example/${prefix}:${i % 7}`,
        replicas: (i % 3) + 1,
        labels: { app: `${prefix}-${i}` },
      },
    });
  }
  return out;
}
