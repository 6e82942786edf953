import { type InventoryRef, inventoryKey } from './inventory.js';

/**
 * NATS subject tokens. A token may hold any character except `.`, `*`, `>` and whitespace, and
 * may not be empty. Kubernetes names may contain dots, so every variable part of a subject goes
 * through {@link encodeToken}, which is lossless: `%`, `.`, `*`, `>`, whitespace and control
 * characters become `%XX` (UTF-8 bytes, upper-case hex), and the empty string becomes `%`.
 */
export function encodeToken(value: string): string {
  if (value === '') return '%';
  let out = '';
  for (const ch of value) {
    const cp = ch.codePointAt(0) as number;
    if (ch === '%' || ch === '.' || ch === '*' || ch === '>' || cp <= 0x20 || cp === 0x7f || /\s/u.test(ch)) {
      for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
    } else {
      out += ch;
    }
  }
  return out;
}

/** Inverse of {@link encodeToken}. Throws on a malformed token. */
export function decodeToken(token: string): string {
  if (token === '%') return '';
  if (!token.includes('%')) return token;
  const bytes: number[] = [];
  let out = '';
  const flush = (): void => {
    if (bytes.length) {
      out += Buffer.from(bytes).toString('utf8');
      bytes.length = 0;
    }
  };
  for (let i = 0; i < token.length;) {
    if (token[i] === '%') {
      const hex = token.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) throw new Error(`malformed subject token ${JSON.stringify(token)}`);
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else {
      flush();
      const cp = token.codePointAt(i) as number;
      const ch = String.fromCodePoint(cp);
      out += ch;
      i += ch.length;
    }
  }
  flush();
  return out;
}

/** Group/version/resource of a watched kind. The core group is "". */
export interface Gvr {
  group: string;
  version: string;
  resource: string;
}

/** `apps/v1/deployments`, `/v1/pods` — lossless because none of the parts may contain `/`. */
export function gvrString(gvr: Gvr): string {
  return `${gvr.group}/${gvr.version}/${gvr.resource}`;
}

/** Inverse of {@link gvrString}. */
export function parseGvrString(s: string): Gvr {
  const parts = s.split('/');
  if (parts.length !== 3 || !parts[1] || !parts[2]) throw new Error(`not a GVR: ${JSON.stringify(s)}`);
  return { group: parts[0] as string, version: parts[1], resource: parts[2] };
}

/** Stream and bucket names (fixed; part of the deployment contract). */
export const STREAMS = {
  objects: 'KOLLECT_OBJECTS',
  rows: 'KOLLECT_ROWS',
  snapshots: 'KOLLECT_SNAPSHOTS',
  status: 'KOLLECT_STATUS',
} as const;

export const BUCKETS = {
  plan: 'kollect_plan',
  rows: 'kollect_rows',
  state: 'kollect_state',
  leases: 'kollect_leases',
  full: 'kollect_full',
} as const;

/** Namespace token used for cluster inventories in public subjects (namespaces cannot hold `_`). */
export const CLUSTER_INVENTORY_NAMESPACE_TOKEN = '_cluster';

export const subjects = {
  /** `kollect.obj.<cluster>.<gvr>.<uid>` — one subject per object (compacted log). */
  object(cluster: string, gvr: Gvr, uid: string): string {
    return `kollect.obj.${encodeToken(cluster)}.${encodeToken(gvrString(gvr))}.${encodeToken(uid)}`;
  },
  /** Every object of one GVR in one cluster (for replay). */
  objectsOfGvr(cluster: string, gvr: Gvr): string {
    return `kollect.obj.${encodeToken(cluster)}.${encodeToken(gvrString(gvr))}.*`;
  },
  objectsAll: 'kollect.obj.>',
  /** `kollect.row.<partition>.<inventory>` */
  row(partition: number, inventory: InventoryRef): string {
    return `kollect.row.${partition}.${encodeToken(inventoryKey(inventory))}`;
  },
  rowsOfPartition(partition: number): string {
    return `kollect.row.${partition}.*`;
  },
  rowsAll: 'kollect.row.>',
  /** Public: `kollect.snap.<cluster>.<namespace>.<inventory>`; cluster inventories use `_cluster`. */
  snapshot(cluster: string, inventory: InventoryRef): string {
    const ns =
      inventory.kind === 'KollectClusterInventory'
        ? CLUSTER_INVENTORY_NAMESPACE_TOKEN
        : encodeToken(inventory.namespace);
    return `kollect.snap.${encodeToken(cluster)}.${ns}.${encodeToken(inventory.name)}`;
  },
  snapshotsOfNamespace(cluster: string, namespace: string): string {
    return `kollect.snap.${encodeToken(cluster)}.${encodeToken(namespace)}.>`;
  },
  snapshotsAll: 'kollect.snap.>',
  /** `kollect.status.<source>.<cluster>` — status reports for the controller. */
  status(source: 'sink' | 'aggregator' | 'extractor' | 'watcher', cluster: string): string {
    return `kollect.status.${source}.${encodeToken(cluster)}`;
  },
  statusAll: 'kollect.status.>',
  /** Request a full snapshot of an inventory's current generation (request/reply). */
  fullSnapshotRequest(cluster: string, inventory: InventoryRef): string {
    return `kollect.ctl.full.${encodeToken(cluster)}.${encodeToken(inventoryKey(inventory))}`;
  },
} as const;

/** FNV-1a 32-bit hash, for stable partition assignment. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(s, 'utf8');
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The aggregator partition that owns an inventory. */
export function partitionOf(inventory: InventoryRef, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partition count must be a positive integer, got ${partitions}`);
  }
  return fnv1a32(inventoryKey(inventory)) % partitions;
}
