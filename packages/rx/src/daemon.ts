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
import {
  asyncScheduler,
  Observable,
  type SchedulerLike,
  type Subscriber,
  type Subscription,
} from 'rxjs';

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
 * The `EventSource` class to connect with, and whether it takes a `fetch` (through which
 * headers and `Last-Event-ID` travel; a class that does not gets the id in the query).
 */
function eventSourceOf(options: FromDaemonOptions): {
  Ctor: EventSourceConstructor;
  takesFetch: boolean;
} {
  const bundled = BundledEventSource as EventSourceConstructor;
  const globalES = (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
  const Ctor =
    options.EventSource ?? (options.headers === undefined && globalES ? globalES : bundled);
  return { Ctor, takesFetch: Ctor === bundled || options.fetch !== undefined };
}

// Frames: what the data of each of the daemon's events says.

/** Reads a `snapshot` event's data; data that is not JSON, or not a snapshot, is a typed error. */
function snapshotFrame(data: string): Snapshot {
  try {
    return parseSnapshot(JSON.parse(data));
  } catch (error) {
    throw error instanceof SyntaxError
      ? new TransportError(`The daemon sent an event that is not JSON: ${error.message}`, {
          reason: 'body',
          retryable: false,
        })
      : error;
  }
}

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
 * Reads a `watch_failed` event's data (the daemon could not go on watching a job): the
 * daemon's error, code and message, when the job is one the stream waits for in its
 * deployment; `undefined` for any other job or data in another shape.
 */
function watchFailedError(
  data: string,
  wanted: ReadonlySet<string>,
  deployment: string | undefined,
): JobwatchError | undefined {
  let failure: {
    deployment?: unknown;
    jobid?: unknown;
    error?: { code?: unknown; message?: unknown };
  } | null;
  try {
    failure = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof failure?.jobid !== 'string' || !wanted.has(failure.jobid)) return undefined;
  if (deployment !== undefined && failure.deployment !== deployment) return undefined;
  const code = String(failure.error?.code);
  return new JobwatchError(
    (Object.values(ErrorCode) as string[]).includes(code)
      ? (code as ErrorCodeValue)
      : ErrorCode.TRANSPORT,
    `The daemon could not go on watching job ${failure.jobid}: ${String(failure.error?.message ?? code)} (${code})`,
  );
}

// Connection trouble: which ends the stream, and how the rest is told.

/**
 * The error that ends the stream for an HTTP `status` its connection was refused with:
 * credentials refused (with a `ticket`, only once a fresh one was refused too, the
 * `authFailures`-th time in a row) or another 4xx but 408 and 429. `undefined`: try again.
 */
function refusal(
  status: number | undefined,
  ticketed: boolean,
  authFailures: number,
): JobwatchError | undefined {
  if (status === 401 || status === 403) {
    // A ticket may simply have expired: one fresh try, then the refusal stands.
    return !ticketed || authFailures > 1
      ? new AuthError(
          `The daemon refused the ${ticketed ? 'ticket' : 'credentials'} (HTTP ${status})`,
        )
      : undefined;
  }
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new ConfigError(
      `The daemon's event stream answered HTTP ${status}; check the URL and filters`,
    );
  }
  return undefined;
}

/**
 * Asks the ticket provider for a fresh ticket: the ticket, or why there is none now as a
 * typed error.
 */
async function freshTicket(
  ticket: () => Promise<string> | string,
): Promise<{ ticket?: string; problem?: JobwatchError }> {
  try {
    return { ticket: await ticket() };
  } catch (error) {
    return { problem: toJobwatchError(error) };
  }
}

/**
 * What an `error` event of the connection says: the HTTP status it was refused with, if any
 * (the `eventsource` package's `code`), and its message.
 */
function connectionErrorOf(event: Event): {
  status: number | undefined;
  detail: string | undefined;
} {
  const { code, message } = event as unknown as { code?: unknown; message?: unknown };
  return {
    status: typeof code === 'number' ? code : undefined,
    detail: typeof message === 'string' ? message : undefined,
  };
}

/**
 * Why the stream cannot connect, for people, after `failures` attempts in a row: the HTTP
 * `status` it answered, or that it cannot be reached (in a browser, naming the page's origin
 * and the daemon's `cors.origins`, since `EventSource` hides the reason).
 */
