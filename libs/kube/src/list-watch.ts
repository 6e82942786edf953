import type { Gvr } from '@kollect/contracts';
import { KollectError, gvrString, redactSecrets } from '@kollect/contracts';
import { Backoff, jitterUp, sleep, type BackoffOptions } from './backoff.js';
import type { KubeClient } from './client.js';
import {
  ListWatchHandlerFailed,
  KubeResourceExpired,
  KubeUnavailable,
  WatchStalled,
  kubeErrorFor,
  type KubeStatus,
} from './errors.js';
import { LineSplitter } from './lines.js';
import { listPages } from './list.js';
import { stripObject } from './strip.js';
import { apiVersionOf, collectionPath, type KubeObject } from './types.js';
import { parseWatchLine, type WatchLineEvent } from './watch-event.js';

/**
 * What a {@link ListWatch} reports for telemetry (modelled on kubernetes-fluent-client's watch
 * events). Object events carry identifiers only, never the object.
 */
export const WatchEvent = {
  /** A watch request was answered with 200 and is streaming. */
  CONNECT: 'CONNECT',
  /** A (re)list begins. */
  LIST_START: 'LIST_START',
  /** A list page was handed to the handler. */
  LIST_PAGE: 'LIST_PAGE',
  /** A continue token expired mid-list; the list starts over. */
  LIST_RESTARTED: 'LIST_RESTARTED',
  /** A (re)list completed; the handler saw every item. */
  SYNCED: 'SYNCED',
  ADDED: 'ADDED',
  MODIFIED: 'MODIFIED',
  DELETED: 'DELETED',
  /** A bookmark moved the resume point. */
  BOOKMARK: 'BOOKMARK',
  /** A watch ended (server timeout, clean close) and is re-opened from the last resourceVersion. */
  RECONNECT: 'RECONNECT',
  /** 410 Gone/Expired: the resume resourceVersion is too old. */
  OLD_RESOURCE_VERSION: 'OLD_RESOURCE_VERSION',
  /** A relist follows an expired resourceVersion. */
  RELIST: 'RELIST',
  /** The stall watchdog fired: no bytes for `stallSeconds`; the watch is aborted and resumed. */
  STALL: 'STALL',
  /** Connection refused/reset, premature close, 5xx: retry after backoff. */
  NETWORK_ERROR: 'NETWORK_ERROR',
  /** The list failed: retry after backoff. */
  LIST_ERROR: 'LIST_ERROR',
  /** An in-stream ERROR event (other than 410) or an unexpected HTTP answer to the watch. */
  WATCH_ERROR: 'WATCH_ERROR',
  /** The handler threw; the event is retried after backoff (the resume point did not move). */
  HANDLER_ERROR: 'HANDLER_ERROR',
  /** `maxConsecutiveFailures` reached; the ListWatch stopped. */
  GIVE_UP: 'GIVE_UP',
  /** Stopped by {@link ListWatch.stop}. */
  STOPPED: 'STOPPED',
} as const;
export type WatchEventType = (typeof WatchEvent)[keyof typeof WatchEvent];

/** Why a list runs. */
/**
 * Why a list runs: the first one, a 410 (resourceVersion expired), or the consumer asked for it
 * ({@link ListWatch.requestRelist}, e.g. after it lost events it had accepted).
 */
export type ListReason = 'initial' | 'expired' | 'requested';

/** A telemetry event. */
export interface ListWatchEvent {
  type: WatchEventType;
  /** `group/version/resource` */
  gvr: string;
  /** Namespace of a namespace-scoped ListWatch; undefined = all namespaces. */
  namespace: string | undefined;
  resourceVersion?: string;
  uid?: string;
  /** LIST_PAGE: items in the page; SYNCED: objects listed. */
  count?: number;
  /** LIST_START / SYNCED. */
  reason?: ListReason;
  /** SYNCED: list duration. */
  durationMs?: number;
  /** Errors: the error (a KollectError; its message is safe to log). */
  error?: KollectError;
  /** Errors: the delay before the next attempt. */
  retryInMs?: number;
  /** Consecutive failures so far. */
  failures?: number;
}

