/**
 * The webhook outbox on a Redis stream read by one consumer group, `deliverers`, in which
 * every daemon is a consumer:
 *
 * - A queued delivery is a stream entry (id `<seq>-0`), appended in the same script as the
 *   event that caused it. `XREADGROUP … >` hands each new entry to exactly one daemon; it sits
 *   in that daemon's pending list while it is attempted.
 * - Sent or given up: acknowledged and deleted. Failed: acknowledged and moved to a retry hash
 *   and a sorted set by due time; once due, a script moves it back into the stream as a new
 *   entry, for any daemon to take.
 * - A daemon that died holding deliveries: after `claimIdleMs` without a word from it,
 *   `XAUTOCLAIM` hands them to another. So each delivery is attempted at least once under its
 *   one `webhook-id`, and by one daemon at a time unless one stalls longer than `claimIdleMs`.
 */
import type { Delivery } from '../store.js';
import type { RoundTrips, ScriptedRedis } from './connection.js';
import { fieldsOf, type StreamEntry, seqOf } from './events.js';
import type { RedisKeys } from './keys.js';

/** The consumer group every daemon reads the outbox in. */
export const OUTBOX_GROUP = 'deliverers';

/** Options of {@link RedisOutbox}. */
export interface RedisOutboxOptions {
  readonly redis: ScriptedRedis;
  readonly keys: RedisKeys;
  readonly rt: RoundTrips;
  /** This daemon's consumer name. */
  readonly consumer: string;
  /** How long a delivery may sit unanswered with one consumer before another claims it. */
  readonly claimIdleMs: number;
}

function toDelivery(entry: StreamEntry): Delivery {
  const f = fieldsOf(entry[1]);
  return {
    seq: seqOf(entry[0]),
    messageId: f.m ?? '',
    endpoint: f.e ?? '',
    body: f.b ?? '',
    attempts: Number(f.a ?? 0),
    createdAt: Number(f.c ?? 0),
    dueAt: Number(f.d ?? 0),
  };
}

const isNoGroup = (error: unknown) => error instanceof Error && /NOGROUP/.test(error.message);

/** The outbox half of the Redis store. */
export class RedisOutbox {
  readonly #o: RedisOutboxOptions;

  constructor(options: RedisOutboxOptions) {
    this.#o = options;
  }

  /** Creates the consumer group (and the stream) unless they exist; again after Redis lost them. */
  async ensureGroup(): Promise<void> {
    const { redis, keys, rt } = this.#o;
    try {
      await rt.run('outbox', 'xgroup', () =>
        redis.call('XGROUP', 'CREATE', keys.outbox, OUTBOX_GROUP, '0', 'MKSTREAM'),
      );
    } catch (error) {
      if (!(error instanceof Error && /BUSYGROUP/.test(error.message))) throw error;
    }
  }

