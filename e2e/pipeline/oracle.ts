/**
 * The test oracle: what an inventory must hold, computed independently from the apiserver's
 * objects. It implements the scenario's profiles and the target rules the suites use in plain
 * TypeScript (SEED-SPEC §4.1–4.5 as a reader would apply them by hand) — it deliberately does not
 * call libs/extract, so a bug there cannot hide behind the same bug here.
 */
import type { Item } from '@kollect/contracts';

/** An object as the apiserver returns it (only the parts the oracle reads are typed). */
export interface ApiObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
  };
  spec?: Record<string, unknown>;
  [k: string]: unknown;
}

/** A namespace's labels and annotations (the watch-label gate reads both). */
export interface NamespaceMeta {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Thrown by a profile when a required attribute fails: the whole object fails (SEED-SPEC §4.2). */
export class ObjectFailure extends Error {}

/** A profile in plain TypeScript: the GVK it reads and the attributes of one object. */
export interface OracleProfile {
  name: string;
  group: string;
  version: string;
  kind: string;
  /** Attributes of one object; throws {@link ObjectFailure} when the object fails. */
  attributes(obj: ApiObject): Record<string, unknown>;
}

/** A target as the suites declare it. */
export interface OracleTarget {
  /** Default `KollectTarget`. A `KollectClusterTarget` has namespace `''` and writes rows per workload namespace. */
  kind?: 'KollectTarget' | 'KollectClusterTarget';
  namespace: string;
  name: string;
  profile: OracleProfile;
  /** Effective namespaces (after selectors and the scope ceiling). */
  namespaces: readonly string[];
  /** Legacy label filter (matchLabels only; enough for the scenario). */
  matchLabels?: Record<string, string>;
  watchMode?: 'All' | 'OptIn';
  /** Hard-degraded by scope (ScopeGVKDenied / ScopeNamespaceDenied): collects nothing. */
  denied?: boolean;
}

/** kubectl JSONPath result cardinality (SEED-SPEC §4.1): 0 → null, 1 → the value, ≥ 2 → a list. */
export function cardinality(values: unknown[]): unknown {
  if (values.length === 0) return null;
  if (values.length === 1) return values[0];
  return values;
}

function containers(obj: ApiObject): Record<string, unknown>[] {
  const template = obj.spec?.['template'] as
    { spec?: { containers?: Record<string, unknown>[] } } | undefined;
  return template?.spec?.containers ?? [];
}

/** The Deployment-images walkthrough of SEED-SPEC §3.11 (plus `replicas`), as the scenario declares it. */
export const deploymentImages: OracleProfile = {
  name: 'deployment-images',
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  attributes(obj) {
    const cs = containers(obj);
    const attrs: Record<string, unknown> = {
      // `$.spec.template.spec.containers[0].image`
      image: cs[0]?.['image'] ?? null,
      // `$.spec.template.spec.containers[*].image` (one container → a scalar)
      images: cardinality(cs.map((c) => c['image'])),
      // `cel:size(object.spec.template.spec.containers)`
      containerCount: cs.length,
      // `cel:object.spec.replicas` (the apiserver defaults it to 1)
      replicas: (obj.spec?.['replicas'] as number | undefined) ?? 1,
    };
    // `$.metadata.labels`, optional: omitted when absent
    if (obj.metadata.labels && Object.keys(obj.metadata.labels).length > 0)
      attrs['labels'] = { ...obj.metadata.labels };
    return attrs;
  },
};

export const servicePorts: OracleProfile = {
  name: 'service-ports',
  group: '',
  version: 'v1',
  kind: 'Service',
  attributes(obj) {
    const ports = (obj.spec?.['ports'] as { port: number }[] | undefined) ?? [];
    // `cel:object.spec.ports.map(p, p.port)` is a CEL list: a list even with one element.
    const attrs: Record<string, unknown> = { ports: ports.map((p) => p.port) };
    const selector = obj.spec?.['selector'];
    if (selector !== undefined && selector !== null) attrs['selector'] = selector;
    return attrs;
  },
};

export const ingressHosts: OracleProfile = {
  name: 'ingress-hosts',
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'Ingress',
  attributes(obj) {
    const rules = (obj.spec?.['rules'] as { host?: string }[] | undefined) ?? [];
    return { hosts: cardinality(rules.filter((r) => r.host !== undefined).map((r) => r.host)) };
  },
};

/** The scenario's profiles by name. */
export const SCENARIO_PROFILES: Record<string, OracleProfile> = {
  [deploymentImages.name]: deploymentImages,
  [servicePorts.name]: servicePorts,
  [ingressHosts.name]: ingressHosts,
};

function labelsMatch(
  labels: Record<string, string> | undefined,
  want: Record<string, string> | undefined,
): boolean {
  if (!want) return true;
  return Object.entries(want).every(([k, v]) => labels?.[k] === v);
}

const WATCH = 'kollect.dev/watch';
const NS_WATCH = 'kollect.dev/namespace-watch';

/** Does the target collect this object? (SEED-SPEC §4.5 steps 2–4.) */
export function collects(
  t: OracleTarget,
  obj: ApiObject,
  namespaces: ReadonlyMap<string, NamespaceMeta>,
): boolean {
  if (t.denied) return false;
  const ns = obj.metadata.namespace ?? 'default';
  if (!t.namespaces.includes(ns)) return false;
  if (!labelsMatch(obj.metadata.labels, t.matchLabels)) return false;
  const own = obj.metadata.labels?.[WATCH];
  if (own === 'disabled') return false;
  if (own === 'enabled') return true;
  const meta = namespaces.get(ns);
  const nsState = meta?.labels[WATCH] ?? meta?.annotations[NS_WATCH] ?? meta?.annotations[WATCH];
  if (nsState === 'disabled') return false;
  if ((t.watchMode ?? 'All') === 'OptIn') return nsState === 'enabled';
  return true;
}

/** The Item a target makes of an object (attributes from the profile). */
export function itemOf(t: OracleTarget, obj: ApiObject, attributes: Record<string, unknown>): Item {
  return {
    // SEED-SPEC §3.5: a cluster target collects like a synthetic namespaced target placed in each
    // workload namespace, so its rows carry the object's namespace as targetNamespace.
    targetNamespace: t.kind === 'KollectClusterTarget' ? (obj.metadata.namespace ?? '') : t.namespace,
    targetName: t.name,
    namespace: obj.metadata.namespace ?? '',
    name: obj.metadata.name,
    // "" for the core group (omitted on the wire, present in the decoded Item)
    group: t.profile.group,
    version: t.profile.version,
    kind: t.profile.kind,
    uid: obj.metadata.uid,
    attributes,
  };
}

/** `group/version/Kind` of a profile: the key objects are grouped by. */
export function kindKey(p: Pick<OracleProfile, 'group' | 'version' | 'kind'>): string {
  return `${p.group}/${p.version}/${p.kind}`;
}

/**
 * The rows of a namespaced inventory (every target of its namespace) computed from the objects.
 * An object whose extraction fails keeps the row it had in `previous` (SEED-SPEC §4.2: the old row
 * stays with stale attributes) and is reported in `failed`.
 */
export function expectedRows(
  targets: readonly OracleTarget[],
  objectsByKind: ReadonlyMap<string, readonly ApiObject[]>,
  namespaces: ReadonlyMap<string, NamespaceMeta>,
  previous: ReadonlyMap<string, Item> = new Map(),
): { items: Item[]; failed: { target: string; uid: string; name: string }[] } {
  const items: Item[] = [];
  const failed: { target: string; uid: string; name: string }[] = [];
  for (const t of targets) {
    for (const obj of objectsByKind.get(kindKey(t.profile)) ?? []) {
      if (!collects(t, obj, namespaces)) continue;
      try {
        items.push(itemOf(t, obj, t.profile.attributes(obj)));
      } catch (err) {
        if (!(err instanceof ObjectFailure)) throw err;
        failed.push({ target: `${t.namespace}/${t.name}`, uid: obj.metadata.uid, name: obj.metadata.name });
        const old = previous.get(rowKey(t.namespace, t.name, obj.metadata.uid));
        if (old) items.push(old);
      }
    }
  }
  return { items, failed };
}

/** A Kubernetes label selector (the parts the suites use). */
export interface OracleSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

/** Does a label set match a selector? (Kubernetes semantics; an absent selector matches everything.) */
export function selectorMatches(
  selector: OracleSelector | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const ok =
      e.operator === 'Exists'
        ? has
        : e.operator === 'DoesNotExist'
          ? !has
          : e.operator === 'In'
            ? has && (e.values ?? []).includes(value as string)
            : !has || !(e.values ?? []).includes(value as string);
    if (!ok) return false;
  }
  return true;
}

