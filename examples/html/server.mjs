#!/usr/bin/env node
// The page's server: serves index.html and the widget's single file, trades its API key for
// event-stream tickets (POST /jobwatch-ticket), and passes /api/events on to the daemon.
//
//   JOBWATCH_DAEMON_URL=http://127.0.0.1:8787 JOBWATCH_API_KEY=… node server.mjs
//
// Any server can do this; this one uses only Node.
import { readFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { fileURLToPath } from 'node:url';

/**
 * The page, the single file and its direct-mode file (found through the package's exports).
 *
 * @type {Record<string, string>}
 */
const FILES = {
  '/': fileURLToPath(new URL('./index.html', import.meta.url)),
  '/jobwatch-widget.js': fileURLToPath(import.meta.resolve('@jobwatch/widget/bundle')),
  '/jobwatch-widget-direct.js': fileURLToPath(
    import.meta.resolve('@jobwatch/widget/bundle/direct'),
  ),
};

/**
 * Starts the page's server. `daemonUrl` is the daemon's base URL, `apiKey` one of its
 * `apiKeys`; `port` 0 picks a free one.
 *
 * @param {{ daemonUrl: string, apiKey: string, port?: number, host?: string }} options
 * @returns {Promise<{ url: string, close(): Promise<void> }>}
 */
export async function startServer({ daemonUrl, apiKey, port = 0, host = '127.0.0.1' }) {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    try {
      if (path === '/jobwatch-ticket' && req.method === 'POST') {
        const answer = await fetch(new URL('/api/tickets', daemonUrl), {
          method: 'POST',
          headers: { authorization: `Bearer ${apiKey}` },
        });
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        return void res.end(await answer.text());
      }
      if (path === '/api/events') return passToDaemon(req, res, daemonUrl);
      const file = FILES[path];
      if (!file) return void res.writeHead(path === '/favicon.ico' ? 204 : 404).end();
      const type = file.endsWith('.html') ? 'text/html' : 'text/javascript';
      res.writeHead(200, { 'content-type': `${type}; charset=utf-8` });
      res.end(await readFile(file));
    } catch (error) {
      res.writeHead(502).end(String(error));
    }
  });
  await new Promise((resolve) => server.listen(port, host, () => resolve(undefined)));
  const { port: bound } = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://${host}:${bound}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
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
