/**
 * The event log on a Redis stream: entry ids `<event id>-0`, event ids from one counter
 * incremented in the same script that appends (so they are dense, and the stream's order is
 * id order, whatever daemon wrote them). Replay from `Last-Event-ID`, trimming by age and
 * length, and a reader that delivers every daemon's events in id order.
 */
import type { Snapshot } from '@jobwatch/schema';
import type { Logger } from '../../log.js';
import type { EventFilter, ReplayResult, StoredEvent, WatchFailure } from '../store.js';
import { eventRef } from '../store.js';
import { type RoundTrips, reasonOf, type ScriptedRedis } from './connection.js';
import type { RedisKeys } from './keys.js';

/** A stream entry as Redis answers it: id and flat field list. */
export type StreamEntry = [id: string, fields: string[] | null];

/** The number before the dash of a stream id. */
export const seqOf = (id: string): number => Number(id.slice(0, id.indexOf('-')));

/** The fields of an entry as an object. */
export function fieldsOf(fields: readonly string[] | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (fields)
    for (let i = 0; i + 1 < fields.length; i += 2)
      out[fields[i] as string] = fields[i + 1] as string;
  return out;
}

/** An event-log entry as a {@link StoredEvent}. */
export function toEvent(entry: StreamEntry): StoredEvent {
  const f = fieldsOf(entry[1]);
  const id = seqOf(entry[0]);
  return f.t === 'f'
    ? { id, type: 'watch_failed', failure: JSON.parse(f.data ?? 'null') as WatchFailure }
    : { id, snapshot: JSON.parse(f.data ?? 'null') as Snapshot };
}

const matches = (filter: EventFilter, event: StoredEvent): boolean => {
  const ref = eventRef(event);
  return (
    (!filter.deployment || filter.deployment === ref.deployment) &&
    (!filter.jobids?.length || filter.jobids.includes(ref.jobid))
  );
};

/** Entries read per round trip. */
const CHUNK = 500;

/**
 * Events after `afterId`, filtered, at most `limit`; `resync` when one of them was trimmed
 * (the stream no longer starts right after `afterId`) or `afterId` is beyond the newest id.
 */
export async function eventsSince(
  redis: ScriptedRedis,
  keys: RedisKeys,
  rt: RoundTrips,
  afterId: number,
  filter: EventFilter,
  limit: number,
): Promise<ReplayResult> {
  if (!Number.isSafeInteger(afterId) || afterId < 0) return { kind: 'resync' };
  // The first page and the counter together, so an event appended in between cannot look
  // like a trimmed one.
  const [first, counter] = await rt.run('eventsSince', 'multi', async () => {
    const replies = (await redis
      .multi()
      .call('XRANGE', keys.events, `${afterId + 1}-0`, '+', 'COUNT', CHUNK)
      .get(keys.eventId)
      .exec()) as Array<[Error | null, unknown]>;
    for (const [error] of replies) if (error) throw error;
    return [replies[0]?.[1] as StreamEntry[], Number(replies[1]?.[1] ?? 0)] as const;
  });
  if (first.length === 0)
    return afterId === counter ? { kind: 'events', events: [] } : { kind: 'resync' };
  const events: StoredEvent[] = [];
  let expected = afterId + 1;
  let page = first;
  for (;;) {
    for (const entry of page) {
      // Ids are dense: a jump means the log was trimmed under the reader.
      if (seqOf(entry[0]) !== expected) return { kind: 'resync' };
      expected += 1;
      const event = toEvent(entry);
      if (!matches(filter, event)) continue;
      if (events.length === limit) return { kind: 'resync' };
      events.push(event);
    }
    if (page.length < CHUNK) return { kind: 'events', events };
    const from = expected - 1;
    page = await rt.run(
      'eventsSince',
      'xrange',
      () =>
        redis.call('XRANGE', keys.events, `(${from}-0`, '+', 'COUNT', CHUNK) as Promise<
          StreamEntry[]
        >,
    );
  }
}

/**
 * Trims the log: events appended before `olderThan` (found by their `at` field, reading
 * from the oldest) and beyond the newest `maxEvents`. Resolves how many went.
 */