/** The namespaces (sorted) whose labels match the selector, optionally only among `among` (an explicit list). */
export function selectNamespaces(
  namespaces: ReadonlyMap<string, NamespaceMeta>,
  selector: OracleSelector | undefined,
  among?: readonly string[],
): string[] {
  return [...namespaces.values()]
    .filter((n) => (among === undefined || among.includes(n.name)) && selectorMatches(selector, n.labels))
    .map((n) => n.name)
    .sort();
}

/** A KollectClusterInventory as the suites declare it (SEED-SPEC §3.7, §6.3). */
export interface OracleClusterInventory {
  /** Its cluster targets (kind `KollectClusterTarget`); the plan orders them by name. */
  targets: OracleTarget[];
  /** `spec.namespaces` ∩ `spec.namespaceSelector`, resolved by the suite ({@link selectNamespaces}). */
  namespaces: readonly string[];
  dedupe: 'keepAll' | 'byResourceUID';
}

/**
 * The rows of a cluster roll-up (SEED-SPEC §6.3): for each of its targets in name order, the rows
 * of the objects the target collects inside the inventory's namespaces; `keepAll` keeps them all
 * (one per target and object), `byResourceUID` keeps one per (namespace, uid) — the seed's
 * "concatenate the targets in order, keep the last". Every target's row of one object comes from
 * the same object version, so the order alone decides: the target with the greater name wins.
 */
