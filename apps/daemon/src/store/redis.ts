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
import { StoreError } from '../errors.js';
import type { Logger } from '../log.js';
import { type Availability, createAvailability, SeenSnapshots } from './redis/availability.js';
import {
  connectRedis,
  type RedisStoreMetrics,
  RoundTrips,
  reasonOf,
  type ScriptedRedis,
  shownRedisUrl,
} from './redis/connection.js';
import { EventReader, eventsSince, trimEvents, waitForReady } from './redis/events.js';
import { orderMember, parseOrderMember, type RedisKeys, redisKeys } from './redis/keys.js';
import { RedisOutbox } from './redis/outbox.js';
import { createTransitionWrites, type TransitionWrites } from './redis/writes.js';
import {
  eventRef,
  type JobFilter,
  type JobRecord,
  type JobRef,
  type OutboxMethods,
  type Store,
  type StoreHealth,
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

/** Jobs read per round trip when listing. */
const LIST_CHUNK = 500;

/** What the store's methods share: the command connection, the key names, clock and round trips. */
interface RedisContext {
  readonly redis: ScriptedRedis;
  readonly keys: RedisKeys;
  readonly rt: RoundTrips;
  readonly now: () => number;
}

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
  const consumer =
    options.consumer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const { redis, link } = await connectStore(options, consumer);
  const rt = new RoundTrips(metrics, logger);
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
  const seen = new SeenSnapshots();
  // Another daemon's write to a job makes this daemon's idea of its version stale.
  reader.subscribe((event) => {
    const ref = eventRef(event);
    seen.passed(keys.job(ref.deployment, ref.jobid), event.id);
  });
  const availability = createAvailability({
    redis,
    keys,
    outbox,
    reader,
    seen,
    now,
    maxBuffered: options.maxBuffered ?? 10_000,
    link,
    logger,
    metrics,
  });
  const context: RedisContext = { redis, keys, rt, now };
  const writes = createTransitionWrites({ redis, keys, rt, seen, reader, now });
  return {
    keys,
    redis,
    outboxSweepMs: options.outboxSweepMs ?? 5_000,
    health: availability.health,
    ...jobMethods(context, { availability, seen, writes, reader, outbox }),
    ...outboxMethods(context, availability.guard, outbox),
    async close() {
      if (!(await availability.close())) return;
      readerConnection.disconnect();
      await reader.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * The command connection, once it answers, and why it last failed (kept up to date for
 * {@link RedisStore.health}); throws `STORE_UNAVAILABLE` when it does not answer in time.
 */
async function connectStore(
  options: RedisStoreOptions,
  consumer: string,
): Promise<{ redis: ScriptedRedis; link: { lastReason?: string | undefined } }> {
  const redis = connectRedis({
    url: options.url,
    name: `jobwatch:${consumer}`,
    commandTimeoutMs: options.commandTimeoutMs ?? 5_000,
  });
  const link: { lastReason?: string | undefined } = {};
  redis.on('error', (error) => {
    link.lastReason = reasonOf(error);
  });
  const connectTimeout = options.connectTimeoutMs ?? 10_000;
  if (redis.status !== 'ready') await waitForReady(redis, connectTimeout);
  if (redis.status !== 'ready') {
    redis.disconnect();
    throw new StoreError(
      'STORE_UNAVAILABLE',
      `cannot reach redis at ${shownRedisUrl(options.url)} (${link.lastReason ?? 'no answer'})`,
    );
  }
  return { redis, link };
}

/** What {@link jobMethods} works with beside the context. */
interface JobParts {
  readonly availability: Availability;
  readonly seen: SeenSnapshots;
  readonly writes: TransitionWrites;
  readonly reader: EventReader;
  readonly outbox: RedisOutbox;
}

/** The store's jobs and their event log: watching, transitions (buffered while Redis is away), reads, pruning. */
function jobMethods(
  context: RedisContext,
  { availability, seen, writes, reader, outbox }: JobParts,
): Pick<
  Store,
  | 'watch'
  | 'failWatch'
  | 'setState'
  | 'get'
  | 'list'
  | 'recordSnapshot'
  | 'eventsSince'
  | 'lastEventId'
  | 'subscribe'
  | 'prune'
> {
  const { redis, keys, rt, now } = context;
  const P = keys.prefix;
  const { guard } = availability;
  return {
    async watch(ref, at) {
      guard();
      seen.forget(keys.job(ref.deployment, ref.jobid));
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
      return availability.transition(`${ref.deployment}/${ref.jobid}`, undefined, true, () =>
        writes.fail(ref, error, deliveries, fence),
      );
    },
    async setState(ref, state, error) {
      guard();
      seen.forget(keys.job(ref.deployment, ref.jobid));
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
      return (await readRecords(context, [ref]))[0];
    },
    async list(filter = {}) {
      guard();
      return listJobs(context, filter);
    },
    async recordSnapshot(snapshot, deliveries, fence) {
      guard();
      return availability.transition(
        `${snapshot.deployment}/${snapshot.jobid}`,
        snapshot,
        snapshot.terminal,
        () => writes.record(snapshot, deliveries, fence),
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
  };
}

/** The store's webhook outbox (the shared consumer group) and its model kinds. */
function outboxMethods(
  { redis, keys, rt, now }: RedisContext,
  guard: () => void,
  outbox: RedisOutbox,
): OutboxMethods & Pick<Store, 'loadModelKinds' | 'saveModelKind'> {
  const P = keys.prefix;
  return {
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
  };
}

/** The stored jobs named, in order; a job not stored is left out. */
async function readRecords(
  { redis, keys, rt }: RedisContext,
  refs: readonly JobRef[],
): Promise<JobRecord[]> {
  const hashes = await rt.run('list', 'hgetall', () =>
    Promise.all(refs.map((r) => redis.hgetall(keys.job(r.deployment, r.jobid)))),
  );
  return hashes.map(toRecord).filter((r): r is JobRecord => r !== undefined);
}

/** {@link Store.list}: walks the jobs' order set (all, or one state's) a chunk at a time. */
async function listJobs(context: RedisContext, filter: JobFilter): Promise<JobRecord[]> {
  const { redis, keys, rt } = context;
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
    for (const record of await readRecords(context, refs)) {
      if (filter.state && record.state !== filter.state) continue;
      if (out.length < limit) out.push(record);
    }
    if (members.length < LIST_CHUNK) break;
    from = `(${members[members.length - 1]}`;
  }
  return out;
}
