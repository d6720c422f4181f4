/**
 * The shared {@link Store}: Redis 7, for several daemons behind one address. Jobs are hashes,
 * the event log and the webhook outbox are streams, and every transition is one Lua script
 * (see `redis/scripts.ts`). The parts live beside this file: key names (`redis/keys.ts`),
 * connections and round-trip metrics (`redis/connection.ts`), the event log and its reader
 * (`redis/events.ts`), the outbox's consumer group (`redis/outbox.ts`) and the outage buffer
 * (`redis/buffer.ts`).
 *
 * **Reconciling against the stored snapshot** runs in JavaScript (`reconcileSnapshot` and the
 * webhook payloads are JavaScript, and snapshots must not be re-encoded by Lua), then one
 * script writes only if the job's version is still the one read — compare-and-set, retried on
 * a conflict. Not `WATCH`/`MULTI`: a watch belongs to a connection, so every concurrent write
 * would need a connection of its own, and a transaction cannot branch on the fence or hand
 * out the event id inside the step. The script checks the fence, takes the next id from the
 * counter, appends the event with that id, updates the job and queues its deliveries at once.
 */

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Snapshot } from '@jobwatch/schema';
import type { Redis } from 'ioredis';
import { FencedError, StoreError } from '../errors.js';
import type { Logger } from '../log.js';
import { OutageBuffer } from './redis/buffer.js';
import {
  connectRedis,
  type RedisStoreMetrics,
  RoundTrips,
  reasonOf,
  shownRedisUrl,
} from './redis/connection.js';
import { EventReader, eventsSince, trimEvents, waitForReady } from './redis/events.js';
import { orderMember, parseOrderMember, type RedisKeys, redisKeys } from './redis/keys.js';
import { RedisOutbox } from './redis/outbox.js';
import {
  type Fence,
  type JobRecord,
  type JobRef,
  type NewDelivery,
  reconcileSnapshot,
  type Store,
  type StoredEvent,
  type StoreHealth,
  type WatchFailedEvent,
  type WatchFailure,
  type WatchState,
} from './store.js';

export { type RedisStoreMetrics, shownRedisUrl } from './redis/connection.js';
export { DEFAULT_REDIS_PREFIX, type RedisKeys, redisKeyPrefix, redisKeys } from './redis/keys.js';