export function expectedClusterRows(
  inv: OracleClusterInventory,
  objectsByKind: ReadonlyMap<string, readonly ApiObject[]>,
  namespaces: ReadonlyMap<string, NamespaceMeta>,
): Item[] {
  const ordered = [...inv.targets].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rows: Item[] = [];
  for (const t of ordered) {
    for (const obj of objectsByKind.get(kindKey(t.profile)) ?? []) {
      if (!inv.namespaces.includes(obj.metadata.namespace ?? 'default')) continue;
      if (!collects(t, obj, namespaces)) continue;
      rows.push(itemOf(t, obj, t.profile.attributes(obj)));
    }
  }
  if (inv.dedupe === 'keepAll') return rows;
  const last = new Map<string, Item>();
  for (const r of rows) last.set(`${r.namespace}\u0000${r.uid}`, r);
  return [...last.values()];
}

/** The identity of a row: `(targetNamespace, targetName, uid)`. */
export function rowKey(targetNamespace: string, targetName: string, uid: string): string {
  return `${targetNamespace}/${targetName}/${uid}`;
}

export function itemKey(i: Pick<Item, 'targetNamespace' | 'targetName' | 'uid'>): string {
  return rowKey(i.targetNamespace, i.targetName, i.uid);
}

/** Differences between two row sets, for readable failure messages (empty = equal). */
export function diffRows(
  actual: Iterable<Item>,
  expected: Iterable<Item>,
): { missing: string[]; extra: string[]; different: string[] } {
  const a = new Map<string, Item>();
  for (const i of actual) a.set(itemKey(i), i);
  const e = new Map<string, Item>();
  for (const i of expected) e.set(itemKey(i), i);
  const missing: string[] = [];
  const extra: string[] = [];
  const different: string[] = [];
  for (const [k, v] of e) {
    const got = a.get(k);
    if (!got) missing.push(`${k} (${v.namespace}/${v.name})`);
    else if (stable(got) !== stable(v)) different.push(`${k}: got ${stable(got)} want ${stable(v)}`);
  }
  for (const [k, v] of a) if (!e.has(k)) extra.push(`${k} (${v.namespace}/${v.name})`);
  return { missing, extra, different };
}

/** JSON with sorted keys (order-independent comparison). */
export function stable(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)),
        )
      : x,
  );
}
