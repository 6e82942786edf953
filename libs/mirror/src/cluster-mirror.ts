import type { WatchSyncState } from '@kollect/contracts';
import type { CompiledPlan } from '@kollect/plan';
import { silentLogger, type BusLogger } from '@kollect/bus';
import { ScopeMirror, type MirrorDeps } from './scope-mirror.js';
import { desiredScopes, scopeText, type WatchScope } from './scopes.js';

/** Options of {@link ClusterMirror}. */
export interface ClusterMirrorOptions {
  /** See `DEFAULT_NAMESPACE_THRESHOLD`. */
  namespaceThreshold?: number;
}

/** What one scope is doing, for health checks and logs. */
export interface ScopeHealth {
  scope: WatchScope;
  state: WatchSyncState['state'] | 'starting';
  /** ListWatch engine state. */
  engine: string;
  /** Last byte/page from the apiserver (epoch ms). */
  lastActivityAt: number;
}

/**
 * The set of {@link ScopeMirror}s a plan needs, kept in step with the plan: scopes that appear
 * start (resuming when they can), scopes that disappear stop and forget their keys, unchanged
 * scopes keep running untouched. Active only while this process leads (one active watcher per
 * cluster); inactive, it remembers the latest plan and runs nothing.
 */
export class ClusterMirror {
  readonly #deps: MirrorDeps;
  readonly #opts: ClusterMirrorOptions;
  readonly #log: BusLogger;
  readonly #mirrors = new Map<string, ScopeMirror>();
  #plan: CompiledPlan | undefined;
  #active = false;
  #queue: Promise<void> = Promise.resolve();

  constructor(deps: MirrorDeps, opts: ClusterMirrorOptions = {}) {
    this.#deps = deps;
    this.#opts = opts;
    this.#log = deps.logger ?? silentLogger;
  }

  /** The plan last applied (or remembered while inactive). */
  get plan(): CompiledPlan | undefined {
    return this.#plan;
  }

  get active(): boolean {
    return this.#active;
  }

  /** Use a new plan. Calls are serialised. */
  applyPlan(plan: CompiledPlan): Promise<void> {
    return this.#enqueue(async () => {
      if (plan.settings.cluster !== this.#deps.cluster) {
        this.#log.warn(
          { planCluster: plan.settings.cluster, cluster: this.#deps.cluster },
          'the plan names another cluster label; using this watcher’s',
        );
      }
      this.#plan = plan;
      if (this.#active) await this.#reconcile();
    });
  }

  /**
   * Become active (this process leads) or passive. Passive stops every scope but keeps its keys,
   * so the next leader — or this process again — resumes instead of relisting.
   */
  setActive(active: boolean): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#active === active) return;
      this.#active = active;
      if (active) await this.#reconcile();
      else await this.#stopAll();
    });
  }

  /** Stop everything (shutdown), persisting resume points. */
  stop(): Promise<void> {
    return this.#enqueue(async () => {
      this.#active = false;
      await this.#stopAll();
    });
  }

  /** Per-scope health. */
  health(): ScopeHealth[] {
    return [...this.#mirrors.values()].map((m) => ({
      scope: m.scope,
      state: m.state?.state ?? 'starting',
      engine: m.listWatch?.state ?? 'idle',
      lastActivityAt: m.listWatch?.lastActivityAt ?? 0,
    }));
  }

  /** True when active and every scope has synced (a failed scope counts as not synced). */
  allSynced(): boolean {
    return this.#active && [...this.#mirrors.values()].every((m) => m.state?.state === 'synced');
  }

  #enqueue(fn: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(fn);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #reconcile(): Promise<void> {
    const plan = this.#plan;
    if (!plan) return;
    const wanted = new Map(
      desiredScopes(plan.watches, {
        ...(this.#opts.namespaceThreshold !== undefined
          ? { namespaceThreshold: this.#opts.namespaceThreshold }
          : {}),
      }).map((s) => [s.key, s]),
    );
    // Stop first: a GVR moving between per-namespace and cluster-wide scopes must not be
    // published by both at once.
    const gone = [...this.#mirrors.entries()].filter(([k]) => !wanted.has(k));
    await Promise.all(
      gone.map(async ([k, m]) => {
        this.#mirrors.delete(k);
        await m.stop({ forget: true });
        this.#log.info({ scope: scopeText(m.scope) }, 'scope no longer needed; stopped');
      }),
    );
    for (const [k, scope] of wanted) {
      if (this.#mirrors.has(k)) continue;
      const m = new ScopeMirror(this.#deps, scope);
      this.#mirrors.set(k, m);
      await m.start();
      this.#log.info({ scope: scopeText(scope) }, 'scope started');
    }
  }

  async #stopAll(): Promise<void> {
    const all = [...this.#mirrors.values()];
    this.#mirrors.clear();
    await Promise.all(all.map((m) => m.stop({ forget: false })));
  }
}
