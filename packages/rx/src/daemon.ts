import { AuthError, ConfigError, TransportError, toJobwatchError } from '@jobwatch/client';
import { parseSnapshot, type Snapshot } from '@jobwatch/schema';
import { EventSource as BundledEventSource, type FetchLike } from 'eventsource';
import { asyncScheduler, Observable, type SchedulerLike, type Subscription } from 'rxjs';

/** The part of an `EventSource` that {@link fromDaemon} uses. */
export interface EventSourceLike {
  readonly readyState: number;
  /** Listens for `open`, `error` and named events (`snapshot`, `resync`, `end`). */
  addEventListener(type: string, listener: (event: Event) => void): void;
  /** Closes the connection for good; no reconnect follows. */
  close(): void;
}

/** Init passed to an {@link EventSourceConstructor}: the browser's ignores `fetch`. */
export interface EventSourceLikeInit {
  withCredentials?: boolean;
  fetch?: FetchLike;
}

/** An `EventSource` class: the browser's global one, the `eventsource` package's, or a test double. */
export type EventSourceConstructor = new (
  url: string,
  init?: EventSourceLikeInit,
) => EventSourceLike;

/** Options of {@link fromDaemon}. */
export interface FromDaemonOptions {
  /** Only these jobs (the stream then completes once all of them have ended). */
  readonly jobid?: string | readonly string[];
  /** Only this deployment. */
  readonly deployment?: string;
  /**
   * Returns a fresh short-lived ticket (from the daemon's `POST /api/tickets`), asked on
   * every (re)connect and sent as `?ticket=`. The way for browsers, whose `EventSource`
   * cannot send headers.
   */
  readonly ticket?: () => Promise<string> | string;
  /**
   * Headers for every connect, e.g. `{ Authorization: 'Bearer <key>' }`. Needs an
   * `EventSource` that takes a `fetch` (the `eventsource` package's, used by default when
   * headers are given).
   */
  readonly headers?:
    | Record<string, string>
    | (() => Record<string, string> | Promise<Record<string, string>>);
  /** Resume after this event id (sent as `Last-Event-ID` on the first connect). */
  readonly lastEventId?: string;
  /**
   * The `EventSource` class to use.
   * @default the global `EventSource` when there is one and no headers are needed, else the
   * `eventsource` package's (Node 20 has no global one)
   */
  readonly EventSource?: EventSourceConstructor;
  /** The fetch the `eventsource` package's class uses. @default globalThis.fetch */
  readonly fetch?: typeof globalThis.fetch;
  /** Send cookies cross-origin (browser `EventSource` option). @default false */
  readonly withCredentials?: boolean;
  /** First wait before a reconnect, in ms; doubles while connects keep failing. @default 3000 */
  readonly reconnectDelay?: number;
  /** Ceiling of the reconnect wait, in ms. @default 30000 */
  readonly maxReconnectDelay?: number;
  /** Scheduler for reconnect waits. @default asyncScheduler */
  readonly scheduler?: SchedulerLike;
}

const OPEN = 1;

