/**
 * A pass-through proxy in front of the simulator's `generateToken`, so a test learns every
 * token the daemon was issued (to look for it in the daemon's logs) without the simulator
 * having to reveal them. Faults pass through: a dropped or cut upstream answer drops the
 * downstream connection.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The running proxy. */
export interface TokenProxy {
  /** The token URL to configure: `http://127.0.0.1:<port><path of the upstream URL>`. */
  readonly tokenUrl: string;
  /** Every token seen in an answer, with the wall-clock time (epoch ms) it was first seen. */
  readonly tokens: Map<string, number>;
  close(): Promise<void>;
}

/** Starts a proxy forwarding every request to the origin of `upstreamTokenUrl`. */
export async function startTokenProxy(upstreamTokenUrl: string): Promise<TokenProxy> {
  const upstream = new URL(upstreamTokenUrl);
  const tokens = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const up = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
        agent: false,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('error', () => res.destroy());
        answer.on('aborted', () => res.destroy());
        answer.on('end', () => {
          if (!answer.complete) return res.destroy();
          const body = Buffer.concat(chunks);
          for (const m of body.toString('utf8').matchAll(/"token"\s*:\s*"([^"]+)"/g))
            if (m[1] && !tokens.has(m[1])) tokens.set(m[1], Date.now());
          const headers = { ...answer.headers };
          delete headers['transfer-encoding'];
          headers['content-length'] = String(body.length);
          res.writeHead(answer.statusCode ?? 502, headers).end(body);
        });
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    tokenUrl: `http://127.0.0.1:${port}${upstream.pathname}`,
    tokens,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
