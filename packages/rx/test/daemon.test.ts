import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthError } from '@jobwatch/client';
import { makeSnapshot, type Snapshot } from '@jobwatch/schema';
import { EventSource } from 'eventsource';
import type { Observable } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromDaemon } from '../src/index.js';

const KEY = 'k-test-secret';
const A = 'jaaaaaaaa-83a4-4cc1-a034-40e4a266e96d';
const B = 'jbbbbbbbb-83a4-4cc1-a034-40e4a266e96d';

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

async function eventually(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
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
    await c.count(3);
    daemon.push(snap(A, 'COMPLETED'));
    await c.count(4);
    c.subscription.unsubscribe();
    expect(c.values.map((s) => `${s.jobid.slice(0, 2)}:${s.status}`)).toEqual([
      'ja:SUBMITTED',
      'jb:SUBMITTED',
      'ja:EXECUTING',
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
    await c.count(2);
    c.subscription.unsubscribe();
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
    await c.count(2);
    c.subscription.unsubscribe();
    expect(urls).toHaveLength(2);
    expect(new URL(urls[0]!).searchParams.get('lastEventId')).toBeNull();
    expect(new URL(urls[1]!).searchParams.get('lastEventId')).toBe('1');
    expect(c.values.map((s) => s.status)).toEqual(['SUBMITTED', 'EXECUTING']);
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
