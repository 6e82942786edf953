import { randomBytes } from 'node:crypto';
import {
  BUS_SCHEMA_VERSION,
  MAX_REPORTED_OVERSIZED,
  formatRfc3339Nano,
  redactSecrets,
  subjects,
  type KollectError,
  type ObjectMessage,
  type OversizedObject,
  type WatchSyncState,
} from '@kollect/contracts';
import {
  PayloadTooLarge,
  encodeJson,
  lastPerSubject,
  publishJson,
  silentLogger,
  type AsyncPublisher,
  type Bus,
  type BusLogger,
  type BusNames,
  type JsonKv,
  type PublishOutcome,
} from '@kollect/bus';
import {
  KubeForbidden,
  KubeNotFound,
  ListWatch,
  WatchEvent,
  isCoreSecret,
  isSecretGvr,
  sleep,
  type BackoffOptions,
  type KubeClient,
  type KubeObject,
  type ListWatchEvent,
  type ListWatchHandler,
  type ObjectContext,
  type SyncInfo,
} from '@kollect/kube';
import { resumeKeyOf, syncKeyOf, type ResumePoint } from './keys.js';
import {
  identityOf,
  loggedObjectOf,
  objectEnvelope,
  tombstoneMessage,
  upsertMessage,
  vanishedObjects,
  type LoggedObject,
} from './object-message.js';
import { keepsSecretData, scopeText, type WatchScope } from './scopes.js';
import { PublishTracker } from './tracker.js';

/** Tunables of the mirrors (defaults suit one cluster of up to ~100k objects). */
export interface MirrorSettings {
  /** LIST page size (default 500). */
  pageSize?: number;
  /** Base server-side watch timeout (default 300 s, jittered up to 2x). */
  watchTimeoutSeconds?: number;
  /** Stall watchdog (default 120 s). */
  stallSeconds?: number;
  /** How often the resume point is persisted (default 10 s). */
  checkpointIntervalMs?: number;
  /** Backoff between failed list/watch attempts. */
  backoff?: BackoffOptions;
  /** Consecutive transient failures before the scope reports `failed/Error` (default 5). */
  failedAfter?: number;
}

/** Telemetry hooks (metrics). They must not throw. */
export interface MirrorHooks {
  onWatchEvent?(scope: WatchScope, e: ListWatchEvent): void;
  onPublished?(
    scope: WatchScope,
    op: 'upsert' | 'delete',
    result: 'stored' | 'duplicate' | 'failed' | 'payload_too_large',
  ): void;
  onState?(scope: WatchScope, state: WatchSyncState): void;
  /** Objects currently in the scope (after each list, then +/- per event). */
  onObjectCount?(scope: WatchScope, count: number): void;
}

/** What a mirror needs from its surroundings. */
export interface MirrorDeps {
  bus: Bus;
  names: BusNames;
  /** Shared by every mirror of the process (one bounded window). */
  publisher: AsyncPublisher;
  /** KV `kollect_state`. */
  state: JsonKv<unknown>;
  kube: KubeClient;
  /** The pipeline's cluster label. */
  cluster: string;
  settings?: MirrorSettings;
  logger?: BusLogger;
  hooks?: MirrorHooks;
}

/** Bytes kept free for the subject and identity headers when pre-checking a message's size. */
const HEADER_ALLOWANCE = 1024;
/**
 * Oversized objects remembered per scope (by uid) so that they can be cleared when they shrink or
 * go. Beyond this the count saturates: memory stays bounded whatever the apiserver holds.
 */
const MAX_TRACKED_OVERSIZED = 1000;

/**
 * Keeps the object log a mirror of one {@link WatchScope}: every listed or watched object is
 * published stripped (msgId `uid:rv`), deletes become tombstones, and after every (re)list the
 * objects the log holds for the scope but the list did not return are tombstoned — found by a
 * headers-only scan of the log's last message per subject, never by caching objects. It reports
 * the scope's sync state (KV + status subject) and persists a resume point only once every event
 * before it is acknowledged by the stream, so a restarted watcher resumes without loss.
 */
