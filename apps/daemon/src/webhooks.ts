/**
 * Webhooks, the Standard Webhooks way: a persisted outbox, signed deliveries, exponential
 * backoff with jitter for up to a day, and endpoints disabled for good on `410 Gone`.
 */
import { createHash, createHmac } from 'node:crypto';
import { backoffDelay } from '@jobwatch/client';
import type { Snapshot } from '@jobwatch/schema';
import type { Webhook } from './config.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { Delivery, NewDelivery, Store, WatchFailure } from './store/store.js';

/** The body of a webhook message (Standard Webhooks' `{type, timestamp, data}` shape). */
export type WebhookPayload =
  | {
      /** `job.terminal` when the job has ended, `job.changed` for any other status change. */
      readonly type: 'job.terminal' | 'job.changed';
      /** ISO 8601 time the change was recorded. */
      readonly timestamp: string;
      readonly data: Snapshot;
    }
  | {
      /** A watch that could not go on: the job may go on, but nobody will hear of it. */
      readonly type: 'job.watch_failed';
      /** ISO 8601 time of the failure. */
      readonly timestamp: string;
      /** Deployment, job id, the error's code and message, and the last snapshot. */
      readonly data: WatchFailure;
    };

/**
 * The message id of a transition: the same for the same (deployment, job, status, update
 * time), so a receiver can deduplicate however often it is delivered.
 */
export function messageIdFor(snapshot: Snapshot): string {
  const key = `${snapshot.deployment}\u0000${snapshot.jobid}\u0000${snapshot.status}\u0000${snapshot.job?.updatedtime ?? ''}`;
  return `msg_${createHash('sha256').update(key).digest('base64url').slice(0, 27)}`;
}

/**
 * Signs a message: `v1,` + base64 HMAC-SHA256 over `${id}.${timestamp}.${body}`.
 * @param key the secret's bytes (a `whsec_` secret is base64-decoded first, see `webhookKey`).
 */
export function signWebhook(
  key: Buffer,
  id: string,
  timestampSeconds: number,
  body: string,
): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/**
 * The deliveries a snapshot causes, given the one stored before it. A status change is a
 * `change`; a change to a terminal status is also `terminal`. A change of staleness alone is
 * not sent.
 */
export function deliveriesFor(
  webhooks: readonly Webhook[],
  snapshot: Snapshot,
  previous: Snapshot | null,
  now: number,
): NewDelivery[] {
  if (snapshot.status === null || previous?.status === snapshot.status) return [];
  const out: NewDelivery[] = [];
  let body: string | undefined;
  for (const hook of webhooks) {
    if (hook.deployments && !hook.deployments.has(snapshot.deployment)) continue;
    if (!(hook.events.has('change') || (snapshot.terminal && hook.events.has('terminal'))))
      continue;
    body ??= JSON.stringify({
      type: snapshot.terminal ? 'job.terminal' : 'job.changed',
      timestamp: new Date(now).toISOString(),
      data: snapshot,
    } satisfies WebhookPayload);
    out.push({ messageId: messageIdFor(snapshot), endpoint: hook.url, body });
  }
  return out;
}

/**
 * The deliveries of a failed watch: one `job.watch_failed` to every endpoint that takes the
 * job's deployment, whatever its `events` (whoever waits for an end must hear that none will
 * come). The message id is stable per failure event.
 */
export function deliveriesForFailure(
  webhooks: readonly Webhook[],
  failure: WatchFailure,
  eventId: number,
): NewDelivery[] {
  const out: NewDelivery[] = [];
  const body = JSON.stringify({
    type: 'job.watch_failed',
    timestamp: new Date(failure.failedAt).toISOString(),
    data: failure,
  } satisfies WebhookPayload);
  const key = `${failure.deployment}\u0000${failure.jobid}\u0000watch_failed\u0000${eventId}`;
  const messageId = `msg_${createHash('sha256').update(key).digest('base64url').slice(0, 27)}`;
  for (const hook of webhooks) {
    if (hook.deployments && !hook.deployments.has(failure.deployment)) continue;
    out.push({ messageId, endpoint: hook.url, body });
  }
  return out;
}

/** Options of {@link startWebhookDispatcher}. */
export interface WebhookDispatcherOptions {
  readonly store: Store;
  readonly webhooks: readonly Webhook[];
  readonly retry: {
    readonly baseMs: number;
    readonly maxMs: number;
    readonly giveUpAfterMs: number;
  };
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** @default globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
  /** Per-attempt timeout. @default 10_000 */
  readonly timeoutMs?: number;
}

