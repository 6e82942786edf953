import { checksumShort, inventoryPathNamespace, type InventoryRef } from '@kollect/contracts';
import { DEFAULT_CLUSTER_LABEL } from './paths.js';

/** Default commit subject (SEED-SPEC §5.4, CONTRACT.md). */
export const DEFAULT_COMMIT_SUBJECT =
  'chore({cluster}/{namespace}/{name}): export {itemCount} items @ {checksumShort}';
export const DEFAULT_AUTHOR = { name: 'kollect', email: 'kollect@kollect.dev' } as const;

/** Trailers Kollect always adds; the sink reads them back to find its position. */
export const TRAILERS = {
  exportGeneration: 'Kollect-Export-Generation',
  checksum: 'Kollect-Checksum',
  inventory: 'Kollect-Inventory',
  cluster: 'Kollect-Cluster',
} as const;

export interface CommitVars {
  inventory: InventoryRef;
  cluster: string;
  generation: number;
  exportGeneration: number;
  itemCount: number;
  checksum: string;
  exportedAt: string;
  /** Sink object name. */
  sink: string;
  /** The inventory's document (or index) path. */
  path: string;
}

export interface CommitTemplates {
  subject?: string;
  body?: string;
  trailers?: readonly string[];
}

function vars(v: CommitVars): Record<string, string> {
  return {
    namespace: inventoryPathNamespace(v.inventory),
    name: v.inventory.name,
    cluster: v.cluster || DEFAULT_CLUSTER_LABEL,
    generation: String(v.generation),
    exportGeneration: String(v.exportGeneration),
    itemCount: String(v.itemCount),
    checksum: v.checksum,
    checksumShort: checksumShort(v.checksum),
    exportedAt: v.exportedAt,
    sink: v.sink,
    path: v.path,
  };
}

/** Fill `{placeholder}`s; unknown placeholders stay as written. */
export function renderTemplate(template: string, v: CommitVars): string {
  const map = vars(v);
  return template.replace(/\{([A-Za-z]+)\}/g, (m, name: string) => map[name] ?? m);
}

/**
 * The full commit message: subject, blank line, body (when set), blank line, then one trailer
 * block with the user's trailers followed by Kollect's (`Kollect-Export-Generation`,
 * `Kollect-Checksum`, `Kollect-Inventory`, `Kollect-Cluster`). The seed separated each trailer
 * by a blank line; git only parses the last paragraph as trailers, so they share one paragraph.
 */
export function renderCommitMessage(t: CommitTemplates, v: CommitVars): string {
  const subject = renderTemplate(t.subject || DEFAULT_COMMIT_SUBJECT, v)
    .replace(/\s*\n\s*/g, ' ')
    .trim();
  const body = t.body ? renderTemplate(t.body, v).trim() : '';
  const trailers = (t.trailers ?? [])
    .map((x) => renderTemplate(x, v).replace(/\n/g, ' ').trim())
    .filter((x) => x !== '');
  trailers.push(
    `${TRAILERS.exportGeneration}: ${v.exportGeneration}`,
    `${TRAILERS.checksum}: ${v.checksum}`,
    `${TRAILERS.inventory}: ${v.inventory.kind}/${v.inventory.namespace}/${v.inventory.name}`,
    `${TRAILERS.cluster}: ${v.cluster || DEFAULT_CLUSTER_LABEL}`,
  );
  return [subject, ...(body ? [body] : []), trailers.join('\n')].join('\n\n') + '\n';
}
