import { connect, type NatsConnection, type Status } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { redactSecrets } from '@kollect/contracts';
import { BusConnectFailed, JetStreamUnavailable, ServerVersionTooOld } from './errors.js';
import { JsPublisher } from './jspub.js';
import { versionAtLeast } from './version.js';

/** How to reach NATS. Credentials are passed through to the client and never logged. */
export interface BusConnectOptions {
  /** One URL, a comma-separated list, or an array (`nats://127.0.0.1:4222`). */
  servers: string | string[];
  /** Connection name shown in server monitoring (`kollect-watcher-0`). */
  name: string;
  token?: string;
  user?: string;
  pass?: string;
  /** TLS: `true` to require TLS with system CAs, or file paths / PEM strings. */
  tls?:
    | boolean
    | { caFile?: string; certFile?: string; keyFile?: string; ca?: string; cert?: string; key?: string };
  /** Fail at connect when the server is older (e.g. `'2.11.0'` when pinned consumers are used). */
  requireServerVersion?: string;
  /** Base wait between reconnect attempts (ms, default 1000); jitter is added on top. */
  reconnectTimeWaitMs?: number;
  /** Max random jitter added to each reconnect wait (ms, default 500). */
  reconnectJitterMs?: number;
  /** Timeout of JetStream API requests (ms, default 5000). */
  apiTimeoutMs?: number;
  /** Timeout of the initial connect (ms, default 10000). */
  connectTimeoutMs?: number;
  /**
   * Keep trying the first connect instead of failing (a pod that starts before NATS). Default
   * false: fail fast with a clear error and let the orchestrator restart the process.
   */
  waitForServer?: boolean;
  /**
   * Capture an async stack trace for every request (default false). The client then builds two
   * Error objects up front for each request — every JetStream publish ack included —, which cost
   * a busy publisher about a tenth of its CPU (measured with the extractor); errors keep their
   * message and cause either way.
   */
  asyncTraces?: boolean;
}

/**
 * A live connection with its JetStream handles. Reconnects forever (with jitter) after the first
 * successful connect; `drain()` is the graceful way out (in-flight messages are delivered and
 * acks flushed), `close()` the abrupt one.
 */
export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly kvm: Kvm;
  readonly objm: Objm;
  /**
   * JetStream publishes with acks on one inbox subscription (what `publishBytes`, `AsyncPublisher`
   * and `FencedWriter` use): the same messages and errors as `js.publish()`, at a fraction of its
   * cost per message.
   */
  readonly pub: JsPublisher;
  /** Server version of the server currently connected to (`2.12.1`). */
  serverVersion(): string;
  /** The connected server's `max_payload` in bytes (NATS default 1 MiB). */
  maxPayload(): number;
  /** Throw {@link ServerVersionTooOld} unless the server is at least `version`. */
  requireServerVersion(version: string, feature: string): void;
  /** Connection status events (disconnect, reconnect, …) from the client. */
  status(): AsyncIterable<Status>;
  /** Drain subscriptions, flush and close. Safe to call twice. */
  drain(): Promise<void>;
  /** Close at once. Safe to call twice. */
  close(): Promise<void>;
  /** Resolves when the connection is closed for good (with the error, if any). */
  closed(): Promise<void | Error>;
}

function serverList(servers: string | string[]): string[] {
  const list = Array.isArray(servers) ? servers : servers.split(',');
  return list.map((s) => s.trim()).filter((s) => s !== '');
}

/** Connect to NATS and JetStream; fails fast with a clear message when either is unusable. */
export async function connectBus(opts: BusConnectOptions): Promise<Bus> {
  const servers = serverList(opts.servers);
  const shown = redactSecrets(servers.join(','));
  if (servers.length === 0) throw BusConnectFailed(shown || '(none)', 'no server URL given');
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      name: opts.name,
      ...(opts.token !== undefined ? { token: opts.token } : {}),
      ...(opts.user !== undefined ? { user: opts.user } : {}),
      ...(opts.pass !== undefined ? { pass: opts.pass } : {}),
      ...(opts.tls === true ? { tls: {} } : typeof opts.tls === 'object' ? { tls: opts.tls } : {}),
      // Once connected, never give up: pods outlive NATS restarts and rolling upgrades.
      maxReconnectAttempts: -1,
      reconnectTimeWait: opts.reconnectTimeWaitMs ?? 1000,
      reconnectJitter: opts.reconnectJitterMs ?? 500,
      reconnectJitterTLS: opts.reconnectJitterMs ?? 1000,
      timeout: opts.connectTimeoutMs ?? 10_000,
      ...(opts.waitForServer ? { waitOnFirstConnect: true } : {}),
      pingInterval: 20_000,
      maxPingOut: 3,
      noAsyncTraces: opts.asyncTraces !== true,
    });
  } catch (err) {
    throw BusConnectFailed(shown, redactSecrets(err instanceof Error ? err.message : String(err)), {
      cause: err,
    });
  }
  const apiTimeout = opts.apiTimeoutMs ?? 5000;
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc, { timeout: apiTimeout });
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw JetStreamUnavailable(shown, { cause: err });
  }
  const js = jetstream(nc, { timeout: apiTimeout });
  let closing: Promise<void> | undefined;
  const bus: Bus = {
    nc,
    js,
    jsm,
    kvm: new Kvm(js),
    objm: new Objm(js),
    pub: new JsPublisher(nc, { timeoutMs: apiTimeout }),
    serverVersion: () => nc.info?.version ?? '0.0.0',
    maxPayload: () => nc.info?.max_payload ?? 1024 * 1024,
    requireServerVersion(version: string, feature: string) {
      const have = nc.info?.version ?? '0.0.0';
      if (!versionAtLeast(have, version)) throw ServerVersionTooOld(have, version, feature);
    },
    status: () => nc.status(),
    drain() {
      closing ??= nc.isClosed() ? Promise.resolve() : nc.drain().catch(() => nc.close());
      return closing;
    },
    close() {
      closing ??= nc.close();
      return closing;
    },
    closed: () => nc.closed(),
  };
  if (opts.requireServerVersion) {
    try {
      bus.requireServerVersion(opts.requireServerVersion, 'this service');
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw err;
    }
  }
  return bus;
}
