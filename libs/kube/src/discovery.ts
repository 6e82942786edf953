import type { Gvr } from '@kollect/contracts';
import type { KubeClient } from './client.js';
import { GvkNotServed, KubeNotFound } from './errors.js';
import { groupVersionPath, gvkString, type Gvk, type ResolvedResource } from './types.js';

interface ApiResource {
  name: string;
  namespaced: boolean;
  kind: string;
  verbs?: string[];
}

interface GroupVersionEntry {
  fetchedAt: number;
  /** null: the group/version is not served (404). */
  resources: ApiResource[] | null;
}

/** Options of {@link Discovery}. */
export interface DiscoveryOptions {
  /** Entries older than this are refetched on access (default 5 min). */
  ttlMs?: number;
  /**
   * A miss (kind or group/version not known) refetches the group/version at most this often
   * (default 5 s): CRDs appear after the plan names them, but a typo must not hammer the apiserver.
   */
  missRefreshMs?: number;
  /** Clock (tests). */
  now?: () => number;
}

/**
 * GVK ⇄ GVR resolution through the apiserver's discovery documents (`/api/v1`,
 * `/apis/<group>/<version>`), never by guessing plurals. One document per group/version is cached;
 * stale entries are refetched on access, misses refetch (rate-limited) so CRDs installed later
 * are found, and a failed refetch keeps serving the stale entry.
 */
export class Discovery {
  readonly #client: KubeClient;
  readonly #ttlMs: number;
  readonly #missRefreshMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, GroupVersionEntry>();
  readonly #inflight = new Map<string, Promise<GroupVersionEntry>>();

  constructor(client: KubeClient, opts: DiscoveryOptions = {}) {
    this.#client = client;
    this.#ttlMs = opts.ttlMs ?? 5 * 60_000;
    this.#missRefreshMs = opts.missRefreshMs ?? 5_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Resolve a kind. Throws {@link GvkNotServed} when the apiserver does not serve it. */
  async resolve(gvk: Gvk, signal?: AbortSignal): Promise<ResolvedResource> {
    const find = (e: GroupVersionEntry): ApiResource | undefined =>
      e.resources?.find((r) => r.kind === gvk.kind && !r.name.includes('/'));
    const res = await this.#lookup(gvk.group, gvk.version, find, signal);
    if (!res.found) {
      throw GvkNotServed(
        gvkString(gvk),
        res.entry.resources === null
          ? 'group/version not found'
          : `no kind ${gvk.kind} in ${groupVersionPath(gvk.group, gvk.version)}`,
      );
    }
    return toResolved(gvk.group, gvk.version, res.found);
  }

  /** Resolve a resource (plural) to its kind and scope. Throws {@link GvkNotServed} when unknown. */
  async resolveGvr(gvr: Gvr, signal?: AbortSignal): Promise<ResolvedResource> {
    const find = (e: GroupVersionEntry): ApiResource | undefined =>
      e.resources?.find((r) => r.name === gvr.resource);
    const res = await this.#lookup(gvr.group, gvr.version, find, signal);
    if (!res.found) {
      throw GvkNotServed(
        `${gvr.group === '' ? 'core' : gvr.group}/${gvr.version}/${gvr.resource}`,
        'resource not found',
      );
    }
    return toResolved(gvr.group, gvr.version, res.found);
  }

  /** Forget everything (e.g. after a CRD change was observed). */
  invalidate(): void {
    this.#cache.clear();
  }

  async #lookup(
    group: string,
    version: string,
    find: (e: GroupVersionEntry) => ApiResource | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ entry: GroupVersionEntry; found: ApiResource | undefined }> {
    const key = `${group}/${version}`;
    let entry = this.#cache.get(key);
    const now = this.#now();
    if (!entry || now - entry.fetchedAt > this.#ttlMs) {
      entry = await this.#refresh(key, group, version, entry, signal);
    }
    let found = find(entry);
    if (!found && this.#now() - entry.fetchedAt >= this.#missRefreshMs) {
      entry = await this.#refresh(key, group, version, entry, signal);
      found = find(entry);
    }
    return { entry, found };
  }

  #refresh(
    key: string,
    group: string,
    version: string,
    stale: GroupVersionEntry | undefined,
    signal: AbortSignal | undefined,
  ): Promise<GroupVersionEntry> {
    const running = this.#inflight.get(key);
    if (running) return running;
    const p = (async (): Promise<GroupVersionEntry> => {
      try {
        const doc = await this.#client.request<{ resources?: ApiResource[] }>(
          'GET',
          groupVersionPath(group, version),
          signal ? { signal } : {},
        );
        const entry = { fetchedAt: this.#now(), resources: doc.resources ?? [] };
        this.#cache.set(key, entry);
        return entry;
      } catch (err) {
        if (KubeNotFound.is(err)) {
          const entry = { fetchedAt: this.#now(), resources: null };
          this.#cache.set(key, entry);
          return entry;
        }
        if (stale) return stale;
        throw err;
      } finally {
        this.#inflight.delete(key);
      }
    })();
    this.#inflight.set(key, p);
    return p;
  }
}

function toResolved(group: string, version: string, r: ApiResource): ResolvedResource {
  return {
    gvr: { group, version, resource: r.name },
    gvk: { group, version, kind: r.kind },
    namespaced: r.namespaced,
    verbs: r.verbs ?? [],
  };
}
