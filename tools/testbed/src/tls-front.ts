/**
 * TLS-terminating fronts of the test bed: one `tls.createServer` listener per route, each piping the
 * decrypted stream byte for byte to a plain port of another bed service (git smart-HTTP, MinIO,
 * fake-gcs-server, FerretDB's mongodb wire protocol). The clients under test do a real TLS handshake against the bed CA's server
 * certificate and then talk to the real server behind; nothing is parsed or rewritten (the Host
 * header the client signed, e.g. for SigV4, arrives unchanged).
 *
 * Configuration (environment): TLS_FRONT_CERT, TLS_FRONT_KEY (PEM files), TLS_FRONT_ROUTES
 * (JSON `[{"name":"git","listen":P,"target":Q}, …]`). Started detached by `testbed up tls`; SIGTERM stops it.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';

interface Route {
  name: string;
  listen: number;
  target: number;
}

const cert = readFileSync(process.env['TLS_FRONT_CERT'] ?? '');
const key = readFileSync(process.env['TLS_FRONT_KEY'] ?? '');
const routes = JSON.parse(process.env['TLS_FRONT_ROUTES'] ?? '[]') as Route[];

function pipeTo(client: TLSSocket, route: Route): void {
  const upstream: Socket = connect({ host: '127.0.0.1', port: route.target });
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  upstream.on('error', close); // backend down: the client sees the connection close, like a dead server
  client.on('error', close);
  upstream.on('close', close);
  client.on('close', close);
  client.pipe(upstream);
  upstream.pipe(client);
}

const servers = routes.map((route) => {
  const server = createServer({ cert, key, minVersion: 'TLSv1.2' }, (socket) => pipeTo(socket, route));
  // failed handshakes (a client that does not trust the bed CA) are the negative tests' business
  server.on('tlsClientError', () => {});
  server.listen(route.listen, '127.0.0.1', () =>
    console.log(`tls front ${route.name}: tls://127.0.0.1:${route.listen} -> 127.0.0.1:${route.target}`),
  );
  return server;
});

const shutdown = () => {
  let open = servers.length;
  for (const s of servers) s.close(() => --open === 0 && process.exit(0));
  // piped connections keep close() waiting; the bed's stop escalates anyway, so do not linger
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