/** Context of one object callback. */
export interface ObjectContext {
  origin: 'list' | 'watch';
  /** `LIST` for list items, else the watch event type. */
  type: 'LIST' | 'ADDED' | 'MODIFIED' | 'DELETED';
  uid: string;
  resourceVersion: string;
}

/** The end of a (re)list. */
export interface SyncInfo {
  /** The list's resourceVersion; the watch continues from it. */
  resourceVersion: string;
  /**
   * Every uid the list returned. Whatever the consumer holds for this GVR and namespace scope
   * that is not in here has vanished and must be tombstoned.
   */
  uids: ReadonlySet<string>;
  reason: ListReason;
  pages: number;
  durationMs: number;
}

/**
 * Receives the ListWatch's output. Callbacks are awaited one at a time, in order (a slow
 * handler slows the stream: backpressure); a throwing callback makes the engine back off and
 * redo the work from the last resume point, so the handler sees events at least once.
 */
export interface ListWatchHandler {
  /** The object exists in this version (a list item, ADDED or MODIFIED), already stripped. */
  upsert(obj: KubeObject, ctx: ObjectContext): void | Promise<void>;
  /** The object was deleted (its last state, stripped). */
  delete(obj: KubeObject, ctx: ObjectContext): void | Promise<void>;
  /** A (re)list completed: every item was passed to `upsert` first. */
  synced(info: SyncInfo): void | Promise<void>;
  /**
   * The resume point moved (after a handled event, a bookmark or a list). Persist it (after the
   * events before it are durable) to resume a restarted process without a relist.
   */
  progress?(resourceVersion: string): void;
}

/** Options of {@link ListWatch}. */
export interface ListWatchOptions {
  gvr: Gvr;
  /** Kind of the items, used when a list answer lacks one (it normally says `<Kind>List`). */
  kind?: string;
  /** A namespace (namespaced resources only); undefined = all namespaces. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** LIST page size (default 500). */
  pageSize?: number;
  /**
   * Start by watching from this resourceVersion instead of listing (a restarted process that
   * persisted its resume point). If it has expired, a relist follows as usual.
   */
  resumeFrom?: string;
  /** Base of the server-side watch timeout; each watch asks for base..2·base (default 300 s). */
  watchTimeoutSeconds?: number;
  /** Abort and resume a watch that delivered no byte for this long (default 120 s; bookmarks arrive about every minute). */
  stallSeconds?: number;
  /** Backoff between failed attempts (default 500 ms doubling to 30 s, 50 % jitter). */
  backoff?: BackoffOptions;
  /** A relist after 410 waits a random 0..this (default 1 s) so many watchers do not relist at once. */
  relistJitterMs?: number;
  /** Keep core Secret data (only when the plan admitted it for this GVR). */
  allowSecretData?: boolean;
  /** Stop after this many consecutive failures (default: never). */
  maxConsecutiveFailures?: number;
  /** Largest accepted watch line (default 64 MiB). */
  maxLineBytes?: number;
  /** Telemetry. Must not throw. */
  onEvent?: (e: ListWatchEvent) => void;
}

/** Where the engine is. */
export type ListWatchState = 'idle' | 'listing' | 'watching' | 'backoff' | 'stopped';

/** Counters since start. */
export interface ListWatchStats {
  lists: number;
  relists: number;
  pages: number;
  objectsListed: number;
  events: number;
  bookmarks: number;
  reconnects: number;
  expired: number;
  stalls: number;
  errors: number;
}

type WatchOutcome = 'ended' | 'expired' | 'stopped' | 'relist';

class Stopped extends Error {}
class RelistRequested extends Error {}

/**
 * List+watch of one GVR in one namespace (or all), without an object cache: paged initial list,
 * watch with bookmarks and a jittered server timeout, resume from the last seen resourceVersion
 * after any disconnect (clean end, TCP reset, premature close, stall), relist on 410, jittered
 * exponential backoff, and a stall watchdog. It never stops silently: only {@link stop} or
 * `maxConsecutiveFailures` end it, and both are reported.
 */
