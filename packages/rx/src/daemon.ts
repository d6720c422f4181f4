import {
  AuthError,
  backoffDelay,
  ConfigError,
  ErrorCode,
  type ErrorCodeValue,
  JobwatchError,
  TransportError,
  toJobwatchError,
} from '@jobwatch/client';
import {
  DaemonEvent,
  type DaemonReadyData,
  daemonEventsUrl,
  parseSnapshot,
  type Snapshot,
} from '@jobwatch/schema';
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

/** The state of {@link fromDaemon}'s connection, as {@link DaemonStreamState.connection} reports it. */
export const DaemonConnection = {
  /** The first connection is being opened (fewer than `unreachableAfter` attempts failed). */
  CONNECTING: 'connecting',
  /** The stream is open. */
  OPEN: 'open',
  /** An open stream dropped, went silent, or the daemon ended it; reconnecting. */
  LOST: 'lost',
  /** `unreachableAfter` connection attempts failed in a row; still retrying. */
  UNREACHABLE: 'unreachable',
} as const;
/** One of {@link DaemonConnection}. */
export type DaemonConnectionValue = (typeof DaemonConnection)[keyof typeof DaemonConnection];

/** What {@link FromDaemonOptions.onState} reports: how the stream is doing, beyond its snapshots. */
export interface DaemonStreamState {
  readonly connection: DaemonConnectionValue;
  /**
   * Epoch ms (the scheduler's clock) since when: for `open`, since it opened; for `lost` and
   * `unreachable`, since the stream was lost (or, for a stream that never opened, since the
   * first attempt); for `connecting`, since the subscription.
   */
  readonly since: number;
  /** Connection attempts that failed in a row. */
  readonly attempts: number;
  /** Why, while `lost` or `unreachable`: a {@link TransportError} with a message for people. */
  readonly error: TransportError | undefined;
  /**
   * Requested job ids that the daemon said it does not watch (from its `ready` event); an id
   * leaves the list when a snapshot of it arrives.
   */
  readonly unwatched: readonly string[];
}

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
  /**
   * After this many connection attempts failed in a row, {@link onState} reports the stream
   * `unreachable` (it keeps retrying). @default 2
   */
  readonly unreachableAfter?: number;
  /**
   * Treat the daemon's `end` (it is shutting down) like a dropped connection: mark the
   * snapshots stale and reconnect, catching up on what was missed, instead of completing.
   * For pages that follow a daemon across its restarts. A stream of named jobs still
   * completes once they have ended. @default false
   */
  readonly reconnectOnEnd?: boolean;
  /**
   * Called whenever the stream's {@link DaemonStreamState} changes: connected, lost,
   * unreachable, or the daemon does not watch a requested job. Must not throw.
   */
  readonly onState?: (state: DaemonStreamState) => void;
  /** Scheduler for reconnect waits and the heartbeat watch; its `now()` dates the trouble. @default asyncScheduler */
  readonly scheduler?: SchedulerLike;
}

const OPEN = 1;
/** The longest wait a timer can take (setTimeout's limit); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Builds the event stream URL with its filters. `base` is the daemon's root (or the events URL itself). */
function eventsUrl(
  base: string,
  options: FromDaemonOptions,
  ticket: string | undefined,
  lastId?: string,
): string {
  try {
    return daemonEventsUrl(base, {
      jobid: options.jobid,
      deployment: options.deployment,
      lastEventId: lastId,
      ticket,
    });
  } catch (cause) {
    throw new ConfigError(`Not a daemon URL: ${JSON.stringify(base.slice(0, 100))}`, { cause });
  }
}

const idsOf = (jobid: FromDaemonOptions['jobid']): readonly string[] =>
  jobid === undefined ? [] : typeof jobid === 'string' ? [jobid] : jobid;

/** Jobs of different deployments may share an id. */
const keyOf = (s: Snapshot) => `${s.deployment}\u0000${s.jobid}`;

/** A moment for a message: ISO 8601 in UTC, to the second. */
const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * Reads a `ready` event's data, tolerantly: it decides nothing about any job, so a field in
 * another shape is left out rather than ending the stream.
 */
