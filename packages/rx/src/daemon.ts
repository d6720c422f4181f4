import {
  AuthError,
  ConfigError,
  ErrorCode,
  TransportError,
  toJobwatchError,
} from '@jobwatch/client';
import { parseSnapshot, type Snapshot } from '@jobwatch/schema';
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
  addEventListener(type: string, listener: (event: Event) => void): void;
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

/**
 * The event types of the daemon's stream (`GET /api/events`): one list for the daemon that
 * writes them and {@link fromDaemon} that reads them. Clients ignore types they do not know,
 * so new ones can be added without breaking anyone.
 *
 * - `snapshot`: one job's {@link Snapshot}, with an `id` to resume from.
 * - `resync`: the missed events are no longer kept; the current state follows.
 * - `ready`: the catch-up is complete (current state, or the missed events); carries
 *   {@link DaemonReadyData}. Sent once per connection.
 * - `ping`: the heartbeat, every {@link DaemonReadyData.heartbeatMs}.
 * - `end`: the daemon is shutting down (`{"reason": "shutdown"}`).
 */
export const DaemonEvent = {
  SNAPSHOT: 'snapshot',
  RESYNC: 'resync',
  READY: 'ready',
  PING: 'ping',
  END: 'end',
} as const;
/** One of {@link DaemonEvent}. */
export type DaemonEventValue = (typeof DaemonEvent)[keyof typeof DaemonEvent];

