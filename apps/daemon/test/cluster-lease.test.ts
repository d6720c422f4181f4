/**
 * Leases with fencing tokens, and the coordinator that shares work out, against a real
 * `redis-server`: one holder at a time, tokens that only grow, a dead holder's work taken
 * over, fair shares, graceful hand-over.
 */
import { type RedisServer, startRedis } from '@jobwatch/test-utils';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Coordinator,
  createCoordinator,
  type LossReason,
} from '../src/cluster/coordinator.js';
import { type Grant, Leases, workKeys } from '../src/cluster/lease.js';
import { type Notice, openNotices, parseNotice } from '../src/cluster/notices.js';

let redis: RedisServer;
const connections: Redis[] = [];
let prefixes = 0;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of connections) c.disconnect();
  await redis.close();
});

/** A connection of its own, as each daemon has. */
function connect(): Redis {
  const c = new Redis(redis.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  connections.push(c);
  return c;
}

/** A fresh key prefix per test, so tests share nothing. */
const freshPrefix = () => `t${++prefixes}:`;

/** Resolves once `check` holds, polling every 20 ms; fails after `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms = 5_000, what = 'condition') {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Leases', () => {
  it('grants a free lease with a token, refuses it to others while it is held, and renews it', async () => {
    const prefix = freshPrefix();
    const a = new Leases({ redis: connect(), owner: 'a', leasePeriodMs: 5_000, prefix });
    const b = new Leases({ redis: connect(), owner: 'b', leasePeriodMs: 5_000, prefix });
    const grant = await a.acquire('deployment:prod');
    expect(grant).toEqual({ work: 'deployment:prod', token: 1, takeover: false });
    expect(await b.acquire('deployment:prod')).toBeUndefined();
    expect(await a.renew('deployment:prod', 1)).toBe('renewed');
    // The lease as the store reads it: owner and token in one hash, expiring after a period.
    const keys = workKeys(prefix, 'deployment:prod');
    const raw = connect();
    expect(await raw.hgetall(keys.lease)).toEqual({ owner: 'a', token: '1' });
    expect(await raw.pttl(keys.lease)).toBeGreaterThan(4_000);
    expect(await raw.get(keys.fence)).toBe('1');
    // Acquiring what it already holds keeps the token.
    expect(await a.acquire('deployment:prod')).toEqual({
      work: 'deployment:prod',
      token: 1,
      takeover: false,
    });
    // Another unit of work has its own counter.
    expect((await b.acquire('deployment:lab'))?.token).toBe(1);
  });

  it('hands a released lease to the next daemon with a greater token, not as a takeover', async () => {
    const prefix = freshPrefix();
    const a = new Leases({ redis: connect(), owner: 'a', leasePeriodMs: 5_000, prefix });
    const b = new Leases({ redis: connect(), owner: 'b', leasePeriodMs: 5_000, prefix });
    const first = await a.acquire('w');
    expect(await b.release('w', first?.token ?? 0)).toBe(false); // not b's to release
    expect(await a.release('w', first?.token ?? 0)).toBe(true);
    expect(await a.release('w', first?.token ?? 0)).toBe(false); // already released
    expect(await b.acquire('w')).toEqual({ work: 'w', token: 2, takeover: false });
  });

  it('lets a lease run out; the next holder gets a greater token as a takeover and the old one is lost', async () => {
    const prefix = freshPrefix();
    const raw = connect();
    const a = new Leases({ redis: connect(), owner: 'a', leasePeriodMs: 200, prefix });
    const b = new Leases({ redis: connect(), owner: 'b', leasePeriodMs: 200, prefix });
    const old = await a.acquire('w');
    expect(old?.token).toBe(1);
    await until(async () => (await raw.exists(workKeys(prefix, 'w').lease)) === 0, 2_000, 'expiry');
    expect(await b.acquire('w')).toEqual({ work: 'w', token: 2, takeover: true });
    // The stale holder learns it lost, and cannot release or renew what is not its own.
    expect(await a.renew('w', 1)).toBe('lost');
    expect(await a.release('w', 1)).toBe(false);
    expect(await raw.hgetall(workKeys(prefix, 'w').lease)).toEqual({ owner: 'b', token: '2' });
  });

  it('resumes a lease that ran out while nobody took the work, with the same token', async () => {
    const prefix = freshPrefix();
    const raw = connect();
    const a = new Leases({ redis: connect(), owner: 'a', leasePeriodMs: 200, prefix });
    await a.acquire('w');
    await until(async () => (await raw.exists(workKeys(prefix, 'w').lease)) === 0, 2_000, 'expiry');
    expect(await a.renew('w', 1)).toBe('resumed');
    expect(await raw.hgetall(workKeys(prefix, 'w').lease)).toEqual({ owner: 'a', token: '1' });
    // A token that is not the newest never comes back.
    await raw.incr(workKeys(prefix, 'w').fence);
    await raw.del(workKeys(prefix, 'w').lease);
    expect(await a.renew('w', 1)).toBe('lost');
  });

  it('counts live daemons by heartbeat; one that leaves or stops beating drops out', async () => {
    const prefix = freshPrefix();
    const a = new Leases({ redis: connect(), owner: 'a', leasePeriodMs: 5_000, prefix });
    const b = new Leases({ redis: connect(), owner: 'b', leasePeriodMs: 5_000, prefix });
    const c = new Leases({ redis: connect(), owner: 'c', leasePeriodMs: 200, prefix });
    expect(await a.heartbeat()).toBe(1);
    expect(await b.heartbeat()).toBe(2);
    expect(await c.heartbeat()).toBe(3);
    await b.leave();
    expect(await a.heartbeat()).toBe(2);
    await until(async () => (await a.heartbeat()) === 1, 2_000, 'c to drop out');
  });

  it('refuses options that cannot work', () => {
    const redis = connect();
    expect(() => new Leases({ redis, owner: 'a', leasePeriodMs: 50 })).toThrow(
      /leasePeriodMs must be an integer ≥ 100, got 50/,
    );
    expect(() => new Leases({ redis, owner: 'a', leasePeriodMs: 1.5e3 + 0.5 })).toThrow(
      /leasePeriodMs/,
    );
    expect(() => new Leases({ redis, owner: '', leasePeriodMs: 1_000 })).toThrow(/owner/);
  });
});

/** One simulated daemon: a coordinator and a record of what it polls. */
interface Member {
  readonly owner: string;
  readonly coordinator: Coordinator;
  /** Work this member polls now, with its token. */
  readonly polling: Map<string, number>;
  readonly gained: Grant[];
  readonly lost: Array<{ work: string; reason: LossReason }>;
  /** Ticks run so far. */
  readonly ticks: () => number;
}

describe('createCoordinator', () => {
  const members: Member[] = [];
  afterEach(async () => {
    for (const m of members.splice(0)) await m.coordinator.close();
  });

  function member(
    owner: string,
    prefix: string,
    works: readonly string[],
    leasePeriodMs: number,
    others: () => readonly Member[] = () => members,
  ): Member {
    const polling = new Map<string, number>();
    const gained: Grant[] = [];
    const lost: Array<{ work: string; reason: LossReason }> = [];
    let ticks = 0;
    const coordinator = createCoordinator({
      leases: new Leases({ redis: connect(), owner, leasePeriodMs, prefix }),
      works,
      onGained: (grant) => {
        gained.push(grant);
        polling.set(grant.work, grant.token);
      },
      onLost: (work, reason) => {
        lost.push({ work, reason });
        polling.delete(work);
      },
      announceRelease: () => {
        for (const m of others()) if (m.owner !== owner) m.coordinator.poke();
      },
      events: {
        live: () => {
          ticks += 1;
        },
      },
    });
    const m = { owner, coordinator, polling, gained, lost, ticks: () => ticks };
    members.push(m);
    return m;
  }

  /** Who polls each work now, across members. */
  const pollers = (works: readonly string[]) =>
    works.map((w) => members.filter((m) => m.polling.has(w)).map((m) => m.owner));

  it('ticks at least every 1.5 s whatever the lease period, so a dead daemon is replaced within the period plus 1.5 s', async () => {
    // A 30 s lease would tick every 10 s uncapped: a takeover could then wait 40 s.
    const solo = member('solo', freshPrefix(), ['d:1'], 30_000);
    await solo.coordinator.start();
    expect(solo.ticks()).toBe(1);
    await until(() => solo.ticks() >= 3, 4_500, 'two more ticks within 4.5 s');
    await solo.coordinator.close({ release: true });
  });

  it('shares six units of work fairly among three daemons, each polled by exactly one', async () => {
    const prefix = freshPrefix();
    const works = ['d:1', 'd:2', 'd:3', 'd:4', 'd:5', 'd:6'];
    const trio = ['a', 'b', 'c'].map((o) => member(o, prefix, works, 600));
    for (const m of trio) await m.coordinator.start();
    let overlaps = 0;
    await until(
      () => {
        overlaps += pollers(works).filter((p) => p.length > 1).length;
        return trio.every((m) => m.polling.size === 2);
      },
      10_000,
      'two units each',
    );
    expect(overlaps).toBe(0);
    expect(pollers(works).map((p) => p.length)).toEqual([1, 1, 1, 1, 1, 1]);
    // What each polls is what Redis says it holds, with the token it was granted.
    const raw = connect();
    for (const m of trio)
      for (const [work, token] of m.polling) {
        expect(await raw.hgetall(workKeys(prefix, work).lease)).toEqual({
          owner: m.owner,
          token: String(token),
        });
        expect(m.coordinator.fence(work)).toEqual({ work, token });
      }
  });

  it('takes over the work of a daemon that died within a lease period and a tick, with a newer token', async () => {
    const prefix = freshPrefix();
    const works = ['d:1', 'd:2'];
    const leasePeriodMs = 600;
    const [a, b, c] = ['a', 'b', 'c'].map((o) => member(o, prefix, works, leasePeriodMs)) as [
      Member,
      Member,
      Member,
    ];
    for (const m of [a, b, c]) await m.coordinator.start();
    await until(() => pollers(works).every((p) => p.length === 1), 10_000, 'both units held');
    const victim = [a, b, c].find((m) => m.polling.size > 0) as Member;
    const [work, token] = [...victim.polling][0] as [string, number];
    // A crash: no release, no more renewals.
    await victim.coordinator.close({ release: false });
    const died = Date.now();
    const survivors = [a, b, c].filter((m) => m !== victim);
    await until(
      () => survivors.some((m) => m.polling.has(work)),
      5 * leasePeriodMs,
      'the takeover',
    );
    const took = Date.now() - died;
    const heir = survivors.find((m) => m.polling.has(work)) as Member;
    expect(heir.gained.find((g) => g.work === work)).toEqual({
      work,
      token: token + 1,
      takeover: true,
    });
    // A lease period (the lease runs out) plus one tick (a third of it) at most, and a margin
    // for the scheduling of three coordinators in one process.
    expect(took).toBeLessThan(leasePeriodMs + leasePeriodMs / 3 + 400);
    // The dead daemon's lease is not renewable any more.
    const stale = new Leases({ redis: connect(), owner: victim.owner, leasePeriodMs, prefix });
    expect(await stale.renew(work, token)).toBe('lost');
  });

  it('hands work over at once on graceful shutdown and when a new daemon joins', async () => {
    const prefix = freshPrefix();
    const works = ['d:1', 'd:2'];
    const a = member('a', prefix, works, 2_000);
    await a.coordinator.start();
    expect([...a.coordinator.held()].sort()).toEqual(works); // alone, it takes everything
    const b = member('b', prefix, works, 2_000);
    await b.coordinator.start();
    // a gives one away at its next tick; b, poked, takes it.
    await until(() => a.polling.size === 1 && b.polling.size === 1, 5_000, 'one each');
    expect(a.lost).toEqual([{ work: b.coordinator.held()[0], reason: 'released' }]);
    expect(b.gained[0]?.takeover).toBe(false);
    // Graceful shutdown releases at once: b, poked, takes a's work on its next tick, long
    // before a's lease would have run out (2 s).
    await a.coordinator.close({ release: true });
    const before = b.ticks();
    b.coordinator.poke();
    await until(() => b.ticks() > before, 1_000, 'b to tick');
    expect(b.polling.size).toBe(2);
    expect(b.gained.every((g) => !g.takeover)).toBe(true);
  });

  it('drops work at once when the store fences a write, and does not renew it', async () => {
    const prefix = freshPrefix();
    const a = member('a', prefix, ['w'], 600);
    await a.coordinator.start();
    const token = a.polling.get('w');
    expect(token).toBe(1);
    // Another daemon took over (a paused past its lease, say), so the store refused a write.
    const raw = connect();
    await raw.del(workKeys(prefix, 'w').lease);
    await new Leases({ redis: connect(), owner: 'b', leasePeriodMs: 60_000, prefix }).acquire('w');
    a.coordinator.lost('w', 'fenced');
    expect(a.polling.has('w')).toBe(false);
    expect(a.coordinator.fence('w')).toBeUndefined();
    expect(a.lost).toEqual([{ work: 'w', reason: 'fenced' }]);
    const before = a.ticks();
    a.coordinator.poke();
    await until(() => a.ticks() > before + 1, 2_000, 'two more ticks');
    expect(await raw.hgetall(workKeys(prefix, 'w').lease)).toEqual({ owner: 'b', token: '2' });
    expect(a.polling.size).toBe(0);
  });
});

describe('notices', () => {
  it('reach the other daemons, not the sender', async () => {
    const prefix = freshPrefix();
    const got: Record<string, Notice[]> = { a: [], b: [] };
    const [a, b] = await Promise.all(
      (['a', 'b'] as const).map((owner) =>
        openNotices({
          publisher: connect(),
          subscriber: connect(),
          prefix,
          owner,
          onNotice: (n) => got[owner]?.push(n),
        }),
      ),
    );
    await a?.publish({ kind: 'watch', deployment: 'prod', jobid: 'j1' });
    await a?.publish({ kind: 'released', work: 'deployment:prod' });
    await until(() => got.b?.length === 2, 2_000, 'b to hear both');
    expect(got.b).toEqual([
      { kind: 'watch', deployment: 'prod', jobid: 'j1' },
      { kind: 'released', work: 'deployment:prod' },
    ]);
    expect(got.a).toEqual([]);
    await a?.close();
    await b?.close();
  });

  it('ignores messages that are not notices, without throwing', () => {
    for (const text of [
      'not json',
      'null',
      '{}',
      '{"from":"a"}',
      '{"from":"a","notice":{"kind":"watch","deployment":"prod"}}',
      '{"from":"a","notice":{"kind":"explode","work":"w"}}',
      '{"from":"","notice":{"kind":"released","work":"w"}}',
    ])
      expect(parseNotice(text), text).toBeUndefined();
    expect(
      parseNotice('{"from":"a","notice":{"kind":"unwatch","deployment":"d","jobid":"j","x":1}}'),
    ).toEqual({
      from: 'a',
      notice: { kind: 'unwatch', deployment: 'd', jobid: 'j' },
    });
  });
});
