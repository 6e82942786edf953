/**
 * @packageDocumentation
 * Pure projections of inventory rows onto files and keys: formats, git layouts, path templates
 * and sanitising, the split index, commit messages and object-store keys (SEED-SPEC §5.4–5.5).
 */
export { toYaml, isPlainSafe, quoteYaml } from './yaml.js';
export { resolveFormat, extensionOf, type SnapshotFormat } from './format.js';
export {
  DEFAULT_DOCUMENT_TEMPLATE,
  DEFAULT_RESOURCE_TEMPLATE,
  DEFAULT_INDEX_TEMPLATE,
  DEFAULT_CLUSTER_LABEL,
  DEFAULT_ITEM_PATH_OPTIONS,
  renderDocumentPath,
  renderItemPath,
  sanitizeSegment,
  type DocumentVars,
  type ItemPathOptions,
} from './paths.js';
export {
  envelopeOf,
  itemValue,
  renderDocument,
  renderValue,
  indexValue,
  type SnapshotDocument,
} from './document.js';
export {
  resolveLayout,
  renderFiles,
  itemFile,
  itemPath,
  documentPath,
  indexPath,
  pruneCandidates,
  manifestAttribute,
  looksLikeResourceExport,
  LayoutError,
  type ResolvedLayout,
  type LayoutMode,
  type LayoutContent,
} from './layout.js';
export {
  DEFAULT_COMMIT_SUBJECT,
  DEFAULT_AUTHOR,
  TRAILERS,
  renderTemplate,
  renderCommitMessage,
  type CommitVars,
  type CommitTemplates,
} from './commit.js';
export { DEFAULT_OBJECT_TEMPLATE, joinKey, objectKey, parquetKey } from './object-key.js';