export async function trimEvents(
  redis: ScriptedRedis,
  keys: RedisKeys,
  rt: RoundTrips,
  olderThan: number,
  maxEvents: number,
): Promise<number> {
  let cut = 0;
  let from = '-';
  scan: for (;;) {
    const page = (await rt.run('prune', 'xrange', () =>
      redis.call('XRANGE', keys.events, from, '+', 'COUNT', CHUNK),
    )) as StreamEntry[];
    for (const entry of page) {
      if (Number(fieldsOf(entry[1]).at) >= olderThan) break scan;
      cut = seqOf(entry[0]);
    }
    if (page.length < CHUNK) break;
    from = `(${cut}-0`;
  }
  let removed = 0;
  if (cut > 0)
    removed += Number(
      await rt.run('prune', 'xtrim', () =>
        redis.call('XTRIM', keys.events, 'MINID', '=', `${cut + 1}-0`),
      ),
    );
  removed += Number(
    await rt.run('prune', 'xtrim', () =>
      redis.call('XTRIM', keys.events, 'MAXLEN', '=', Math.max(0, Math.trunc(maxEvents))),
    ),
  );
  return removed;
}

/** Options of {@link EventReader}. */
export interface EventReaderOptions {
  /** A connection of its own: `XREAD BLOCK` holds it. */
  readonly connection: ScriptedRedis;
  readonly keys: RedisKeys;
  /** The newest event id when the store opened: delivery starts after it. */
  readonly from: number;
  readonly logger?: Logger | undefined;
  /** How long one `XREAD` blocks. @default 5000 */
  readonly blockMs?: number;
}

/**
 * Delivers every event appended to the log by any daemon, in id order, exactly once: a
 * blocking `XREAD` from the last id delivered, resumed from there after a reconnection.
 * Events this daemon wrote are delivered at once when they are next in line
 * ({@link offer}); the reader skips them when it reads them back.
 */
export class EventReader {
  readonly #options: EventReaderOptions;
  readonly #listeners = new Set<(event: StoredEvent) => void>();
  /** The newest id read from the stream. */
  #cursor: number;
  /** The newest id delivered. */
  #delivered: number;
  #closed = false;
  readonly #loop: Promise<void>;

  constructor(options: EventReaderOptions) {
    this.#options = options;
    this.#cursor = options.from;
    this.#delivered = options.from;
    this.#loop = this.#run();
  }

  /** Adds a listener; returns its removal. */
  subscribe(listener: (event: StoredEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** An event this daemon just wrote: delivered now if no other daemon's comes before it. */
  offer(event: StoredEvent): void {
    if (event.id === this.#delivered + 1) this.#deliver(event);
  }

  /**
   * The newest id in Redis after a reconnection. Lower than what was delivered means Redis
   * lost its data (restarted without persistence): ids start again, and so does the reader.
   */
  rebase(newest: number): void {
    if (newest >= this.#delivered) return;
    this.#options.logger?.error(
      { delivered: this.#delivered, newest },
      'redis lost the event log (restarted without persistence?); event ids start again',
    );
    this.#cursor = newest;
    this.#delivered = newest;
  }

  #deliver(event: StoredEvent): void {
    if (event.id <= this.#delivered) return;
    this.#delivered = event.id;
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#options.logger?.error({ err: error }, 'event listener failed');
      }
    }
  }

  async #run(): Promise<void> {
    const { connection, keys } = this.#options;
    const blockMs = this.#options.blockMs ?? 5_000;
    let failing = false;
    while (!this.#closed) {
      if (connection.status !== 'ready') {
        await waitForReady(connection, 1_000);
        continue;
      }
      let reply: Array<[string, StreamEntry[]]> | null;
      try {
        reply = (await connection.call(
          'XREAD',
          'COUNT',
          CHUNK,
          'BLOCK',
          blockMs,
          'STREAMS',
          keys.events,
          `${this.#cursor}-0`,
        )) as Array<[string, StreamEntry[]]> | null;
        failing = false;
      } catch (error) {
        if (this.#closed) return;
        if (!failing)
          this.#options.logger?.debug({ reason: reasonOf(error) }, 'event reader interrupted');
        failing = true;
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      for (const entry of reply?.[0]?.[1] ?? []) {
        this.#cursor = seqOf(entry[0]);
        if (this.#cursor <= this.#delivered) continue;
        try {
          this.#deliver(toEvent(entry));
        } catch (error) {
          this.#options.logger?.error({ err: error, id: entry[0] }, 'unreadable event skipped');
        }
      }
    }
  }

  /** Stops reading (the caller closes the connection, which ends a pending `XREAD`). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    await this.#loop;
  }
}

/** Resolves once `connection` is ready, or after `ms`. */
export function waitForReady(connection: ScriptedRedis, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      connection.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    connection.once('ready', done);
  });
}
