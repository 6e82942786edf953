import { KubeNotFound, ListWatch, type KubeClient } from '@kollect/kube';
import { decodeSecretData, type SecretData, type SecretNeed, type SecretWatcher } from '@kollect/sink';

interface SecretObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  data?: Record<string, string>;
}

/**
 * Secrets from the apiserver: read on demand, and watched (one field-selected watch per Secret)
 * so that a rotation rebuilds the sink that uses it. Values stay in this process; they are never
 * logged, published or written to status (ARCHITECTURE.md invariant 7).
 */
export class KubeSecretWatcher implements SecretWatcher {
  private readonly watches = new Map<
    string,
    { lw: ListWatch; listeners: Set<(key: string) => void>; version: string | undefined }
  >();

  constructor(private readonly kube: KubeClient) {}

  async get(namespace: string, name: string): Promise<SecretData | undefined> {
    try {
      const s = await this.kube.request<SecretObject>(
        'GET',
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
      );
      return { data: decodeSecretData(s), resourceVersion: s.metadata?.resourceVersion ?? '' };
    } catch (err) {
      if (KubeNotFound.is(err)) return undefined;
      throw err;
    }
  }

  watch(
    secrets: readonly Pick<SecretNeed, 'namespace' | 'name'>[],
    onChange: (key: string) => void,
  ): () => void {
    const keys = secrets.map((s) => `${s.namespace}/${s.name}`);
    for (const [i, s] of secrets.entries()) {
      const key = keys[i] as string;
      let w = this.watches.get(key);
      if (!w) {
        const entry = {
          listeners: new Set<(key: string) => void>(),
          version: undefined as string | undefined,
          lw: undefined as unknown as ListWatch,
        };
        const notify = (v: string | undefined) => {
          if (entry.version !== undefined && entry.version !== v) for (const l of entry.listeners) l(key);
          entry.version = v;
        };
        entry.lw = new ListWatch(
          this.kube,
          {
            upsert: (obj) => notify((obj as SecretObject).metadata?.resourceVersion ?? ''),
            delete: () => notify('deleted'),
            synced: () => {},
          },
          {
            gvr: { group: '', version: 'v1', resource: 'secrets' },
            kind: 'Secret',
            namespace: s.namespace,
            fieldSelector: `metadata.name=${s.name}`,
            allowSecretData: false,
          },
        );
        entry.lw.start();
        w = entry;
        this.watches.set(key, w);
      }
      w.listeners.add(onChange);
    }
    return () => {
      for (const key of keys) {
        const w = this.watches.get(key);
        if (!w) continue;
        w.listeners.delete(onChange);
        if (w.listeners.size === 0) {
          void w.lw.stop();
          this.watches.delete(key);
        }
      }
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.watches.values()].map((w) => w.lw.stop()));
    this.watches.clear();
  }
}
