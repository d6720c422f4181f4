/**
 * A webhook receiver written from the Standard Webhooks description: it verifies
 * `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body`, keyed with the
 * base64 after `whsec_`), answers a share of deliveries with a 5xx, and can go away for a
 * while and come back on the same port.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Random } from '@jobwatch/test-utils';

/** A delivery the receiver accepted (answered 2xx). */
export interface AcceptedDelivery {
  readonly id: string;
  readonly type: string;
  readonly jobid: string;
  readonly status: string | null;
  readonly body: string;
}

/** Options of {@link startWebhookReceiver}. */
export interface WebhookReceiverOptions {
  /** The signing secret, `whsec_<base64>`. */
  readonly secret: string;
  /** Share of deliveries answered with a 5xx (0–1). @default 0 */
  readonly failRate?: number;
  readonly random?: Random;
}

/** The running receiver. */
export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>/hook`. */
  readonly url: string;
  /** Deliveries answered 2xx, in arrival order (duplicates included). */
  readonly accepted: AcceptedDelivery[];
  /** Deliveries refused on purpose with a 5xx. */
  readonly failed: number;
  /** Deliveries whose signature, timestamp or body did not check out (answered 400). */
  readonly invalid: string[];
  /** Stops listening and drops open connections; `up()` listens again on the same port. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Verifies a Standard Webhooks signature header against the message. */
export function verifySignature(
  secret: string,
  id: string,
  timestamp: string,
  body: string,
  header: string,
): boolean {
  const key = secret.startsWith('whsec_')
    ? Buffer.from(secret.slice(6), 'base64')
    : Buffer.from(secret, 'utf8');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return header.split(' ').some((part) => {
    const [version, signature] = part.split(',', 2);
    if (version !== 'v1' || !signature) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** Starts the receiver on a free loopback port. */
export async function startWebhookReceiver(
  options: WebhookReceiverOptions,
): Promise<WebhookReceiver> {
  const random = options.random ?? Math.random;
  const failRate = options.failRate ?? 0;
  const accepted: AcceptedDelivery[] = [];
  const invalid: string[] = [];
  const state = { failed: 0 };

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const id = String(req.headers['webhook-id'] ?? '');
    const timestamp = String(req.headers['webhook-timestamp'] ?? '');
    const signature = String(req.headers['webhook-signature'] ?? '');
    const refuse = (why: string) => {
      invalid.push(why);
      res.writeHead(400).end();
    };
    if (req.method !== 'POST') return refuse(`method ${req.method}`);
    if (!id || !/^\d+$/.test(timestamp)) return refuse(`missing id or timestamp (${id})`);
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300)
      return refuse(`timestamp ${timestamp} too far from now`);
    if (!verifySignature(options.secret, id, timestamp, body, signature))
      return refuse(`bad signature on ${id}`);
    if (random() < failRate) {
      state.failed += 1;
      res.writeHead(random() < 0.5 ? 500 : 503).end('try later');
      return;
    }
    let payload: { type?: unknown; data?: { jobid?: unknown; status?: unknown } };
    try {
      payload = JSON.parse(body);
    } catch {
      return refuse(`body of ${id} is not JSON`);
    }
    if (typeof payload.type !== 'string' || typeof payload.data?.jobid !== 'string')
      return refuse(`body of ${id} lacks type or data.jobid`);
    accepted.push({
      id,
      type: payload.type,
      jobid: payload.data.jobid,
      status: typeof payload.data.status === 'string' ? payload.data.status : null,
      body,
    });
    res.writeHead(204).end();
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  let listening = true;
  const down = async () => {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    accepted,
    get failed() {
      return state.failed;
    },
    invalid,
    down,
    async up() {
      if (listening) return;
      await listen(port);
      listening = true;
    },
    close: down,
  };
}
