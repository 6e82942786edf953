import { DEFAULT_SINK_NAMESPACE } from './constants.js';
import type { InventorySinkRef, InventorySinkRefListEntry } from './schema/common.js';

/** The three sink families and the inventory field that lists each. */
export const SINK_FAMILIES = ['snapshot', 'database', 'event'] as const;
export type SinkFamily = (typeof SINK_FAMILIES)[number];

/** Inventory spec field of each family's ref list. */
export const SINK_REF_FIELDS: Readonly<
  Record<SinkFamily, 'snapshotSinkRefs' | 'databaseSinkRefs' | 'eventSinkRefs'>
> = {
  snapshot: 'snapshotSinkRefs',
  database: 'databaseSinkRefs',
  event: 'eventSinkRefs',
};

/** Kind of each family's sink objects. */
export const SINK_KINDS = {
  snapshot: 'KollectSnapshotSink',
  database: 'KollectDatabaseSink',
  event: 'KollectEventSink',
} as const satisfies Record<SinkFamily, string>;

/**
 * Turn a ref list as stored (plain names and/or objects) into objects: `"audit-git"` becomes
 * `{name: "audit-git"}`. Objects are copied; entries of any other type are dropped (validate()
 * reports them).
 */
export function normalizeSinkRefs(
  list: readonly InventorySinkRefListEntry[] | undefined,
): InventorySinkRef[] {
  const out: InventorySinkRef[] = [];
  for (const entry of list ?? []) {
    if (typeof entry === 'string') out.push({ name: entry });
    else if (typeof entry === 'object' && entry !== null && typeof entry.name === 'string')
      out.push({ ...entry });
  }
  return out;
}

/** One inventory → sink binding with its family and position in the spec. */
export interface SinkBinding {
  readonly family: SinkFamily;
  /** Status key `<family>/<name>`, as in `status.sinkExports[].name`. */
  readonly key: string;
  readonly ref: InventorySinkRef;
  /** Index in the family list, for field paths such as `spec.databaseSinkRefs[1]`. */
  readonly index: number;
  /** Namespace the sink resolves in. */
  readonly namespace: string;
}

interface SinkRefSpec {
  readonly snapshotSinkRefs?: readonly InventorySinkRefListEntry[] | undefined;
  readonly databaseSinkRefs?: readonly InventorySinkRefListEntry[] | undefined;
  readonly eventSinkRefs?: readonly InventorySinkRefListEntry[] | undefined;
  readonly sinkNamespace?: string | undefined;
}

/**
 * All bindings of an inventory spec, normalized, in family order. `inventoryNamespace` is the
 * namespace of a namespaced inventory; omit it for a cluster inventory, whose refs resolve in
 * their own `namespace`, else `spec.sinkNamespace`, else `kollect-system`.
 */
export function sinkBindings(spec: SinkRefSpec, inventoryNamespace?: string): SinkBinding[] {
  const out: SinkBinding[] = [];
  for (const family of SINK_FAMILIES) {
    normalizeSinkRefs(spec[SINK_REF_FIELDS[family]]).forEach((ref, index) => {
      const namespace = inventoryNamespace ?? ref.namespace ?? spec.sinkNamespace ?? DEFAULT_SINK_NAMESPACE;
      out.push({ family, key: `${family}/${ref.name}`, ref, index, namespace });
    });
  }
  return out;
}