/** The running dispatcher. */
export interface WebhookDispatcher {
  /** Looks at the outbox now (call after queuing). */
  kick(): void;
  /** Stops; waits for attempts in flight. Pending deliveries stay in the outbox. */
  close(): Promise<void>;
}

/** Delivers the outbox: at least once per (message, endpoint), in the background. */
export function startWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const { store, retry, logger, metrics } = options;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const byUrl = new Map(options.webhooks.map((w) => [w.url, w]));
  let closed = false;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  /** Equal jitter: between half the ceiling and all of it. */
  const backoff = (attempts: number) =>
    Math.round(
      backoffDelay(attempts, { baseMs: retry.baseMs, capMs: retry.maxMs, jitter: 0.5, random }),
    );

  async function attempt(d: Delivery): Promise<void> {
    const hook = byUrl.get(d.endpoint);
    const host = new URL(d.endpoint).host;
    if (!hook) {
      logger.warn(
        { endpoint: host, messageId: d.messageId },
        'webhook endpoint no longer configured; delivery dropped',
      );
      await store.removeDelivery(d.seq);
      return;
    }
    const timestamp = Math.floor(now() / 1000);
    let status = 0;
    try {
      const res = await fetchImpl(d.endpoint, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'jobwatch-webhooks',
          'webhook-id': d.messageId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(hook.key, d.messageId, timestamp, d.body),
        },
        body: d.body,
      });
      status = res.status;
      await res.body?.cancel().catch(() => undefined);
    } catch {
      status = 0;
    }
    if (status >= 200 && status < 300) {
      metrics.webhookDeliveries.inc({ result: 'delivered' });
      await store.removeDelivery(d.seq);
      logger.debug(
        { endpoint: host, messageId: d.messageId, attempts: d.attempts + 1 },
        'webhook delivered',
      );
      return;
    }
    if (status === 410) {
      metrics.webhookDeliveries.inc({ result: 'disabled' });
      await store.disableEndpoint(d.endpoint);
      logger.warn({ endpoint: host }, 'webhook endpoint answered 410 Gone; disabled');
      return;
    }
    const attempts = d.attempts + 1;
    const dueAt = now() + backoff(attempts);
    if (dueAt > d.createdAt + retry.giveUpAfterMs) {
      metrics.webhookDeliveries.inc({ result: 'expired' });
      await store.removeDelivery(d.seq);
      logger.error(
        { endpoint: host, messageId: d.messageId, attempts, status },
        'webhook delivery given up',
      );
      return;
    }
    metrics.webhookDeliveries.inc({ result: 'failed' });
    await store.retryDelivery(d.seq, dueAt, attempts);
    logger.info(
      { endpoint: host, messageId: d.messageId, attempts, status, retryInMs: dueAt - now() },
      'webhook delivery failed; will retry',
    );
  }

  async function drain(): Promise<void> {
    do {
      again = false;
      for (;;) {
        if (closed) return;
        const due = await store.dueDeliveries(now(), 32);
        if (due.length === 0) break;
        await Promise.all(
          due.map((d) =>
            attempt(d).catch((error) => logger.error({ err: error }, 'webhook outbox error')),
          ),
        );
      }
    } while (again && !closed);
    if (closed) return;
    const next = await store.nextDueAt();
    const delay = next === undefined ? undefined : next - now();
    // A shared outbox fills from other daemons too (and takes over a silent one's): look again.
    const sweep = store.outboxSweepMs;
    if (sweep !== undefined) arm(Math.min(delay ?? sweep, sweep));
    else if (delay !== undefined) arm(delay);
  }

  function arm(delay: number) {
    clearTimeout(timer);
    timer = setTimeout(kick, Math.max(0, Math.min(delay, 2 ** 31 - 1)));
    timer.unref();
  }

  function kick() {
    if (closed || byUrl.size === 0) return;
    if (running) {
      again = true;
      return;
    }
    running = drain()
      .catch((error) => {
        logger.error({ err: error }, 'webhook outbox error');
        // The store may be down a while: try again later rather than wait for the next kick.
        if (store.outboxSweepMs !== undefined && !closed) arm(store.outboxSweepMs);
      })
      .finally(() => {
        running = undefined;
        if (again) kick();
      });
  }

  kick();
  return {
    kick,
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
