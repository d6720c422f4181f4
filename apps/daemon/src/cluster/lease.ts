/**
 * Leases with fencing tokens on Redis: which daemon holds a unit of work (a deployment) now.
 *
 * A lease for work `W` is the hash `<prefix>lease:<W>` with fields `owner` and `token` and a
 * time to live of one lease period. Its token comes from `INCR <prefix>fence:<W>` each time the
 * lease is (re)acquired, so tokens only grow: a store shared by several daemons refuses a write
 * whose token is not the current one (the writer paused or was cut off, and another daemon took
 * the work over). Every step is one Lua script, so a check and its change are atomic.
 *
 * The live daemons are the members of the sorted set `<prefix>daemons`, scored by when their
 * heartbeat runs out (by Redis's clock, so the daemons' clocks need not agree).
 */
import type { Redis } from 'ioredis';

/**
 * The key prefix when none is configured: the Redis store's, whose hash tag puts every key in
 * one Redis Cluster slot (its scripts check a lease beside the data they write).
 */
export const DEFAULT_PREFIX = '{jobwatch}:';

/** The keys of one unit of work. */
export interface WorkKeys {
  /** Hash `{owner, token}` with a time to live of one lease period. */
  readonly lease: string;
  /** Counter the tokens come from (`INCR`); never expires. */
  readonly fence: string;
  /** The owner that acquired the work last and has not released it (takeover detection). */
  readonly holder: string;
}

/** The Redis keys of work `work` under `prefix`. Shared with the Redis store's fence check. */
export function workKeys(prefix: string, work: string): WorkKeys {
  return {
    lease: `${prefix}lease:${work}`,
    fence: `${prefix}fence:${work}`,
    holder: `${prefix}holder:${work}`,
  };
}

/** The key of the live-daemon set under `prefix`. */
export const daemonsKey = (prefix: string) => `${prefix}daemons`;

/** A lease just acquired. */
export interface Grant {
  readonly work: string;
  /** The fencing token: pass it with every write for this work. */
  readonly token: number;
  /** The work was last held by another daemon that never released it (it died or lost touch). */
  readonly takeover: boolean;
}

/**
 * What {@link Leases.renew} found: `renewed`; `resumed` when the lease had run out (a long
 * pause, Redis restarted from its append-only file) but nobody acquired the work since, so
 * the same token still fences; `lost` when another daemon holds it or a newer token exists.
 */
export type RenewOutcome = 'renewed' | 'resumed' | 'lost';

const ACQUIRE = `
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner then
  if owner ~= ARGV[1] then return {0, 0, 0} end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, tonumber(redis.call('HGET', KEYS[1], 'token')), 0}
end
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', token)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local previous = redis.call('GET', KEYS[3])
redis.call('SET', KEYS[3], ARGV[1])
if previous and previous ~= ARGV[1] then return {1, token, 1} end
return {1, token, 0}
`;

const RENEW = `
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner == ARGV[1] and redis.call('HGET', KEYS[1], 'token') == ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
if not owner and redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 2
end
return 0
`;

const RELEASE = `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] and redis.call('HGET', KEYS[1], 'token') == ARGV[2] then
  redis.call('DEL', KEYS[1])
  if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
  return 1
end
return 0
`;

