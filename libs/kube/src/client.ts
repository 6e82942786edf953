import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { KollectError, redactSecrets } from '@kollect/contracts';
import { KubeUnavailable, kubeErrorFor, type KubeStatus } from './errors.js';

/** Where the kube config comes from. With nothing set: `KUBECONFIG`, `~/.kube/config`, then in-cluster. */
export interface KubeConfigSource {
  /** A kubeconfig file. */
  kubeconfigPath?: string;
  /** The pod's service account (KUBERNETES_SERVICE_HOST/PORT and the mounted token and CA). */
  inCluster?: boolean;
  /** A context other than the current one. */
  context?: string;
  /** An already loaded config (tests). */
  kubeConfig?: KubeConfig;
}

/** Options of {@link KubeClient}. */
export interface KubeClientOptions extends KubeConfigSource {
  /** Deadline of one non-watch request (default 60 s). */
  requestTimeoutMs?: number;
  /** Cap on a non-watch response body (default 256 MiB; a list page is bounded by `limit`). */
  maxResponseBytes?: number;
  /**
   * Send requests to this URL instead of the kubeconfig's server, keeping its TLS and auth
   * settings (tests route through a fault-injecting proxy with it).
   */
  serverOverride?: string;
  /** User-Agent header (default `kollect`). */
  userAgent?: string;
}

/** Load a kube config from a path, the cluster, or the defaults. */
export function loadKubeConfig(src: KubeConfigSource = {}): KubeConfig {
  if (src.kubeConfig) return src.kubeConfig;
  const kc = new KubeConfig();
  if (src.kubeconfigPath) kc.loadFromFile(src.kubeconfigPath);
  else if (src.inCluster) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (src.context) kc.setCurrentContext(src.context);
  if (!kc.getCurrentCluster()) {
    throw new Error('the kube config has no current cluster; set KUBECONFIG or run in a cluster');
  }
  return kc;
}

/** Query parameters; undefined values are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

/** Options of one request. */
export interface RequestOptions {
  query?: Query;
  /** JSON body (serialised here). */
  body?: unknown;
  /** Content-Type of the body (default `application/json`; patches need their own). */
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** An open streaming response (a watch). Destroy `request` to abort it. */
export interface OpenStream {
  request: http.ClientRequest;
  response: http.IncomingMessage;
}

/**
 * Raw HTTP access to one apiserver with the kube config's auth applied, over one keep-alive agent
 * for the cluster. Only JSON; responses of non-watch calls are read fully (bounded), watch
 * responses are handed over unread so the caller can stream them line by line.
 */
export class KubeClient {
  readonly kubeConfig: KubeConfig;
  /** The server URL requests go to. */
  readonly server: URL;
  /** The kube config's cluster name (for messages and metrics). */
  readonly clusterName: string;
  readonly #agent: http.Agent;
  readonly #secure: boolean;
  readonly #requestTimeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #userAgent: string;

  constructor(opts: KubeClientOptions = {}) {
    this.kubeConfig = loadKubeConfig(opts);
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kube config has no current cluster');
    this.clusterName = cluster.name;
    this.server = new URL(opts.serverOverride ?? cluster.server);
    this.#secure = this.server.protocol === 'https:';
    this.#requestTimeoutMs = opts.requestTimeoutMs ?? 60_000;
    this.#maxResponseBytes = opts.maxResponseBytes ?? 256 * 1024 * 1024;
    this.#userAgent = opts.userAgent ?? 'kollect';
    // One pooled agent per cluster. Long watches each hold a socket, so no socket cap; idle
    // sockets are kept for reuse by the next page/watch.
    const agentOpts: http.AgentOptions = {
      keepAlive: true,
      keepAliveMsecs: 30_000,
      maxFreeSockets: 16,
      scheduling: 'lifo',
    };
    this.#agent = this.#secure ? new https.Agent(agentOpts) : new http.Agent(agentOpts);
  }

  /** GET/POST/PUT/PATCH/DELETE with a JSON answer; non-2xx answers throw the declared kube errors. */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const what = `${method} ${path}`;
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? this.#requestTimeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    const { request, response } = await this.#send(method, path, opts, signal, what);
    try {
      const body = await readBody(response, this.#maxResponseBytes, what);
      const status = response.statusCode ?? 0;
      const parsed = parseJsonOrUndefined(body);
      if (status < 200 || status >= 300) throw kubeErrorFor(what, status, parsed as KubeStatus | undefined);
      if (parsed === undefined && body.length > 0) throw KubeUnavailable(what, 'the answer is not JSON');
      return parsed as T;
    } catch (err) {
      request.destroy();
      if (signal.aborted && !opts.signal?.aborted) throw KubeUnavailable(what, 'timed out', { cause: err });
      if (err instanceof KollectError) throw err;
      throw KubeUnavailable(what, redactSecrets(`answer cut off: ${(err as Error).message}`), { cause: err });
    }
  }

  /**
   * Open a streaming GET (a watch). Resolves once the response headers arrive with 200;
   * any other status reads the (small) Status body and throws the declared kube error.
   */
  async openStream(path: string, query: Query, signal?: AbortSignal): Promise<OpenStream> {
    const what = `WATCH ${path}`;
    const { request, response } = await this.#send('GET', path, { query }, signal, what);
    const status = response.statusCode ?? 0;
    if (status !== 200) {
      const body = await readBody(response, 1024 * 1024, what).catch(() => '');
      request.destroy();
      throw kubeErrorFor(what, status, parseJsonOrUndefined(body) as KubeStatus | undefined);
    }
    return { request, response };
  }

  /** Close idle sockets; open watches end when their owners abort them. */
  close(): void {
    this.#agent.destroy();
  }

  async #send(
    method: string,
    path: string,
    opts: RequestOptions,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<OpenStream> {
    const url = new URL(this.server.href.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const reqOpts: https.RequestOptions = {
      method,
      headers: { Accept: 'application/json', 'User-Agent': this.#userAgent },
    };
    // Applies TLS material, bearer/basic/exec auth (and re-reads rotated in-cluster tokens).
    // It also builds an agent per call, which we replace by the cluster's pooled one; the TLS
    // options stay on the request so the pool keys sockets by them.
    await this.kubeConfig.applyToHTTPSOptions(reqOpts);
    reqOpts.agent = this.#agent;
    reqOpts.protocol = url.protocol;
    reqOpts.hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    reqOpts.port = url.port || (this.#secure ? 443 : 80);
    reqOpts.path = url.pathname + url.search;
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.body), 'utf8');
      reqOpts.headers = {
        ...reqOpts.headers,
        'Content-Type': opts.contentType ?? 'application/json',
        'Content-Length': payload.length,
      };
    }
    if (signal) reqOpts.signal = signal;
    const mod = this.#secure ? https : http;
    return new Promise<OpenStream>((resolve, reject) => {
      const request = mod.request(reqOpts, (response) => resolve({ request, response }));
      request.on('error', (err: NodeJS.ErrnoException) => {
        const detail = err.name === 'AbortError' ? 'aborted' : (err.code ?? err.message);
        reject(KubeUnavailable(what, redactSecrets(`${detail} (${this.server.host})`), { cause: err }));
      });
      request.end(payload);
    });
  }
}

function parseJsonOrUndefined(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function readBody(res: http.IncomingMessage, max: number, what: string): Promise<string> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > max) {
      res.destroy();
      throw KubeUnavailable(what, `answer larger than ${max} bytes`);
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts, total).toString('utf8');
}