/** Builds the event stream URL with its filters. `base` is the daemon's root (or the events URL itself). */
function eventsUrl(
  base: string,
  options: FromDaemonOptions,
  ticket: string | undefined,
  lastId?: string,
): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch (cause) {
    throw new ConfigError(`Not a daemon URL: ${JSON.stringify(base.slice(0, 100))}`, { cause });
  }
  if (!/\/api\/events\/?$/.test(url.pathname)) {
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/events`;
  }
  const ids =
    options.jobid === undefined
      ? []
      : typeof options.jobid === 'string'
        ? [options.jobid]
        : options.jobid;
  for (const id of ids) url.searchParams.append('jobid', id);
  if (options.deployment !== undefined) url.searchParams.set('deployment', options.deployment);
  if (lastId !== undefined) url.searchParams.set('lastEventId', lastId);
  if (ticket !== undefined) url.searchParams.set('ticket', ticket);
  return url.toString();
}

/**
 * Reads the daemon's event stream (`GET /api/events`) into the same `Observable<Snapshot>`
 * that `watchJob` returns, so a page can show jobs without ever holding an admin token.
 *
 * Each event is validated with `parseSnapshot`. Connections that drop are reopened after
 * a backoff with `Last-Event-ID` (and a fresh ticket), so nothing is missed; a `resync`
 * is taken in stride; the daemon's `end` completes the stream. Refused credentials end it
 * with an `AuthError`, an invalid event with a `ValidationError`.
 *
 * @example
 * ```ts
 * // Browser: a ticket from the daemon, renewed on every reconnect.
 * fromDaemon('https://jobs.example.com', {
 *   jobid,
 *   ticket: async () => (await (await fetch('/api/tickets', { method: 'POST' })).json()).ticket,
 * }).subscribe(render);
 * // Node: a key in a header.
 * fromDaemon('http://127.0.0.1:7070', { headers: { Authorization: `Bearer ${key}` } });
 * ```
 * Gotcha: the browser's `EventSource` cannot send `Last-Event-ID` on a new connection, so
 * with it the id also travels as the `lastEventId` query parameter.
 */
export function fromDaemon(url: string, options: FromDaemonOptions = {}): Observable<Snapshot> {
  return new Observable<Snapshot>((subscriber) => {
    const scheduler = options.scheduler ?? asyncScheduler;
    const headers = options.headers;
    const globalES = (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
    const Ctor: EventSourceConstructor =
      options.EventSource ??
      (headers === undefined && globalES
        ? globalES
        : (BundledEventSource as EventSourceConstructor));
    const takesFetch =
      Ctor === (BundledEventSource as EventSourceConstructor) || options.fetch !== undefined;
    const baseDelay = options.reconnectDelay ?? 3000;
    const maxDelay = options.maxReconnectDelay ?? 30_000;
    const waiting = new Set(
      options.jobid === undefined
        ? []
        : typeof options.jobid === 'string'
          ? [options.jobid]
          : options.jobid,
    );
    const wanted = new Set(waiting);

    let lastId = options.lastEventId;
    let source: EventSourceLike | undefined;
    let timer: Subscription | undefined;
    let failures = 0;
    let authFailures = 0;
    let done = false;
    let generation = 0;

    const stop = () => {
      done = true;
      timer?.unsubscribe();
      source?.close();
      source = undefined;
    };
    const fail = (error: unknown) => {
      if (done) return;
      stop();
      subscriber.error(toJobwatchError(error));
    };

    const fetchWithHeaders: FetchLike = async (input, init) => {
      const extra = typeof headers === 'function' ? await headers() : (headers ?? {});
      const all: Record<string, string> = { ...init.headers, ...extra };
      if (lastId !== undefined) all['Last-Event-ID'] = lastId;
      const f = options.fetch ?? globalThis.fetch;
      return f(input, { ...init, headers: all } as RequestInit);
    };

    const reconnect = () => {
      source?.close();
      source = undefined;
      if (done) return;
      failures++;
      const wait = Math.min(maxDelay, baseDelay * 2 ** Math.min(20, failures - 1));
      timer = scheduler.schedule(() => {
        timer = undefined;
        void connect();
      }, wait);
    };

    const onSnapshot = (event: Event) => {
      const message = event as MessageEvent<string>;
      let snapshot: Snapshot;
      try {
        snapshot = parseSnapshot(JSON.parse(message.data));
      } catch (error) {
        fail(
          error instanceof SyntaxError
            ? new TransportError(`The daemon sent an event that is not JSON: ${error.message}`, {
                reason: 'body',
                retryable: false,
              })
            : error,
        );
        return;
      }
      if (message.lastEventId) lastId = message.lastEventId;
      if (wanted.size > 0 && !wanted.has(snapshot.jobid)) return;
      if (options.deployment !== undefined && snapshot.deployment !== options.deployment) return;
      subscriber.next(snapshot);
      if (snapshot.terminal && waiting.delete(snapshot.jobid) && waiting.size === 0) {
        stop();
        subscriber.complete();
      }
    };

    const connect = async () => {
      const mine = ++generation;
      let ticket: string | undefined;
      try {
        ticket = options.ticket ? await options.ticket() : undefined;
      } catch (error) {
        if (mine !== generation || done) return;
        // A ticket that cannot be had now is trouble like a dropped connection.
        if (failures >= 1 && toJobwatchError(error).code === 'AUTH') return fail(error);
        return reconnect();
      }
      if (mine !== generation || done) return;
      let target: string;
      try {
        target = eventsUrl(url, options, ticket, takesFetch ? undefined : lastId);
      } catch (error) {
        return fail(error);
      }
      const es = new Ctor(target, {
        withCredentials: options.withCredentials ?? false,
        ...(takesFetch ? { fetch: fetchWithHeaders } : {}),
      });
      source = es;
      es.addEventListener('open', () => {
        failures = 0;
      });
      es.addEventListener('snapshot', (e) => {
        if (source === es) {
          authFailures = 0;
          onSnapshot(e);
        }
      });
      es.addEventListener('end', () => {
        if (source !== es) return;
        stop();
        subscriber.complete();
      });
      es.addEventListener('error', (e) => {
        if (source !== es || done) return;
        const status = (e as { code?: unknown }).code;
        if (status === 401 || status === 403) {
          // A ticket may simply have expired: one fresh try, then the refusal stands.
          authFailures++;
          if (!options.ticket || authFailures > 1) {
            return fail(
              new AuthError(
                `The daemon refused the ${options.ticket ? 'ticket' : 'credentials'} (HTTP ${status})`,
              ),
            );
          }
        } else if (
          typeof status === 'number' &&
          status >= 400 &&
          status < 500 &&
          status !== 408 &&
          status !== 429
        ) {
          return fail(
            new ConfigError(
              `The daemon's event stream answered HTTP ${status}; check the URL and filters`,
            ),
          );
        }
        if (es.readyState === OPEN) return;
        reconnect();
      });
    };

    void connect();
    return stop;
  });
}