function unreachableError(
  url: string,
  failures: number,
  status: number | undefined,
  detail: string | undefined,
): TransportError {
  let where = url;
  try {
    const u = new URL(eventsUrl(url, {}, undefined));
    where = u.origin + u.pathname;
  } catch {
    // Checked before any attempt; kept as given.
  }
  const tries = `${failures} tries in a row`;
  if (status !== undefined) {
    return new TransportError(
      `The daemon's event stream at ${where} answered HTTP ${status} (${tries}); still trying`,
      { reason: 'status', status, url: where },
    );
  }
  const page = (globalThis as { location?: { origin?: unknown } }).location?.origin;
  const cors =
    typeof page === 'string' && page !== 'null' && !where.startsWith(`${page}/`)
      ? ` and that this page's origin (${page}) is in its cors.origins`
      : '';
  return new TransportError(
    `Cannot reach the daemon's event stream at ${where} (${tries}${
      detail ? `: ${detail}` : ''
    }); still trying. Check that the daemon is running${cors}`,
    { reason: 'connect', url: where },
  );
}

// Stale marking: each job's last word, shown stale while the stream is lost.

/** What {@link jobMemory} keeps of the jobs a stream has shown. */
interface JobMemory {
  /** A snapshot arrived from the daemon: the job's last word now (an ended job is forgotten). */
  take(snapshot: Snapshot): void;
  /** The stream is lost: each job that has not ended is emitted again, stale with `trouble`. */
  markStale(trouble: NonNullable<Snapshot['trouble']>): void;
  /** The stream is back and has caught up: each job still marked stale is emitted as last sent. */
  restore(): void;
}

/** The last snapshot of each job that has not ended, as the daemon sent it, and which are shown stale. */
function jobMemory(subscriber: Subscriber<Snapshot>): JobMemory {
  const shown = new Map<string, Snapshot>();
  /** Jobs emitted stale since the stream was lost, waiting for fresh word. */
  const staled = new Set<string>();
  return {
    take(snapshot) {
      const key = keyOf(snapshot);
      staled.delete(key);
      if (snapshot.terminal) shown.delete(key);
      else shown.set(key, snapshot);
    },
    markStale(trouble) {
      for (const [key, snapshot] of shown) {
        staled.add(key);
        subscriber.next({ ...snapshot, stale: true, trouble });
        if (subscriber.closed) return;
      }
    },
    restore() {
      for (const key of staled) {
        const snapshot = shown.get(key);
        staled.delete(key);
        if (snapshot) subscriber.next(snapshot);
        if (subscriber.closed) return;
      }
    },
  };
}

// The connection: the heartbeat watch, headers, its state for `onState`, and the
// connect/reconnect loop in `openStream`.

/**
 * The heartbeat watch: once twice the interval the connection's `ready` named has passed
 * since anything was heard, `onSilence` is told when that last was. No interval, no watch.
 */
function silenceWatch(scheduler: SchedulerLike, onSilence: (lastHeard: number) => void) {
  let timer: Subscription | undefined;
  /** The heartbeat interval the current connection's `ready` named. */
  let heartbeatMs: number | undefined;
  /** When the current connection last sent anything (scheduler clock). */
  let lastHeard = 0;
  const arm = () => {
    const limit = 2 * (heartbeatMs ?? 0);
    timer = scheduler.schedule(
      () => {
        timer = undefined;
        if (scheduler.now() - lastHeard < limit) arm();
        else onSilence(lastHeard);
      },
      Math.min(MAX_TIMER_MS, Math.max(0, lastHeard + limit - scheduler.now()) + 1),
    );
  };
  return {
    /** The interval a `ready` named (`undefined`: none, or a new connection). */
    interval(ms: number | undefined) {
      heartbeatMs = ms;
    },
    /** Something arrived: the watch starts over. */
    heard() {
      lastHeard = scheduler.now();
      if (heartbeatMs !== undefined && !timer) arm();
    },
    stop() {
      timer?.unsubscribe();
      timer = undefined;
    },
  };
}

/** The `fetch` the `eventsource` package's class connects with: the caller's headers and `Last-Event-ID`. */
function fetchWith(options: FromDaemonOptions, lastId: () => string | undefined): FetchLike {
  const { headers } = options;
  return async (input, init) => {
    const extra = typeof headers === 'function' ? await headers() : (headers ?? {});
    const all: Record<string, string> = { ...init.headers, ...extra };
    const id = lastId();
    if (id !== undefined) all['Last-Event-ID'] = id;
    const f = options.fetch ?? globalThis.fetch;
    return f(input, { ...init, headers: all } as RequestInit);
  };
}

/** What {@link streamStatus} keeps: the stream's state, told to `onState` on every change. */
interface StreamStatus {
  state(): DaemonStreamState;
  set(change: Partial<DaemonStreamState>): void;
  /** The stream opened. */
  opened(): void;
  /** The `failures`-th connection attempt in a row failed before the stream opened. */
  failed(failures: number, status: number | undefined, detail: string | undefined): void;
  /**
   * The open stream is gone, since `since`, for the reason `why` begins to say: the trouble
   * to mark its jobs with, or `undefined` when it was not open.
   */
  lost(since: number, why: string): NonNullable<Snapshot['trouble']> | undefined;
}