const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
return redis.call('ZCARD', KEYS[1])
`;

/** The scripts, as ioredis defines them on a connection. */
interface LeaseCommands {
  jobwatchLeaseAcquire(
    lease: string,
    fence: string,
    holder: string,
    owner: string,
    ttlMs: number,
  ): Promise<[number, number, number]>;
  jobwatchLeaseRenew(
    lease: string,
    fence: string,
    owner: string,
    token: number,
    ttlMs: number,
  ): Promise<number>;
  jobwatchLeaseRelease(
    lease: string,
    holder: string,
    owner: string,
    token: number,
  ): Promise<number>;
  jobwatchHeartbeat(daemons: string, owner: string, ttlMs: number): Promise<number>;
}

/** Options of {@link Leases}. */
export interface LeasesOptions {
  /** A connection used for commands (not one in subscriber mode). */
  readonly redis: Redis;
  /** Who this daemon is: unique among the daemons sharing the Redis. */
  readonly owner: string;
  /** How long a lease and a heartbeat last without renewal, in ms. */
  readonly leasePeriodMs: number;
  /** Prefix of every key. @default {@link DEFAULT_PREFIX} */
  readonly prefix?: string;
}

/**
 * The lease operations of one daemon. Stateless beyond its options: which leases the daemon
 * holds is the caller's (the coordinator's) to remember.
 *
 * @example
 * ```ts
 * const leases = new Leases({ redis, owner: 'host/123', leasePeriodMs: 15_000 });
 * const grant = await leases.acquire('deployment:prod');
 * if (grant) await store.recordSnapshot(snapshot, deliveries, { work: grant.work, token: grant.token });
 * ```
 */
export class Leases {
  readonly owner: string;
  readonly leasePeriodMs: number;
  readonly prefix: string;
  readonly #redis: Redis & LeaseCommands;

  constructor(options: LeasesOptions) {
    if (!(Number.isInteger(options.leasePeriodMs) && options.leasePeriodMs >= 100))
      throw new RangeError(
        `leasePeriodMs must be an integer ≥ 100, got ${String(options.leasePeriodMs)}`,
      );
    if (!options.owner) throw new RangeError('owner must not be empty');
    this.owner = options.owner;
    this.leasePeriodMs = options.leasePeriodMs;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    const redis = options.redis as Redis & Partial<LeaseCommands>;
    if (!redis.jobwatchLeaseAcquire) {
      redis.defineCommand('jobwatchLeaseAcquire', { numberOfKeys: 3, lua: ACQUIRE });
      redis.defineCommand('jobwatchLeaseRenew', { numberOfKeys: 2, lua: RENEW });
      redis.defineCommand('jobwatchLeaseRelease', { numberOfKeys: 2, lua: RELEASE });
      redis.defineCommand('jobwatchHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT });
    }
    this.#redis = redis as Redis & LeaseCommands;
  }

  /**
   * Acquires the lease on `work` when it is free (or already this daemon's), with a new token
   * when it was free. Resolves `undefined` when another daemon holds it.
   */
  async acquire(work: string): Promise<Grant | undefined> {
    const keys = workKeys(this.prefix, work);
    const [ok, token, takeover] = await this.#redis.jobwatchLeaseAcquire(
      keys.lease,
      keys.fence,
      keys.holder,
      this.owner,
      this.leasePeriodMs,
    );
    return ok === 1 ? { work, token, takeover: takeover === 1 } : undefined;
  }

  /** Extends the lease on `work` granted with `token` by one lease period. */
  async renew(work: string, token: number): Promise<RenewOutcome> {
    const keys = workKeys(this.prefix, work);
    const result = await this.#redis.jobwatchLeaseRenew(
      keys.lease,
      keys.fence,
      this.owner,
      token,
      this.leasePeriodMs,
    );
    return result === 1 ? 'renewed' : result === 2 ? 'resumed' : 'lost';
  }

  /** Gives the lease up (graceful shutdown, rebalancing). Resolves `false` when it was not held. */
  async release(work: string, token: number): Promise<boolean> {
    const keys = workKeys(this.prefix, work);
    return (
      (await this.#redis.jobwatchLeaseRelease(keys.lease, keys.holder, this.owner, token)) === 1
    );
  }

  /** Who holds each of `works` now (`undefined`: free). One round trip. */
  async holders(works: readonly string[]): Promise<Map<string, string | undefined>> {
    const pipeline = this.#redis.pipeline();
    for (const work of works) pipeline.hget(workKeys(this.prefix, work).lease, 'owner');
    const replies = (await pipeline.exec()) ?? [];
    const result = new Map<string, string | undefined>();
    works.forEach((work, i) => {
      const [error, owner] = replies[i] ?? [null, null];
      if (error) throw error;
      result.set(work, typeof owner === 'string' ? owner : undefined);
    });
    return result;
  }

  /** Marks this daemon live for one lease period; resolves how many daemons are live. */
  heartbeat(): Promise<number> {
    return this.#redis.jobwatchHeartbeat(daemonsKey(this.prefix), this.owner, this.leasePeriodMs);
  }

  /** Removes this daemon from the live set at once (graceful shutdown). */
  async leave(): Promise<void> {
    await this.#redis.zrem(daemonsKey(this.prefix), this.owner);
  }
}
