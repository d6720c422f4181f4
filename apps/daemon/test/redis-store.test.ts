/**
 * The Redis store against a real `redis-server` of its own: the same contract as SQLite, then
 * what only a shared store has — fencing, events from other daemons, the consumer group's
 * claims, an outage with writes buffered, and a password that never shows.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RedisServer, startRedis } from '@jobwatch/test-utils';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Webhook, webhookKey } from '../src/config.js';
import { FencedError, StoreError } from '../src/errors.js';
import { createLogger } from '../src/log.js';
import { createMetrics } from '../src/metrics.js';
import { openRedisStore, type RedisStore, type RedisStoreOptions } from '../src/store/redis.js';
import type { StoredEvent } from '../src/store/store.js';
import { deliveriesFor, startWebhookDispatcher } from '../src/webhooks.js';
import { snap } from './helpers.js';
import { describeStoreContract, JOB, none, OTHER } from './store-contract.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis?.close());

/** A prefix no other test uses: a fresh, empty store on the shared server. */
const freshPrefix = () => `t${randomBytes(4).toString('hex')}:`;

describeStoreContract('Redis', {
  async open(options = {}) {
    const prefix = freshPrefix();
    const open = () => openRedisStore({ url: redis.url, prefix, ...options });
    return { store: await open(), reopen: open };
  },
});

