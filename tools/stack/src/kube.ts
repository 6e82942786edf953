import { crdObject, KIND_DEFINITIONS, KINDS } from '@kollect/crd-types';
import {
  collectionPath,
  Discovery,
  KubeConflict,
  KubeNotFound,
  objectPath,
  parseApiVersion,
  type KubeClient,
  type KubeObject,
  type ResolvedResource,
} from '@kollect/kube';

const CRD_BASE = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A manifest to apply: any Kubernetes object with apiVersion, kind and metadata.name. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/**
 * Install (or update) every Kollect CRD, generated from `@kollect/crd-types` (the same source as
 * `crds/*.yaml`), and wait until each is Established.
 */
export async function installCrds(kube: KubeClient, timeoutMs = 60_000): Promise<void> {
  for (const kind of KINDS) {
    const crd = crdObject(KIND_DEFINITIONS[kind]) as Manifest;
    const name = crd.metadata.name;
    try {
      await kube.request('POST', CRD_BASE, { body: crd });
    } catch (err) {
      if (!KubeConflict.is(err)) throw err;
      const cur = await kube.request<KubeObject>('GET', `${CRD_BASE}/${name}`);
      await kube.request('PUT', `${CRD_BASE}/${name}`, {
        body: { ...crd, metadata: { ...crd.metadata, resourceVersion: cur.metadata?.resourceVersion } },
      });
    }
  }
  const end = Date.now() + timeoutMs;
  for (const kind of KINDS) {
    const name = `${KIND_DEFINITIONS[kind].plural}.kollect.dev`;
    for (;;) {
      const c = await kube.request<{ status?: { conditions?: { type: string; status: string }[] } }>(
        'GET',
        `${CRD_BASE}/${name}`,
      );
      if (c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) break;
      if (Date.now() > end) throw new Error(`CRD ${name} not Established within ${timeoutMs} ms`);
      await sleep(100);
    }
  }
}

/**
 * Applies manifests with server-side apply (create or update in one call, idempotent), resolving
 * kinds through discovery. Owns one Discovery cache.
 */
export class Applier {
  readonly kube: KubeClient;
  readonly fieldManager: string;
  readonly #discovery: Discovery;

  constructor(kube: KubeClient, fieldManager = 'kollect-stack') {
    this.kube = kube;
    this.fieldManager = fieldManager;
    // Short miss refresh: CRDs installed a moment ago must be found at once.
    this.#discovery = new Discovery(kube, { missRefreshMs: 200 });
  }

  async resolve(apiVersion: string, kind: string): Promise<ResolvedResource> {
    const gv = parseApiVersion(apiVersion);
    return this.#discovery.resolve({ group: gv.group, version: gv.version, kind });
  }

  async #path(m: Manifest): Promise<string> {
    const r = await this.resolve(m.apiVersion, m.kind);
    return objectPath(r.gvr, m.metadata.name, r.namespaced ? m.metadata.namespace : undefined);
  }

  /** Server-side apply one manifest (force: this field manager owns what it sets). */
  async apply<T = KubeObject>(m: Manifest): Promise<T> {
    return this.kube.request<T>('PATCH', await this.#path(m), {
      body: m,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: this.fieldManager, force: true },
    });
  }

  /** Apply many manifests, `concurrency` at a time, in order of the list per worker. */
  async applyAll(
    ms: readonly Manifest[],
    concurrency = 16,
    onProgress?: (done: number) => void,
  ): Promise<void> {
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const i = next++;
        if (i >= ms.length) return;
        await this.apply(ms[i] as Manifest);
        onProgress?.(++done);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, ms.length) }, () => worker()));
  }

  /** GET an object; undefined when it does not exist. */
  async get<T = KubeObject>(m: Pick<Manifest, 'apiVersion' | 'kind' | 'metadata'>): Promise<T | undefined> {
    try {
      return await this.kube.request<T>('GET', await this.#path(m as Manifest));
    } catch (err) {
      if (KubeNotFound.is(err)) return undefined;
      throw err;
    }
  }

  /** JSON merge patch of one object. */
  async mergePatch<T = KubeObject>(
    m: Pick<Manifest, 'apiVersion' | 'kind' | 'metadata'>,
    patch: unknown,
  ): Promise<T> {
    return this.kube.request<T>('PATCH', await this.#path(m as Manifest), {
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }

  /** Delete an object (absent is fine). */
  async delete(m: Pick<Manifest, 'apiVersion' | 'kind' | 'metadata'>): Promise<void> {
    try {
      await this.kube.request('DELETE', await this.#path(m as Manifest));
    } catch (err) {
      if (!KubeNotFound.is(err)) throw err;
    }
  }

  /**
   * Delete an object even when finalizers hold it (nobody may be left to remove them, e.g. after
   * the controller stopped): clear `metadata.finalizers`, then delete.
   */
  async forceDelete(m: Pick<Manifest, 'apiVersion' | 'kind' | 'metadata'>): Promise<void> {
    try {
      await this.mergePatch(m, { metadata: { finalizers: null } });
    } catch (err) {
      if (KubeNotFound.is(err)) return;
      throw err;
    }
    await this.delete(m);
  }

  /** List the objects of a kind (all pages), optionally in one namespace. */
  async list<T = KubeObject>(
    apiVersion: string,
    kind: string,
    namespace?: string,
    labelSelector?: string,
  ): Promise<T[]> {
    const r = await this.resolve(apiVersion, kind);
    const path = collectionPath(r.gvr, r.namespaced ? namespace : undefined);
    const out: T[] = [];
    let cont: string | undefined;
    do {
      const page = await this.kube.request<{ items: T[]; metadata?: { continue?: string } }>('GET', path, {
        query: { limit: 500, continue: cont, labelSelector },
      });
      out.push(...page.items);
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return out;
  }
}

/**
 * Make sure a namespace can take new objects. A namespace stuck in `Terminating` (the test bed runs
 * no namespace controller, so a deleted namespace never goes away by itself) is finalized — its
 * `kubernetes` finalizer removed through the `finalize` subresource — and waited for until it is
 * gone, so it can be created again. Returns true when it had to do that.
 */
export async function clearTerminatingNamespace(
  kube: KubeClient,
  name: string,
  timeoutMs = 30_000,
): Promise<boolean> {
  const path = `/api/v1/namespaces/${encodeURIComponent(name)}`;
  let ns: KubeObject & { spec?: { finalizers?: string[] } };
  try {
    ns = await kube.request(`GET`, path);
  } catch (err) {
    if (KubeNotFound.is(err)) return false;
    throw err;
  }
  if (!ns.metadata?.['deletionTimestamp']) return false;
  await kube.request('PUT', `${path}/finalize`, {
    body: { ...ns, spec: { ...(ns.spec ?? {}), finalizers: [] } },
  });
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await kube.request('GET', path);
    } catch (err) {
      if (KubeNotFound.is(err)) return true;
      throw err;
    }
    if (Date.now() > end) throw new Error(`namespace ${name} is still terminating after ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** Create a namespace if it does not exist (labels are applied either way). */
export async function ensureNamespace(
  kube: KubeClient,
  name: string,
  labels: Record<string, string> = {},
): Promise<void> {
  await new Applier(kube).apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
}