function readyData(data: string): Partial<DaemonReadyData> {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return {};
  }
  if (typeof value !== 'object' || value === null) return {};
  const { heartbeatMs, unwatched } = value as Record<string, unknown>;
  return {
    ...(typeof heartbeatMs === 'number' && heartbeatMs > 0 && Number.isFinite(heartbeatMs)
      ? { heartbeatMs }
      : {}),
    ...(Array.isArray(unwatched)
      ? { unwatched: unwatched.filter((id): id is string => typeof id === 'string') }
      : {}),
  };
}

/**
 * Reads the daemon's event stream (`GET /api/events`) into the same `Observable<Snapshot>`
 * that `watchJob` returns, so a page can show jobs without ever holding an admin token.
 *
 * Each event is validated with `parseSnapshot`. Connections that drop are reopened after
 * a backoff with `Last-Event-ID` (and a fresh ticket), so nothing is missed; a `resync`
 * is taken in stride; the daemon's `end` completes the stream (or, with `reconnectOnEnd`,
 * is taken like a drop). Refused credentials end it with an `AuthError`, an invalid event
 * with a `ValidationError`.
 *
 * A lost stream is never silent: when the connection drops, the daemon ends it, or its
 * heartbeats stop for more than twice their interval, every job's last snapshot that has
 * not ended is emitted again `stale`, with a `TRANSPORT` trouble saying since when; once the
 * stream is back and has caught up, each job that nothing newer arrived for is emitted again
 * as the daemon last sent it. `onState` reports the connection (`unreachable` after
 * `unreachableAfter` failed attempts) and the requested jobs the daemon does not watch.
 *
 * @example
 * ```ts
 * // Browser: a ticket from the daemon, renewed on every reconnect.
 * fromDaemon('https://jobs.example.com', {
 *   jobid,
 *   ticket: async () => (await (await fetch('/api/tickets', { method: 'POST' })).json()).ticket,
 *   onState: (s) => showBanner(s.connection === 'unreachable' ? s.error?.message : undefined),
 * }).subscribe(render);
 * // Node: a key in a header.
 * fromDaemon('http://127.0.0.1:7070', { headers: { Authorization: `Bearer ${key}` } });
 * ```
 * Gotcha: the browser's `EventSource` cannot send `Last-Event-ID` on a new connection, so
 * with it the id also travels as the `lastEventId` query parameter. It also hides why a
 * connection failed (an origin missing from the daemon's `cors.origins` looks like a network
 * error), so the `unreachable` message names the likely causes.
 */