export class ScopeMirror implements ListWatchHandler {
  readonly scope: WatchScope;
  readonly #deps: MirrorDeps;
  readonly #log: BusLogger;
  readonly #filter: ReadonlySet<string> | null;
  readonly #tracker = new PublishTracker();
  readonly #syncKey: string;
  readonly #resumeKey: string;
  #lw: ListWatch | undefined;
  #timer: NodeJS.Timeout | undefined;
  #progressRv: string | undefined;
  #checkpointedRv: string | undefined;
  #checkpointing = false;
  #listing = false;
  /** Bumped on every publish that failed for good; a list or checkpoint spanning a bump is void. */
  #failureGen = 0;
  #listFailureGen = 0;
  /** A publish failed since the last complete list: no checkpoint until a relist repairs it. */
  #dirty = false;
  #everSynced = false;
  #consecutiveFailures = 0;
  #objects = 0;
  #oversized: NonNullable<WatchSyncState['oversized']> = { count: 0 };
  /** Objects too large for the bus right now, by uid. */
  readonly #oversizedNow = new Map<string, OversizedObject>();
  #current: WatchSyncState | undefined;
  #wanted: WatchSyncState | undefined;
  #writer: Promise<void> | undefined;
  #stopped = false;
  /**
   * Replay guard of a resumed watch: objects the previous process published after its last
   * checkpoint, with the last version it published. See {@link ScopeMirror.start}.
   */
  #replay: Map<string, { resourceVersion: string; op: string }> | undefined;
  readonly #nonce = randomBytes(4).toString('hex');
  readonly #secrets: boolean;

  constructor(deps: MirrorDeps, scope: WatchScope) {
    this.#deps = deps;
    this.scope = scope;
    this.#log = deps.logger ?? silentLogger;
    this.#filter = scope.namespaceFilter ? new Set(scope.namespaceFilter) : null;
    this.#syncKey = syncKeyOf(deps.cluster, scope);
    this.#resumeKey = resumeKeyOf(deps.cluster, scope);
    this.#secrets = isSecretGvr(scope.gvr);
  }

  /** The state last reported. */
  get state(): WatchSyncState | undefined {
    return this.#current;
  }

  /** The underlying list+watch (health checks read `lastActivityAt`, `state`, `stats`). */
  get listWatch(): ListWatch | undefined {
    return this.#lw;
  }

