/**
 * Redis down or back, as the store lives through it: while Redis does not answer, polling goes
 * on and transitions wait in the {@link OutageBuffer}; once it answers again (its `ready`, or
 * a probe every second, since a connection can stay open and mute), the consumer group and the
 * event reader are checked and the buffer is written in order. Also the snapshots each daemon
 * remembers ({@link SeenSnapshots}), which Redis coming back without its data makes untrusted.
 */
import type { Snapshot } from '@jobwatch/schema';
import { FencedError, StoreError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { StoreHealth } from '../store.js';
import { OutageBuffer } from './buffer.js';
import { type RedisStoreMetrics, reasonOf, type ScriptedRedis } from './connection.js';
import type { EventReader } from './events.js';
import type { RedisKeys } from './keys.js';
import type { RedisOutbox } from './outbox.js';

/** Jobs whose last stored snapshot each daemon remembers (about 2 KB each). */
const MAX_SEEN = 50_000;

/** The job's version and event id right after this daemon wrote its snapshot. */
export interface WrittenVersion {
  /** The job hash's `v` after the write. */
  readonly version: number;
  /** The id of the event the write appended. */
  readonly eventId: number;
}

/**
 * The snapshot this daemon last read or wrote for each job (by job key), to skip polls that
 * change nothing; bounded, oldest forgotten first; a job that ended is forgotten. After a write
 * of its own it also keeps the job's version, so that the next write can try its
 * compare-and-set without reading the job first ({@link written}); an event of another
 * daemon's for the job ({@link passed}) drops that version.
 */
export class SeenSnapshots {
  readonly #seen = new Map<string, Snapshot>();
  readonly #written = new Map<string, WrittenVersion>();

  get(jobKey: string): Snapshot | undefined {
    return this.#seen.get(jobKey);
  }

  /** The version this daemon's own last write left, while nothing newer is known. */
  written(jobKey: string): WrittenVersion | undefined {
    return this.#written.get(jobKey);
  }

  remember(jobKey: string, snapshot: Snapshot | null, written?: WrittenVersion): void {
    this.#written.delete(jobKey);
    if (!snapshot || snapshot.terminal) {
      this.#seen.delete(jobKey);
      return;
    }
    if (!this.#seen.has(jobKey) && this.#seen.size >= MAX_SEEN) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.forget(oldest);
    }
    this.#seen.set(jobKey, snapshot);
    if (written) this.#written.set(jobKey, written);
  }

  /** An event for the job: one newer than this daemon's own last write makes its version stale. */
  passed(jobKey: string, eventId: number): void {
    const written = this.#written.get(jobKey);
    if (written && eventId > written.eventId) this.#written.delete(jobKey);
  }

  forget(jobKey: string): void {
    this.#seen.delete(jobKey);
    this.#written.delete(jobKey);
  }

  clear(): void {
    this.#seen.clear();
    this.#written.clear();
  }
}

/** What {@link createAvailability} watches and repairs. */
export interface AvailabilityOptions {
  readonly redis: ScriptedRedis;
  readonly keys: RedisKeys;
  readonly outbox: RedisOutbox;
  readonly reader: EventReader;
  readonly seen: SeenSnapshots;
  readonly now: () => number;
  /** Most transitions held while Redis is down. */
  readonly maxBuffered: number;
  /** Why Redis last failed, as the connection reported it (kept up to date by the caller). */
  readonly link: { lastReason?: string | undefined };
  readonly logger?: Logger | undefined;
  readonly metrics?: RedisStoreMetrics | undefined;
}

/** The store's view of Redis being there: see {@link createAvailability}. */
export interface Availability {
  /** Runs a transition at once, or buffers it while Redis is down or others wait before it. */
  transition<T>(
    key: string,
    snapshot: Snapshot | undefined,
    final: boolean,
    write: () => Promise<T>,
  ): Promise<T | undefined>;
  health(): StoreHealth;
  /** Throws once the store is closed. */
  guard(): void;
  /**
   * Writes what is buffered if Redis answers, then stops watching; `false` when it was
   * closed already. The connections are the caller's to close.
   */
  close(): Promise<boolean>;
}

const unavailable = (error: unknown) =>
  error instanceof StoreError && error.code === 'STORE_UNAVAILABLE';

/**
 * Follows the command connection's `close` and `ready`, buffers transitions while Redis is
 * away and writes them when it is back; marks the store up (`storeUp` 1) at once.
 */
export function createAvailability(options: AvailabilityOptions): Availability {
  const { redis, keys, outbox, reader, seen, now, link, logger, metrics } = options;
  let up = true;
  let downSince = 0;
  let closed = false;
  const buffer = new OutageBuffer({
    max: options.maxBuffered,
    onSize: (n) => metrics?.storeBuffered.set(n),
    onDrop: (n) => {
      metrics?.storeBufferDropped.inc(n);
      logger?.warn(
        { dropped: n, bound: options.maxBuffered },
        'outage buffer full: intermediate transitions dropped (job ends are kept)',
      );
    },
  });
  /** While down: looks every second whether Redis answers again (a connection can stay open and mute). */
  let probe: NodeJS.Timeout | undefined;
  const down = (reason: string) => {
    link.lastReason = reason;
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
  redis.on('close', () => down(link.lastReason ?? 'connection closed'));
  redis.on('ready', () => {
    if (!closed) void recover();
  });
  metrics?.storeUp.set(1);

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

  return {
    async transition(key, snapshot, final, write) {
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
    },
    health: () => ({
      up,
      ...(up ? {} : { reason: link.lastReason ?? 'unreachable' }),
      buffered: buffer.size,
    }),
    guard() {
      if (closed) throw new Error('store is closed');
    },
    async close() {
      if (closed) return false;
      if (buffer.size > 0 && up) await drain();
      if (buffer.size > 0)
        logger?.error(
          { lost: buffer.size },
          'closing while redis is unavailable: buffered transitions are lost',
        );
      closed = true;
      clearInterval(probe);
      await draining;
      return true;
    },
  };
}
