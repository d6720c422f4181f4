import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Webhook, webhookKey } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/store.js';
import {
  deliveriesFor,
  messageIdFor,
  startWebhookDispatcher,
  type WebhookDispatcher,
} from '../src/webhooks.js';
import { snap, tempDir } from './helpers.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const JOB = 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d';

/**
 * A receiver written from the Standard Webhooks description, not from the daemon's code:
 * the key is the base64 after `whsec_`; the signed content is `${id}.${timestamp}.${body}`;
 * the header lists space-separated `v1,<base64 HMAC-SHA256>` signatures; the timestamp is
 * seconds and must be within five minutes.
 */
function verifyStandardWebhook(
  secret: string,
  headers: IncomingMessage['headers'],
  body: string,
): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string')
    return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return signatures.split(' ').some((entry) => {
    const [version, sig] = entry.split(',');
    if (version !== 'v1' || !sig) return false;
    const given = Buffer.from(sig, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

interface Receiver {
  url: string;
  server: Server;
  received: Array<{ id: string; verified: boolean; body: string; status: number }>;
  /** Status answers, one per request; the last one repeats. */
  answers: number[];
  next(count: number): Promise<void>;
}

async function startReceiver(answers: number[]): Promise<Receiver> {
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const receiver: Receiver = {
    url: '',
    server: createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      const status =
        receiver.answers.length > 1
          ? (receiver.answers.shift() as number)
          : (receiver.answers[0] as number);
      receiver.received.push({
        id: String(req.headers['webhook-id']),
        verified: verifyStandardWebhook(SECRET, req.headers, body),
        body,
        status,
      });
      res.writeHead(status).end();
      for (const w of waiters.filter((x) => receiver.received.length >= x.count)) w.resolve();
    }),
    received: [],
    answers,
    next: (count) =>
      new Promise<void>((resolve) =>
        receiver.received.length >= count ? resolve() : waiters.push({ count, resolve }),
      ),
  };
  await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/hooks`;
  return receiver;
}

describe('webhooks', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(answers: number[], events: Array<'terminal' | 'change'> = ['terminal']) {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const receiver = await startReceiver(answers);
    cleanups.push(() => new Promise((r) => receiver.server.close(r)));
    const store: Store = openSqliteStore({ dataDir: t.dir });
    cleanups.push(() => store.close());
    const hooks: Webhook[] = [
      { url: receiver.url, key: webhookKey(SECRET), events: new Set(events) },
    ];
    const lines: string[] = [];
    const metrics = createMetrics();
    const dispatcher: WebhookDispatcher = startWebhookDispatcher({
      store,
      webhooks: hooks,
      retry: { baseMs: 5, maxMs: 20, giveUpAfterMs: 60_000 },
      logger: createLogger({
        level: 'debug',
        destination: { write: (l: string) => lines.push(l) },
      }),
      metrics,
    });
    cleanups.unshift(() => dispatcher.close());
    const record = async (status: string, at: number) => {
      await store.recordSnapshot(snap(JOB, status, at), (previous) =>
        deliveriesFor(hooks, snap(JOB, status, at), previous, Date.now()),
      );
      dispatcher.kick();
    };
    return { receiver, store, record, lines, metrics };
  }

  it('signs deliveries so that an independent Standard Webhooks receiver verifies them', async () => {
    const { receiver, record, lines } = await setup([200]);
    await record('EXECUTING', 10);
    await record('COMPLETED', 20);
    await receiver.next(1);
    expect(receiver.received).toHaveLength(1);
    const [got] = receiver.received;
    expect(got?.verified).toBe(true);
    expect(got?.id).toBe(messageIdFor(snap(JOB, 'COMPLETED', 20)));
    expect(JSON.parse(got?.body ?? '')).toMatchObject({
      type: 'job.terminal',
      data: { jobid: JOB, status: 'COMPLETED' },
    });
    expect(lines.join('')).not.toContain(SECRET);
  });

  it('retries with backoff while the receiver fails, keeping the same message id', async () => {
    const { receiver, record, store, metrics } = await setup(
      [500, 503, 200],
      ['change', 'terminal'],
    );
    await record('COMPLETED', 20);
    await receiver.next(3);
    expect(receiver.received.map((r) => r.status)).toEqual([500, 503, 200]);
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(1);
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    await expect.poll(() => store.nextDueAt()).toBeUndefined();
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/jobwatch_webhook_deliveries_total\{result="failed"\} 2/);
    expect(text).toMatch(/jobwatch_webhook_deliveries_total\{result="delivered"\} 1/);
  });

  it('disables an endpoint that answers 410 Gone', async () => {
    const { receiver, record, store } = await setup([410]);
    await record('COMPLETED', 20);
    await receiver.next(1);
    await expect.poll(() => store.isEndpointDisabled(receiver.url)).toBe(true);
    await store.recordSnapshot(snap('j2', 'FAILED', 30), (p) =>
      deliveriesFor(
        [{ url: receiver.url, key: webhookKey(SECRET), events: new Set(['terminal']) }],
        snap('j2', 'FAILED', 30),
        p,
        0,
      ),
    );
    expect(await store.nextDueAt()).toBeUndefined();
  });

  it('sends changes only to webhooks that asked for them', () => {
    const terminalOnly: Webhook = {
      url: 'https://a.example/h',
      key: Buffer.from('k'),
      events: new Set(['terminal']),
    };
    const changes: Webhook = {
      url: 'https://b.example/h',
      key: Buffer.from('k'),
      events: new Set(['change']),
      deployments: new Set(['prod']),
    };
    const executing = snap(JOB, 'EXECUTING', 10, 'prod');
    expect(
      deliveriesFor([terminalOnly, changes], executing, null, 0).map((d) => d.endpoint),
    ).toEqual(['https://b.example/h']);
    expect(
      deliveriesFor([terminalOnly, changes], snap(JOB, 'FAILED', 20, 'prod'), executing, 0),
    ).toHaveLength(2);
    expect(
      deliveriesFor([terminalOnly, changes], snap(JOB, 'FAILED', 20, 'lab'), null, 0).map(
        (d) => d.endpoint,
      ),
    ).toEqual(['https://a.example/h']);
    // staleness alone is no transition
    expect(
      deliveriesFor([changes], snap(JOB, 'EXECUTING', 10, 'prod', true), executing, 0),
    ).toEqual([]);
  });
});

describe('webhook retries of any length', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retry exactly after their backoff, however long, never at once (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1_000, max: 100 * 365 * 86_400_000 }), async (backoff) => {
        // Timers and the clock only: the store's group commit runs on setImmediate.
        vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
        const store = openSqliteStore({ dataDir: ':memory:' });
        const attempts: number[] = [];
        const hook: Webhook = {
          url: 'https://hooks.example.com/h',
          key: webhookKey(SECRET),
          events: new Set(['terminal']),
        };
        const dispatcher = startWebhookDispatcher({
          store,
          webhooks: [hook],
          retry: { baseMs: backoff, maxMs: backoff, giveUpAfterMs: 2 * backoff },
          logger: createLogger({ level: 'silent' }),
          metrics: createMetrics(),
          random: () => 1, // the whole backoff, no jitter
          fetch: async () => {
            attempts.push(Date.now());
            return new Response(null, { status: 500 });
          },
        });
        try {
          await store.recordSnapshot(snap(JOB, 'COMPLETED', 20), (p) =>
            deliveriesFor([hook], snap(JOB, 'COMPLETED', 20), p, Date.now()),
          );
          dispatcher.kick();
          await vi.advanceTimersByTimeAsync(0);
          expect(attempts).toHaveLength(1);
          await vi.advanceTimersByTimeAsync(backoff - 1);
          expect(attempts).toHaveLength(1);
          await vi.advanceTimersByTimeAsync(1);
          expect(attempts).toHaveLength(2);
          expect((attempts[1] as number) - (attempts[0] as number)).toBe(backoff);
        } finally {
          await dispatcher.close();
          await store.close();
          vi.useRealTimers();
        }
      }),
      { numRuns: 15 },
    );
  });
});
