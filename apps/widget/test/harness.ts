/**
 * Test harness: a real Chromium (Debian's, driven by playwright-core) and a small local
 * HTTP server for the built single-file bundle and test pages.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSnapshot, type Snapshot } from '@jobwatch/schema';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

const dist = new URL('../dist/', import.meta.url);

/** Chromium flags that keep it offline and quiet on this machine. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A browser with a fresh profile; `close()` removes the profile. */
export interface TestBrowser {
  readonly context: BrowserContext;
  /** A new page that fails the test on any uncaught page error. */
  page(): Promise<Page>;
  /** Uncaught errors and console errors seen on any page. */
  readonly errors: string[];
  close(): Promise<void>;
}

/** Launches Chromium with a fresh `--user-data-dir`. */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'jobwatch-widget-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
  const errors: string[] = [];
  return {
    context,
    errors,
    async page() {
      const page = await context.newPage();
      page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console: ${message.text()}`);
      });
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

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

const daemonMain = fileURLToPath(new URL('../../daemon/dist/main.js', import.meta.url));

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
}

/** Whether `apps/daemon` is built, so its bin can run. */
export const daemonBuilt = existsSync(daemonMain);

/** A free loopback port. */
export async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Runs `node apps/daemon/dist/main.js serve` against an admin URL (discovery on by default). */
export async function startDaemon(
  adminUrl: string,
  options: DaemonOptions = {},
): Promise<DaemonProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'jobwatch-widget-daemon-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const apiKey = randomBytes(24).toString('base64url');
  const config = join(dir, 'jobwatch.json');
  writeFileSync(
    config,
    JSON.stringify({
      listen: `127.0.0.1:${port}`,
      dataDir: dir,
      apiKeys: [apiKey],
      logLevel: 'warn',
      ...(options.heartbeat ? { events: { heartbeat: options.heartbeat } } : {}),
      ...(options.corsOrigins ? { cors: { origins: options.corsOrigins } } : {}),
      deployments: [
        {
          name: 'default',
          url: adminUrl,
          username: 'admin',
          passwordEnv: 'JOBWATCH_TEST_PASSWORD',
          discover: options.discover ?? true,
          listInterval: '1s',
        },
      ],
    }),
  );
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(process.execPath, [daemonMain, 'serve', '--config', config], {
      env: { ...process.env, JOBWATCH_TEST_PASSWORD: 'admin' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const until = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the daemon exited with ${child.exitCode}`);
      const ready = await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return;
      if (Date.now() > until) throw new Error('the daemon did not get ready in 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async (signal: 'SIGTERM' | 'SIGKILL') => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    // A frozen process would hold on to SIGTERM until it is let go.
    running.kill('SIGCONT');
    running.kill(signal);
    await exited;
  };
  await start();
  return {
    url,
    apiKey,
    dataDir: dir,
    start,
    stop: () => stop('SIGTERM'),
    kill: () => stop('SIGKILL'),
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
  };
}

/** Removes what {@link startDaemon} left on disk; call after `stop()`. */
export function removeDir(path: string): void {
  rmSync(path, { recursive: true, force: true });
}