describe('Redis store, shared by several daemons', () => {
  const stores: RedisStore[] = [];
  const open = async (options: Partial<RedisStoreOptions> = {}) => {
    const store = await openRedisStore({ url: redis.url, prefix: freshPrefix(), ...options });
    stores.push(store);
    return store;
  };
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });

  it('keys every record under one hash-tagged prefix', async () => {
    const before = new Set(await (await open()).redis.keys('*'));
    const store = await open({ prefix: 'team-a:' });
    await store.watch({ deployment: 'default', jobid: JOB }, 1);
    await store.recordSnapshot(snap(JOB, 'EXECUTING', 10), () => [
      { messageId: 'msg_1', endpoint: 'https://hooks.example.com/a', body: '{}' },
    ]);
    const keys = (await store.redis.keys('*')).filter((k) => !before.has(k));
    expect(keys.length).toBeGreaterThan(4);
    for (const key of keys) expect(key.startsWith('{team-a}:')).toBe(true);
    expect(store.keys.lease('deployment:default')).toBe('{team-a}:lease:deployment:default');
    expect(store.keys.fence('deployment:default')).toBe('{team-a}:fence:deployment:default');
  });

  it('refuses a write whose fence is not the lease’s current token, changing nothing', async () => {
    const store = await open();
    const work = 'deployment:default';
    const ref = { deployment: 'default', jobid: JOB };
    await store.watch(ref, 1);
    // The lease as the cluster code writes it: a hash with owner and token, the token from INCR.
    const token = await store.redis.incr(store.keys.fence(work));
    await store.redis.hset(store.keys.lease(work), 'owner', 'daemon-a', 'token', token);
    const held = { work, token };
    expect((await store.recordSnapshot(snap(JOB, 'SUBMITTED', 10), none, held))?.id).toBe(1);
    // Another daemon takes over: a new token.
    const next = await store.redis.incr(store.keys.fence(work));
    await store.redis.hset(store.keys.lease(work), 'owner', 'daemon-b', 'token', next);
    const delivery = { messageId: 'msg_x', endpoint: 'https://hooks.example.com/a', body: '{}' };
    const stale = store.recordSnapshot(snap(JOB, 'EXECUTING', 20), () => [delivery], held);
    await expect(stale).rejects.toBeInstanceOf(FencedError);
    await expect(stale).rejects.toMatchObject({ code: 'FENCED', work, token });
    await expect(
      store.failWatch(ref, { code: 'AUTH', message: 'refused' }, none, held),
    ).rejects.toMatchObject({ code: 'FENCED' });
    // An expired lease (no hash at all) fences too.
    await store.redis.del(store.keys.lease(work));
    await expect(
      store.recordSnapshot(snap(JOB, 'EXECUTING', 20), none, { work, token: next }),
    ).rejects.toMatchObject({ code: 'FENCED' });
    expect(await store.get(ref)).toMatchObject({
      state: 'watching',
      eventId: 1,
      snapshot: { status: 'SUBMITTED' },
    });
    expect(await store.lastEventId()).toBe(1);
    expect(await store.dueDeliveries(Date.now() + 1, 10)).toEqual([]);
    // The current holder writes.
    await store.redis.hset(store.keys.lease(work), 'owner', 'daemon-b', 'token', next);
    expect(
      (await store.recordSnapshot(snap(JOB, 'EXECUTING', 20), none, { work, token: next }))?.id,
    ).toBe(2);
  });

  it('gives every daemon every event in id order, and ids that never repeat across writers', async () => {
    const prefix = freshPrefix();
    const a = await open({ prefix });
    const b = await open({ prefix });
    const seenA: number[] = [];
    const seenB: number[] = [];
    a.subscribe((e) => seenA.push(e.id));
    b.subscribe((e) => seenB.push(e.id));
    const jobs = Array.from({ length: 6 }, (_, i) => `j00000000-0000-4000-8000-00000000010${i}`);
    const written = await Promise.all(
      jobs.flatMap((jobid, i) => [
        (i % 2 ? a : b).recordSnapshot(snap(jobid, 'EXECUTING', 10), none),
      ]),
    );
    const ids = written.map((e) => e?.id ?? 0).sort((x, y) => x - y);
    expect(ids).toEqual([1, 2, 3, 4, 5, 6]);
    await until(() => seenA.length === 6 && seenB.length === 6);
    expect(seenA).toEqual(ids);
    expect(seenB).toEqual(ids);
    // Either daemon replays what the other wrote.
    const replay = await b.eventsSince(2, {}, 100);
    expect(replay.kind === 'events' && replay.events.map((e) => e.id)).toEqual([3, 4, 5, 6]);
  });

  it('costs no round trip for a poll that shows nothing new', async () => {
    const metrics = createMetrics();
    const store = await open({ metrics });
    await store.recordSnapshot(snap(JOB, 'EXECUTING', 10), none);
    const trips = async () =>
      (await metrics.redisCommands.get()).values.reduce((sum, v) => sum + v.value, 0);
    const before = await trips();
    for (let polled = 11; polled < 20; polled++)
      expect(
        await store.recordSnapshot({ ...snap(JOB, 'EXECUTING', 10), lastPolled: polled }, none),
      ).toBeUndefined();
    expect(await trips()).toBe(before);
    // a change still goes through
    expect((await store.recordSnapshot(snap(JOB, 'COMPLETED', 30), none))?.id).toBe(2);
    expect(await trips()).toBeGreaterThan(before);
  });

  it('writes a change to a job it wrote last in one round trip, and reads first once another daemon wrote', async () => {
    const prefix = freshPrefix();
    const metrics = createMetrics();
    const a = await open({ prefix, metrics });
    const b = await open({ prefix });
    const trips = async () =>
      (await metrics.redisCommands.get()).values.reduce((sum, v) => sum + v.value, 0);
    await a.recordSnapshot(snap(JOB, 'SUBMITTED', 10), none);
    let before = await trips();
    expect((await a.recordSnapshot(snap(JOB, 'EXECUTING', 20), none))?.id).toBe(2);
    expect(await trips()).toBe(before + 1);
    // Another daemon writes the job: the next write reads it first and builds on it.
    const seenByA: number[] = [];
    a.subscribe((e) => seenByA.push(e.id));
    expect((await b.recordSnapshot(snap(JOB, 'CANCELLING', 30), none))?.id).toBe(3);
    await until(() => seenByA.includes(3));
    before = await trips();
    const next = await a.recordSnapshot(snap(JOB, 'CANCELLED', 40), none);
    expect(next?.id).toBe(4);
    expect(await trips()).toBe(before + 2);
    const stored = await a.get({ deployment: 'default', jobid: JOB });
    expect([stored?.state, stored?.snapshot?.status]).toEqual(['finished', 'CANCELLED']);
  });

  it('settles a write that raced another daemon’s on the job as it now stands', async () => {
    const prefix = freshPrefix();
    const a = await open({ prefix });
    const b = await open({ prefix });
    await a.recordSnapshot(snap(JOB, 'SUBMITTED', 10), none);
    await a.recordSnapshot(snap(JOB, 'EXECUTING', 20), none);
    // b ends the job; a, not yet told, writes the same end: one event, not two.
    expect((await b.recordSnapshot(snap(JOB, 'COMPLETED', 30), none))?.id).toBe(3);
    expect(await a.recordSnapshot(snap(JOB, 'COMPLETED', 30), none)).toBeUndefined();
    expect(await a.lastEventId()).toBe(3);
    expect((await a.get({ deployment: 'default', jobid: JOB }))?.state).toBe('finished');
  });

  it('settles two daemons writing one job at once into one event', async () => {
    const prefix = freshPrefix();
    const a = await open({ prefix });
    const b = await open({ prefix });
    const results = await Promise.all([
      a.recordSnapshot(snap(JOB, 'COMPLETED', 10), none),
      b.recordSnapshot(snap(JOB, 'COMPLETED', 10), none),
    ]);
    expect(results.filter((e) => e !== undefined)).toHaveLength(1);
    expect(await a.lastEventId()).toBe(1);
  });

  it('hands each delivery to one daemon, and a silent daemon’s to another after the claim time', async () => {
    const prefix = freshPrefix();
    const a = await open({ prefix, claimIdleMs: 200 });
    const b = await open({ prefix, claimIdleMs: 200 });
    await a.recordSnapshot(snap(JOB, 'COMPLETED', 10), () => [
      { messageId: 'msg_a', endpoint: 'https://hooks.example.com/a', body: '{"n":1}' },
      { messageId: 'msg_a', endpoint: 'https://hooks.example.com/b', body: '{"n":1}' },
    ]);
    const takenByA = await a.dueDeliveries(Date.now(), 1);
    const takenByB = await b.dueDeliveries(Date.now(), 10);
    expect(takenByA.map((d) => d.endpoint)).toEqual(['https://hooks.example.com/a']);
    expect(takenByB.map((d) => d.endpoint)).toEqual(['https://hooks.example.com/b']);
    // a goes silent holding its delivery; b is told when it becomes claimable, then claims it
    await b.removeDelivery(takenByB[0]!.seq);
    const claimable = await b.nextDueAt();
    expect(claimable).toBeGreaterThan(Date.now() - 1);
    expect(await b.dueDeliveries(Date.now(), 10)).toEqual([]);
    await until(async () => (await b.dueDeliveries(Date.now(), 10)).length === 1);
    // a wakes up: the delivery is no longer its to remove, b's is the one attempt that counts
    await a.removeDelivery(takenByA[0]!.seq);
    const [held] = await b.dueDeliveries(Date.now(), 10);
    expect(held).toMatchObject({ messageId: 'msg_a', endpoint: 'https://hooks.example.com/a' });
    await b.retryDelivery(held!.seq, Date.now() - 1, 1);
    // a due retry goes back to whoever asks first, once
    const retried = [
      ...(await a.dueDeliveries(Date.now(), 10)),
      ...(await b.dueDeliveries(Date.now(), 10)),
    ];
    expect(retried.map((d) => [d.messageId, d.attempts])).toEqual([['msg_a', 1]]);
  });

  it('two dispatchers on one outbox deliver each transition once, retries included', async () => {
    const prefix = freshPrefix();
    const a = await open({ prefix, outboxSweepMs: 50 });
    const b = await open({ prefix, outboxSweepMs: 50 });
    const received: string[] = [];
    let refusals = 3;
    const server = createServer((req, res) => {
      req.resume();
      const id = String(req.headers['webhook-id']);
      // The first few are refused: their retries come due in the shared outbox.
      if (refusals > 0) {
        refusals -= 1;
        res.writeHead(503).end();
        return;
      }
      received.push(id);
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const hook: Webhook = {
      url: endpoint,
      key: webhookKey('a-webhook-secret-of-some-length', 'secret'),
      events: new Set(['change']),
    };
    const logger = createLogger({ level: 'silent' });
    const dispatchers = [a, b].map((store) =>
      startWebhookDispatcher({
        store,
        webhooks: [hook],
        retry: { baseMs: 20, maxMs: 40, giveUpAfterMs: 60_000 },
        logger,
        metrics: createMetrics(),
      }),
    );
    try {
      const jobs = Array.from(
        { length: 12 },
        (_, i) => `j00000000-0000-4000-8000-0000000003${String(i).padStart(2, '0')}`,
      );
      for (const [i, jobid] of jobs.entries())
        await (i % 2 ? a : b).recordSnapshot(snap(jobid, 'EXECUTING', 10), (prev, stored) =>
          deliveriesFor([hook], stored, prev, Date.now()),
        );
      for (const d of dispatchers) d.kick();
      await until(
        async () => received.length >= jobs.length && (await a.nextDueAt()) === undefined,
      );
      // Closing waits for attempts in flight: a second delivery would have arrived by then.
      for (const d of dispatchers) await d.close();
      expect(received).toHaveLength(jobs.length);
      expect(new Set(received).size).toBe(jobs.length);
      expect(await a.nextDueAt()).toBeUndefined();
    } finally {
      for (const d of dispatchers) await d.close();
      await new Promise((r) => server.close(r));
    }
  });

  it('buffers transitions while redis is down and writes them, in order, when it returns', async () => {
    const own = await startRedis();
    try {
      const metrics = createMetrics();
      const store = await openRedisStore({ url: own.url, prefix: freshPrefix(), metrics });
      stores.push(store);
      const seen: StoredEvent[] = [];
      store.subscribe((e) => seen.push(e));
      await store.recordSnapshot(snap(JOB, 'SUBMITTED', 10), none);
      await own.stop();
      await until(() => !store.health().up);
      expect(store.health()).toMatchObject({ up: false, buffered: 0 });
      expect(await gauge(metrics, 'jobwatch_store_up')).toBe(0);
      // polling goes on: these resolve at once, held in memory
      expect(await store.recordSnapshot(snap(JOB, 'EXECUTING', 20), none)).toBeUndefined();
      await store.recordSnapshot({ ...snap(JOB, 'EXECUTING', 20), lastPolled: 25 }, none);
      await store.recordSnapshot(snap(OTHER, 'EXECUTING', 20), none);
      await store.recordSnapshot(snap(JOB, 'COMPLETED', 30), none);
      expect(store.health().buffered).toBe(3);
      await expect(store.get({ deployment: 'default', jobid: JOB })).rejects.toBeInstanceOf(
        StoreError,
      );
      // without persistence Redis comes back empty: what was buffered is still written
      await own.start();
      await until(() => store.health().up && store.health().buffered === 0);
      expect(await gauge(metrics, 'jobwatch_store_up')).toBe(1);
      expect(await store.get({ deployment: 'default', jobid: JOB })).toMatchObject({
        state: 'finished',
        snapshot: { status: 'COMPLETED' },
      });
      expect((await store.get({ deployment: 'default', jobid: OTHER }))?.snapshot?.status).toBe(
        'EXECUTING',
      );
      await until(() => seen.length >= 4);
      expect(seen.map((e) => e.snapshot?.status)).toEqual([
        'SUBMITTED',
        'EXECUTING',
        'EXECUTING',
        'COMPLETED',
      ]);
    } finally {
      await own.close();
    }
  });

  it('drops intermediate transitions past the bound, never an end', async () => {
    const own = await startRedis({ persist: true });
    try {
      const metrics = createMetrics();
      const store = await openRedisStore({
        url: own.url,
        prefix: freshPrefix(),
        metrics,
        maxBuffered: 4,
      });
      stores.push(store);
      await own.stop();
      await until(() => !store.health().up);
      const ids = Array.from({ length: 6 }, (_, i) => `j00000000-0000-4000-8000-00000000020${i}`);
      for (const jobid of ids) await store.recordSnapshot(snap(jobid, 'EXECUTING', 10), none);
      for (const jobid of ids.slice(0, 5))
        await store.recordSnapshot(snap(jobid, 'COMPLETED', 20), none);
      expect(store.health().buffered).toBeLessThanOrEqual(6);
      expect(await counter(metrics, 'jobwatch_store_buffer_dropped_total')).toBeGreaterThan(0);
      await own.start();
      await until(() => store.health().up && store.health().buffered === 0);
      const finished = await store.list({ state: 'finished' });
      expect(finished.map((r) => r.jobid).sort()).toEqual(ids.slice(0, 5).sort());
    } finally {
      await own.close();
    }
  });

  it('never shows the password of the URL', async () => {
    const password = `s3cret-${randomBytes(6).toString('hex')}`;
    const own = await startRedis();
    // Set after start: startRedis's readiness probe speaks without a password.
    const requirePassword = async () => {
      const admin = new Redis(own.url);
      await admin.config('SET', 'requirepass', password);
      admin.disconnect();
    };
    try {
      await requirePassword();
      const url = new URL(own.url);
      url.password = password;
      const metrics = createMetrics();
      const lines: string[] = [];
      const logger = createLogger({
        level: 'debug',
        destination: { write: (l: string) => lines.push(l) },
      });
      const store = await openRedisStore({
        url: url.toString(),
        prefix: freshPrefix(),
        metrics,
        logger,
      });
      stores.push(store);
      await store.recordSnapshot(snap(JOB, 'EXECUTING', 10), none);
      await own.stop();
      await until(() => !store.health().up);
      const error = await store.list().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect(JSON.stringify(store.health())).not.toContain(password);
      expect(String((error as Error).message)).not.toContain(password);
      expect(await metrics.registry.metrics()).not.toContain(password);
      expect(lines.join('\n')).toContain('store unavailable');
      expect(lines.join('\n')).not.toContain(password);
      // a wrong password: refused, and the message names the server without any password
      await own.start();
      await requirePassword();
      const wrong = new URL(own.url);
      wrong.password = 'not-it';
      const refused = await openRedisStore({
        url: wrong.toString(),
        prefix: freshPrefix(),
        connectTimeoutMs: 1_000,
      }).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect((refused as Error).message).toContain(`127.0.0.1:${own.port}`);
      expect((refused as Error).message).not.toContain('not-it');
    } finally {
      await own.close();
    }
  });
});

/** Resolves once `predicate` holds, looking every 20 ms (fails the test by its timeout). */
async function until(predicate: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await predicate())) await new Promise((r) => setTimeout(r, 20));
}

async function gauge(metrics: ReturnType<typeof createMetrics>, name: string) {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return metric?.values[0]?.value;
}
const counter = gauge;
