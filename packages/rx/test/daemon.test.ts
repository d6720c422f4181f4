import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthError } from '@jobwatch/client';
import { makeSnapshot, type Snapshot } from '@jobwatch/schema';
import { EventSource } from 'eventsource';
import { type Observable, type SchedulerAction, type SchedulerLike, Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type DaemonStreamState, fromDaemon } from '../src/index.js';

const KEY = 'k-test-secret';
const A = 'jaaaaaaaa-83a4-4cc1-a034-40e4a266e96d';
const B = 'jbbbbbbbb-83a4-4cc1-a034-40e4a266e96d';
const C = 'jcccccccc-83a4-4cc1-a034-40e4a266e96d';

function snap(jobid: string, status: string, deployment = 'default'): Snapshot {
  const t = 1_700_000_000_000;
  return makeSnapshot({
    deployment,
    jobid,
    job: {
      jobid,
      status,
      starttime: t,
      endtime: status === 'COMPLETED' ? t + 5 : 0,
      updatedtime: t + status.length,
      operationURI: '/arcgis/admin/services/Roads.MapServer/edit',
      username: 'admin',
    },
    firstSeen: t,
    lastPolled: t,
    lastChanged: t,
  });
}

interface Seen {
  readonly query: URLSearchParams;
  readonly lastEventId: string | undefined;
  readonly authorization: string | undefined;
}

/** A small server that speaks the daemon's event-stream wire format. */
class SseDaemon {
  readonly requests: Seen[] = [];
  readonly events: Array<{ id: number; snapshot: Snapshot | string }> = [];
  readonly tickets = new Set<string>();
  private readonly open = new Set<ServerResponse>();
  private nextTicket = 0;
  /** Events older than this id were dropped from the window. */
  oldest = 0;
  /** The `ready` event's heartbeat; `undefined` speaks the stream as it was before `ready`. */
  heartbeatMs: number | undefined = 1000;
  /** Raw `ready` data instead of the computed one. */
  readyData: string | undefined;
  /** Answer every request with this HTTP status, or cut the connection (`'reset'`). */
  refuse: number | 'reset' | undefined;
  server: Server;
  url = '';