export function fromDaemon(url: string, options: FromDaemonOptions = {}): Observable<Snapshot> {
  // Written as one closure of small named functions rather than a class: local names
  // minify, property names do not, and this code ships in the widget's single file.
  return new Observable<Snapshot>((subscriber) => {
    const scheduler = options.scheduler ?? asyncScheduler;
    const { headers, onState } = options;
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
    const unreachableAfter = Math.max(1, options.unreachableAfter ?? 2);
    /** Requested jobs that have not ended yet. */
    const waiting = new Set(idsOf(options.jobid));
    const wanted: ReadonlySet<string> = new Set(waiting);
    /** The last snapshot of each job that has not ended, as the daemon sent it. */
    const shown = new Map<string, Snapshot>();
    /** Jobs emitted stale since the stream was lost, waiting for fresh word. */
    const staled = new Set<string>();

    let lastId = options.lastEventId;
    let source: EventSourceLike | undefined;
    let reconnectTimer: Subscription | undefined;
    let silenceTimer: Subscription | undefined;
    /** The heartbeat interval the current connection's `ready` named. */
    let heartbeatMs: number | undefined;
    /** When the current connection last sent anything (scheduler clock). */
    let lastHeard = 0;
    /** Whether this daemon sends `ready`: stale jobs are then cleared at `ready`, else at `open`. */
    let speaksReady = false;
    /** Connection attempts that failed in a row. */
    let failures = 0;
    let authFailures = 0;
    let done = false;
    let generation = 0;
    let state: DaemonStreamState = {
      connection: DaemonConnection.CONNECTING,
      since: scheduler.now(),
      attempts: 0,
      error: undefined,
      unwatched: [],
    };

    const stop = () => {
      done = true;
      reconnectTimer?.unsubscribe();
      silenceTimer?.unsubscribe();
      source?.close();
      source = undefined;
    };
    const fail = (error: unknown) => {
      if (done) return;
      stop();
      subscriber.error(toJobwatchError(error));
    };
    const complete = () => {
      stop();
      subscriber.complete();
    };
    const setState = (change: Partial<DaemonStreamState>) => {
      const keys = Object.keys(change) as (keyof DaemonStreamState)[];
      if (keys.every((key) => change[key] === state[key])) return;
      state = { ...state, ...change };
      onState?.(state);
    };

    const fetchWithHeaders: FetchLike = async (input, init) => {
      const extra = typeof headers === 'function' ? await headers() : (headers ?? {});
      const all: Record<string, string> = { ...init.headers, ...extra };
      if (lastId !== undefined) all['Last-Event-ID'] = lastId;
      const f = options.fetch ?? globalThis.fetch;
      return f(input, { ...init, headers: all } as RequestInit);
    };

    /** Closes the current source and opens another after the backoff. */
    const reconnect = () => {
      source?.close();
      source = undefined;
      silenceTimer?.unsubscribe();
      silenceTimer = undefined;
      if (done) return;
      const wait = backoffDelay(failures, { baseMs: baseDelay, capMs: maxDelay, jitter: 0 });
      reconnectTimer = scheduler.schedule(() => {
        reconnectTimer = undefined;
        void connect();
      }, wait);
    };

    /** A connection attempt failed before the stream opened. */
    const attemptFailed = (status: number | undefined, detail: string | undefined) => {
      failures++;
      if (failures < unreachableAfter) return setState({ attempts: failures });
      let where = url;
      try {
        const u = new URL(eventsUrl(url, {}, undefined));
        where = u.origin + u.pathname;
      } catch {
        // Checked before any attempt; kept as given.
      }
      const tries = `${failures} tries in a row`;
      let error: TransportError;
      if (status !== undefined) {
        error = new TransportError(
          `The daemon's event stream at ${where} answered HTTP ${status} (${tries}); still trying`,
          { reason: 'status', status, url: where },
        );
      } else {
        const page = (globalThis as { location?: { origin?: unknown } }).location?.origin;
        const cors =
          typeof page === 'string' && page !== 'null' && !where.startsWith(`${page}/`)
            ? ` and that this page's origin (${page}) is in its cors.origins`
            : '';
        error = new TransportError(
          `Cannot reach the daemon's event stream at ${where} (${tries}${
            detail ? `: ${detail}` : ''
          }); still trying. Check that the daemon is running${cors}`,
          { reason: 'connect', url: where },
        );
      }
      setState({ connection: DaemonConnection.UNREACHABLE, attempts: failures, error });
    };

    /**
     * The open stream is gone (dropped, silent, or ended by the daemon): each job's last
     * snapshot that has not ended is emitted again, stale, saying so and since when.
     */
    const lost = (since: number, why: string) => {
      if (state.connection !== DaemonConnection.OPEN) return;
      const message = `${why} ${at(since)}; reconnecting`;
      setState({
        connection: DaemonConnection.LOST,
        since,
        attempts: 0,
        error: new TransportError(message, { reason: 'network' }),
      });
      const trouble = { code: ErrorCode.TRANSPORT, message, since, attempts: 1 };
      for (const [key, snapshot] of shown) {
        staled.add(key);
        subscriber.next({ ...snapshot, stale: true, trouble });
        if (done) return;
      }
    };

    /** The stream is back and has caught up: jobs still marked stale are shown as last sent. */
    const caughtUp = () => {
      for (const key of staled) {
        const snapshot = shown.get(key);
        staled.delete(key);
        if (snapshot) subscriber.next(snapshot);
        if (done) return;
      }
    };

    /** Checks, once twice the heartbeat interval has passed since the last word, that there was one. */
    const watchSilence = (es: EventSourceLike) => {
      const limit = 2 * (heartbeatMs ?? 0);
      const wait = lastHeard + limit - scheduler.now();
      silenceTimer = scheduler.schedule(
        () => {
          silenceTimer = undefined;
          if (source !== es || done) return;
          if (scheduler.now() - lastHeard < limit) return watchSilence(es);
          lost(lastHeard, "Nothing heard from the daemon's event stream since");
          reconnect();
        },
        Math.min(MAX_TIMER_MS, Math.max(0, wait) + 1),
      );
    };

    /** Something arrived: the heartbeat watch starts over. */
    const heard = (es: EventSourceLike) => {
      if (done) return;
      lastHeard = scheduler.now();
      if (heartbeatMs !== undefined && !silenceTimer) watchSilence(es);
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
      const key = keyOf(snapshot);
      staled.delete(key);
      if (snapshot.terminal) shown.delete(key);
      else shown.set(key, snapshot);
      if (state.unwatched.includes(snapshot.jobid))
        setState({ unwatched: state.unwatched.filter((id) => id !== snapshot.jobid) });
      subscriber.next(snapshot);
      if (snapshot.terminal && waiting.delete(snapshot.jobid) && waiting.size === 0) complete();
    };

    const onReady = (event: Event) => {
      const data = readyData(String((event as MessageEvent<unknown>).data));
      speaksReady = true;
      heartbeatMs = data.heartbeatMs;
      const unwatched = (data.unwatched ?? []).filter((id) => wanted.has(id));
      if (unwatched.join() !== state.unwatched.join()) setState({ unwatched });
      caughtUp();
    };

    const connect = async () => {
      const mine = ++generation;
      let ticket: string | undefined;
      try {
        ticket = options.ticket ? await options.ticket() : undefined;
      } catch (error) {
        if (mine !== generation || done) return;
        // A ticket that cannot be had now is trouble like a dropped connection.
        const problem = toJobwatchError(error);
        if (failures >= 1 && problem.code === 'AUTH') return fail(problem);
        attemptFailed(undefined, problem.message);
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
      heartbeatMs = undefined;
      /** Whether this connection opened. */
      let opened = false;
      const on = (type: string, handle: (event: Event) => void) =>
        es.addEventListener(type, (event) => {
          if (source === es && !done) handle(event);
        });
      on('open', () => {
        opened = true;
        failures = 0;
        heard(es);
        setState({
          connection: DaemonConnection.OPEN,
          since: scheduler.now(),
          attempts: 0,
          error: undefined,
        });
        if (!speaksReady) caughtUp();
      });
      on(DaemonEvent.SNAPSHOT, (e) => {
        authFailures = 0;
        heard(es);
        onSnapshot(e);
      });
      on(DaemonEvent.READY, (e) => {
        onReady(e);
        heard(es);
      });
      // The daemon could not go on watching a job: a stream that waits for it ends with the
      // daemon's error (code and message), as `watchJob` would; other streams go on.
      on(DaemonEvent.WATCH_FAILED, (e) => {
        heard(es);
        const message = e as MessageEvent<string>;
        if (message.lastEventId) lastId = message.lastEventId;
        let failure: {
          deployment?: unknown;
          jobid?: unknown;
          error?: { code?: unknown; message?: unknown };
        };
        try {
          failure = JSON.parse(message.data);
        } catch {
          return;
        }
        if (typeof failure.jobid !== 'string' || !wanted.has(failure.jobid)) return;
        if (options.deployment !== undefined && failure.deployment !== options.deployment) return;
        const code = String(failure.error?.code);
        fail(
          new JobwatchError(
            (Object.values(ErrorCode) as string[]).includes(code)
              ? (code as ErrorCodeValue)
              : ErrorCode.TRANSPORT,
            `The daemon could not go on watching job ${failure.jobid}: ${String(failure.error?.message ?? code)} (${code})`,
          ),
        );
      });
      on(DaemonEvent.PING, () => heard(es));
      on(DaemonEvent.END, () => {
        if (!options.reconnectOnEnd) return complete();
        lost(scheduler.now(), 'The daemon closed its event stream (shutting down) at');
        reconnect();
      });
      on('error', (e) => {
        const { code: status, message } = e as { code?: unknown; message?: unknown };
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
        if (opened) lost(scheduler.now(), "The daemon's event stream was lost at");
        else
          attemptFailed(
            typeof status === 'number' ? status : undefined,
            typeof message === 'string' ? message : undefined,
          );
        reconnect();
      });
    };

    void connect();
    return stop;
  });
}
