import { BUS_SCHEMA_VERSION, type InventoryRef, type Item, type RowMessage } from '@kollect/contracts';
import {
  PLAN_SCHEMA_VERSION,
  targetKey,
  type CompiledInventory,
  type CompiledPlan,
  type CompiledTarget,
} from '@kollect/plan';

export const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
export const GVK = { group: 'apps', version: 'v1', kind: 'Deployment' };

export const TEAM_A: InventoryRef = { kind: 'KollectInventory', namespace: 'team-a', name: 'web' };
export const FLEET: InventoryRef = { kind: 'KollectClusterInventory', namespace: '', name: 'fleet' };

export function target(
  namespace: string,
  name: string,
  feeds: { inventory: InventoryRef; namespaces?: string[] | null }[],
  kind: CompiledTarget['kind'] = 'KollectTarget',
): CompiledTarget {
  return {
    kind,
    namespace,
    name,
    uid: `uid-target-${namespace}-${name}`,
    generation: 1,
    profileKey: 'team-a/deploy',
    namespaces: null,
    rules: [],
    watchMode: 'All',
    feeds: feeds.map((f) => ({ inventory: f.inventory, partition: 0, namespaces: f.namespaces ?? null })),
  };
}

export function inventory(
  ref: InventoryRef,
  targets: CompiledTarget[],
  over: Partial<CompiledInventory> = {},
): CompiledInventory {
  return {
    ref,
    uid: `uid-inv-${ref.name}`,
    generation: 1,
    partition: 0,
    targets: targets.map(targetKey),
    dedupe: 'keepAll',
    gvrs: [DEPLOYMENTS],
    exportMinIntervalMs: 30_000,
    bindings: [],
    ...over,
  };
}

export function plan(
  generation: number,
  targets: CompiledTarget[],
  inventories: CompiledInventory[],
  watchNamespaces: string[] | null = null,
): CompiledPlan {
  return {
    schemaVersion: PLAN_SCHEMA_VERSION,
    generation,
    compiledAt: '2026-01-15T12:00:00Z',
    settings: {
      cluster: 'prod',
      partitions: 4,
      maxExportBytes: 1_572_864,
      scrubKeys: [],
      celCostLimit: 1e6,
      celTimeoutMs: 100,
    },
    watches: [{ gvr: DEPLOYMENTS, gvk: GVK, namespaced: true, namespaces: watchNamespaces }],
    profiles: {},
    targets,
    inventories,
    sinks: [],
    namespaceWatch: {},
  };
}

export function item(
  targetNamespace: string,
  targetName: string,
  uid: string,
  attributes: Record<string, unknown> = {},
  namespace = targetNamespace,
): Item {
  return {
    targetNamespace,
    targetName,
    namespace,
    name: `obj-${uid}`,
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    uid,
    attributes,
  };
}

export function upsert(inv: InventoryRef, it: Item, sourceSeq: number, planGeneration = 1): RowMessage {
  return {
    schemaVersion: BUS_SCHEMA_VERSION,
    op: 'upsert',
    cluster: 'prod',
    inventory: inv,
    key: { targetNamespace: it.targetNamespace, targetName: it.targetName, uid: it.uid },
    item: it,
    sourceSeq,
    planGeneration,
  };
}

export function del(
  inv: InventoryRef,
  key: { targetNamespace: string; targetName: string; uid: string },
  sourceSeq: number,
  planGeneration = 1,
): RowMessage {
  return {
    schemaVersion: BUS_SCHEMA_VERSION,
    op: 'delete',
    cluster: 'prod',
    inventory: inv,
    key,
    sourceSeq,
    planGeneration,
  };
}

/** Deterministic PRNG (mulberry32) for shuffles. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(xs: readonly T[], rand: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
