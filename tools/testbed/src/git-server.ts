/**
 * Git smart-HTTP remote for the test bed: `git http-backend` (Debian git) run as CGI behind node:http,
 * with HTTP basic auth (username/password, or any username with the token as password) and bearer-token auth.
 *
 *   GET  /healthz                      -> 200 ok (no auth)
 *   POST /_admin/repos  {"name":"x"}   -> creates bare repo x.git (branch main), 201 {url} (200 when it exists)
 *   DELETE /_admin/repos/<name>        -> removes it
 *   /git/<name>.git/...                -> smart HTTP (clone/fetch/push), auth required for every request
 *
 * Configuration (environment): GIT_SERVER_ROOT, GIT_SERVER_PORT, GIT_SERVER_USERNAME, GIT_SERVER_PASSWORD, GIT_SERVER_TOKEN.
 * Started detached by `testbed up git`; stopped by SIGTERM.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname, join, resolve, sep } from 'node:path';
import { timingSafeEqual } from 'node:crypto';

const root = resolve(process.env['GIT_SERVER_ROOT'] ?? 'repos');
const port = Number(process.env['GIT_SERVER_PORT'] ?? 0);
const username = process.env['GIT_SERVER_USERNAME'] ?? 'kollect';
const password = process.env['GIT_SERVER_PASSWORD'] ?? '';
const token = process.env['GIT_SERVER_TOKEN'] ?? '';

function eq(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** Returns the authenticated user name, or undefined. */
function authenticate(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization ?? '';
  const bearer = /^Bearer\s+(.+)$/i.exec(h);
  if (bearer) return eq(bearer[1]!.trim(), token) ? `${username}-token` : undefined;
  const basic = /^Basic\s+(.+)$/i.exec(h);
  if (!basic) return undefined;
  const dec = Buffer.from(basic[1]!, 'base64').toString('utf8');
  const i = dec.indexOf(':');
  if (i < 0) return undefined;
  const user = dec.slice(0, i);
  const pass = dec.slice(i + 1);
  if (eq(user, username) && eq(pass, password)) return user;
  if (eq(pass, token)) return user || `${username}-token`;
  return undefined;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

function repoPath(name: string): string | undefined {
  const n = name.replace(/\.git$/, '');
  if (!NAME_RE.test(n) || n.split('/').some((p) => p === '..' || p === '.')) return undefined;
  const p = resolve(root, `${n}.git`);
  return p.startsWith(root + sep) ? p : undefined;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((res, rej) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res(Buffer.concat(chunks).toString('utf8')));
    req.on('error', rej);
  });
}

function baseUrl(req: IncomingMessage): string {
  return `http://${req.headers.host ?? `127.0.0.1:${port}`}/git`;
}

async function admin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (req.method === 'POST' && url.pathname === '/_admin/repos') {
    const raw = await readBody(req);
    let name = url.searchParams.get('name') ?? '';
    if (!name && raw) {
      try {
        name = String((JSON.parse(raw) as { name?: unknown }).name ?? '');
      } catch {
        return send(res, 400, { error: 'body must be JSON {"name": "..."}' });
      }
    }
    const p = repoPath(name);
    if (!p) return send(res, 400, { error: `invalid repository name: ${JSON.stringify(name)}` });
    const rel = p.slice(root.length + 1);
    const repoUrl = `${baseUrl(req)}/${rel}`;
    if (existsSync(p)) return send(res, 200, { name: rel, url: repoUrl, created: false });
    mkdirSync(dirname(p), { recursive: true });
    const r = spawnSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', p]);
    if (r.status !== 0) return send(res, 500, { error: r.stderr.toString() });
    spawnSync('git', ['-C', p, 'config', 'http.receivepack', 'true']);
    return send(res, 201, { name: rel, url: repoUrl, created: true });
  }
  if (req.method === 'DELETE' && url.pathname.startsWith('/_admin/repos/')) {
    const p = repoPath(decodeURIComponent(url.pathname.slice('/_admin/repos/'.length)));
    if (!p) return send(res, 400, { error: 'invalid repository name' });
    rmSync(p, { recursive: true, force: true });
    return send(res, 204, '');
  }
  return send(res, 404, { error: 'not found' });
}

function cgi(req: IncomingMessage, res: ServerResponse, url: URL, user: string): void {
  const pathInfo = decodeURIComponent(url.pathname.slice('/git'.length));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    // http-backend enables receive-pack for authenticated users (REMOTE_USER set)
    REMOTE_USER: user,
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    PATH_INFO: pathInfo,
    QUERY_STRING: url.search.replace(/^\?/, ''),
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    SERVER_PROTOCOL: 'HTTP/1.1',
    GATEWAY_INTERFACE: 'CGI/1.1',
  };
  if (req.headers['content-length']) env['CONTENT_LENGTH'] = req.headers['content-length'];
  if (req.headers['content-encoding']) env['HTTP_CONTENT_ENCODING'] = req.headers['content-encoding'];
  const proto = req.headers['git-protocol'];
  if (typeof proto === 'string') env['GIT_PROTOCOL'] = proto;
  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  req.pipe(child.stdin);
  child.stdin.on('error', () => {});
  let head = Buffer.alloc(0);
  let headerDone = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headerDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    let end = head.indexOf('\r\n\r\n');
    let sepLen = 4;
    if (end < 0) {
      end = head.indexOf('\n\n');
      sepLen = 2;
    }
    if (end < 0) return;
    headerDone = true;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i < 0) continue;
      const k = line.slice(0, i).trim();
      const v = line.slice(i + 1).trim();
      if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10) || 200;
      else headers[k] = v;
    }
    res.writeHead(status, headers);
    res.write(head.subarray(end + sepLen));
  });
  child.stderr.on('data', (d: Buffer) => process.stderr.write(`[http-backend] ${d.toString()}`));
  child.on('close', (code) => {
    if (!headerDone) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`git http-backend failed (exit ${code})\n`);
      return;
    }
    res.end();
  });
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/healthz') return send(res, 200, 'ok\n');
  const user = authenticate(req);
  if (!user) {
    res.writeHead(401, {
      'www-authenticate': 'Basic realm="kollect-testbed-git"',
      'content-type': 'text/plain',
    });
    res.end('authentication required\n');
    return;
  }
  if (url.pathname.startsWith('/_admin/')) {
    admin(req, res, url).catch((e: unknown) => send(res, 500, { error: String(e) }));
    return;
  }
  if (url.pathname.startsWith('/git/')) return cgi(req, res, url, user);
  send(res, 404, 'not found\n');
});

mkdirSync(root, { recursive: true });
server.listen(port, '127.0.0.1', () => {
  const a = server.address();
  console.log(
    `git smart-HTTP server listening on http://127.0.0.1:${typeof a === 'object' && a ? a.port : port}/git (repos in ${join(root)})`,
  );
});
const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