  /**
   * Start: resume the watch from the persisted resume point when it belongs to this exact scope
   * and the scope's last sync state says synced; otherwise list.
   *
   * A resumed watch replays events the previous process may already have published (those after
   * its last checkpoint). Re-publishing them with their usual msgId is unsafe: JetStream drops a
   * msgId it saw within the duplicate window, so if an object's older version falls outside the
   * window and its newer one inside, the older is stored again and the newer dropped — the log
   * would end stale. So, for exactly the objects the log shows as published after the checkpoint,
   * replayed versions bypass deduplication (a msgId unique to this process) until the version the
   * previous process published last has gone by; the log then ends at the newest version.
   */
  async start(): Promise<void> {
    const s = this.#deps.settings ?? {};
    let resume = await this.#loadResume();
    if (resume) {
      try {
        this.#replay = await this.#publishedSince(resume.objectSeqFloor);
      } catch (err) {
        // Without the guard a resume could leave a stale version behind: list instead.
        this.#log.warn(
          { scope: scopeText(this.scope), err: String(err) },
          'could not read the log above the resume point; listing',
        );
        resume = undefined;
      }
    }
    this.#lw = new ListWatch(this.#deps.kube, this, {
      gvr: this.scope.gvr,
      kind: this.scope.kind,
      ...(this.scope.namespace !== null ? { namespace: this.scope.namespace } : {}),
      pageSize: s.pageSize ?? 500,
      watchTimeoutSeconds: s.watchTimeoutSeconds ?? 300,
      stallSeconds: s.stallSeconds ?? 120,
      ...(s.backoff ? { backoff: s.backoff } : {}),
      // Data is fetched when some namespace of the scope keeps it; `upsert` strips the others.
      allowSecretData: this.scope.allowSecretData || (this.scope.secretDataNamespaces?.length ?? 0) > 0,
      ...(resume ? { resumeFrom: resume.resourceVersion } : {}),
      onEvent: (e) => this.#onEvent(e),
    });
    if (resume) {
      // The previous process's oversized objects are still too large unless they change (then a
      // watch event clears them) or go (then an event or the next relist does).
      const prior = resume.state.oversized;
      if (prior) {
        this.#oversized = { count: prior.count, ...(prior.last ? { last: prior.last } : {}) };
        for (const o of prior.objects ?? []) this.#oversizedNow.set(o.uid, o);
      }
      this.#everSynced = true;
      this.#progressRv = this.#checkpointedRv = resume.resourceVersion;
      this.#objects = resume.state.objects ?? 0;
      this.#deps.hooks?.onObjectCount?.(this.scope, this.#objects);
      this.#report({ ...resume.state, state: 'synced', at: now() });
      this.#log.info(
        {
          scope: scopeText(this.scope),
          resourceVersion: resume.resourceVersion,
          replayGuard: this.#replay?.size ?? 0,
        },
        'resuming watch',
      );
    }
    this.#lw.start();
    this.#timer = setInterval(() => void this.#checkpoint(), s.checkpointIntervalMs ?? 10_000);
    this.#timer.unref();
  }

  /**
   * Stop: end the list+watch, wait for this scope's publishes, then either persist the resume
   * point (shutdown, lost leadership) or forget the scope's keys (the plan dropped it).
   */
  async stop(opts: { forget: boolean }): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    await this.#lw?.stop();
    await this.#tracker.settledThrough();
    if (opts.forget) {
      await this.#writer;
      this.#wanted = undefined;
      await Promise.all([
        this.#deps.state.delete(this.#syncKey).catch(() => undefined),
        this.#deps.state.delete(this.#resumeKey).catch(() => undefined),
      ]);
    } else {
      await this.#checkpoint(true);
      await this.#writer;
    }
  }

  // ---- ListWatchHandler ----

  async upsert(obj: KubeObject, ctx: ObjectContext): Promise<void> {
    const namespace = obj.metadata?.namespace ?? '';
    if (!this.#inScope(namespace)) return;
    if (isCoreSecret(obj) && !keepsSecretData(this.scope, namespace)) {
      // Invariant 1: only the namespaces of targets that asked (and were allowed) keep Secret data.
      delete obj['data'];
      delete obj['stringData'];
    }
    if (ctx.type === 'LIST' || ctx.type === 'ADDED') {
      this.#objects++;
      if (ctx.type === 'ADDED') this.#deps.hooks?.onObjectCount?.(this.scope, this.#objects);
    }
    const msg = upsertMessage(this.#deps.cluster, this.scope.gvr, this.scope.kind, obj, ctx.origin);
    await this.#publish(msg);
  }

  async delete(obj: KubeObject, ctx: ObjectContext): Promise<void> {
    if (!this.#inScope(obj.metadata?.namespace ?? '')) return;
    this.#objects = Math.max(0, this.#objects - 1);
    this.#deps.hooks?.onObjectCount?.(this.scope, this.#objects);
    const id = identityOf(obj, ctx.resourceVersion);
    this.#oversizeCleared(id.uid);
    await this.#publish(
      tombstoneMessage(this.#deps.cluster, this.scope.gvr, obj.kind ?? this.scope.kind, id, 'watch'),
    );
  }

  async synced(info: SyncInfo): Promise<void> {
    // Everything the list handed over must be in the log before the log is compared with it.
    await this.#tracker.settledThrough();
    if (this.#failureGen !== this.#listFailureGen) return; // a relist is already requested
    const vanished = await this.#scanVanished(info.uids);
    for (const v of vanished) {
      await this.#publish(
        tombstoneMessage(this.#deps.cluster, this.scope.gvr, this.scope.kind, v, 'relist-vanished'),
      );
    }
    await this.#tracker.settledThrough();
    if (this.#failureGen !== this.#listFailureGen) return;
    // Oversized objects the fresh list no longer returns are gone (they were never in the log, so
    // no tombstone covers them).
    let gone = false;
    for (const uid of [...this.#oversizedNow.keys()]) {
      if (!info.uids.has(uid)) gone = this.#oversizedNow.delete(uid) || gone;
    }
    if (gone) this.#oversized = this.#oversizedState();
    this.#dirty = false;
    this.#everSynced = true;
    this.#deps.hooks?.onObjectCount?.(this.scope, this.#objects);
    this.#log.info(
      {
        scope: scopeText(this.scope),
        reason: info.reason,
        objects: this.#objects,
        vanished: vanished.length,
        pages: info.pages,
        durationMs: info.durationMs,
        resourceVersion: info.resourceVersion,
      },
      'list synced',
    );
    this.#report({
      ...this.#base(),
      state: 'synced',
      objectSeq: this.#tracker.maxSeq,
      resourceVersion: info.resourceVersion,
      objects: this.#objects,
    });
  }

  progress(resourceVersion: string): void {
    this.#progressRv = resourceVersion;
  }

  // ---- internals ----

  #inScope(namespace: string): boolean {
    if (this.scope.namespace !== null) return namespace === this.scope.namespace;
    return this.#filter === null || this.#filter.has(namespace);
  }

  async #publish(msg: ObjectMessage): Promise<void> {
    const env = objectEnvelope(msg);
    const data = encodeJson(msg);
    const limit = this.#deps.bus.maxPayload();
    if (data.length + HEADER_ALLOWANCE > limit) {
      this.#oversize(msg, data.length, limit);
      return;
    }
    this.#oversizeCleared(msg.uid);
    let msgId = env.msgId;
    // Secrets: deduplicate only within this scope instance. Whether a version carries its data
    // depends on the plan, not on the version: after a permission change the relist must replace
    // every logged version even if the same `uid:rv` was published (with or without data) inside
    // the duplicate window, or data could stay in the log (or never arrive).
    if (this.#secrets) msgId = `${msgId}:${this.#nonce}`;
    const guard = this.#replay?.get(msg.uid);
    if (guard) {
      msgId = `${env.msgId}:replay-${this.#nonce}`;
      if (guard.resourceVersion === msg.resourceVersion && guard.op === msg.op) this.#replay?.delete(msg.uid);
    }
    const { done } = await this.#deps.publisher.publishBytes(this.#deps.names.subject(env.subject), data, {
      msgId,
      headers: env.headers,
    });
    this.#tracker.track(
      done.then((o) => {
        if (o.ok) this.#deps.hooks?.onPublished?.(this.scope, msg.op, o.duplicate ? 'duplicate' : 'stored');
        return o;
      }),
      (o: PublishOutcome) => {
        if (o.ok) return;
        if (PayloadTooLarge.is(o.error)) {
          this.#oversize(msg, data.length, limit);
          return;
        }
        this.#deps.hooks?.onPublished?.(this.scope, msg.op, 'failed');
        this.#publishFailed(o.error);
      },
    );
  }

  #publishFailed(error: KollectError): void {
    this.#failureGen++;
    const first = !this.#dirty;
    this.#dirty = true;
    if (first) {
      this.#log.error(
        { scope: scopeText(this.scope), err: redactSecrets(error.message), code: error.code },
        'an object message could not be published; relisting to repair the object log',
      );
    }
    if (!this.#stopped) this.#lw?.requestRelist();
  }

  #oversize(msg: ObjectMessage, bytes: number, limit: number): void {
    this.#deps.hooks?.onPublished?.(this.scope, msg.op, 'payload_too_large');
    const o: OversizedObject = { namespace: msg.namespace, name: msg.name, uid: msg.uid, bytes, limit };
    if (this.#oversizedNow.has(o.uid) || this.#oversizedNow.size < MAX_TRACKED_OVERSIZED)
      this.#oversizedNow.set(o.uid, o);
    this.#oversized = this.#oversizedState(this.#oversized.count + 1, o);
    // Identity and size only: the object itself never reaches a log line.
    this.#log.warn(
      { scope: scopeText(this.scope), namespace: msg.namespace, name: msg.name, uid: msg.uid, bytes, limit },
      'object larger than the bus max payload; not published',
    );
    if (this.#current) this.#report({ ...this.#current, oversized: this.#oversized, at: now() });
  }

  /** A version of `uid` fits the bus again, or the object is gone: it is no longer oversized. */
  #oversizeCleared(uid: string): void {
    if (!this.#oversizedNow.delete(uid)) return;
    this.#oversized = this.#oversizedState();
    if (this.#current) this.#report({ ...this.#current, oversized: this.#oversized, at: now() });
  }

  #oversizedState(
    count = this.#oversized.count,
    last = this.#oversized.last,
  ): NonNullable<WatchSyncState['oversized']> {
    const objects = [...this.#oversizedNow.values()]
      .sort((a, b) => (a.namespace === b.namespace ? cmp(a.name, b.name) : cmp(a.namespace, b.namespace)))
      .slice(0, MAX_REPORTED_OVERSIZED);
    return { count, ...(last ? { last } : {}), current: this.#oversizedNow.size, objects };
  }

  /** Headers-only scan of the scope's part of the log: what exists there but not in `listed`. */
  async #scanVanished(listed: ReadonlySet<string>): Promise<LoggedObject[]> {
    const { bus, names, cluster } = this.#deps;
    const filter = names.subject(subjects.objectsOfGvr(cluster, this.scope.gvr));
    const logged: LoggedObject[] = [];
    let unreadable = 0;
    await lastPerSubject(
      bus,
      names.streams.objects,
      filter,
      (m) => {
        const o = loggedObjectOf(names.contractSubject(m.subject), m.headers);
        if (!o) {
          unreadable++;
          return;
        }
        // Keep only candidates: memory is bounded by what vanished, not by the log's size.
        if (o.op === 'upsert' && !listed.has(o.uid)) logged.push(o);
      },
      { headersOnly: true },
    );
    if (unreadable > 0) {
      this.#log.warn(
        { scope: scopeText(this.scope), unreadable },
        'log messages without identity headers were skipped',
      );
    }
    return vanishedObjects(logged, listed, (ns) => this.#inScope(ns));
  }

  /** The scope's objects whose last log message lies above `floor`: uid -> what it says. */
  async #publishedSince(floor: number): Promise<Map<string, { resourceVersion: string; op: string }>> {
    const { bus, names, cluster } = this.#deps;
    const out = new Map<string, { resourceVersion: string; op: string }>();
    await lastPerSubject(
      bus,
      names.streams.objects,
      names.subject(subjects.objectsOfGvr(cluster, this.scope.gvr)),
      (m) => {
        if (m.streamSeq <= floor) return;
        const o = loggedObjectOf(names.contractSubject(m.subject), m.headers);
        if (o && this.#inScope(o.namespace)) out.set(o.uid, { resourceVersion: o.resourceVersion, op: o.op });
      },
      { headersOnly: true },
    );
    return out;
  }

  async #checkpoint(final = false): Promise<void> {
    if (this.#checkpointing && !final) return;
    const rv = this.#progressRv;
    if (!rv || rv === this.#checkpointedRv || this.#dirty || this.#listing) return;
    this.#checkpointing = true;
    try {
      const gen = this.#failureGen;
      // Anything submitted after this mark gets a higher stream sequence than anything acked now.
      const objectSeqFloor = this.#tracker.maxSeq;
      await this.#tracker.settledThrough(this.#tracker.mark());
      if (gen !== this.#failureGen || this.#dirty) return;
      const value: ResumePoint = { scopeKey: this.scope.key, resourceVersion: rv, objectSeqFloor, at: now() };
      await this.#deps.state.put(this.#resumeKey, value);
      this.#checkpointedRv = rv;
    } catch (err) {
      this.#log.warn(
        { scope: scopeText(this.scope), err: String(err) },
        'could not persist the resume point',
      );
    } finally {
      this.#checkpointing = false;
    }
  }

  async #loadResume(): Promise<
    { resourceVersion: string; objectSeqFloor: number; state: WatchSyncState } | undefined
  > {
    try {
      const [r, s] = await Promise.all([
        this.#deps.state.get(this.#resumeKey),
        this.#deps.state.get(this.#syncKey),
      ]);
      const point = r?.value as ResumePoint | undefined;
      const state = s?.value as WatchSyncState | undefined;
      if (!point || point.scopeKey !== this.scope.key || !point.resourceVersion) return undefined;
      if (typeof point.objectSeqFloor !== 'number') return undefined;
      if (!state || state.state !== 'synced') return undefined;
      return { resourceVersion: point.resourceVersion, objectSeqFloor: point.objectSeqFloor, state };
    } catch (err) {
      this.#log.warn(
        { scope: scopeText(this.scope), err: String(err) },
        'could not read the resume point; listing',
      );
      return undefined;
    }
  }

  #onEvent(e: ListWatchEvent): void {
    this.#deps.hooks?.onWatchEvent?.(this.scope, e);
    switch (e.type) {
      case WatchEvent.LIST_START:
        // A list publishes the latest versions; nothing older can follow it.
        this.#replay = undefined;
        this.#listing = true;
        this.#listFailureGen = this.#failureGen;
        this.#objects = 0;
        this.#report({ ...this.#base(), state: 'listing' });
        break;
      case WatchEvent.SYNCED:
        this.#listing = false;
        this.#consecutiveFailures = 0;
        void this.#checkpoint();
        break;
      case WatchEvent.LIST_RESTARTED:
        this.#objects = 0;
        break;
      case WatchEvent.CONNECT:
      case WatchEvent.ADDED:
      case WatchEvent.DELETED:
      case WatchEvent.MODIFIED:
      case WatchEvent.BOOKMARK:
        this.#recovered();
        break;
      case WatchEvent.LIST_ERROR:
      case WatchEvent.WATCH_ERROR:
      case WatchEvent.NETWORK_ERROR:
      case WatchEvent.STALL:
      case WatchEvent.GIVE_UP:
        this.#failed(e);
        break;
      default:
        break;
    }
  }

  #recovered(): void {
    this.#consecutiveFailures = 0;
    if (this.#current?.state === 'failed' && !this.#listing) {
      this.#report({ ...this.#base(), state: this.#everSynced ? 'synced' : 'listing' });
    }
  }

  #failed(e: ListWatchEvent): void {
    this.#consecutiveFailures++;
    const err = e.error;
    this.#log.warn(
      {
        scope: scopeText(this.scope),
        event: e.type,
        err: err ? redactSecrets(err.message) : undefined,
        retryInMs: e.retryInMs,
        failures: e.failures,
      },
      'list/watch trouble',
    );
    const reason: 'NotFound' | 'Forbidden' | 'Error' | undefined = KubeNotFound.is(err)
      ? 'NotFound'
      : KubeForbidden.is(err)
        ? 'Forbidden'
        : this.#consecutiveFailures >= (this.#deps.settings?.failedAfter ?? 5) ||
            e.type === WatchEvent.GIVE_UP
          ? 'Error'
          : undefined;
    if (!reason) return;
    const message = err ? redactSecrets(err.message).slice(0, 500) : e.type;
    if (
      this.#current?.state === 'failed' &&
      this.#current.reason === reason &&
      this.#current.message === message
    )
      return;
    this.#report({ ...this.#base(), state: 'failed', reason, message });
  }

  #base(): WatchSyncState {
    return {
      schemaVersion: BUS_SCHEMA_VERSION,
      cluster: this.#deps.cluster,
      gvr: this.scope.gvr,
      namespace: this.scope.namespace,
      state: 'listing',
      ...(this.#oversized.count > 0 ? { oversized: this.#oversized } : {}),
      ...(this.#current?.objectSeq !== undefined ? { objectSeq: this.#current.objectSeq } : {}),
      ...(this.#current?.resourceVersion !== undefined
        ? { resourceVersion: this.#current.resourceVersion }
        : {}),
      ...(this.#current?.objects !== undefined ? { objects: this.#current.objects } : {}),
      at: now(),
    };
  }

  /**
   * Record a state: KV sync key (readiness gate) and a status report for the controller. Writes
   * are serialised and coalesced (latest wins) and retried until they land or are superseded.
   */
  #report(state: WatchSyncState): void {
    this.#current = state;
    this.#wanted = state;
    this.#deps.hooks?.onState?.(this.scope, state);
    if (this.#writer) return;
    this.#writer = (async () => {
      let attempt = 0;
      while (this.#wanted) {
        const s = this.#wanted;
        try {
          await this.#deps.state.put(this.#syncKey, s);
          await publishJson(
            this.#deps.bus,
            this.#deps.names.subject(subjects.status('watcher', this.#deps.cluster)),
            s,
            { attempts: 2 },
          ).catch((err: unknown) => this.#log.debug({ err: String(err) }, 'status report not published'));
          if (this.#wanted === s) this.#wanted = undefined;
          attempt = 0;
        } catch (err) {
          attempt++;
          if (this.#stopped && attempt >= 3) break;
          this.#log.warn(
            { scope: scopeText(this.scope), err: String(err), attempt },
            'could not record the sync state',
          );
          await sleep(Math.min(10_000, 250 * 2 ** attempt));
        }
      }
    })().finally(() => {
      this.#writer = undefined;
      if (this.#wanted) this.#report(this.#wanted);
    });
  }
}

function now(): string {
  return formatRfc3339Nano(new Date());
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