export class ListWatch {
  readonly #client: KubeClient;
  readonly #handler: ListWatchHandler;
  readonly #opts: ListWatchOptions;
  readonly #gvrText: string;
  readonly #path: string;
  readonly #backoff: Backoff;
  readonly #stats: ListWatchStats = {
    lists: 0,
    relists: 0,
    pages: 0,
    objectsListed: 0,
    events: 0,
    bookmarks: 0,
    reconnects: 0,
    expired: 0,
    stalls: 0,
    errors: 0,
  };
  #abort = new AbortController();
  #done: Promise<void> | undefined;
  #state: ListWatchState = 'idle';
  #rv: string | undefined;
  #synced = false;
  #lastActivity = 0;
  #failures = 0;
  #relistRequested = false;
  #watchAbort: AbortController | undefined;

  constructor(client: KubeClient, handler: ListWatchHandler, opts: ListWatchOptions) {
    if (opts.namespace === '') throw new RangeError('namespace must be undefined (all) or a name, not ""');
    this.#client = client;
    this.#handler = handler;
    this.#opts = opts;
    this.#gvrText = gvrString(opts.gvr);
    this.#path = collectionPath(opts.gvr, opts.namespace);
    this.#backoff = new Backoff(opts.backoff);
    this.#rv = opts.resumeFrom || undefined;
  }

  /** Start (idempotent). Resolves `done` when stopped or given up. */
  start(): void {
    if (this.#done) return;
    this.#done = this.#run().finally(() => {
      this.#state = 'stopped';
    });
  }

  /** Stop: abort the current request and wait for the loop to end. */
  async stop(): Promise<void> {
    this.#abort.abort(new Stopped('stopped'));
    await this.#done;
  }

  /**
   * Abandon the current watch (or finish the current list) and relist: the consumer's next
   * `synced` carries a fresh uid set. For a consumer that lost events it had already accepted
   * (an asynchronous publish that failed for good): a relist plus its vanished-uid diff repairs it.
   */
  requestRelist(): void {
    this.#relistRequested = true;
    this.#watchAbort?.abort(new RelistRequested('relist requested'));
  }

  /** Resolves when the ListWatch has ended (stopped or gave up). */
  get done(): Promise<void> {
    return this.#done ?? Promise.resolve();
  }

  get state(): ListWatchState {
    return this.#state;
  }

  /** The resume point: the last handled resourceVersion. */
  get resourceVersion(): string | undefined {
    return this.#rv;
  }

  /** True once a list completed, or a resumed watch delivered an event or bookmark (so its resourceVersion was valid). */
  get synced(): boolean {
    return this.#synced;
  }

  /** When the engine last received a byte or finished a page (epoch ms; 0 = never). For health checks. */
  get lastActivityAt(): number {
    return this.#lastActivity;
  }

  get stats(): Readonly<ListWatchStats> {
    return { ...this.#stats };
  }

  #emit(e: Omit<ListWatchEvent, 'gvr' | 'namespace'>): void {
    try {
      this.#opts.onEvent?.({ gvr: this.#gvrText, namespace: this.#opts.namespace, ...e });
    } catch {
      // Telemetry must never break the watch.
    }
  }

  get #stopping(): boolean {
    return this.#abort.signal.aborted;
  }

  async #run(): Promise<void> {
    let mustList = this.#rv === undefined;
    let reason: ListReason = 'initial';
    while (!this.#stopping) {
      if (this.#relistRequested) {
        this.#relistRequested = false;
        mustList = true;
        reason = 'requested';
      }
      try {
        if (mustList) {
          if (reason !== 'initial') {
            this.#emit({ type: WatchEvent.RELIST });
            await sleep(Math.random() * (this.#opts.relistJitterMs ?? 1000), this.#abort.signal);
          }
          await this.#list(reason);
          mustList = false;
          this.#failures = 0;
          this.#backoff.reset();
        }
        const started = Date.now();
        const { outcome, events } = await this.#watchOnce(this.#rv as string);
        if (outcome === 'stopped') break;
        if (outcome === 'relist') continue;
        if (outcome === 'expired') {
          mustList = true;
          reason = 'expired';
          continue;
        }
        this.#stats.reconnects++;
        this.#emit({ type: WatchEvent.RECONNECT, ...(this.#rv ? { resourceVersion: this.#rv } : {}) });
        if (events === 0 && Date.now() - started < 1000) {
          // A watch that ends at once with nothing in it is a failure in disguise (client-go's
          // "very short watch"): back off instead of spinning.
          await this.#fail(
            WatchEvent.WATCH_ERROR,
            KubeUnavailable(`WATCH ${this.#path}`, 'the watch closed at once'),
          );
        } else {
          this.#failures = 0;
          this.#backoff.reset();
        }
      } catch (err) {
        if (this.#stopping || err instanceof Stopped) break;
        if (KubeResourceExpired.is(err)) {
          this.#stats.expired++;
          this.#emit({ type: WatchEvent.OLD_RESOURCE_VERSION, error: err as KollectError });
          mustList = true;
          reason = this.#synced || this.#rv !== undefined ? 'expired' : 'initial';
          continue;
        }
        const type = errorEventType(err, mustList);
        const gaveUp = await this.#fail(
          type,
          asKollectError(err, `${mustList ? 'LIST' : 'WATCH'} ${this.#path}`),
        );
        if (gaveUp) return;
      }
    }
    this.#emit({ type: WatchEvent.STOPPED });
  }

  /** Count a failure, emit it, back off. True when the engine gives up. */
  async #fail(type: WatchEventType, error: KollectError): Promise<boolean> {
    this.#stats.errors++;
    if (type === WatchEvent.STALL) this.#stats.stalls++;
    this.#failures++;
    const max = this.#opts.maxConsecutiveFailures ?? Infinity;
    if (this.#failures >= max) {
      this.#emit({ type, error, failures: this.#failures });
      this.#emit({ type: WatchEvent.GIVE_UP, error, failures: this.#failures });
      return true;
    }
    // A stall or a reset is usually a one-off: resume at once the first time, back off after.
    const delay = type === WatchEvent.STALL && this.#failures === 1 ? 0 : this.#backoff.next();
    this.#emit({ type, error, failures: this.#failures, retryInMs: delay });
    this.#state = 'backoff';
    try {
      await sleep(delay, this.#abort.signal);
    } catch {
      // stopped during backoff
    }
    return false;
  }

  /** Run a handler callback; its failure becomes a {@link ListWatchHandlerFailed} (never mistaken for a network error). */
  async #call(fn: () => void | Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (err instanceof Stopped || this.#stopping) throw err;
      if (err instanceof KollectError && err.code === ListWatchHandlerFailed.code) throw err;
      const detail =
        err instanceof KollectError
          ? `${err.code}: ${err.message}`
          : redactSecrets(String((err as Error)?.message ?? err));
      throw ListWatchHandlerFailed(
        `${this.#gvrText}${this.#opts.namespace ? ` in ${this.#opts.namespace}` : ''}`,
        detail,
        { cause: err },
      );
    }
  }

  async #list(reason: ListReason): Promise<void> {
    this.#state = 'listing';
    this.#stats.lists++;
    if (reason !== 'initial') this.#stats.relists++;
    this.#emit({ type: WatchEvent.LIST_START, reason });
    const started = Date.now();
    const uids = new Set<string>();
    let rv = '';
    let pages = 0;
    const fallbackApiVersion = apiVersionOf(this.#opts.gvr.group, this.#opts.gvr.version);
    for await (const page of listPages(this.#client, this.#opts.gvr, {
      ...(this.#opts.namespace !== undefined ? { namespace: this.#opts.namespace } : {}),
      ...(this.#opts.labelSelector !== undefined ? { labelSelector: this.#opts.labelSelector } : {}),
      ...(this.#opts.fieldSelector !== undefined ? { fieldSelector: this.#opts.fieldSelector } : {}),
      limit: this.#opts.pageSize ?? 500,
      signal: this.#abort.signal,
    })) {
      if (page.restarted) {
        // Objects handed over from the abandoned attempt stay upserted; only the uid set
        // restarts, so anything that vanished meanwhile is still found by the caller's diff.
        uids.clear();
        this.#emit({ type: WatchEvent.LIST_RESTARTED });
      }
      if (page.index === 0) rv = page.resourceVersion;
      const strip = {
        apiVersion: page.apiVersion || fallbackApiVersion,
        ...((page.kind ?? this.#opts.kind) ? { kind: (page.kind ?? this.#opts.kind) as string } : {}),
        allowSecretData: this.#opts.allowSecretData ?? false,
      };
      for (const item of page.items) {
        if (this.#stopping) throw new Stopped('stopped');
        const uid = item.metadata?.uid;
        const itemRv = item.metadata?.resourceVersion;
        if (!uid || !itemRv) continue;
        stripObject(item, strip);
        uids.add(uid);
        await this.#call(() =>
          this.#handler.upsert(item, { origin: 'list', type: 'LIST', uid, resourceVersion: itemRv }),
        );
      }
      pages++;
      this.#stats.pages++;
      this.#stats.objectsListed += page.items.length;
      this.#lastActivity = Date.now();
      this.#emit({ type: WatchEvent.LIST_PAGE, count: page.items.length, resourceVersion: rv });
    }
    if (!rv) throw KubeUnavailable(`LIST ${this.#path}`, 'the list carried no resourceVersion');
    const durationMs = Date.now() - started;
    await this.#call(() => this.#handler.synced({ resourceVersion: rv, uids, reason, pages, durationMs }));
    this.#rv = rv;
    this.#synced = true;
    this.#handler.progress?.(rv);
    this.#emit({ type: WatchEvent.SYNCED, resourceVersion: rv, count: uids.size, reason, durationMs });
  }

  async #watchOnce(rv: string): Promise<{ outcome: WatchOutcome; events: number }> {
    const ac = new AbortController();
    this.#watchAbort = ac;
    if (this.#relistRequested) ac.abort(new RelistRequested('relist requested'));
    const onStop = (): void => ac.abort(new Stopped('stopped'));
    this.#abort.signal.addEventListener('abort', onStop, { once: true });
    const timeoutSeconds = Math.round(jitterUp(this.#opts.watchTimeoutSeconds ?? 300, 1));
    const stallMs = (this.#opts.stallSeconds ?? 120) * 1000;
    let stalled = false;
    let deadlineHit = false;
    let busy = false;
    let events = 0;
    let watchdog: NodeJS.Timeout | undefined;
    // Guards a server that ignores timeoutSeconds: the socket is recycled a little after it.
    const deadline = setTimeout(
      () => {
        deadlineHit = true;
        ac.abort(new Error('client-side watch deadline'));
      },
      (timeoutSeconds + 30) * 1000,
    );
    deadline.unref();
    const what = `WATCH ${this.#path}`;
    try {
      this.#lastActivity = Date.now();
      const { response } = await this.#client.openStream(
        this.#path,
        {
          watch: 1,
          allowWatchBookmarks: true,
          resourceVersion: rv,
          timeoutSeconds,
          labelSelector: this.#opts.labelSelector,
          fieldSelector: this.#opts.fieldSelector,
        },
        ac.signal,
      );
      this.#state = 'watching';
      this.#lastActivity = Date.now();
      this.#emit({ type: WatchEvent.CONNECT, resourceVersion: rv });
      watchdog = setInterval(
        () => {
          // Only time spent waiting for the server counts; a slow handler is backpressure.
          if (!busy && Date.now() - this.#lastActivity > stallMs) {
            stalled = true;
            ac.abort(new Error('stalled'));
          }
        },
        Math.max(50, Math.min(stallMs / 4, 5000)),
      );
      watchdog.unref();
      const splitter = new LineSplitter(this.#opts.maxLineBytes);
      const handleLine = async (line: string): Promise<'expired' | undefined> => {
        const ev = parseWatchLine(line, what);
        busy = true;
        try {
          return await this.#handleEvent(ev, what);
        } finally {
          busy = false;
          this.#lastActivity = Date.now();
        }
      };
      for await (const chunk of response as AsyncIterable<Buffer>) {
        this.#lastActivity = Date.now();
        for (const line of splitter.push(chunk)) {
          events++;
          if ((await handleLine(line)) === 'expired') return { outcome: 'expired', events };
        }
      }
      const last = splitter.end();
      if (last !== undefined) {
        events++;
        if ((await handleLine(last)) === 'expired') return { outcome: 'expired', events };
      }
      if (!response.complete) throw KubeUnavailable(what, 'premature close (connection cut mid-stream)');
      this.#synced = true;
      return { outcome: 'ended', events };
    } catch (err) {
      if (this.#stopping) return { outcome: 'stopped', events };
      if (ac.signal.reason instanceof RelistRequested) return { outcome: 'relist', events };
      if (stalled) throw WatchStalled(what, stallMs / 1000, { cause: err });
      if (deadlineHit) return { outcome: 'ended', events };
      if (err instanceof KollectError) throw err;
      // Anything raw here came from the socket: reset, premature close, TLS failure.
      throw KubeUnavailable(
        what,
        redactSecrets(`connection lost: ${(err as Error)?.message ?? String(err)}`),
        { cause: err },
      );
    } finally {
      clearTimeout(deadline);
      if (watchdog) clearInterval(watchdog);
      this.#watchAbort = undefined;
      this.#abort.signal.removeEventListener('abort', onStop);
      if (!ac.signal.aborted) ac.abort(new Error('watch finished'));
    }
  }

  async #handleEvent(ev: WatchLineEvent, what: string): Promise<'expired' | undefined> {
    switch (ev.type) {
      case 'ADDED':
      case 'MODIFIED':
      case 'DELETED': {
        const obj = stripObject(ev.object, {
          apiVersion: apiVersionOf(this.#opts.gvr.group, this.#opts.gvr.version),
          ...(this.#opts.kind ? { kind: this.#opts.kind } : {}),
          allowSecretData: this.#opts.allowSecretData ?? false,
        });
        const ctx: ObjectContext = {
          origin: 'watch',
          type: ev.type,
          uid: ev.uid,
          resourceVersion: ev.resourceVersion,
        };
        if (ev.type === 'DELETED') await this.#call(() => this.#handler.delete(obj, ctx));
        else await this.#call(() => this.#handler.upsert(obj, ctx));
        this.#stats.events++;
        this.#rv = ev.resourceVersion;
        this.#synced = true;
        this.#handler.progress?.(ev.resourceVersion);
        this.#emit({ type: WatchEvent[ev.type], uid: ev.uid, resourceVersion: ev.resourceVersion });
        return undefined;
      }
      case 'BOOKMARK':
        this.#stats.bookmarks++;
        this.#rv = ev.resourceVersion;
        this.#synced = true;
        this.#handler.progress?.(ev.resourceVersion);
        this.#emit({ type: WatchEvent.BOOKMARK, resourceVersion: ev.resourceVersion });
        return undefined;
      case 'ERROR': {
        const status: KubeStatus = ev.status;
        const code = typeof status.code === 'number' ? status.code : 500;
        const err = kubeErrorFor(what, code, status);
        if (KubeResourceExpired.is(err)) {
          this.#stats.expired++;
          this.#emit({
            type: WatchEvent.OLD_RESOURCE_VERSION,
            error: err,
            ...(this.#rv ? { resourceVersion: this.#rv } : {}),
          });
          return 'expired';
        }
        throw err;
      }
    }
  }
}

function asKollectError(err: unknown, what: string): KollectError {
  if (err instanceof KollectError) return err;
  return KubeUnavailable(what, redactSecrets(err instanceof Error ? err.message : String(err)), {
    cause: err,
  });
}

function errorEventType(err: unknown, listing: boolean): WatchEventType {
  if (ListWatchHandlerFailed.is(err)) return WatchEvent.HANDLER_ERROR;
  if (WatchStalled.is(err)) return WatchEvent.STALL;
  if (listing) return WatchEvent.LIST_ERROR;
  if (KubeUnavailable.is(err)) return WatchEvent.NETWORK_ERROR;
  return WatchEvent.WATCH_ERROR;
}
