import { compareUtf8, type Item } from '@kollect/contracts';
import {
  indexValue,
  itemValue,
  renderValue,
  renderDocument,
  yamlItem,
  type SnapshotDocument,
} from './document.js';
import { extensionOf, type SnapshotFormat } from './format.js';
import {
  DEFAULT_DOCUMENT_TEMPLATE,
  DEFAULT_INDEX_TEMPLATE,
  DEFAULT_RESOURCE_TEMPLATE,
  renderDocumentPath,
  renderItemPath,
  type ItemPathOptions,
} from './paths.js';

export type LayoutMode = 'document' | 'perResource' | 'split';
export type LayoutContent = 'item' | 'attributes' | 'manifest';

/** A git/gitlab layout with every default resolved (SEED-SPEC §5.4 "Layout resolution"). */
export interface ResolvedLayout {
  mode: LayoutMode;
  content: LayoutContent;
  /** Whether stale per-row files are removed. */
  prune: boolean;
  format: SnapshotFormat;
  extension: string;
  documentTemplate: string;
  resourceTemplate: string;
  index: { enabled: boolean; template: string };
  path: ItemPathOptions;
  /** Whether mode/content were inferred from Resource-export rows. */
  inferred: boolean;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/**
 * The attribute that holds an embedded Kubernetes object in a Resource-export row: exactly one
 * attribute, an object with `apiVersion` and a `kind` equal to the row's kind.
 */
export function manifestAttribute(item: Item): string | undefined {
  const keys = Object.keys(item.attributes);
  if (keys.length !== 1) return undefined;
  const k = keys[0] as string;
  const v = obj(item.attributes[k]);
  return v && typeof v['apiVersion'] === 'string' && v['kind'] === item.kind ? k : undefined;
}

/** Whether rows look like Resource export: every row embeds its object under the same key. */
export function looksLikeResourceExport(items: Iterable<Item>): boolean {
  let key: string | undefined;
  let any = false;
  for (const it of items) {
    const k = manifestAttribute(it);
    if (k === undefined || (key !== undefined && k !== key)) return false;
    key = k;
    any = true;
  }
  return any;
}

/**
 * Resolve the layout of a git/gitlab sink spec. `sample` is used only when `layout.mode` is not
 * set, to infer a Resource export (then perResource + manifest).
 */
export function resolveLayout(
  spec: Record<string, unknown>,
  format: SnapshotFormat,
  sample: () => Iterable<Item>,
): ResolvedLayout {
  const layout = obj(spec['layout']) ?? {};
  const git = obj(spec['git']) ?? {};
  const explicitMode = typeof layout['mode'] === 'string' ? (layout['mode'] as LayoutMode) : undefined;
  const inferred = explicitMode === undefined && looksLikeResourceExport(sample());
  const mode: LayoutMode = explicitMode ?? (inferred ? 'perResource' : 'document');
  const content: LayoutContent =
    typeof layout['content'] === 'string'
      ? (layout['content'] as LayoutContent)
      : inferred && mode !== 'document'
        ? 'manifest'
        : 'item';
  const index = obj(layout['index']) ?? {};
  const filename = obj(layout['filename']) ?? {};
  const prune = mode !== 'document' || git['prune'] === true;
  return {
    mode,
    content,
    prune,
    format,
    extension: extensionOf(format),
    documentTemplate:
      typeof spec['pathTemplate'] === 'string' ? (spec['pathTemplate'] as string) : DEFAULT_DOCUMENT_TEMPLATE,
    resourceTemplate:
      typeof layout['pathTemplate'] === 'string'
        ? (layout['pathTemplate'] as string)
        : DEFAULT_RESOURCE_TEMPLATE,
    index: {
      enabled: typeof index['enabled'] === 'boolean' ? (index['enabled'] as boolean) : mode === 'split',
      template:
        typeof index['pathTemplate'] === 'string'
          ? (index['pathTemplate'] as string)
          : DEFAULT_INDEX_TEMPLATE,
    },
    path: {
      groupInPath: (filename['groupInPath'] as ItemPathOptions['groupInPath']) ?? 'auto',
      lowercaseKind:
        typeof filename['lowercaseKind'] === 'boolean' ? (filename['lowercaseKind'] as boolean) : true,
      maxSegmentLength:
        typeof filename['maxSegmentLength'] === 'number' ? (filename['maxSegmentLength'] as number) : 63,
    },
    inferred,
  };
}

/** Thrown when rows cannot be laid out (path collisions, missing manifest). Terminal for the export. */
export class LayoutError extends Error {
  override name = 'LayoutError';
}

/** The document path of an inventory (also `{path}` in commit templates). */
export function documentPath(
  layout: ResolvedLayout,
  doc: Pick<SnapshotDocument, 'cluster' | 'inventory' | 'generation'>,
): string {
  return renderDocumentPath(layout.documentTemplate, { ...doc, extension: layout.extension });
}

/** The index path of an inventory in tree layouts. */
export function indexPath(
  layout: ResolvedLayout,
  doc: Pick<SnapshotDocument, 'cluster' | 'inventory' | 'generation'>,
): string {
  return renderDocumentPath(layout.index.template, { ...doc, extension: layout.extension });
}

/** The per-row file path of one item. */
export function itemPath(
  layout: ResolvedLayout,
  item: Item,
  doc: Pick<SnapshotDocument, 'cluster' | 'generation'>,
): string {
  return renderItemPath(
    layout.resourceTemplate,
    item,
    { cluster: doc.cluster, generation: doc.generation, extension: layout.extension },
    layout.path,
  );
}

/** The content of one per-row file. */
export function itemFile(layout: ResolvedLayout, item: Item): string {
  switch (layout.content) {
    case 'attributes':
      return renderValue(layout.format, item.attributes);
    case 'manifest': {
      const key = manifestAttribute(item) ?? 'resource';
      const m = obj(item.attributes[key]);
      if (!m) {
        throw new LayoutError(
          `row ${item.namespace}/${item.name} (${item.kind}, uid ${item.uid}) has no embedded object under attribute "${key}"; layout.content=manifest needs a profile with export.mode: Resource`,
        );
      }
      return renderValue(layout.format, m);
    }
    default:
      // YAML sorts keys anyway: skip the canonical-JSON round trip (it dominates at 100k files).
      return layout.format === 'yaml'
        ? renderValue('yaml', yamlItem(item))
        : renderValue(layout.format, itemValue(item));
  }
}

/**
 * Every file of a generation, path → content. Document layout: one file. Tree layouts: one
 * file per row plus the index when enabled. Throws {@link LayoutError} on path collisions.
 */
export function renderFiles(layout: ResolvedLayout, doc: SnapshotDocument): Map<string, string> {
  const files = new Map<string, string>();
  if (layout.mode === 'document') {
    files.set(documentPath(layout, doc), renderDocument(layout.format, doc));
    return files;
  }
  const owners = new Map<string, Item>();
  for (const it of doc.items) {
    const p = itemPath(layout, it, doc);
    const prev = owners.get(p);
    if (prev) {
      throw new LayoutError(
        `rows ${prev.namespace}/${prev.name} (uid ${prev.uid}) and ${it.namespace}/${it.name} (uid ${it.uid}) both render to ${p}; add {uid} or {kind} to layout.pathTemplate`,
      );
    }
    owners.set(p, it);
    files.set(p, itemFile(layout, it));
  }
  if (layout.index.enabled) {
    const ip = indexPath(layout, doc);
    if (files.has(ip))
      throw new LayoutError(
        `the index path ${ip} collides with a row file; change layout.index.pathTemplate`,
      );
    const paths = [...files.keys()].sort(compareUtf8);
    files.set(ip, renderValue(layout.format, indexValue(doc, paths), { sortKeys: false }));
  }
  return files;
}

/**
 * Stale files to delete after writing `written` (SEED-SPEC §5.4 "Prune"): files of `existing`
 * that were not written this round, but only inside directories that received at least one file
 * this round; plus every path in `alsoOwned` (paths the inventory is known to have owned: the
 * previous index, the previous rows) that was not written.
 */
export function pruneCandidates(
  existing: Iterable<string>,
  written: ReadonlySet<string>,
  alsoOwned: Iterable<string> = [],
): Set<string> {
  const dirs = new Set<string>();
  for (const p of written) dirs.add(dirOf(p));
  const out = new Set<string>();
  for (const p of existing) {
    if (!written.has(p) && dirs.has(dirOf(p))) out.add(p);
  }
  for (const p of alsoOwned) if (!written.has(p)) out.add(p);
  return out;
}

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}