  /** Runs a group command, creating the group first when Redis has lost it. */
  async #group<T>(command: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.#o.rt.run('outbox', command, fn);
    } catch (error) {
      if (!isNoGroup(error)) throw error;
      await this.ensureGroup();
      return this.#o.rt.run('outbox', command, fn);
    }
  }

  /**
   * Deliveries this daemon should attempt now: retries that fell due (moved back into the
   * stream first), its own unfinished ones, new ones, and ones a silent consumer has held for
   * `claimIdleMs`. Each comes back in this daemon's pending list until removed or retried.
   */
  async due(now: number, limit: number): Promise<Delivery[]> {
    const { redis, keys, rt, consumer, claimIdleMs } = this.#o;
    await rt.run('outbox', 'promote', () =>
      redis.jobwatchPromote(keys.outboxDue, keys.prefix, now, limit),
    );
    const entries: StreamEntry[] = [];
    const read = async (from: '0' | '>') => {
      const reply = (await this.#group('xreadgroup', () =>
        redis.call(
          'XREADGROUP',
          'GROUP',
          OUTBOX_GROUP,
          consumer,
          'COUNT',
          limit - entries.length,
          'STREAMS',
          keys.outbox,
          from,
        ),
      )) as Array<[string, StreamEntry[]]> | null;
      entries.push(...(reply?.[0]?.[1] ?? []));
    };
    await read('0');
    if (entries.length < limit) await read('>');
    if (entries.length < limit) {
      const reply = (await this.#group('xautoclaim', () =>
        redis.call(
          'XAUTOCLAIM',
          keys.outbox,
          OUTBOX_GROUP,
          consumer,
          claimIdleMs,
          '0-0',
          'COUNT',
          limit - entries.length,
        ),
      )) as [string, StreamEntry[], string[]?];
      entries.push(...reply[1]);
    }
    const live: Delivery[] = [];
    const seen = new Set<number>();
    for (const entry of entries) {
      const seq = seqOf(entry[0]);
      if (seen.has(seq)) continue;
      seen.add(seq);
      // A deleted entry still pending (its delivery was removed meanwhile): let it go.
      if (!entry[1]) {
        await rt.run('outbox', 'xack', () =>
          redis.call('XACK', keys.outbox, OUTBOX_GROUP, entry[0]),
        );
        continue;
      }
      live.push(toDelivery(entry));
    }
    if (live.length === 0) return live;
    const disabled = (await rt.run('outbox', 'hmget', () =>
      redis.hmget(keys.disabled, ...new Set(live.map((d) => d.endpoint))),
    )) as Array<string | null>;
    const off = new Set([...new Set(live.map((d) => d.endpoint))].filter((_, i) => disabled[i]));
    const out: Delivery[] = [];
    for (const d of live) {
      if (off.has(d.endpoint)) await this.remove(d.seq);
      else out.push(d);
    }
    return out.sort((a, b) => a.dueAt - b.dueAt || a.seq - b.seq);
  }

  /**
   * When to look again: a retry's due time, a new entry's (now or before), a delivery held by
   * another daemon when it becomes claimable, one of this daemon's own a second from now;
   * `undefined` when the outbox is empty.
   */
  async nextDueAt(now: number): Promise<number | undefined> {
    const { redis, keys, rt, consumer, claimIdleMs } = this.#o;
    const [retry, groups, pending] = await rt.run('outbox', 'multi', async () => {
      const replies = (await redis
        .multi()
        .zrange(keys.outboxDue, 0, 0, 'WITHSCORES')
        .call('XINFO', 'GROUPS', keys.outbox)
        .call('XPENDING', keys.outbox, OUTBOX_GROUP, '-', '+', 100)
        .exec()) as Array<[Error | null, unknown]>;
      return replies.map(([error, value]) => (error ? null : value)) as [
        string[] | null,
        unknown[][] | null,
        Array<[string, string, number, number]> | null,
      ];
    });
    const candidates: number[] = [];
    if (retry?.[1] !== undefined) candidates.push(Number(retry[1]));
    for (const [, owner, idle] of pending ?? [])
      candidates.push(owner === consumer ? now + 1_000 : now + Math.max(0, claimIdleMs - idle));
    const group = (groups ?? [])
      .map((g) => fieldsOf(g as string[]))
      .find((g) => g.name === OUTBOX_GROUP);
    const lastDelivered = group?.['last-delivered-id'] ?? '0-0';
    const unread = (await rt.run('outbox', 'xrange', () =>
      redis.call('XRANGE', keys.outbox, `(${lastDelivered}`, '+', 'COUNT', 1),
    )) as StreamEntry[];
    if (unread[0]) candidates.push(toDelivery(unread[0]).dueAt);
    return candidates.length ? Math.min(...candidates) : undefined;
  }

  /** Removes a delivery this daemon holds, or a retry waiting. */
  async remove(seq: number): Promise<void> {
    const { redis, keys, rt, consumer } = this.#o;
    await rt.run('outbox', 'remove', () =>
      redis.jobwatchRemove(keys.outbox, keys.prefix, OUTBOX_GROUP, consumer, seq),
    );
  }

  /** Schedules another attempt of a delivery this daemon holds. */
  async retry(seq: number, dueAt: number, attempts: number): Promise<void> {
    const { redis, keys, rt, consumer } = this.#o;
    await rt.run('outbox', 'retry', () =>
      redis.jobwatchRetry(keys.outbox, keys.prefix, OUTBOX_GROUP, consumer, seq, dueAt, attempts),
    );
  }

  /** Disables an endpoint and drops its deliveries. */
  async disable(endpoint: string, at: number): Promise<void> {
    const { redis, keys, rt } = this.#o;
    await rt.run('outbox', 'disable', () =>
      redis.jobwatchDisable(keys.outbox, keys.prefix, OUTBOX_GROUP, endpoint, at),
    );
  }

  /** Whether an endpoint is disabled. */
  async isDisabled(endpoint: string): Promise<boolean> {
    const { redis, keys, rt } = this.#o;
    return (await rt.run('outbox', 'hexists', () => redis.hexists(keys.disabled, endpoint))) === 1;
  }

  /**
   * Forgets consumers (daemons gone for good) that hold nothing and were last heard of more
   * than `idleMs` ago. Resolves how many.
   */
  async forgetConsumers(idleMs: number): Promise<number> {
    const { redis, keys, rt } = this.#o;
    const consumers = (await this.#group('xinfo', () =>
      redis.call('XINFO', 'CONSUMERS', keys.outbox, OUTBOX_GROUP),
    )) as string[][];
    let n = 0;
    for (const c of consumers) {
      const f = fieldsOf(c);
      if (Number(f.pending) === 0 && Number(f.idle) > idleMs && f.name !== this.#o.consumer) {
        await rt.run('outbox', 'xgroup', () =>
          redis.call('XGROUP', 'DELCONSUMER', keys.outbox, OUTBOX_GROUP, f.name as string),
        );
        n += 1;
      }
    }
    return n;
  }
}
