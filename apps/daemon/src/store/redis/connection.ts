/**
 * The Redis store's connections (ioredis): one for commands and scripts, one for the event
 * reader's blocking `XREAD`. Commands fail fast while Redis is down (`enableOfflineQueue:
 * false`) instead of queueing without bound; ioredis reconnects on its own with backoff.
 * Every round trip is counted and timed; nothing here ever names the URL's password.
 */
import { Redis } from 'ioredis';
import { StoreError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Metrics } from '../../metrics.js';
import { SCRIPTS, type ScriptCommands } from './scripts.js';

/** The metrics the Redis store keeps up to date. */
export type RedisStoreMetrics = Pick<
  Metrics,
  | 'storeUp'
  | 'storeErrors'
  | 'storeBuffered'
  | 'storeBufferDropped'
  | 'redisCommands'
  | 'redisSeconds'
>;

/** A `redis://` or `rediss://` URL as it may be shown: without user name or password. */
export function shownRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}

/** A client with the store's scripts defined on it. */
export type ScriptedRedis = Redis & ScriptCommands;

/** Longest wait between reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 2_000;

/** Options of {@link connectRedis}. */
export interface ConnectOptions {
  readonly url: string;
  /** Name the connection carries in `CLIENT LIST`. */
  readonly name: string;
  /** Per-command timeout; none for the blocking reader. */
  readonly commandTimeoutMs?: number | undefined;
}

/**
 * A client that starts connecting at once, reconnects for ever with a backoff capped at two
 * seconds, and rejects commands at once while it is not connected.
 */
export function connectRedis(options: ConnectOptions): ScriptedRedis {
  const redis = new Redis(options.url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    // A command sent before a connection dropped is failed, not replayed: the store decides.
    maxRetriesPerRequest: 0,
    autoResubscribe: false,
    enableAutoPipelining: true,
    connectionName: options.name,
    connectTimeout: 5_000,
    ...(options.commandTimeoutMs ? { commandTimeout: options.commandTimeoutMs } : {}),
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), MAX_RECONNECT_DELAY_MS),
  });
  for (const [name, script] of Object.entries(SCRIPTS)) redis.defineCommand(name, script);
  return redis as ScriptedRedis;
}

/** Whether an error is Redis answering with an error (`ReplyError`), not a lost connection. */
export function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

/** The short reason of a connection problem, for logs and `/readyz`: a code, never a URL. */
export function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
  const message = error instanceof Error ? error.message : String(error);
  // ioredis messages name hosts and ports at most; cut anything that looks like a URL anyway.
  return message.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>').slice(0, 200);
}

/**
 * Runs and measures Redis round trips, and turns a lost connection into a {@link StoreError}
 * with code `STORE_UNAVAILABLE` whose message is safe to show.
 */
export class RoundTrips {
  readonly #metrics: RedisStoreMetrics | undefined;
  readonly #logger: Logger | undefined;

  constructor(metrics: RedisStoreMetrics | undefined, logger: Logger | undefined) {
    this.#metrics = metrics;
    this.#logger = logger;
  }

  /** Runs `fn` as one round trip named `command`, for the store operation `operation`. */
  async run<T>(operation: string, command: string, fn: () => Promise<T>): Promise<T> {
    const end = this.#metrics?.redisSeconds.startTimer({ command });
    this.#metrics?.redisCommands.inc({ command });
    try {
      return await fn();
    } catch (error) {
      throw this.failed(operation, error);
    } finally {
      end?.();
    }
  }

  /** Counts a failed operation and answers the error to throw. */
  failed(operation: string, error: unknown): Error {
    if (error instanceof StoreError) {
      this.#metrics?.storeErrors.inc({ operation, code: error.code });
      return error;
    }
    if (isReplyError(error)) {
      this.#metrics?.storeErrors.inc({ operation, code: 'REDIS' });
      this.#logger?.error({ operation, reason: reasonOf(error) }, 'redis refused a command');
      // Redis's own message only (a script error, say); ioredis's error also carries the
      // command's arguments, which must not travel further.
      return new Error(`redis: ${reasonOf(error)}`);
    }
    this.#metrics?.storeErrors.inc({ operation, code: 'STORE_UNAVAILABLE' });
    return new StoreError(
      'STORE_UNAVAILABLE',
      `redis unavailable during ${operation} (${reasonOf(error)})`,
    );
  }
}
