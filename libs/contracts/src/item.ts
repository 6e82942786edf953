import { canonicalJson, canonicalString, compareUtf8 } from './canonical-json.js';

/**
 * One collected object as seen by one target (SEED-SPEC §5.1, CONTRACT.md "Rows and envelope").
 * Serialized in exactly this key order; `group` is omitted when empty; attribute keys are sorted.
 */
export interface Item {
  targetNamespace: string;
  targetName: string;
  /** The source object's namespace; "" for cluster-scoped objects. */
  namespace: string;
  name: string;
  /** API group; "" (and omitted on the wire) for the core group. */
  group: string;
  version: string;
  kind: string;
  uid: string;
  attributes: Record<string, unknown>;
}

/** Identity of a row inside one inventory of one cluster: (targetNamespace, targetName, uid). */
export interface RowKey {
  targetNamespace: string;
  targetName: string;
  uid: string;
}

/** The row key of an item. */
export function rowKeyOf(item: Pick<Item, 'targetNamespace' | 'targetName' | 'uid'>): RowKey {
  return { targetNamespace: item.targetNamespace, targetName: item.targetName, uid: item.uid };
}

/**
 * A row key as one string, for maps and KV keys. NUL cannot occur in Kubernetes names or UIDs,
 * so the join is unambiguous.
 */
export function rowKeyString(key: RowKey): string {
  return `${key.targetNamespace}\u0000${key.targetName}\u0000${key.uid}`;
}

/** Inverse of {@link rowKeyString}. */
export function parseRowKeyString(s: string): RowKey {
  const parts = s.split('\u0000');
  if (parts.length !== 3) throw new Error(`not a row key: ${JSON.stringify(s)}`);
  const [targetNamespace, targetName, uid] = parts as [string, string, string];
  return { targetNamespace, targetName, uid };
}

/**
 * The export sort key: targetNamespace␀targetName␀namespace␀name␀uid␀group␀version␀kind,
 * compared by UTF-8 bytes (SEED-SPEC §5.2).
 */
export function itemSortKey(item: Item): string {
  return [
    item.targetNamespace,
    item.targetName,
    item.namespace,
    item.name,
    item.uid,
    item.group,
    item.version,
    item.kind,
  ].join('\u0000');
}

/** Comparator for the canonical item order. */
export function compareItems(a: Item, b: Item): number {
  return compareUtf8(itemSortKey(a), itemSortKey(b));
}

/** Returns a new array holding the items in canonical order. */
export function sortItems(items: readonly Item[]): Item[] {
  const keyed = items.map((item) => ({ key: itemSortKey(item), item }));
  keyed.sort((a, b) => compareUtf8(a.key, b.key));
  return keyed.map((k) => k.item);
}

/** The canonical JSON bytes of one item (seed key order, sorted attributes, Go escaping). */
export function itemJson(item: Item): string {
  let s = '{"targetNamespace":' + canonicalString(item.targetNamespace);
  s += ',"targetName":' + canonicalString(item.targetName);
  s += ',"namespace":' + canonicalString(item.namespace);
  s += ',"name":' + canonicalString(item.name);
  if (item.group !== '') s += ',"group":' + canonicalString(item.group);
  s += ',"version":' + canonicalString(item.version);
  s += ',"kind":' + canonicalString(item.kind);
  s += ',"uid":' + canonicalString(item.uid);
  s += ',"attributes":' + canonicalJson(item.attributes ?? {});
  return s + '}';
}

/** The canonical JSON of an item list, in the order given. */
export function itemsJson(items: readonly Item[]): string {
  let s = '[';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) s += ',';
    s += itemJson(items[i] as Item);
  }
  return s + ']';
}

/**
 * Parse an item from JSON-decoded data, checking its shape. Unknown keys are rejected so a
 * contract change cannot slip through silently.
 */
export function parseItem(value: unknown, where = 'item'): Item {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${where}: expected an object`);
  }
  const v = value as Record<string, unknown>;
  const str = (k: string, optional = false): string => {
    const x = v[k];
    if (x === undefined && optional) return '';
    if (typeof x !== 'string') throw new TypeError(`${where}.${k}: expected a string`);
    return x;
  };
  for (const k of Object.keys(v)) {
    if (!ITEM_KEYS.has(k)) throw new TypeError(`${where}.${k}: unknown field`);
  }
  const attributes = v['attributes'] ?? {};
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    throw new TypeError(`${where}.attributes: expected an object`);
  }
  return {
    targetNamespace: str('targetNamespace'),
    targetName: str('targetName'),
    namespace: str('namespace'),
    name: str('name'),
    group: str('group', true),
    version: str('version'),
    kind: str('kind'),
    uid: str('uid'),
    attributes: attributes as Record<string, unknown>,
  };
}

const ITEM_KEYS = new Set([
  'targetNamespace',
  'targetName',
  'namespace',
  'name',
  'group',
  'version',
  'kind',
  'uid',
  'attributes',
]);
