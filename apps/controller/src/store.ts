import { canonicalJson } from '@kollect/contracts';
import type { KollectKind } from '@kollect/crd-types';
import type { KubeObject } from '@kollect/kube';

/** What the controller caches: the Kollect kinds it compiles and Namespaces. */
export type CachedKind = KollectKind | 'Namespace';

/** What changed in the cache, so the controller knows whether to recompile or only resync status. */
export interface ChangeNotice {
  kind: CachedKind;
  /** True when a compile input changed (spec, labels, annotations, finalizers, deletion, sink probe conditions). */
  compile: boolean;
}

/** The Kollect kinds whose status the compiler reads (sinks: the prober's `ConnectionVerified`). */
const STATUS_IS_INPUT = new Set<CachedKind>([
  'KollectSnapshotSink',
  'KollectDatabaseSink',
  'KollectEventSink',
]);

function key(ns: string | undefined, name: string | undefined): string {
  return `${ns ?? ''}/${name ?? ''}`;
}

function rvNumber(o: KubeObject | undefined): bigint | undefined {
  const rv = o?.metadata?.resourceVersion;
  return rv !== undefined && /^\d+$/.test(rv) ? BigInt(rv) : undefined;
}

/** The parts of an object the compiler reads; a change in them means "recompile". */
function compileFingerprint(kind: CachedKind, o: KubeObject): string {
  const m = o.metadata ?? {};
  return canonicalJson({
    uid: m.uid,
    generation: m.generation,
    labels: m.labels,
    annotations: m.annotations,
    finalizers: m['finalizers'],
    deletionTimestamp: m['deletionTimestamp'],
    spec: o['spec'],
    ...(STATUS_IS_INPUT.has(kind)
      ? { conditions: (o['status'] as { conditions?: unknown } | undefined)?.conditions }
      : {}),
  });
}

/**
 * The in-memory copy of the Kollect CRs and Namespaces (the CRs are few; this is the one service
 * that caches them). Fed by one list+watch per kind (and per namespace when the operator is
 * confined to `--watch-namespaces`); each watch's relist removes what it no longer returns.
 */
export class ObjectStore {
  readonly #objects = new Map<CachedKind, Map<string, KubeObject>>();
  readonly #fingerprints = new Map<string, string>();
  /** Keys each watch contributed, for the vanished-object cleanup after a relist. */
  readonly #byWatch = new Map<string, Set<string>>();
  readonly #onChange: (n: ChangeNotice) => void;

  constructor(onChange: (n: ChangeNotice) => void) {
    this.#onChange = onChange;
  }

  #map(kind: CachedKind): Map<string, KubeObject> {
    let m = this.#objects.get(kind);
    if (!m) this.#objects.set(kind, (m = new Map()));
    return m;
  }

  /** An object exists in this version (from a watch, or the answer to our own write). */
  upsert(watchId: string | undefined, kind: CachedKind, obj: KubeObject): void {
    const k = key(obj.metadata?.namespace, obj.metadata?.name);
    const map = this.#map(kind);
    const current = map.get(k);
    // Our own PATCH answers may be newer than a watch event still in flight: never go back.
    const a = rvNumber(current);
    const b = rvNumber(obj);
    if (a !== undefined && b !== undefined && b < a && current?.metadata?.uid === obj.metadata?.uid) return;
    map.set(k, obj);
    if (watchId) {
      let s = this.#byWatch.get(watchId);
      if (!s) this.#byWatch.set(watchId, (s = new Set()));
      s.add(`${kind}|${k}`);
    }
    const fp = compileFingerprint(kind, obj);
    const fpKey = `${kind}|${k}`;
    const compile = this.#fingerprints.get(fpKey) !== fp;
    this.#fingerprints.set(fpKey, fp);
    this.#onChange({ kind, compile });
  }

  delete(watchId: string | undefined, kind: CachedKind, obj: KubeObject): void {
    const k = key(obj.metadata?.namespace, obj.metadata?.name);
    const current = this.#map(kind).get(k);
    if (current && obj.metadata?.uid && current.metadata?.uid !== obj.metadata.uid) return;
    this.#map(kind).delete(k);
    this.#fingerprints.delete(`${kind}|${k}`);
    if (watchId) this.#byWatch.get(watchId)?.delete(`${kind}|${k}`);
    this.#onChange({ kind, compile: true });
  }

  /** A watch relisted: forget what it contributed and the list no longer has. */
  synced(watchId: string, kind: CachedKind, uids: ReadonlySet<string>): void {
    const keys = this.#byWatch.get(watchId);
    if (!keys) return;
    let removed = false;
    for (const full of [...keys]) {
      const k = full.slice(kind.length + 1);
      const o = this.#map(kind).get(k);
      if (o && !uids.has(o.metadata?.uid ?? '')) {
        this.#map(kind).delete(k);
        this.#fingerprints.delete(full);
        keys.delete(full);
        removed = true;
      }
    }
    if (removed) this.#onChange({ kind, compile: true });
  }

  list<T = KubeObject>(kind: CachedKind): T[] {
    return [...this.#map(kind).values()] as T[];
  }

  get<T = KubeObject>(kind: CachedKind, namespace: string, name: string): T | undefined {
    return this.#map(kind).get(key(namespace || undefined, name)) as T | undefined;
  }
}