  constructor() {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  issueTicket(): string {
    const t = `t${++this.nextTicket}`;
    this.tickets.add(t);
    return t;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const header = req.headers['last-event-id'];
    const seen: Seen = {
      query: url.searchParams,
      lastEventId: typeof header === 'string' ? header : undefined,
      authorization: req.headers.authorization,
    };
    this.requests.push(seen);
    const ticket = url.searchParams.get('ticket');
    const authorized =
      req.headers.authorization === `Bearer ${KEY}` ||
      (ticket !== null && this.tickets.delete(ticket));
    if (this.refuse === 'reset') {
      req.socket.destroy();
      return;
    }
    if (this.refuse !== undefined) {
      res.writeHead(this.refuse).end();
      return;
    }
    if (url.pathname !== '/api/events') {
      res.writeHead(404).end();
      return;
    }
    if (!authorized) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write('retry: 3000\n\n');
    this.open.add(res);
    res.on('close', () => this.open.delete(res));
    const after = Number(seen.lastEventId ?? url.searchParams.get('lastEventId') ?? Number.NaN);
    const jobids = url.searchParams.getAll('jobid');
    if (!Number.isNaN(after) && after < this.oldest) {
      res.write('event: resync\ndata: {}\n\n');
      for (const e of this.events) this.write(res, e, jobids);
    } else {
      for (const e of this.events)
        if (Number.isNaN(after) || e.id > after) this.write(res, e, jobids);
    }
    if (this.heartbeatMs !== undefined) {
      const known = new Set(
        this.events.flatMap((e) => (typeof e.snapshot === 'string' ? [] : [e.snapshot.jobid])),
      );
      const data =
        this.readyData ??
        JSON.stringify({
          heartbeatMs: this.heartbeatMs,
          unwatched: jobids.filter((id) => !known.has(id)),
        });
      res.write(`event: ready\ndata: ${data}\n\n`);
    }
  }

  /** Sends a heartbeat on every open stream. */
  ping(): void {
    for (const res of this.open) res.write('event: ping\ndata: {}\n\n');
  }

  private write(
    res: ServerResponse,
    e: { id: number; snapshot: Snapshot | string },
    jobids: string[],
  ): void {
    if (typeof e.snapshot !== 'string' && jobids.length > 0 && !jobids.includes(e.snapshot.jobid))
      return;
    const data = typeof e.snapshot === 'string' ? e.snapshot : JSON.stringify(e.snapshot);
    res.write(`: ping\n\nid: ${e.id}\nevent: snapshot\ndata: ${data}\n\n`);
  }

  push(snapshot: Snapshot | string): void {
    const e = { id: this.events.length + 1, snapshot };
    this.events.push(e);
    for (const res of this.open)
      this.write(res, e, [...new URL(res.req.url ?? '/', this.url).searchParams.getAll('jobid')]);
  }

  /** Drops every open connection, as a restarting proxy would. */
  drop(): void {
    for (const res of this.open) res.destroy();
    this.open.clear();
  }

  end(): void {
    for (const res of this.open) res.end('event: end\ndata: {"reason":"shutdown"}\n\n');
  }

  get connections(): number {
    return this.open.size;
  }

  reset(): void {
    this.drop();
    this.requests.length = 0;
    this.events.length = 0;
    this.oldest = 0;
    this.heartbeatMs = 1000;
    this.readyData = undefined;
    this.refuse = undefined;
  }
}

/** Collects a stream's values; `until(n)` resolves once n have arrived. */
function collect(o: Observable<Snapshot>) {
  const values: Snapshot[] = [];
  let error: unknown;
  let completed = false;
  const waiters: Array<() => void> = [];
  const poke = () => {
    for (const w of waiters.splice(0)) w();
  };
  const subscription = o.subscribe({
    next: (v) => {
      values.push(v);
      poke();
    },
    error: (e) => {
      error = e;
      poke();
    },
    complete: () => {
      completed = true;
      poke();
    },
  });
  const until = async (done: () => boolean) => {
    while (!done()) await new Promise<void>((r) => waiters.push(r));
  };
  return {
    values,
    subscription,
    get error() {
      return error;
    },
    get completed() {
      return completed;
    },
    count: (n: number) => until(() => values.length >= n || error !== undefined || completed),
    settled: () => until(() => error !== undefined || completed),
  };
}

/** A snapshot in a word: job, status, and whether it is stale. */
const label = (s: Snapshot) => `${s.jobid.slice(0, 2)}:${s.status}${s.stale ? ' (stale)' : ''}`;

async function eventually(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

/**
 * A clock for `fromDaemon`'s timers (reconnect waits, the heartbeat watch) that moves only
 * when told; the stream itself stays real. Records every delay it is asked for.
 */
class ManualScheduler {
  /** 2026-11-28T14:00:00Z */
  private time = Date.UTC(2026, 10, 28, 14, 0, 0);
  private seq = 0;
  private queue: Array<{ at: number; seq: number; run: () => void; sub: Subscription }> = [];
  readonly delays: number[] = [];

  now(): number {
    return this.time;
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T) {
    this.delays.push(delay);
    const sub = new Subscription(() => {
      this.queue = this.queue.filter((e) => e.sub !== sub);
    });
    const run = () => work.call(undefined as unknown as SchedulerAction<T>, state);
    this.queue.push({ at: this.time + delay, seq: this.seq++, run, sub });
    return sub;
  }

  /** Timers waiting. */
  get pending(): number {
    return this.queue.length;
  }

  /** Moves the clock on by `ms`, running what falls due, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.queue[0];
      if (!next || next.at > end) break;
      this.queue.shift();
      this.time = next.at;
      next.run();
    }
    this.time = end;
  }

  get asScheduler(): SchedulerLike {
    return this as unknown as SchedulerLike;
  }
}

/** The `eventsource` package's class, counting the heartbeats it dispatches. */
function countingPings() {
  const counter = { pings: 0 };
  class Counting extends EventSource {
    constructor(url: string, init?: ConstructorParameters<typeof EventSource>[1]) {
      super(url, init);
      // Registered before fromDaemon's own listener, so when this count moves, it has run too.
      this.addEventListener('ping', () => counter.pings++);
    }
  }
  return { counter, EventSource: Counting };
}

const daemon = new SseDaemon();
const auth = { headers: { Authorization: `Bearer ${KEY}` }, reconnectDelay: 5 };

beforeAll(() => daemon.start());
afterEach(() => daemon.reset());
afterAll(() => new Promise<void>((r) => daemon.server.close(() => r())));

describe('fromDaemon', () => {
  it('reads validated snapshots and completes once the named jobs have ended', async () => {
    daemon.push(snap(A, 'SUBMITTED'));
    daemon.push(snap(B, 'EXECUTING'));
    const c = collect(fromDaemon(daemon.url, { ...auth, jobid: A }));
    await c.count(1);
    daemon.push(snap(A, 'EXECUTING'));
    daemon.push(snap(A, 'COMPLETED'));
    await c.settled();
    expect(c.values.map((s) => s.status)).toEqual(['SUBMITTED', 'EXECUTING', 'COMPLETED']);
    expect(c.completed).toBe(true);
    expect(daemon.requests[0]?.query.getAll('jobid')).toEqual([A]);
    expect(daemon.requests[0]?.authorization).toBe(`Bearer ${KEY}`);
  });

  it('filters by deployment in the query and on arrival', async () => {
    daemon.push(snap(A, 'EXECUTING', 'east'));
    daemon.push(snap(B, 'EXECUTING', 'west'));
    daemon.push(snap(A, 'COMPLETED', 'east'));
    const c = collect(fromDaemon(daemon.url, { ...auth, deployment: 'east' }));
    await c.count(2);
    c.subscription.unsubscribe();
    expect(c.values.map((s) => `${s.deployment}:${s.status}`)).toEqual([
      'east:EXECUTING',
      'east:COMPLETED',
    ]);
    expect(daemon.requests[0]?.query.get('deployment')).toBe('east');
  });

  it('resumes after a dropped connection with Last-Event-ID, missing nothing and repeating nothing', async () => {
    const c = collect(fromDaemon(daemon.url, auth));
    await eventually(() => daemon.connections === 1);
    daemon.push(snap(A, 'SUBMITTED'));
    daemon.push(snap(B, 'SUBMITTED'));
    await c.count(2);
    daemon.drop();
    daemon.push(snap(A, 'EXECUTING'));
    await c.count(6);
    daemon.push(snap(A, 'COMPLETED'));
    await c.count(7);
    c.subscription.unsubscribe();
    // Each event once; while the stream was down both jobs showed stale, and B, which did
    // not change meanwhile, is shown fresh again once the stream has caught up.
    expect(c.values.map(label)).toEqual([
      'ja:SUBMITTED',
      'jb:SUBMITTED',
      'ja:SUBMITTED (stale)',
      'jb:SUBMITTED (stale)',
      'ja:EXECUTING',
      'jb:SUBMITTED',
      'ja:COMPLETED',
    ]);
    expect(daemon.requests.map((r) => r.lastEventId)).toEqual([undefined, '2']);
    expect(c.error).toBeUndefined();
  });

  it('asks for a fresh ticket on every connect and keeps it out of headers', async () => {
    let asked = 0;
    const c = collect(
      fromDaemon(daemon.url, {
        reconnectDelay: 5,
        ticket: async () => {
          asked++;
          return daemon.issueTicket();
        },
      }),
    );
    await eventually(() => daemon.connections === 1);
    daemon.push(snap(A, 'SUBMITTED'));
    await c.count(1);
    daemon.drop();
    daemon.push(snap(A, 'COMPLETED'));
    await c.count(3);
    c.subscription.unsubscribe();
    expect(c.values.map(label)).toEqual(['ja:SUBMITTED', 'ja:SUBMITTED (stale)', 'ja:COMPLETED']);
    expect(asked).toBe(2);
    expect(daemon.requests.map((r) => r.query.get('ticket'))).toEqual(['t1', 't2']);
    expect(daemon.requests[1]?.lastEventId).toBe('1');
    expect(daemon.requests.every((r) => r.authorization === undefined)).toBe(true);
  });

  it("with a browser-like EventSource, resumes through the query and uses the caller's class", async () => {
    const urls: string[] = [];
    // Like the browser's: takes no fetch, so it can send no headers.
    class BrowserLike extends EventSource {
      constructor(url: string) {
        urls.push(url);
        super(url);
      }
    }
    const c = collect(
      fromDaemon(daemon.url, {
        EventSource: BrowserLike,
        reconnectDelay: 5,
        ticket: () => daemon.issueTicket(),
      }),
    );
    await eventually(() => daemon.connections === 1);
    daemon.push(snap(A, 'SUBMITTED'));
    await c.count(1);
    daemon.drop();
    daemon.push(snap(A, 'EXECUTING'));
    await c.count(3);
    c.subscription.unsubscribe();
    expect(urls).toHaveLength(2);
    expect(new URL(urls[0]!).searchParams.get('lastEventId')).toBeNull();
    expect(new URL(urls[1]!).searchParams.get('lastEventId')).toBe('1');
    expect(c.values.map(label)).toEqual(['ja:SUBMITTED', 'ja:SUBMITTED (stale)', 'ja:EXECUTING']);
  });

  it('keeps going through a resync', async () => {
    daemon.push(snap(A, 'SUBMITTED'));
    daemon.push(snap(A, 'EXECUTING'));
    daemon.oldest = 2;
    const c = collect(fromDaemon(daemon.url, { ...auth, lastEventId: '1' }));
    await c.count(2);
    daemon.push(snap(A, 'COMPLETED'));
    await c.count(3);
    c.subscription.unsubscribe();
    expect(c.values.map((s) => s.status)).toEqual(['SUBMITTED', 'EXECUTING', 'COMPLETED']);
    expect(daemon.requests[0]?.lastEventId).toBe('1');
  });

  it("completes on the daemon's end event", async () => {
    const c = collect(fromDaemon(daemon.url, auth));
    await eventually(() => daemon.connections === 1);
    daemon.push(snap(A, 'EXECUTING'));
    await c.count(1);
    daemon.end();
    await c.settled();
    expect(c.completed).toBe(true);
    expect(c.error).toBeUndefined();
  });

  it('ends with a ValidationError on an event that is not a snapshot', async () => {
    daemon.push(JSON.stringify({ version: 1, jobid: A }));
    const c = collect(fromDaemon(daemon.url, auth));
    await c.settled();
    expect(c.error).toMatchObject({ code: 'SCHEMA' });
    // The connection is closed, not left open (the test times out otherwise).
    await eventually(() => daemon.connections === 0);
  });

  it('ends with a typed error on an event that is not JSON', async () => {
    daemon.push('{not json');
    const c = collect(fromDaemon(daemon.url, auth));
    await c.settled();
    expect(c.error).toMatchObject({ code: 'TRANSPORT' });
  });

  it('ends with an AuthError when the key is refused, without retrying forever', async () => {
    const c = collect(
      fromDaemon(daemon.url, { headers: { Authorization: 'Bearer wrong' }, reconnectDelay: 5 }),
    );
    await c.settled();
    expect(c.error).toBeInstanceOf(AuthError);
    expect(String((c.error as Error).message)).not.toContain('wrong');
    expect(daemon.requests).toHaveLength(1);
  });

  it('renews a refused ticket once, then gives up with an AuthError', async () => {
    const c = collect(fromDaemon(daemon.url, { ticket: () => 'expired', reconnectDelay: 5 }));
    await c.settled();
    expect(c.error).toBeInstanceOf(AuthError);
    expect(daemon.requests).toHaveLength(2);
  });

  it('refuses a URL that is not one', async () => {
    const c = collect(fromDaemon('not a url', auth));
    await c.settled();
    expect(c.error).toMatchObject({ code: 'CONFIG' });
  });
});

describe('fromDaemon when the stream is lost', () => {
  it('marks each running job stale with a TRANSPORT trouble when the stream drops, and clears it once caught up', async () => {
    const clock = new ManualScheduler();
    const states: DaemonStreamState[] = [];
    daemon.push(snap(A, 'EXECUTING'));
    daemon.push(snap(B, 'COMPLETED'));
    daemon.push(snap(C, 'EXECUTING'));
    const c = collect(
      fromDaemon(daemon.url, {
        ...auth,
        scheduler: clock.asScheduler,
        onState: (s) => states.push(s),
      }),
    );
    await c.count(3);
    expect(states.at(-1)).toMatchObject({ connection: 'open', error: undefined });
    clock.advance(1000);
    const lostAt = clock.now();
    daemon.drop();
    await c.count(5);
    // B had ended: an end is final, so it is not marked.
    expect(c.values.slice(3).map(label)).toEqual(['ja:EXECUTING (stale)', 'jc:EXECUTING (stale)']);
    const message = "The daemon's event stream was lost at 2026-11-28T14:00:01Z; reconnecting";
    expect(c.values[3]?.trouble).toEqual({
      code: 'TRANSPORT',
      message,
      since: lostAt,
      attempts: 1,
    });
    expect(states.at(-1)).toMatchObject({ connection: 'lost', since: lostAt, attempts: 0 });
    expect(states.at(-1)?.error?.message).toBe(message);

    // Meanwhile A changes; C does not.
    daemon.push(snap(A, 'CANCELLING'));
    clock.advance(5);
    await c.count(7);
    expect(c.values.slice(5).map(label)).toEqual(['ja:CANCELLING', 'jc:EXECUTING']);
    expect(c.values[6]).toEqual(c.values[2]);
    expect(daemon.requests.map((r) => r.lastEventId)).toEqual([undefined, '3']);
    expect(states.at(-1)).toMatchObject({ connection: 'open', error: undefined });
    c.subscription.unsubscribe();
  });

  it('marks the jobs stale when heartbeats stop for more than twice their interval, then reconnects', async () => {
    const clock = new ManualScheduler();
    const { counter, EventSource: Counting } = countingPings();
    daemon.heartbeatMs = 1000;
    daemon.push(snap(A, 'EXECUTING'));
    const t0 = clock.now();
    const c = collect(
      fromDaemon(daemon.url, {
        ...auth,
        EventSource: Counting,
        fetch: globalThis.fetch,
        scheduler: clock.asScheduler,
      }),
    );
    await c.count(1);
    // The `ready` event told the interval: the heartbeat watch is set.
    await eventually(() => clock.pending === 1);
    clock.advance(1500);
    daemon.ping();
    await eventually(() => counter.pings === 1);
    clock.advance(1500);
    // 1.5 s since the last ping: quiet, not lost.
    expect(c.values.map(label)).toEqual(['ja:EXECUTING']);
    clock.advance(600);
    expect(c.values.map(label)).toEqual(['ja:EXECUTING', 'ja:EXECUTING (stale)']);
    expect(c.values[1]?.trouble).toEqual({
      code: 'TRANSPORT',
      message:
        "Nothing heard from the daemon's event stream since 2026-11-28T14:00:01Z; reconnecting",
      since: t0 + 1500,
      attempts: 1,
    });
    // The silent connection is closed and another one opened: the job is fresh again.
    await eventually(() => daemon.requests.length === 2);
    await c.count(3);
    expect(c.values[2]).toEqual(c.values[0]);
    await eventually(() => daemon.connections === 1);
    c.subscription.unsubscribe();
  });

  it("with reconnectOnEnd, takes the daemon's end like a drop: stale, then caught up", async () => {
    const clock = new ManualScheduler();
    daemon.push(snap(A, 'EXECUTING'));
    const c = collect(
      fromDaemon(daemon.url, { ...auth, reconnectOnEnd: true, scheduler: clock.asScheduler }),
    );
    await c.count(1);
    daemon.end();
    await c.count(2);
    expect(c.values[1]?.trouble?.message).toBe(
      'The daemon closed its event stream (shutting down) at 2026-11-28T14:00:00Z; reconnecting',
    );
    daemon.push(snap(A, 'COMPLETED'));
    clock.advance(5);
    await c.count(3);
    expect(c.values.map(label)).toEqual(['ja:EXECUTING', 'ja:EXECUTING (stale)', 'ja:COMPLETED']);
    expect(c.completed).toBe(false);
    c.subscription.unsubscribe();
  });

  it('clears the stale marks when the stream reopens, from a daemon that sends no ready event', async () => {
    const clock = new ManualScheduler();
    daemon.heartbeatMs = undefined;
    daemon.push(snap(A, 'EXECUTING'));
    const c = collect(fromDaemon(daemon.url, { ...auth, scheduler: clock.asScheduler }));
    await c.count(1);
    daemon.drop();
    await c.count(2);
    clock.advance(5);
    await c.count(3);
    expect(c.values.map(label)).toEqual(['ja:EXECUTING', 'ja:EXECUTING (stale)', 'ja:EXECUTING']);
    // No heartbeat interval known: no heartbeat watch.
    expect(clock.pending).toBe(0);
    c.subscription.unsubscribe();
  });

  it('reports the stream unreachable after two failed tries, keeps trying, and reports it open once it is', async () => {
    const clock = new ManualScheduler();
    const states: DaemonStreamState[] = [];
    daemon.refuse = 'reset';
    const c = collect(
      fromDaemon(daemon.url, {
        ...auth,
        ticket: () => daemon.issueTicket(),
        scheduler: clock.asScheduler,
        onState: (s) => states.push(s),
      }),
    );
    await eventually(() => states.length === 1);
    expect(states[0]).toMatchObject({ connection: 'connecting', attempts: 1, error: undefined });
    clock.advance(5);
    await eventually(() => states.length === 2);
    expect(states[1]).toMatchObject({ connection: 'unreachable', attempts: 2 });
    const message = states[1]?.error?.message ?? '';
    expect(message).toMatch(
      /^Cannot reach the daemon's event stream at http:\/\/127\.0\.0\.1:\d+\/api\/events \(2 tries in a row: .+\); still trying\. Check that the daemon is running$/,
    );
    expect(message).not.toMatch(/ticket|t\d/);
    expect(states[1]?.error?.code).toBe('TRANSPORT');
    daemon.refuse = 503;
    clock.advance(10);
    await eventually(() => states.length === 3);
    expect(states[2]?.error?.message).toMatch(
      /answered HTTP 503 \(3 tries in a row\); still trying$/,
    );
    daemon.refuse = undefined;
    daemon.push(snap(A, 'EXECUTING'));
    clock.advance(20);
    await c.count(1);
    expect(states.at(-1)).toMatchObject({ connection: 'open', attempts: 0, error: undefined });
    expect(c.error).toBeUndefined();
    c.subscription.unsubscribe();
  });

  it('reports the requested jobs the daemon does not watch, until a snapshot of one arrives', async () => {
    const states: DaemonStreamState[] = [];
    daemon.push(snap(A, 'EXECUTING'));
    const c = collect(
      fromDaemon(daemon.url, { ...auth, jobid: [A, B], onState: (s) => states.push(s) }),
    );
    await eventually(() => states.at(-1)?.unwatched.length === 1);
    expect(states.at(-1)?.unwatched).toEqual([B]);
    expect(daemon.requests[0]?.query.getAll('jobid')).toEqual([A, B]);
    daemon.push(snap(B, 'SUBMITTED'));
    await c.count(2);
    expect(states.at(-1)?.unwatched).toEqual([]);
    c.subscription.unsubscribe();
  });

  it('takes a ready event in another shape in stride, naming only the jobs it asked for', async () => {
    const states: DaemonStreamState[] = [];
    const clock = new ManualScheduler();
    daemon.readyData = `{"heartbeatMs":"soon","unwatched":["${C}",7,"${B}"]}`;
    const c = collect(
      fromDaemon(daemon.url, {
        ...auth,
        jobid: [A, B],
        scheduler: clock.asScheduler,
        onState: (s) => states.push(s),
      }),
    );
    await eventually(() => states.at(-1)?.unwatched.length === 1);
    expect(states.at(-1)?.unwatched).toEqual([B]);
    expect(clock.pending).toBe(0);
    daemon.readyData = 'not json';
    daemon.drop();
    await eventually(() => clock.pending === 1);
    clock.advance(5);
    daemon.push(snap(A, 'EXECUTING'));
    await c.count(1);
    expect(c.error).toBeUndefined();
    c.subscription.unsubscribe();
  });

  it('never asks for a timer longer than a timer can wait, whatever heartbeat the daemon names', async () => {
    const clock = new ManualScheduler();
    daemon.readyData = '{"heartbeatMs":1e12,"unwatched":[]}';
    daemon.push(snap(A, 'EXECUTING'));
    const c = collect(fromDaemon(daemon.url, { ...auth, scheduler: clock.asScheduler }));
    await c.count(1);
    await eventually(() => clock.pending === 1);
    expect(Math.max(...clock.delays)).toBeLessThanOrEqual(2 ** 31 - 1);
    c.subscription.unsubscribe();
  });
});
