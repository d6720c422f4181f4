/**
 * Test harness: a real Chromium (Debian's, driven by playwright-core) and a small local
 * HTTP server for the built single-file bundle and test pages.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import {
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeSnapshot, type Snapshot } from '@jobwatch/schema';
import { type Chromium, DAEMON_MAIN, launchChromium, serveDaemon } from '@jobwatch/test-utils';

const dist = new URL('../dist/', import.meta.url);

/** A browser with a fresh profile; `close()` removes the profile. */
export type TestBrowser = Chromium;

/** Launches Chromium with a fresh `--user-data-dir` (the shared test utilities' launcher). */
export const launchBrowser = launchChromium;

/** A route of the test server: a fixed page, or a handler. */
export type Route = string | ((req: IncomingMessage, res: ServerResponse) => void | Promise<void>);

/**
 * A local server for the bundle (`/jobwatch-widget.js`, and `/jobwatch-widget-direct.js`
 * which it loads for direct mode) and test pages.
 */
export interface PageServer {
  readonly url: string;
  /** Adds or replaces a route (`/path` → HTML, or a handler). */
  route(path: string, route: Route): void;
  /** Every path requested, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** Starts a page server on a free loopback port. */
export async function startPageServer(routes: Record<string, Route> = {}): Promise<PageServer> {
  const table = new Map<string, Route>(Object.entries(routes));
  const requests: string[] = [];
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(path);
    const prefix = [...table.keys()].find(
      (p) => p.endsWith('*') && path.startsWith(p.slice(0, -1)),
    );
    const route = table.get(path) ?? (prefix ? table.get(prefix) : undefined);
    try {
      if (typeof route === 'function') return await route(req, res);
      if (typeof route === 'string') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return void res.end(route);
      }
      if (/^\/jobwatch-widget(-direct)?\.js(\.map)?$/.test(path)) {
        const body = readFileSync(new URL(`.${path}`, dist));
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
        return void res.end(body);
      }
      if (path === '/favicon.ico') return void res.writeHead(204).end();
      res.writeHead(404).end();
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    route: (path, route) => void table.set(path, route),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A plain page that loads the single-file bundle; `body` goes into `<body>`. */
export function bundlePage(body = '', lang = 'en'): string {
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>jobwatch test</title>
<script type="module" src="/jobwatch-widget.js"></script></head><body>${body}</body></html>`;
}

/** The policy of {@link cspPage}: scripts from the page's own origin only, no `unsafe-eval`. */
export const STRICT_CSP = "script-src 'self'";

/**
 * A route serving {@link bundlePage} under {@link STRICT_CSP}, with `/csp-probe.js` (serve
 * {@link CSP_PROBE} there) loaded first: inline scripts cannot run on such a page.
 */
export function cspPage(body = ''): Route {
  const html = bundlePage(body).replace(
    '<script type="module"',
    '<script src="/csp-probe.js"></script><script type="module"',
  );
  return (_req, res) => {
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': STRICT_CSP,
    });
    res.end(html);
  };
}

/**
 * Records every CSP violation on the page (`window.violations`), and checks that the policy
 * bites: `window.evalBlocked` is true when `new Function` is refused, as it must be.
 */
export const CSP_PROBE: Route = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
  res.end(`window.violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.violations.push(e.violatedDirective + ' ' + e.blockedURI);
});
window.evalBlocked = (() => {
  try { new Function('return 1'); return false; } catch { return true; }
})();`);
};

const T0 = Date.UTC(2026, 10, 28, 14, 0, 0);

/** A snapshot of a job with `status`, with the job body fields the widget reads. */
export function snapshotOf(
  status: string | null,
  job: Record<string, unknown> = {},
  extra: {
    stale?: boolean;
    trouble?: Snapshot['trouble'];
    jobid?: string;
    lastChanged?: number;
  } = {},
): Snapshot {
  const jobid = extra.jobid ?? 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d';
  const terminal =
    status === 'COMPLETED' ||
    status === 'FAILED' ||
    status === 'CANCELLED' ||
    status === 'TIMED OUT';
  const body =
    status === null
      ? null
      : {
          jobid,
          status,
          starttime: T0,
          endtime: terminal ? T0 + 185_000 : 0,
          updatedtime: terminal ? T0 + 185_000 : T0 + 5_000,
          operationURI: '/arcgis/admin/services/Fire/FireWeatherWatch.MapServer/edit',
          username: 'serviceAdmin',
          ...job,
        };
  return makeSnapshot({
    deployment: 'default',
    jobid,
    job: body as Snapshot['job'],
    firstSeen: T0,
    lastPolled: T0 + 5_000,
    lastChanged: extra.lastChanged ?? T0 + 5_000,
    stale: extra.stale ?? false,
    trouble: extra.trouble,
  });
}

/** The start time every {@link snapshotOf} job has. */
export const START = T0;

/**
 * A route that passes requests through to `target` (an origin) as they come, streaming both
 * ways. When the target is down, or dies while answering, the connection is dropped, as a
 * network error would.
 */
export function proxyTo(target: string, seen?: string[]): Route {
  return (req, res) => {
    seen?.push(req.url ?? '');
    const headers = { ...req.headers, host: new URL(target).host };
    const upstream = request(`${target}${req.url ?? '/'}`, {
      method: req.method ?? 'GET',
      headers,
    });
    upstream.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      // An answer cut short (the target died) cuts the client's connection too, as a proxy would.
      answer.on('close', () => {
        if (!answer.complete) res.destroy();
      });
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  };
}

/** A `jobwatch serve` process, as the demo runs it. */
export interface DaemonProcess {
  readonly url: string;
  readonly apiKey: string;
  /** The daemon's data directory (remove it after the last stop). */
  readonly dataDir: string;
  /** Stops the process (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Kills the process (SIGKILL: no `end` event, connections just drop) and waits for it to exit. */
  kill(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open, nothing is sent. */
  freeze(): void;
  /** Lets a frozen process go on (SIGCONT). */
  thaw(): void;
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>;
}

/** Options of {@link startDaemon}. */
export interface DaemonOptions {
  /** `events.heartbeat`. @default the daemon's (15s) */
  readonly heartbeat?: string;
  /** `cors.origins`. @default none */
  readonly corsOrigins?: readonly string[];
  /** Whether the deployment discovers jobs by listing. @default true */
  readonly discover?: boolean;
  /** `enterprise`, or `server` for an ArcGIS Server admin URL. @default "enterprise" */
  readonly kind?: 'enterprise' | 'server';
}

/** Whether `apps/daemon` is built, so its bin can run. */
export const daemonBuilt = existsSync(DAEMON_MAIN);

/** Runs `jobwatch serve` against an admin URL (discovery on by default). */
export async function startDaemon(
  adminUrl: string,
  options: DaemonOptions = {},
): Promise<DaemonProcess> {
  const served = await serveDaemon({
    adminUrl,
    discover: options.discover ?? true,
    ...(options.kind ? { kind: options.kind } : {}),
    ...(options.heartbeat ? { heartbeat: options.heartbeat } : {}),
    ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}),
  });
  const child = served.process;
  const signal = (name: 'SIGSTOP' | 'SIGCONT') => {
    if (child.pid !== undefined) process.kill(child.pid, name);
  };
  const stop = async (name: 'SIGTERM' | 'SIGKILL') => {
    if (child.pid === undefined) return;
    // A frozen process would hold on to SIGTERM until it is let go.
    signal('SIGCONT');
    await child.stop(name);
  };
  return {
    url: served.url,
    apiKey: served.apiKey,
    dataDir: served.dir,
    start: () => child.start(),
    stop: () => stop('SIGTERM'),
    kill: () => stop('SIGKILL'),
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
  };
}

/** Removes what {@link startDaemon} left on disk; call after `stop()`. */
export function removeDir(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** Reads until `read()` gives `want` (every 100 ms, up to `ms`), or fails saying what it last saw. */
export async function until<T>(
  read: () => Promise<T>,
  want: T,
  what: string,
  ms = 20_000,
): Promise<void> {
  const end = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await read();
    if (last === want) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: expected ${String(want)}, last saw ${String(last)}`);
}
