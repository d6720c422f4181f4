#!/usr/bin/env node
// The jobwatch demo: a simulated ArcGIS Enterprise with a busy, compressed-time workload,
// the jobwatch daemon watching it (discovery on, an API key), and a page of widgets fed by
// the daemon's event stream. Run after a build: `node apps/widget/demo/start.mjs`.
//
// The page never sees the API key or an admin token: it asks this server for a short-lived
// event-stream ticket (`POST /ticket`), which this server gets from the daemon with the key.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator } from '@jobwatch/simulator';

const here = fileURLToPath(new URL('.', import.meta.url));
const widgetDist = join(here, '..', 'dist');
const daemonMain = fileURLToPath(new URL('../../daemon/dist/main.js', import.meta.url));
const port = Number(process.env.JOBWATCH_DEMO_PORT ?? 8080);
const host = '127.0.0.1';

if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(
    `JOBWATCH_DEMO_PORT: expected a port number, got ${process.env.JOBWATCH_DEMO_PORT}`,
  );
  process.exit(2);
}

/** A free loopback port, for the daemon. */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
}

async function waitFor(url, ms) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {}
    if (Date.now() > until) throw new Error(`${url} did not answer within ${ms / 1000}s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const MIN = 60_000;
const OPS = {
  edit: (s) => `/arcgis/admin/services/${s}/edit`,
  start: (s) => `/arcgis/admin/services/${s}/start`,
  stop: (s) => `/arcgis/admin/services/${s}/stop`,
  delete: () => '/arcgis/admin/services/deleteServices',
  backup: () => '/arcgis/admin/system/disasterrecovery/stores/default/backups/create',
};

const cleanups = [];
let stopping;
async function stop(code = 0) {
  stopping ??= (async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error(`while stopping: ${error.message}`);
      }
    }
    process.exit(code);
  })();
  return stopping;
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

try {
  // 1. A busy site: jobs arrive all the time; a few fail, time out or are cancelled.
  const sim = await startSimulator({
    seed: 20261128,
    clock: { speed: 1 },
    workload: {
      jobsPerMinute: 6,
      minDurationMs: 4_000,
      maxDurationMs: 3 * MIN,
      failureRate: 0.15,
      cancelRate: 0.1,
      timeoutRate: 0.04,
      unavailableRate: 0.15,
      operations: { edit: 4, start: 2, stop: 2, backup: 1 },
    },
  });
  cleanups.push(() => sim.close());
  // A few jobs right away, so the page has something of every kind to show.
  const featured = sim.createJob({
    outcome: 'COMPLETED',
    durationMs: 2 * MIN,
    operation: OPS.edit('Fire/FireWeatherWatch.MapServer'),
    unavailableBlips: 1,
  });
  sim.createJob({ outcome: 'COMPLETED', durationMs: 20_000, operation: OPS.backup() });
  sim.createJob({
    outcome: 'FAILED',
    durationMs: 9_000,
    operation: OPS.stop('Hydrants.FeatureServer'),
  });
  sim.createJob({
    outcome: 'CANCELLED',
    durationMs: 14_000,
    operation: OPS.start('Parcels.MapServer'),
  });
  sim.createJob({ outcome: 'TIMED OUT', durationMs: 25_000, operation: OPS.delete() });
  sim.createJob({
    outcome: 'COMPLETED',
    durationMs: 6_000,
    operation: OPS.edit('SampleWorldCities.MapServer'),
  });
  sim.createJob({
    outcome: 'COMPLETED',
    durationMs: 50_000,
    operation: OPS.start('Elevation.ImageServer'),
  });

  // 2. The daemon, watching every job of the site, behind an API key only this process knows.
  const dataDir = mkdtempSync(join(tmpdir(), 'jobwatch-demo-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const apiKey = randomBytes(24).toString('base64url');
  const daemonPort = await freePort();
  const daemonUrl = `http://${host}:${daemonPort}`;
  const config = join(dataDir, 'jobwatch.json');
  writeFileSync(
    config,
    JSON.stringify({
      listen: `${host}:${daemonPort}`,
      dataDir,
      apiKeys: [apiKey],
      logLevel: 'warn',
      events: { heartbeat: '10s' },
      deployments: [
        {
          name: 'default',
          url: sim.adminUrl,
          username: 'admin',
          passwordEnv: 'JOBWATCH_DEMO_PASSWORD',
          discover: true,
          listInterval: '2s',
        },
      ],
    }),
    { mode: 0o600 },
  );
  const daemon = spawn(process.execPath, [daemonMain, 'serve', '--config', config], {
    env: { ...process.env, JOBWATCH_DEMO_PASSWORD: 'admin' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const daemonExit = new Promise((resolve) => daemon.once('exit', resolve));
  daemon.once('exit', (code, signal) => {
    if (!stopping) {
      console.error(`the daemon stopped (${signal ?? code}); stopping the demo`);
      stop(1);
    }
  });
  cleanups.push(async () => {
    if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGTERM');
    const timer = setTimeout(() => daemon.kill('SIGKILL'), 10_000);
    await daemonExit;
    clearTimeout(timer);
  });
  await waitFor(`${daemonUrl}/readyz`, 20_000);

  // 3. The page, the single-file bundle, a ticket endpoint, and the event stream passed through.
  const page = readFileSync(join(here, 'index.html'), 'utf8').replaceAll(
    '%FEATURED_JOB%',
    featured,
  );
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo');
    const headers = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
    try {
      if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
        res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' });
        return void res.end(page);
      }
      if (req.method === 'GET' && /^\/jobwatch-widget(-direct)?\.js(\.map)?$/.test(url.pathname)) {
        const body = readFileSync(join(widgetDist, url.pathname.slice(1)));
        res.writeHead(200, { ...headers, 'content-type': 'text/javascript; charset=utf-8' });
        return void res.end(body);
      }
      if (req.method === 'POST' && url.pathname === '/ticket') {
        // Same-origin pages only: a browser always sends Origin on a cross-origin POST.
        const origin = req.headers.origin;
        if (origin && origin !== `http://${req.headers.host}`) {
          res.writeHead(403, headers);
          return void res.end();
        }
        const answer = await fetch(`${daemonUrl}/api/tickets`, {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}` },
        });
        res.writeHead(answer.status, { ...headers, 'content-type': 'application/json' });
        return void res.end(await answer.text());
      }
      if (req.method === 'GET' && url.pathname === '/api/events') {
        // The event stream, passed through as it comes (it carries a ticket, never the key).
        const upstream = request(`${daemonUrl}${url.pathname}${url.search}`, {
          headers: {
            accept: 'text/event-stream',
            ...(req.headers['last-event-id']
              ? { 'last-event-id': req.headers['last-event-id'] }
              : {}),
          },
        });
        upstream.on('response', (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        // The daemon unreachable: drop the connection, as the network would, so the page's
        // EventSource retries (an HTTP error answer would make it give up).
        upstream.on('error', () => res.destroy());
        req.on('close', () => upstream.destroy());
        return void upstream.end();
      }
      if (url.pathname === '/favicon.ico') return void res.writeHead(204, headers).end();
      res.writeHead(404, { ...headers, 'content-type': 'text/plain' });
      res.end('not found');
    } catch (error) {
      if (!res.headersSent) res.writeHead(502, { ...headers, 'content-type': 'text/plain' });
      res.end(`demo: ${error.message}`);
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  cleanups.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  console.log(`http://${host}:${server.address().port}/`);
  console.error('jobwatch demo running: simulator, daemon and page. Ctrl-C stops everything.');
} catch (error) {
  console.error(`demo: ${error.message}`);
  await stop(1);
}