/** Options of {@link openRedisStore}. */
export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`. Its password is never shown. */
  readonly url: string;
  /** Prefix of every key, turned into a hash tag (`jobwatch:` → `{jobwatch}:`). @default 'jobwatch:' */
  readonly prefix?: string | undefined;
  readonly logger?: Logger | undefined;
  readonly metrics?: RedisStoreMetrics | undefined;
  /** Clock seam. @default Date.now */
  readonly now?: () => number;
  /** This daemon's name in the outbox's consumer group. @default host name, pid and a random tag */
  readonly consumer?: string | undefined;
  /** How long a delivery may sit with a silent daemon before another claims it. @default 30_000 */
  readonly claimIdleMs?: number | undefined;
  /** How often the webhook dispatcher looks at the shared outbox at least. @default 5_000 */
  readonly outboxSweepMs?: number | undefined;
  /** Most transitions held in memory while Redis is down. @default 10_000 */
  readonly maxBuffered?: number | undefined;
  /** How long {@link openRedisStore} waits for Redis to answer. @default 10_000 */
  readonly connectTimeoutMs?: number | undefined;
  /** A command without an answer for this long counts as Redis being down. @default 5_000 */
  readonly commandTimeoutMs?: number | undefined;
}

/** The Redis {@link Store}, with its key names for the lease code that shares the server. */
export interface RedisStore extends Store {
  readonly keys: RedisKeys;
  /**
   * The store's command connection (ioredis), for leases kept beside the store: it fails
   * commands at once while Redis is down, and reconnects by itself.
   */
  readonly redis: Redis;
  health(): StoreHealth;
}

/** Jobs whose last stored snapshot each daemon remembers (about 2 KB each). */
const MAX_SEEN = 50_000;

/** Compare-and-set attempts before a write gives up (only many daemons writing one job get close). */
const MAX_CAS_ATTEMPTS = 50;

type HashRecord = Record<string, string>;

function toRecord(h: HashRecord): JobRecord | undefined {
  if (!h.state || h.d === undefined || h.j === undefined) return undefined;
  return {
    deployment: h.d,
    jobid: h.j,
    state: h.state as WatchState,
    addedAt: Number(h.addedAt),
    ...(h.endedAt !== undefined ? { endedAt: Number(h.endedAt) } : {}),
    snapshot: h.snapshot ? (JSON.parse(h.snapshot) as Snapshot) : null,
    eventId: Number(h.eventId ?? 0),
    ...(h.errorCode ? { error: { code: h.errorCode, message: h.errorMessage ?? '' } } : {}),
    ...(h.failureEventId !== undefined ? { failureEventId: Number(h.failureEventId) } : {}),
    ...(h.url ? { url: h.url } : {}),
  };
}

const flat = (list: readonly NewDelivery[]) =>
  list.flatMap((d) => [d.messageId, d.endpoint, d.body]);

/** Jobs read per round trip when listing. */
const LIST_CHUNK = 500;

/**
 * Connects to Redis and opens the store there; rejects with a {@link StoreError}
 * (`STORE_UNAVAILABLE`, naming the URL without its password) when Redis does not answer
 * within `connectTimeoutMs`.
 *
 * @example
 * ```ts
 * const store = await openRedisStore({ url: process.env.JOBWATCH_REDIS_URL, logger, metrics });
 * ```
 */
export async function openRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const now = options.now ?? Date.now;
  const { logger, metrics } = options;
  const keys = redisKeys(options.prefix);
  const P = keys.prefix;
  const consumer =
    options.consumer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const redis = connectRedis({
    url: options.url,
    name: `jobwatch:${consumer}`,
    commandTimeoutMs: options.commandTimeoutMs ?? 5_000,
  });
  const rt = new RoundTrips(metrics, logger);
  let lastReason: string | undefined;
  redis.on('error', (error) => {
    lastReason = reasonOf(error);
  });
  const connectTimeout = options.connectTimeoutMs ?? 10_000;
  if (redis.status !== 'ready') await waitForReady(redis, connectTimeout);
  if (redis.status !== 'ready') {
    redis.disconnect();
    throw new StoreError(
      'STORE_UNAVAILABLE',
      `cannot reach redis at ${shownRedisUrl(options.url)} (${lastReason ?? 'no answer'})`,
    );
  }
  const outbox = new RedisOutbox({
    redis,
    keys,
    rt,
    consumer,
    claimIdleMs: options.claimIdleMs ?? 30_000,
  });
  await outbox.ensureGroup();
  const newest = Number((await rt.run('open', 'get', () => redis.get(keys.eventId))) ?? 0);
  const readerConnection = connectRedis({ url: options.url, name: `jobwatch:${consumer}:events` });
  readerConnection.on('error', () => undefined);
  const reader = new EventReader({ connection: readerConnection, keys, from: newest, logger });

  // ---- Redis down or back ----------------------------------------------------------------
  let up = true;
  let downSince = 0;
  let closed = false;
  const buffer = new OutageBuffer({
    max: options.maxBuffered ?? 10_000,
    onSize: (n) => metrics?.storeBuffered.set(n),
    onDrop: (n) => {
      metrics?.storeBufferDropped.inc(n);
      logger?.warn(
        { dropped: n, bound: options.maxBuffered ?? 10_000 },
        'outage buffer full: intermediate transitions dropped (job ends are kept)',
      );
    },
  });
  /** While down: looks every second whether Redis answers again (a connection can stay open and mute). */
  let probe: NodeJS.Timeout | undefined;
  const down = (reason: string) => {
    lastReason = reason;
    if (!up || closed) return;
    up = false;
    downSince = now();
    metrics?.storeUp.set(0);
    logger?.warn(
      { store: 'redis', reason },
      'store unavailable: polling goes on, transitions are buffered',
    );
    probe = setInterval(() => {
      if (redis.status === 'ready') void recover();
    }, 1_000);
    probe.unref();
  };
  let recovering: Promise<void> | undefined;
  /** Redis answers again: the group and the reader checked, the buffer written. */
  function recover(): Promise<void> {
    recovering ??= (async () => {
      try {
        await outbox.ensureGroup();
        // Redis may come back without its data: nothing remembered can be trusted.
        seen.clear();
        reader.rebase(Number((await redis.get(keys.eventId)) ?? 0));
      } catch {
        return; // down again; the next 'ready' or probe tries once more
      } finally {
        recovering = undefined;
      }
      if (closed) return;
      if (!up) {
        up = true;
        clearInterval(probe);
        metrics?.storeUp.set(1);
        logger?.info(
          { store: 'redis', downMs: now() - downSince, buffered: buffer.size },
          'store available again',
        );
      }
      void drain();
    })();
    return recovering;
  }
  redis.on('close', () => down(lastReason ?? 'connection closed'));
  redis.on('ready', () => {
    if (!closed) void recover();
  });
  metrics?.storeUp.set(1);

  const unavailable = (error: unknown) =>
    error instanceof StoreError && error.code === 'STORE_UNAVAILABLE';

  let draining: Promise<void> | undefined;
  /** Writes the buffered transitions in order while Redis answers. */
  function drain(): Promise<void> {
    draining ??= (async () => {
      let written = 0;
      try {
        for (let entry = buffer.peek(); entry && up; entry = buffer.peek()) {
          try {
            await entry.write();
            written += 1;
          } catch (error) {
            if (unavailable(error)) return; // down again: the next 'ready' goes on
            if (error instanceof FencedError)
              logger?.warn({ job: entry.key, reason: error.message }, 'buffered write refused');
            else logger?.error({ job: entry.key, err: error }, 'buffered write failed; dropped');
          }
          buffer.shift();
        }
      } finally {
        if (written > 0)
          logger?.info({ written, left: buffer.size }, 'buffered transitions written');
        draining = undefined;
      }
    })();
    return draining;
  }

  /** Runs a transition at once, or buffers it while Redis is down or others wait before it. */
  async function transition<T>(
    key: string,
    snapshot: Snapshot | undefined,
    final: boolean,
    write: () => Promise<T>,
  ): Promise<T | undefined> {
    if (up && buffer.size === 0) {
      try {
        return await write();
      } catch (error) {
        if (!unavailable(error)) throw error;
        down(reasonOf(error));
      }
    }
    buffer.push({ key, snapshot, final, write });
    if (up) void drain();
    return undefined;
  }

  const guard = () => {
    if (closed) throw new Error('store is closed');
  };

  // ---- writes ---------------------------------------------------------------------------
  const fenceArgs = (fence: Fence | undefined) =>
    fence ? [keys.lease(fence.work), String(fence.token)] : ['', ''];

  /** The snapshot this daemon last read or wrote for each job, to skip polls that change nothing. */
  const seen = new Map<string, Snapshot>();
  const remember = (jk: string, snapshot: Snapshot | null) => {
    if (!snapshot || snapshot.terminal) {
      seen.delete(jk);
      return;
    }
    if (!seen.has(jk) && seen.size >= MAX_SEEN) {
      const oldest = seen.keys().next().value;
      if (oldest !== undefined) seen.delete(oldest);
    }
    seen.set(jk, snapshot);
  };

  async function recordNow(
    next: Snapshot,
    deliveries: (previous: Snapshot | null, stored: Snapshot) => readonly NewDelivery[],
    fence: Fence | undefined,
  ): Promise<StoredEvent | undefined> {
    const jk = keys.job(next.deployment, next.jobid);
    // Most polls change nothing: one that shows nothing new beside what this daemon last saw
    // stored costs no round trip. (Should another daemon have stored something newer since,
    // this poll has nothing to add to it either.)
    const known = seen.get(jk);
    if (known && !known.terminal && !next.terminal && !reconcileSnapshot(known, next))
      return undefined;
    for (let attempt = 1; ; attempt++) {
      const [json, version, state] = await rt.run('record', 'hmget', () =>
        redis.hmget(jk, 'snapshot', 'v', 'state'),
      );
      const previous = json ? (JSON.parse(json) as Snapshot) : null;
      remember(jk, previous);
      const snapshot = reconcileSnapshot(previous, next);
      // Nothing new; but a watch whose job has ended is finished, in this same step.
      if (!snapshot && !((previous?.terminal || next.terminal) && state === 'watching'))
        return undefined;
      const list = snapshot ? deliveries(previous, snapshot) : [];
      const at = now();
      const reply = (await rt.run('record', 'record', () =>
        redis.jobwatchRecord(
          jk,
          P,
          next.deployment,
          next.jobid,
          version ?? '0',
          snapshot ? 'event' : 'finish',
          at,
          snapshot ? JSON.stringify(snapshot) : '',
          snapshot?.terminal ? '1' : '0',
          orderMember(at, next.deployment, next.jobid),
          ...fenceArgs(fence),
          list.length,
          ...flat(list),
        ),
      )) as [string, number?];
      if (reply[0] === 'FENCED') throw rt.failed('record', fenced(fence));
      if (reply[0] === 'CONFLICT') {
        if (attempt >= MAX_CAS_ATTEMPTS) throw conflict('record');
        continue;
      }
      if (!snapshot || !reply[1]) return undefined;
      remember(jk, snapshot);
      const event: StoredEvent = { id: Number(reply[1]), snapshot };
      reader.offer(event);
      return event;
    }
  }

  async function failNow(
    ref: JobRef,
    error: { code: string; message: string },
    deliveries: (failure: WatchFailure, eventId: number) => readonly NewDelivery[],
    fence: Fence | undefined,
  ): Promise<WatchFailedEvent | undefined> {
    const jk = keys.job(ref.deployment, ref.jobid);
    for (let attempt = 1; ; attempt++) {
      const [[json, version, state], counter] = await rt.run('failWatch', 'read', () =>
        Promise.all([redis.hmget(jk, 'snapshot', 'v', 'state'), redis.get(keys.eventId)]),
      );
      seen.delete(jk);
      if (state !== 'watching') return undefined;
      const at = now();
      const failure: WatchFailure = {
        deployment: ref.deployment,
        jobid: ref.jobid,
        error: { code: error.code, message: error.message },
        snapshot: json ? (JSON.parse(json) as Snapshot) : null,
        failedAt: at,
      };
      const expected = Number(counter ?? 0);
      // The deliveries' message id names the event, so they are computed for the id it will get.
      const list = deliveries(failure, expected + 1);
      const reply = (await rt.run('failWatch', 'fail', () =>
        redis.jobwatchFail(
          jk,
          P,
          ref.deployment,
          ref.jobid,
          version ?? '0',
          expected,
          at,
          JSON.stringify(failure),
          error.code,
          error.message,
          ...fenceArgs(fence),
          list.length,
          ...flat(list),
        ),
      )) as [string, number?];
      if (reply[0] === 'NONE') return undefined;
      if (reply[0] === 'FENCED') throw rt.failed('failWatch', fenced(fence));
      if (reply[0] === 'CONFLICT') {
        if (attempt >= MAX_CAS_ATTEMPTS) throw conflict('failWatch');
        // Other daemons append events meanwhile: step aside a moment before reading again.
        if (attempt > 3) await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
        continue;
      }
      const event: WatchFailedEvent = { id: Number(reply[1]), type: 'watch_failed', failure };
      reader.offer(event);
      return event;
    }
  }

  const fenced = (fence: Fence | undefined) =>
    new FencedError(fence?.work ?? '', fence?.token ?? 0);
  const conflict = (operation: string) =>
    new Error(`${operation}: the job kept changing under ${MAX_CAS_ATTEMPTS} attempts`);

  async function readRecords(refs: readonly JobRef[]): Promise<JobRecord[]> {
    const hashes = await rt.run('list', 'hgetall', () =>
      Promise.all(refs.map((r) => redis.hgetall(keys.job(r.deployment, r.jobid)))),
    );
    return hashes.map(toRecord).filter((r): r is JobRecord => r !== undefined);
  }

  const store: RedisStore = {
    keys,
    redis,
    outboxSweepMs: options.outboxSweepMs ?? 5_000,
    health: () => ({
      up,
      ...(up ? {} : { reason: lastReason ?? 'unreachable' }),
      buffered: buffer.size,
    }),
    async watch(ref, at) {
      guard();
      seen.delete(keys.job(ref.deployment, ref.jobid));
      const created = await rt.run('watch', 'watch', () =>
        redis.jobwatchWatch(
          keys.job(ref.deployment, ref.jobid),
          P,
          ref.deployment,
          ref.jobid,
          at,
          orderMember(at, ref.deployment, ref.jobid),
          ref.url ?? '',
        ),
      );
      return Number(created) === 1;
    },
    async failWatch(ref, error, deliveries, fence) {
      guard();
      return transition(`${ref.deployment}/${ref.jobid}`, undefined, true, () =>
        failNow(ref, error, deliveries, fence),
      );
    },
    async setState(ref, state, error) {
      guard();
      seen.delete(keys.job(ref.deployment, ref.jobid));
      const known = await rt.run('setState', 'setState', () =>
        redis.jobwatchSetState(
          keys.job(ref.deployment, ref.jobid),
          P,
          state,
          error?.code ?? '',
          error?.message ?? '',
          now(),
        ),
      );
      return Number(known) === 1;
    },
    async get(ref) {
      guard();
      return (await readRecords([ref]))[0];
    },
    async list(filter = {}) {
      guard();
      const set = filter.state ? keys.jobsIn(filter.state) : keys.jobs;
      const limit = filter.limit ?? Number.POSITIVE_INFINITY;
      const jobids = filter.jobids?.length ? new Set(filter.jobids) : undefined;
      const out: JobRecord[] = [];
      let from = filter.after
        ? `(${orderMember(filter.after.addedAt, filter.after.deployment, filter.after.jobid)}`
        : '-';
      while (out.length < limit) {
        const members = (await rt.run('list', 'zrange', () =>
          redis.zrangebylex(set, from, '+', 'LIMIT', 0, LIST_CHUNK),
        )) as string[];
        const refs: JobRef[] = [];
        for (const member of members) {
          const ref = parseOrderMember(member);
          if (!ref) continue;
          if (filter.deployment && ref.deployment !== filter.deployment) continue;
          if (jobids && !jobids.has(ref.jobid)) continue;
          refs.push(ref);
        }
        for (const record of await readRecords(refs)) {
          if (filter.state && record.state !== filter.state) continue;
          if (out.length < limit) out.push(record);
        }
        if (members.length < LIST_CHUNK) break;
        from = `(${members[members.length - 1]}`;
      }
      return out;
    },
    async recordSnapshot(snapshot, deliveries, fence) {
      guard();
      return transition(
        `${snapshot.deployment}/${snapshot.jobid}`,
        snapshot,
        snapshot.terminal,
        () => recordNow(snapshot, deliveries, fence),
      );
    },
    async eventsSince(afterId, filter, limit) {
      guard();
      return eventsSince(redis, keys, rt, afterId, filter, limit);
    },
    async lastEventId() {
      guard();
      return Number((await rt.run('lastEventId', 'get', () => redis.get(keys.eventId))) ?? 0);
    },
    subscribe(listener) {
      return reader.subscribe(listener);
    },
    async prune({ olderThan, maxEvents, jobsEndedBefore }) {
      guard();
      let jobs = 0;
      if (jobsEndedBefore !== undefined)
        for (;;) {
          const [gone, looked] = (await rt.run('prune', 'pruneJobs', () =>
            redis.jobwatchPruneJobs(keys.ended, P, jobsEndedBefore, LIST_CHUNK),
          )) as [number, number];
          jobs += gone;
          if (looked < LIST_CHUNK) break;
        }
      const events = await trimEvents(redis, keys, rt, olderThan, maxEvents);
      // Daemons gone for a day that hold no delivery leave the consumer group.
      await outbox.forgetConsumers(24 * 3_600_000);
      return { events, jobs };
    },
    async dueDeliveries(at, limit) {
      guard();
      return outbox.due(at, limit);
    },
    async nextDueAt() {
      guard();
      return outbox.nextDueAt(now());
    },
    async removeDelivery(seq) {
      guard();
      await outbox.remove(seq);
    },
    async retryDelivery(seq, dueAt, attempts) {
      guard();
      await outbox.retry(seq, dueAt, attempts);
    },
    async disableEndpoint(endpoint) {
      guard();
      await outbox.disable(endpoint, now());
    },
    async isEndpointDisabled(endpoint) {
      guard();
      return outbox.isDisabled(endpoint);
    },
    async loadModelKinds(keep) {
      guard();
      const flatList = (await rt.run('models', 'loadModels', () =>
        redis.jobwatchLoadModels(keys.modelsAt, P, Math.max(0, Math.trunc(keep))),
      )) as string[];
      const out: Array<{ key: string; json: string }> = [];
      for (let i = 0; i + 1 < flatList.length; i += 2)
        out.push({ key: flatList[i] as string, json: flatList[i + 1] as string });
      return out;
    },
    async saveModelKind(key, json, updatedAt) {
      guard();
      await rt.run('models', 'multi', async () => {
        const replies = await redis
          .multi()
          .hset(keys.models, key, json)
          .zadd(keys.modelsAt, updatedAt, key)
          .exec();
        for (const [error] of replies ?? []) if (error) throw error;
      });
    },
    async close() {
      if (closed) return;
      if (buffer.size > 0 && up) await drain();
      if (buffer.size > 0)
        logger?.error(
          { lost: buffer.size },
          'closing while redis is unavailable: buffered transitions are lost',
        );
      closed = true;
      clearInterval(probe);
      await draining;
      readerConnection.disconnect();
      await reader.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
  return store;
}
