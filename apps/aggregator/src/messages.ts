import { PoisonMessage } from '@kollect/bus';
import { BUS_SCHEMA_VERSION, parseItem, type RowMessage } from '@kollect/contracts';

const KINDS = new Set(['KollectInventory', 'KollectClusterInventory']);

/**
 * Check a decoded row message. A malformed one can never succeed, so it is poison (TERMed and
 * counted), never retried.
 */
export function parseRowMessage(v: unknown, where: string): RowMessage {
  const bad = (why: string): never => {
    throw PoisonMessage(`${where}: ${why}`);
  };
  if (typeof v !== 'object' || v === null) return bad('not an object');
  const m = v as Record<string, unknown>;
  if (m['schemaVersion'] !== BUS_SCHEMA_VERSION) {
    return bad(`schemaVersion ${JSON.stringify(m['schemaVersion'])}, expected ${BUS_SCHEMA_VERSION}`);
  }
  if (m['op'] !== 'upsert' && m['op'] !== 'delete') return bad('op must be upsert or delete');
  const inv = m['inventory'] as Record<string, unknown> | undefined;
  if (
    !inv ||
    !KINDS.has(inv['kind'] as string) ||
    typeof inv['namespace'] !== 'string' ||
    typeof inv['name'] !== 'string'
  ) {
    return bad('inventory must be {kind, namespace, name}');
  }
  const key = m['key'] as Record<string, unknown> | undefined;
  if (
    !key ||
    typeof key['targetNamespace'] !== 'string' ||
    typeof key['targetName'] !== 'string' ||
    typeof key['uid'] !== 'string'
  ) {
    return bad('key must be {targetNamespace, targetName, uid}');
  }
  if (!Number.isSafeInteger(m['sourceSeq']) || !Number.isSafeInteger(m['planGeneration'])) {
    return bad('sourceSeq and planGeneration must be integers');
  }
  let item;
  if (m['op'] === 'upsert') {
    try {
      item = parseItem(m['item'], `${where}.item`);
    } catch (err) {
      return bad(err instanceof Error ? err.message : String(err));
    }
  }
  return {
    schemaVersion: BUS_SCHEMA_VERSION,
    op: m['op'],
    cluster: typeof m['cluster'] === 'string' ? m['cluster'] : '',
    inventory: {
      kind: inv['kind'] as RowMessage['inventory']['kind'],
      namespace: inv['namespace'],
      name: inv['name'],
    },
    key: { targetNamespace: key['targetNamespace'], targetName: key['targetName'], uid: key['uid'] },
    ...(item ? { item } : {}),
    sourceSeq: m['sourceSeq'] as number,
    planGeneration: m['planGeneration'] as number,
  };
}
