/**
 * A loopback TCP proxy for fault injection between a client and a real server (TLS passes
 * through untouched): cut every open connection (TCP reset), make open connections silent (a
 * half-open link: bytes are dropped both ways while the sockets stay open), or refuse new ones.
 */
import net, { type AddressInfo, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
  silent: boolean;
}

export class TcpProxy {
  readonly #server: net.Server;
  readonly #pairs = new Set<Pair>();
  #refusing = false;
  /** Connections accepted so far. */
  accepted = 0;

  private constructor(server: net.Server) {
    this.#server = server;
  }

  /** Start a proxy on 127.0.0.1 (random port) forwarding to `host:port`. */
  static async start(host: string, port: number): Promise<TcpProxy> {
    const holder: { proxy?: TcpProxy } = {};
    const server = net.createServer((client) => {
      if (holder.proxy) holder.proxy.#accept(client, host, port);
      else client.destroy();
    });
    const proxy = new TcpProxy(server);
    holder.proxy = proxy;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Open proxied connections. */
  get open(): number {
    return this.#pairs.size;
  }

  /** Reset every open connection (RST), like a broken link or a killed peer. */
  cut(): void {
    for (const p of this.#pairs) {
      p.client.resetAndDestroy();
      p.upstream.destroy();
    }
    this.#pairs.clear();
  }

  /** Make every open connection silent (drop bytes both ways, keep sockets open). New connections work. */
  silence(): void {
    for (const p of this.#pairs) p.silent = true;
  }

  /** Refuse (reset) new connections until called with false. */
  refuse(on = true): void {
    this.#refusing = on;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  #accept(client: Socket, host: string, port: number): void {
    if (this.#refusing) {
      client.resetAndDestroy();
      return;
    }
    this.accepted++;
    const upstream = net.connect(port, host);
    const pair: Pair = { client, upstream, silent: false };
    this.#pairs.add(pair);
    client.on('data', (d) => {
      if (!pair.silent) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!pair.silent) client.write(d);
    });
    const end = (): void => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  }
}