/**
 * The stream's {@link DaemonStreamState}: `connecting`, `open`, `lost`, or `unreachable` once
 * `unreachableAfter` attempts failed in a row, with why; each change told to `onState`.
 */
function streamStatus(
  url: string,
  options: FromDaemonOptions,
  scheduler: SchedulerLike,
): StreamStatus {
  const unreachableAfter = Math.max(1, options.unreachableAfter ?? 2);
  let state: DaemonStreamState = {
    connection: DaemonConnection.CONNECTING,
    since: scheduler.now(),
    attempts: 0,
    error: undefined,
    unwatched: [],
  };
  const set = (change: Partial<DaemonStreamState>) => {
    const keys = Object.keys(change) as (keyof DaemonStreamState)[];
    if (keys.every((key) => change[key] === state[key])) return;
    state = { ...state, ...change };
    options.onState?.(state);
  };
  return {
    state: () => state,
    set,
    opened: () =>
      set({
        connection: DaemonConnection.OPEN,
        since: scheduler.now(),
        attempts: 0,
        error: undefined,
      }),
    failed(failures, status, detail) {
      if (failures < unreachableAfter) return set({ attempts: failures });
      const error = unreachableError(url, failures, status, detail);
      set({ connection: DaemonConnection.UNREACHABLE, attempts: failures, error });
    },
    lost(since, why) {
      if (state.connection !== DaemonConnection.OPEN) return undefined;
      const message = `${why} ${at(since)}; reconnecting`;
      set({
        connection: DaemonConnection.LOST,
        since,
        attempts: 0,
        error: new TransportError(message, { reason: 'network' }),
      });
      return { code: ErrorCode.TRANSPORT, message, since, attempts: 1 };
    },
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
  // Small named functions and closures rather than classes: local names minify, property
  // names do not, and this code ships in the widget's single file.
  return new Observable<Snapshot>((subscriber) => openStream(url, options, subscriber));
}

/**
 * One subscription's stream: connects, reconnects after a backoff, tells `onState`, and
 * passes the daemon's events on to the job policy; returns the teardown.
 */
function openStream(
  url: string,
  options: FromDaemonOptions,
  subscriber: Subscriber<Snapshot>,
): () => void {
  const scheduler = options.scheduler ?? asyncScheduler;
  const { Ctor, takesFetch } = eventSourceOf(options);
  const baseDelay = options.reconnectDelay ?? 3000;
  const maxDelay = options.maxReconnectDelay ?? 30_000;
  const memory = jobMemory(subscriber);
  const status = streamStatus(url, options, scheduler);

  let lastId = options.lastEventId;
  let source: EventSourceLike | undefined;
  let reconnectTimer: Subscription | undefined;
  /** Whether this daemon sends `ready`: stale jobs are then cleared at `ready`, else at `open`. */
  let speaksReady = false;
  /** Connection attempts that failed in a row. */
  let failures = 0;
  let authFailures = 0;
  let done = false;
  let generation = 0;

  const stop = () => {
    done = true;
    reconnectTimer?.unsubscribe();
    silence.stop();
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

  /** Closes the current source and opens another after the backoff. */
  const reconnect = () => {
    source?.close();
    source = undefined;
    silence.stop();
    if (done) return;
    const wait = backoffDelay(failures, { baseMs: baseDelay, capMs: maxDelay, jitter: 0 });
    reconnectTimer = scheduler.schedule(() => {
      reconnectTimer = undefined;
      void connect();
    }, wait);
  };

  /** A connection attempt failed before the stream opened: told, then tried again. */
  const attemptFailed = (code: number | undefined, detail: string | undefined) => {
    status.failed(++failures, code, detail);
    reconnect();
  };

  /**
   * The open stream is gone (dropped, silent, or ended by the daemon): each job's last
   * snapshot that has not ended is emitted again, stale, saying so and since when; then the
   * stream is opened again.
   */
  const lost = (since: number, why: string) => {
    const trouble = status.lost(since, why);
    if (trouble) memory.markStale(trouble);
    reconnect();
  };

  const silence = silenceWatch(scheduler, (lastHeard) => {
    if (!done) lost(lastHeard, "Nothing heard from the daemon's event stream since");
  });
  const jobs = jobPolicy(options, subscriber, memory, status, { fail, complete, lost });

  const connect = async () => {
    const mine = ++generation;
    const { ticket, problem } = options.ticket ? await freshTicket(options.ticket) : {};
    if (mine !== generation || done) return;
    // A ticket that cannot be had now is trouble like a dropped connection.
    if (problem && failures >= 1 && problem.code === 'AUTH') return fail(problem);
    if (problem) return attemptFailed(undefined, problem.message);
    let target: string;
    try {
      target = eventsUrl(url, options, ticket, takesFetch ? undefined : lastId);
    } catch (error) {
      return fail(error);
    }
    const es = new Ctor(target, {
      withCredentials: options.withCredentials ?? false,
      ...(takesFetch ? { fetch: fetchWith(options, () => lastId) } : {}),
    });
    source = es;
    silence.interval(undefined);
    /** Whether this connection opened. */
    let opened = false;
    const on = (type: string, handle: (event: MessageEvent<string>) => void) =>
      es.addEventListener(type, (event) => {
        if (source === es && !done) handle(event as MessageEvent<string>);
      });
    /** An event from the daemon: heard, and its id is where a reconnect resumes. */
    const heard = (event?: MessageEvent<string>) => {
      if (event?.lastEventId) lastId = event.lastEventId;
      if (!done) silence.heard();
    };
    on('open', () => {
      opened = true;
      failures = 0;
      heard();
      status.opened();
      if (!speaksReady) memory.restore();
    });
    on(DaemonEvent.SNAPSHOT, (e) => {
      authFailures = 0;
      heard(e);
      jobs.snapshot(e.data);
    });
    on(DaemonEvent.READY, (e) => {
      const data = readyData(String(e.data));
      speaksReady = true;
      silence.interval(data.heartbeatMs);
      jobs.ready(data);
      heard();
    });
    on(DaemonEvent.WATCH_FAILED, (e) => {
      heard(e);
      jobs.watchFailed(e.data);
    });
    on(DaemonEvent.PING, () => heard());
    on(DaemonEvent.END, () => jobs.end(scheduler.now()));
    on('error', (e) => {
      const { status, detail } = connectionErrorOf(e);
      if (status === 401 || status === 403) authFailures++;
      const refused = refusal(status, Boolean(options.ticket), authFailures);
      if (refused) return fail(refused);
      if (es.readyState === OPEN) return;
      if (opened) return lost(scheduler.now(), "The daemon's event stream was lost at");
      attemptFailed(status, detail);
    });
  };

  void connect();
  return stop;
}

// Job policy: which jobs a stream shows, and when it ends (the daemon's `end` included).

/** What {@link jobPolicy} may do to the stream it serves. */
interface StreamEnds {
  /** Ends the stream with an error. */
  readonly fail: (error: unknown) => void;
  /** Completes the stream. */
  readonly complete: () => void;
  /** Takes the stream as lost since then, for the reason `why` begins to say, and reopens it. */
  readonly lost: (since: number, why: string) => void;
}

/**
 * Which jobs a stream shows and when it ends: only the requested jobs (`jobid`) of the
 * requested `deployment`; a stream of named jobs completes once all have ended, and ends with
 * the daemon's error when it could not go on watching one; `onState` hears which requested
 * jobs the daemon does not watch, until a snapshot of one arrives.
 */
function jobPolicy(
  options: FromDaemonOptions,
  subscriber: Subscriber<Snapshot>,
  memory: JobMemory,
  status: StreamStatus,
  stream: StreamEnds,
) {
  const { fail, complete } = stream;
  /** Requested jobs that have not ended yet. */
  const waiting = new Set(idsOf(options.jobid));
  const wanted: ReadonlySet<string> = new Set(waiting);
  return {
    /** A `snapshot` event's data. */
    snapshot(data: string) {
      let snapshot: Snapshot;
      try {
        snapshot = snapshotFrame(data);
      } catch (error) {
        return fail(error);
      }
      if (wanted.size > 0 && !wanted.has(snapshot.jobid)) return;
      if (options.deployment !== undefined && snapshot.deployment !== options.deployment) return;
      memory.take(snapshot);
      const { unwatched } = status.state();
      if (unwatched.includes(snapshot.jobid))
        status.set({ unwatched: unwatched.filter((id) => id !== snapshot.jobid) });
      subscriber.next(snapshot);
      if (snapshot.terminal && waiting.delete(snapshot.jobid) && waiting.size === 0) {
        complete();
      }
    },
    /** A `ready` event's data: the catch-up is complete. */
    ready(data: Partial<DaemonReadyData>) {
      const unwatched = (data.unwatched ?? []).filter((id) => wanted.has(id));
      if (unwatched.join() !== status.state().unwatched.join()) status.set({ unwatched });
      memory.restore();
    },
    /** A `watch_failed` event's data: a stream that waits for that job ends with the daemon's error. */
    watchFailed(data: string) {
      const error = watchFailedError(data, wanted, options.deployment);
      if (error) fail(error);
    },
    /**
     * The daemon's `end` (it is shutting down), at `now`: the stream completes, or, with
     * `reconnectOnEnd`, takes it like a drop (stale, then reopened, catching up).
     */
    end(now: number) {
      if (!options.reconnectOnEnd) return complete();
      stream.lost(now, 'The daemon closed its event stream (shutting down) at');
    },
  };
}