/** The data of the stream's `ready` event. */
export interface DaemonReadyData {
  /** How often the daemon sends a `ping`, in ms. */
  readonly heartbeatMs: number;
  /**
   * The job ids the stream was asked for (`?jobid=`) that the daemon does not watch: it has
   * never been asked to, has forgotten them, or could not watch them and has nothing to show.
   * Such a job's snapshots arrive once the daemon does watch it (for example after discovery
   * finds it); empty without a `jobid` filter.
   */
  readonly unwatched: readonly string[];
}

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
  let url: URL;
  try {
    url = new URL(base);
  } catch (cause) {
    throw new ConfigError(`Not a daemon URL: ${JSON.stringify(base.slice(0, 100))}`, { cause });
  }
  if (!/\/api\/events\/?$/.test(url.pathname)) {
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/events`;
  }
  for (const id of idsOf(options.jobid)) url.searchParams.append('jobid', id);
  if (options.deployment !== undefined) url.searchParams.set('deployment', options.deployment);
  if (lastId !== undefined) url.searchParams.set('lastEventId', lastId);
  if (ticket !== undefined) url.searchParams.set('ticket', ticket);
  return url.toString();
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
  return new Observable<Snapshot>((subscriber) => {
    const stream = new DaemonStream(url, options, subscriber);
    stream.start();
    return () => stream.stop();
  });
}

/** One subscription's connection to the daemon's event stream. */
class DaemonStream {
  private readonly scheduler: SchedulerLike;
  private readonly Ctor: EventSourceConstructor;
  private readonly takesFetch: boolean;
  /** Requested jobs that have not ended yet. */
  private readonly waiting: Set<string>;
  private readonly wanted: ReadonlySet<string>;

  private lastId: string | undefined;
  private source: EventSourceLike | undefined;
  /** Whether the current source has opened. */
  private opened = false;
  private reconnectTimer: Subscription | undefined;
  private silenceTimer: Subscription | undefined;
  private heartbeatMs: number | undefined;
  /** When the current source last sent anything (scheduler clock). */
  private lastHeard = 0;
  /** Whether this daemon sends `ready` (then stale snapshots are cleared at `ready`, else at `open`). */
  private speaksReady = false;
  /** Connection attempts that failed in a row. */
  private failures = 0;
  private authFailures = 0;
  private done = false;
  private generation = 0;
  /** The last snapshot of each job that has not ended, as the daemon sent it. */
  private readonly shown = new Map<string, Snapshot>();
  /** Jobs emitted stale since the stream was lost, waiting for fresh word. */
  private readonly staled = new Set<string>();
  private state: DaemonStreamState;

  constructor(
    private readonly url: string,
    private readonly options: FromDaemonOptions,
    private readonly subscriber: Subscriber<Snapshot>,
  ) {
    this.scheduler = options.scheduler ?? asyncScheduler;
    const globalES = (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
    this.Ctor =
      options.EventSource ??
      (options.headers === undefined && globalES
        ? globalES
        : (BundledEventSource as EventSourceConstructor));
    this.takesFetch =
      this.Ctor === (BundledEventSource as EventSourceConstructor) || options.fetch !== undefined;
    this.waiting = new Set(idsOf(options.jobid));
    this.wanted = new Set(this.waiting);
    this.lastId = options.lastEventId;
    this.state = {
      connection: DaemonConnection.CONNECTING,
      since: this.scheduler.now(),
      attempts: 0,
      error: undefined,
      unwatched: [],
    };
  }

  start(): void {
    void this.connect();
  }

  stop(): void {
    this.done = true;
    this.reconnectTimer?.unsubscribe();
    this.silenceTimer?.unsubscribe();
    this.source?.close();
    this.source = undefined;
  }

  private fail(error: unknown): void {
    if (this.done) return;
    this.stop();
    this.subscriber.error(toJobwatchError(error));
  }

  private complete(): void {
    this.stop();
    this.subscriber.complete();
  }

  private setState(change: Partial<DaemonStreamState>): void {
    const next = { ...this.state, ...change };
    const s = this.state;
    if (
      next.connection === s.connection &&
      next.since === s.since &&
      next.attempts === s.attempts &&
      next.error === s.error &&
      next.unwatched === s.unwatched
    )
      return;
    this.state = next;
    this.options.onState?.(next);
  }

  private readonly fetchWithHeaders: FetchLike = async (input, init) => {
    const headers = this.options.headers;
    const extra = typeof headers === 'function' ? await headers() : (headers ?? {});
    const all: Record<string, string> = { ...init.headers, ...extra };
    if (this.lastId !== undefined) all['Last-Event-ID'] = this.lastId;
    const f = this.options.fetch ?? globalThis.fetch;
    return f(input, { ...init, headers: all } as RequestInit);
  };

  /** Closes the current source and opens another after the backoff. */
  private reconnect(): void {
    this.source?.close();
    this.source = undefined;
    this.silenceTimer?.unsubscribe();
    this.silenceTimer = undefined;
    if (this.done) return;
    const base = this.options.reconnectDelay ?? 3000;
    const max = this.options.maxReconnectDelay ?? 30_000;
    const wait = Math.min(max, base * 2 ** Math.min(20, Math.max(0, this.failures - 1)));
    this.reconnectTimer = this.scheduler.schedule(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, wait);
  }

  /** A connection attempt failed before the stream opened. */
  private attemptFailed(detail: { status?: number | undefined; message?: string | undefined }) {
    this.failures++;
    const limit = Math.max(1, this.options.unreachableAfter ?? 2);
    if (this.failures < limit) {
      this.setState({ attempts: this.failures });
      return;
    }
    this.setState({
      connection: DaemonConnection.UNREACHABLE,
      attempts: this.failures,
      error: this.unreachableError(detail),
    });
  }

  private unreachableError(detail: { status?: number | undefined; message?: string | undefined }) {
    let where = this.url;
    try {
      const u = new URL(eventsUrl(this.url, {}, undefined));
      where = `${u.origin}${u.pathname}`;
    } catch {
      // The URL was checked before any attempt; keep it as given.
    }
    const tries = `${this.failures} tries in a row`;
    if (detail.status !== undefined) {
      return new TransportError(
        `The daemon's event stream at ${where} answered HTTP ${detail.status} (${tries}); still trying`,
        { reason: 'status', status: detail.status, url: where },
      );
    }
    const page = (globalThis as { location?: { origin?: unknown } }).location?.origin;
    const cors =
      typeof page === 'string' && page !== 'null' && !where.startsWith(`${page}/`)
        ? ` and that this page's origin (${page}) is in its cors.origins`
        : '';
    return new TransportError(
      `Cannot reach the daemon's event stream at ${where} (${tries}${
        detail.message ? `: ${detail.message}` : ''
      }); still trying. Check that the daemon is running${cors}`,
      { reason: 'connect', url: where },
    );
  }

  /**
   * The open stream is gone (dropped, silent, or ended by the daemon): each job's last
   * snapshot that has not ended is emitted again, stale, saying so and since when.
   */
  private lost(since: number, why: 'dropped' | 'silent' | 'ended'): void {
    if (this.state.connection !== DaemonConnection.OPEN) return;
    const message =
      why === 'silent'
        ? `Nothing heard from the daemon's event stream since ${at(since)}; reconnecting`
        : why === 'ended'
          ? `The daemon closed its event stream at ${at(since)} (shutting down); reconnecting`
          : `The daemon's event stream was lost at ${at(since)}; reconnecting`;
    const error = new TransportError(message, { reason: 'network' });
    this.setState({ connection: DaemonConnection.LOST, since, attempts: 0, error });
    const trouble = { code: ErrorCode.TRANSPORT, message, since, attempts: 1 };
    for (const [key, snapshot] of this.shown) {
      this.staled.add(key);
      this.subscriber.next({ ...snapshot, stale: true, trouble });
      if (this.done) return;
    }
  }

  /** The stream is back and has caught up: jobs still marked stale are shown as last sent. */
  private caughtUp(): void {
    for (const key of this.staled) {
      const snapshot = this.shown.get(key);
      this.staled.delete(key);
      if (snapshot) this.subscriber.next(snapshot);
      if (this.done) return;
    }
  }

  /** Something arrived: the heartbeat watch starts over. */
  private heard(es: EventSourceLike): void {
    if (this.done) return;
    this.lastHeard = this.scheduler.now();
    if (this.heartbeatMs !== undefined && !this.silenceTimer) this.watchSilence(es);
  }

  /** Checks, once twice the heartbeat interval has passed since the last word, that there was one. */
  private watchSilence(es: EventSourceLike): void {
    const limit = 2 * (this.heartbeatMs ?? 0);
    const wait = this.lastHeard + limit - this.scheduler.now();
    this.silenceTimer = this.scheduler.schedule(
      () => {
        this.silenceTimer = undefined;
        if (this.source !== es || this.done) return;
        if (this.scheduler.now() - this.lastHeard < limit) return this.watchSilence(es);
        this.lost(this.lastHeard, 'silent');
        this.reconnect();
      },
      Math.min(MAX_TIMER_MS, Math.max(0, wait) + 1),
    );
  }

  private onSnapshot(event: Event): void {
    const message = event as MessageEvent<string>;
    let snapshot: Snapshot;
    try {
      snapshot = parseSnapshot(JSON.parse(message.data));
    } catch (error) {
      this.fail(
        error instanceof SyntaxError
          ? new TransportError(`The daemon sent an event that is not JSON: ${error.message}`, {
              reason: 'body',
              retryable: false,
            })
          : error,
      );
      return;
    }
    if (message.lastEventId) this.lastId = message.lastEventId;
    if (this.wanted.size > 0 && !this.wanted.has(snapshot.jobid)) return;
    if (this.options.deployment !== undefined && snapshot.deployment !== this.options.deployment)
      return;
    const key = keyOf(snapshot);
    this.staled.delete(key);
    if (snapshot.terminal) this.shown.delete(key);
    else this.shown.set(key, snapshot);
    if (this.state.unwatched.includes(snapshot.jobid))
      this.setState({ unwatched: this.state.unwatched.filter((id) => id !== snapshot.jobid) });
    this.subscriber.next(snapshot);
    if (snapshot.terminal && this.waiting.delete(snapshot.jobid) && this.waiting.size === 0) {
      this.complete();
    }
  }

  private onReady(event: Event): void {
    const data = readyData(String((event as MessageEvent<unknown>).data ?? ''));
    this.speaksReady = true;
    this.heartbeatMs = data.heartbeatMs;
    const unwatched = (data.unwatched ?? []).filter((id) => this.wanted.has(id));
    const same =
      unwatched.length === this.state.unwatched.length &&
      unwatched.every((id, i) => id === this.state.unwatched[i]);
    if (!same) this.setState({ unwatched });
    this.caughtUp();
  }

  private async connect(): Promise<void> {
    const mine = ++this.generation;
    let ticket: string | undefined;
    try {
      ticket = this.options.ticket ? await this.options.ticket() : undefined;
    } catch (error) {
      if (mine !== this.generation || this.done) return;
      // A ticket that cannot be had now is trouble like a dropped connection.
      if (this.failures >= 1 && toJobwatchError(error).code === 'AUTH') return this.fail(error);
      this.attemptFailed({ message: toJobwatchError(error).message });
      return this.reconnect();
    }
    if (mine !== this.generation || this.done) return;
    let target: string;
    try {
      target = eventsUrl(this.url, this.options, ticket, this.takesFetch ? undefined : this.lastId);
    } catch (error) {
      return this.fail(error);
    }
    const es = new this.Ctor(target, {
      withCredentials: this.options.withCredentials ?? false,
      ...(this.takesFetch ? { fetch: this.fetchWithHeaders } : {}),
    });
    this.source = es;
    this.opened = false;
    this.heartbeatMs = undefined;
    const mineOnly =
      (handle: (event: Event) => void) =>
      (event: Event): void => {
        if (this.source !== es || this.done) return;
        handle(event);
      };
    es.addEventListener(
      'open',
      mineOnly(() => {
        this.opened = true;
        this.failures = 0;
        this.heard(es);
        this.setState({
          connection: DaemonConnection.OPEN,
          since: this.scheduler.now(),
          attempts: 0,
          error: undefined,
        });
        if (!this.speaksReady) this.caughtUp();
      }),
    );
    es.addEventListener(
      DaemonEvent.SNAPSHOT,
      mineOnly((e) => {
        this.authFailures = 0;
        this.heard(es);
        this.onSnapshot(e);
      }),
    );
    es.addEventListener(
      DaemonEvent.READY,
      mineOnly((e) => {
        this.onReady(e);
        this.heard(es);
      }),
    );
    es.addEventListener(
      DaemonEvent.PING,
      mineOnly(() => this.heard(es)),
    );
    es.addEventListener(
      DaemonEvent.END,
      mineOnly(() => {
        if (!this.options.reconnectOnEnd) return this.complete();
        this.lost(this.scheduler.now(), 'ended');
        this.reconnect();
      }),
    );
    es.addEventListener(
      'error',
      mineOnly((e) => {
        const { code: status, message } = e as { code?: unknown; message?: unknown };
        if (status === 401 || status === 403) {
          // A ticket may simply have expired: one fresh try, then the refusal stands.
          this.authFailures++;
          if (!this.options.ticket || this.authFailures > 1) {
            return this.fail(
              new AuthError(
                `The daemon refused the ${this.options.ticket ? 'ticket' : 'credentials'} (HTTP ${status})`,
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
          return this.fail(
            new ConfigError(
              `The daemon's event stream answered HTTP ${status}; check the URL and filters`,
            ),
          );
        }
        if (es.readyState === OPEN) return;
        if (this.opened) this.lost(this.scheduler.now(), 'dropped');
        else
          this.attemptFailed({
            status: typeof status === 'number' ? status : undefined,
            message: typeof message === 'string' ? message : undefined,
          });
        this.reconnect();
      }),
    );
  }
}
