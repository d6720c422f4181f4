#!/usr/bin/env node
// @ts-check
// The app's server (after `pnpm build`): renders the app to HTML for each request, serves the
// browser bundle, trades its API key for event-stream tickets (POST /jobwatch-ticket), and
// passes /api/events on to the daemon, so the browser talks to one origin.
//
//   JOBWATCH_DAEMON_URL=http://127.0.0.1:8787 JOBWATCH_API_KEY=… node server.mjs
import { readFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const client = fileURLToPath(new URL('./dist/client/', import.meta.url));
const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

/**
 * Starts the app's server. `daemonUrl` is the daemon's base URL, `apiKey` one of its
 * `apiKeys`; `port` 0 picks a free one.
 *
 * @param {{ daemonUrl: string, apiKey: string, port?: number, host?: string }} options
 * @returns {Promise<{ url: string, close(): Promise<void> }>}
 */
export async function startServer({ daemonUrl, apiKey, port = 0, host = '127.0.0.1' }) {
  const template = await readFile(join(client, 'index.html'), 'utf8');
  /** @type {{ render(props: { daemon: string, jobId: string | null }): string }} */
  const { render } = await import('./dist/server/entry-server.js');
  let origin = '';

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    try {
      if (url.pathname === '/jobwatch-ticket' && req.method === 'POST') {
        const answer = await fetch(new URL('/api/tickets', daemonUrl), {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}` },
        });
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        return void res.end(await answer.text());
      }
      if (url.pathname === '/api/events') return passToDaemon(req, res, daemonUrl);
      if (url.pathname === '/') {
        // The browser reaches the daemon's stream through this server, at its own origin.
        const props = { daemon: origin, jobId: url.searchParams.get('job') };
        const html = template.replace('<!--app-html-->', render(props)).replace(
          '<!--app-props-->',
          // `<` escaped: the job id comes from the address and must not end the script.
          `<script type="application/json" id="app-props">${JSON.stringify(props).replaceAll('<', '\\u003c')}</script>`,
        );
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return void res.end(html);
      }
      const file = resolve(client, `.${decodeURIComponent(url.pathname)}`);
      const type = TYPES[/** @type {keyof TYPES} */ (extname(file))];
      if (!file.startsWith(client.endsWith(sep) ? client : client + sep) || !type)
        return void res.writeHead(url.pathname === '/favicon.ico' ? 204 : 404).end();
      const body = await readFile(file).catch(() => undefined);
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': `${type}; charset=utf-8` });
      res.end(body);
    } catch (error) {
      res.writeHead(502).end(String(error));
    }
  });
  await new Promise((ready) => server.listen(port, host, () => ready(undefined)));
  const { port: bound } = /** @type {import('node:net').AddressInfo} */ (server.address());
  origin = `http://${host}:${bound}`;
  return {
    url: origin,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/**
 * Streams one request to the daemon and its answer back (the event stream stays open).
 *
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {string} daemonUrl
 */
function passToDaemon(req, res, daemonUrl) {
  const target = new URL(req.url ?? '/', daemonUrl);
  const upstream = request(target, {
    method: req.method,
    headers: { ...req.headers, host: target.host },
  });
  upstream.on('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => res.destroy());
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { JOBWATCH_DAEMON_URL: daemonUrl, JOBWATCH_API_KEY: apiKey, PORT } = process.env;
  if (!daemonUrl || !apiKey) {
    console.error('Set JOBWATCH_DAEMON_URL and JOBWATCH_API_KEY (one of the daemon’s apiKeys).');
    process.exit(2);
  }
  const { url } = await startServer({ daemonUrl, apiKey, port: Number(PORT ?? 8080) });
  console.log(`${url}/?job=<jobid>`);
}
