import type { Gvr } from '@kollect/contracts';
import type { KubeClient } from './client.js';
import { KubeResourceExpired } from './errors.js';
import { itemKindOfList } from './strip.js';
import { apiVersionOf, collectionPath, type KubeObject } from './types.js';

/** One page of a paged LIST. */
export interface ListPage {
  /** Items as the apiserver sent them (list items carry no apiVersion/kind; see `apiVersion`/`kind`). */
  items: KubeObject[];
  /** The list's resourceVersion (the same on every page of one consistent list). */
  resourceVersion: string;
  /** apiVersion of the items. */
  apiVersion: string;
  /** Kind of the items (from the list kind), when the apiserver said it. */
  kind: string | undefined;
  /** 0-based page index within the current attempt. */
  index: number;
  /**
   * True on the first page after the list had to start over (an expired continue token):
   * everything the caller collected from earlier pages of this list is void.
   */
  restarted: boolean;
  /** The apiserver's estimate of items still to come, when it gives one. */
  remainingItemCount?: number;
}

/** Options of {@link listPages}. */
export interface ListOptions {
  /** Only this namespace (namespaced resources); undefined = all namespaces. */
  namespace?: string;
  /** Page size (default 500). Memory is bounded by one page. */
  limit?: number;
  labelSelector?: string;
  fieldSelector?: string;
  signal?: AbortSignal;
  /** How often an expired continue token may restart the list before giving up (default 5). */
  maxRestarts?: number;
}

interface ListBody {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items?: KubeObject[] | null;
}

/**
 * Paged LIST as an async iterator of pages. The first request reads the latest state (no
 * resourceVersion: a consistent read that honours `limit`; `resourceVersion=0` would let the
 * watch cache ignore `limit` on older apiservers and return everything at once). A 410 on a
 * continue token (the snapshot was compacted mid-list) restarts the list from the beginning and
 * flags the next page with `restarted`.
 */
export async function* listPages(
  client: KubeClient,
  gvr: Gvr,
  opts: ListOptions = {},
): AsyncGenerator<ListPage> {
  const path = collectionPath(gvr, opts.namespace);
  const limit = opts.limit ?? 500;
  const maxRestarts = opts.maxRestarts ?? 5;
  let restarts = 0;
  let restarted = false;
  let cont: string | undefined;
  let index = 0;
  for (;;) {
    let body: ListBody;
    try {
      body = await client.request<ListBody>('GET', path, {
        query: {
          limit,
          continue: cont,
          labelSelector: opts.labelSelector,
          fieldSelector: opts.fieldSelector,
        },
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      if (cont !== undefined && KubeResourceExpired.is(err) && restarts < maxRestarts) {
        restarts++;
        restarted = true;
        cont = undefined;
        index = 0;
        continue;
      }
      throw err;
    }
    const meta = body.metadata ?? {};
    const page: ListPage = {
      items: body.items ?? [],
      resourceVersion: meta.resourceVersion ?? '',
      apiVersion: body.apiVersion ?? apiVersionOf(gvr.group, gvr.version),
      kind: itemKindOfList(body.kind),
      index,
      restarted,
    };
    if (meta.remainingItemCount !== undefined) page.remainingItemCount = meta.remainingItemCount;
    restarted = false;
    index++;
    yield page;
    cont = meta.continue || undefined;
    if (cont === undefined) return;
  }
}
