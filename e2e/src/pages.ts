/**
 * A small local web server for pages under test: static directories, handlers for a few
 * paths (a ticket endpoint, say), and prefixes passed through to another origin (the daemon's
 * event stream, the simulator's admin API), so that a page talks to one origin only.
 */
import { readFile, stat } from 'node:fs/promises';
import {
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';

/** Answers one request. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Options of {@link startPageServer}. */
export interface PageServerOptions {
  /** Handlers for exact paths (`/ticket`). Checked first. */
  readonly routes?: Readonly<Record<string, Handler>>;
  /** Path prefixes passed through to an origin as they come (`{ '/api/': daemonUrl }`). */
  readonly proxy?: Readonly<Record<string, string>>;
  /** Directories served by path prefix (`{ '/': dist }`); `index.html` for a directory. */
  readonly static?: Readonly<Record<string, string>>;
  /** Port to listen on. @default 0 (a free one) */
  readonly port?: number;
}

/** A running {@link startPageServer}. */
export interface PageServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Every path requested, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

/** Passes a request through to `target` (an origin), streaming both ways. */
export function proxyTo(target: string): Handler {
  return (req, res) => {
    const upstream = request(`${target}${req.url ?? '/'}`, {
      method: req.method ?? 'GET',
      headers: { ...req.headers, host: new URL(target).host },
    });
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  };
}

/** Serves `dir` for paths under `prefix`; never a file outside `dir`. */
function serveDirectory(prefix: string, dir: string): Handler {
  const root = resolve(dir);
  return async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = resolve(join(root, path.slice(prefix.length)));
    if (file !== root && !file.startsWith(root + sep)) return void res.writeHead(403).end();
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  };
}

/** Starts a page server on a loopback port. */
export async function startPageServer(options: PageServerOptions): Promise<PageServer> {
  const requests: string[] = [];
  // Browsers ask for a favicon on their own: answer it (unless a route does) so that no page
  // under test logs a 404.
  const routes: Record<string, Handler> = {
    '/favicon.ico': (_req, res) => void res.writeHead(204).end(),
    ...options.routes,
  };
  const prefixed: [string, Handler][] = [
    ...Object.entries(options.proxy ?? {}).map(([p, t]): [string, Handler] => [p, proxyTo(t)]),
    ...Object.entries(options.static ?? {}).map(([p, d]): [string, Handler] => [
      p,
      serveDirectory(p, d),
    ]),
  ].sort((a, b) => b[0].length - a[0].length);
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(path);
    const handler = routes[path] ?? prefixed.find(([prefix]) => path.startsWith(prefix))?.[1];
    try {
      if (handler) return await handler(req, res);
      res.writeHead(404).end();
    } catch (error) {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    }
  });
  await new Promise<void>((ready) => server.listen(options.port ?? 0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
