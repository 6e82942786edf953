import { inventoryPathNamespace, type InventoryRef, type Item } from '@kollect/contracts';

/** Default document path of git and object-store sinks (SEED-SPEC §5.4, §5.5). */
export const DEFAULT_DOCUMENT_TEMPLATE = 'inventory/{namespace}/{name}{extension}';
/** Default per-row path of tree layouts. */
export const DEFAULT_RESOURCE_TEMPLATE = '{cluster}/{sourceNamespace}/{kind}/{sourceName}{extension}';
/** Default index path of the split layout. */
export const DEFAULT_INDEX_TEMPLATE = 'inventory/{namespace}/{name}{extension}';

/** Cluster label used in paths when none is set. */
export const DEFAULT_CLUSTER_LABEL = 'default';

/** Variables of an inventory-level template (`pathTemplate`, index path). */
export interface DocumentVars {
  cluster: string;
  inventory: InventoryRef;
  /** Inventory CR metadata.generation. */
  generation: number;
  extension: string;
}

function substitute(template: string, vars: Record<string, string>): string {
  return template.replace(/\{([A-Za-z]+)\}/g, (m, name: string) =>
    name in vars ? (vars[name] as string) : m,
  );
}

/** Collapse `//`, drop empty segments and any leading `/`. */
function normalise(path: string): string {
  return path
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

/**
 * Render an inventory-level template. `{namespace}` is the inventory namespace, or `cluster` for
 * cluster inventories; `{cluster}` falls back to `default`.
 */
export function renderDocumentPath(template: string, vars: DocumentVars): string {
  const path = substitute(template, {
    cluster: sanitizeSegment(vars.cluster || DEFAULT_CLUSTER_LABEL, 253),
    namespace: sanitizeSegment(inventoryPathNamespace(vars.inventory), 253),
    name: sanitizeSegment(vars.inventory.name, 253),
    generation: String(vars.generation),
    extension: vars.extension,
  });
  return normalise(path);
}

/**
 * Sanitise one path value (SEED-SPEC §5.4): `/ \ :` become `-`, runs of dots become `-`,
 * leading/trailing `.` and `-` are trimmed, at most `max` characters.
 */
export function sanitizeSegment(value: string, max = 63): string {
  let s = value.replace(/[/\\:]/g, '-').replace(/\.+/g, '-');
  s = s.replace(/^[.-]+/, '').replace(/[.-]+$/, '');
  if (s.length > max) s = s.slice(0, max).replace(/[.-]+$/, '');
  return s;
}

export interface ItemPathOptions {
  groupInPath: 'auto' | 'always' | 'never';
  lowercaseKind: boolean;
  maxSegmentLength: number;
}

export const DEFAULT_ITEM_PATH_OPTIONS: ItemPathOptions = {
  groupInPath: 'auto',
  lowercaseKind: true,
  maxSegmentLength: 63,
};

/**
 * Render a per-row template. `{namespace}`/`{name}` and `{sourceNamespace}`/`{sourceName}` are
 * the source object's; `{targetNamespace}`/`{targetName}` the target's; empty values (a
 * cluster-scoped object's namespace, the core group) drop their segment.
 */
export function renderItemPath(
  template: string,
  item: Item,
  vars: { cluster: string; generation: number; extension: string },
  opts: ItemPathOptions = DEFAULT_ITEM_PATH_OPTIONS,
): string {
  const max = opts.maxSegmentLength;
  const kind = opts.lowercaseKind ? item.kind.toLowerCase() : item.kind;
  const path = substitute(template, {
    cluster: sanitizeSegment(vars.cluster || DEFAULT_CLUSTER_LABEL, max),
    namespace: sanitizeSegment(item.namespace, max),
    name: sanitizeSegment(item.name, max),
    sourceNamespace: sanitizeSegment(item.namespace, max),
    sourceName: sanitizeSegment(item.name, max),
    targetNamespace: sanitizeSegment(item.targetNamespace, max),
    targetName: sanitizeSegment(item.targetName, max),
    group: opts.groupInPath === 'never' ? '' : sanitizeSegment(item.group, max),
    kind: sanitizeSegment(kind, max),
    uid: sanitizeSegment(item.uid, max),
    generation: String(vars.generation),
    extension: vars.extension,
  });
  return normalise(path);
}
