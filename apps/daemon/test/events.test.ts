import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventHub, type EventHub } from '../src/server/events.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/store.js';
import { openSse, snap, tempDir } from './helpers.js';

const A = 'jaaaaaaaa-0000-4000-8000-000000000001';
const B = 'jbbbbbbbb-0000-4000-8000-000000000002';
const none = () => [];

describe('event stream hub', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(
    options: { maxBufferedBytes?: number; heartbeatMs?: number; maxClients?: number } = {},
  ) {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const store: Store = openSqliteStore({ dataDir: t.dir });
    cleanups.push(() => store.close());
    let drops = 0;
    let refused = 0;
    const hub: EventHub = createEventHub({
      store,
      ...options,
      onDrop: () => (drops += 1),
      onRefuse: () => (refused += 1),
    });
    const server: Server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const last = req.headers['last-event-id'];
      void hub.attach(res, {
        filter: {
          deployment: url.searchParams.get('deployment') ?? undefined,
          jobids: url.searchParams.getAll('jobid'),
        },
        lastEventId: last === undefined ? undefined : Number(last),
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      hub.close();
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
    return { store, hub, url, drops: () => drops, refused: () => refused };
  }

  it('sends the retry hint, the current state, then live changes with monotonic ids', async () => {
    const { store, url } = await setup();
    await store.recordSnapshot(snap(A, 'EXECUTING', 10), none);
    await store.recordSnapshot(snap(B, 'SUBMITTED', 10), none);
    await store.recordSnapshot(snap(A, 'COMPLETED', 20), none);
    const client = await openSse(url);
    cleanups.push(() => client.close());
    expect(client.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await client.until((e) => e.length === 2);
    expect(client.retry).toBe(3000);
    expect(client.events.map((e) => [e.id, JSON.parse(e.data).status])).toEqual([
      ['2', 'SUBMITTED'],
      ['3', 'COMPLETED'],
    ]);
    await store.recordSnapshot(snap(B, 'EXECUTING', 30), none);
    await client.until((e) => e.length === 3);
    expect(client.events[2]).toMatchObject({ id: '4', event: 'snapshot' });
  });

  it('gives a reconnecting client exactly what it missed, filtered', async () => {
    const { store, url } = await setup();
    await store.recordSnapshot(snap(A, 'SUBMITTED', 10), none); // 1
    await store.recordSnapshot(snap(B, 'SUBMITTED', 10), none); // 2
    await store.recordSnapshot(snap(A, 'EXECUTING', 20), none); // 3
    await store.recordSnapshot(snap(B, 'EXECUTING', 20), none); // 4
    await store.recordSnapshot(snap(A, 'FAILED', 30), none); // 5
    const all = await openSse(url, { 'last-event-id': '2' });
    cleanups.push(() => all.close());
    await all.until((e) => e.length === 3);
    expect(all.events.map((e) => e.id)).toEqual(['3', '4', '5']);
    const onlyA = await openSse(`${url}?jobid=${A}`, { 'last-event-id': '1' });
    cleanups.push(() => onlyA.close());
    await onlyA.until((e) => e.length === 2);
    await store.recordSnapshot(snap(B, 'COMPLETED', 40), none); // 6, filtered out
    await store.recordSnapshot(snap('jcccc', 'EXECUTING', 40), none); // 7, filtered out
    await all.until((e) => e.length === 5);
    expect(onlyA.events.map((e) => e.id)).toEqual(['3', '5']);
    expect(all.events.map((e) => e.id)).toEqual(['3', '4', '5', '6', '7']);
  });

  it('fans each live event out to exactly the clients whose filter it matches', async () => {
    const { store, url, hub } = await setup();
    await store.recordSnapshot(snap(A, 'SUBMITTED', 10), none); // 1
    const open = async (query: string) => {
      const c = await openSse(`${url}${query}`, { 'last-event-id': '1' });
      cleanups.push(() => c.close());
      return c;
    };
    const onlyA = await open(`?jobid=${A}`);
    const both = await open(`?jobid=${A}&jobid=${B}`);
    const otherDeployment = await open(`?deployment=lab&jobid=${A}`);
    const every = await open('');
    const leaving = await open(`?jobid=${B}`);
    await expect.poll(() => hub.size).toBe(5);
    await leaving.close();
    await expect.poll(() => hub.size).toBe(4);
    await store.recordSnapshot(snap(B, 'EXECUTING', 20), none); // 2
    await store.recordSnapshot(snap(A, 'EXECUTING', 20), none); // 3
    await store.recordSnapshot(snap(A, 'COMPLETED', 30, 'lab'), none); // 4
    await store.recordSnapshot(snap(B, 'FAILED', 40), none); // 5
    await every.until((e) => e.length === 4);
    await both.until((e) => e.length === 4);
    await onlyA.until((e) => e.length === 2);
    await otherDeployment.until((e) => e.length === 1);
    expect(every.events.map((e) => e.id)).toEqual(['2', '3', '4', '5']);
    expect(both.events.map((e) => e.id)).toEqual(['2', '3', '4', '5']);
    expect(onlyA.events.map((e) => e.id)).toEqual(['3', '4']);
    expect(otherDeployment.events.map((e) => e.id)).toEqual(['4']);
    expect(leaving.events).toEqual([]);
  });

  it('sends one resync and then the current state when the missed events are gone', async () => {
    const { store, url } = await setup();
    for (let i = 1; i <= 4; i += 1)
      await store.recordSnapshot(
        snap(i % 2 ? A : B, i > 2 ? 'COMPLETED' : 'EXECUTING', i * 10),
        none,
      );
    await store.prune({ olderThan: 0, maxEvents: 1 });
    const client = await openSse(url, { 'last-event-id': '1' });
    cleanups.push(() => client.close());
    await client.until((e) => e.length === 3);
    expect(client.events.map((e) => [e.event, e.id])).toEqual([
      ['resync', undefined],
      ['snapshot', '3'],
      ['snapshot', '4'],
    ]);
    expect(client.events[0]?.data).toBe('{}');
  });

  it('sends heartbeats as ping events, which EventSource dispatches (comments it hides), and ends every stream with an end event on close', async () => {
    const { hub, url } = await setup({ heartbeatMs: 20 });
    const client = await openSse(url);
    await expect.poll(() => client.pings).toBeGreaterThan(1);
    expect(client.comments).toEqual([]);
    expect(client.ready.map((e) => JSON.parse(e.data))).toEqual([
      { heartbeatMs: 20, unwatched: [] },
    ]);
    expect(hub.size).toBe(1);
    hub.close();
    await client.done;
    expect(client.events.at(-1)).toEqual({ event: 'end', data: '{"reason":"shutdown"}' });
  });

  it('refuses one client more than maxClients with 503 TOO_MANY_CLIENTS, and takes it once one leaves', async () => {
    const { store, hub, url, refused } = await setup({ maxClients: 2 });
    await store.recordSnapshot(snap(A, 'EXECUTING', 10), none);
    const first = await openSse(url);
    const second = await openSse(url);
    cleanups.push(() => second.close());
    await expect.poll(() => hub.size).toBe(2);
    const third = await fetch(url);
    expect([third.status, third.headers.get('retry-after')]).toEqual([503, '10']);
    expect(await third.json()).toEqual({
      error: {
        code: 'TOO_MANY_CLIENTS',
        message: '2 event-stream clients are connected; try again later',
      },
    });
    expect(refused()).toBe(1);
    // the connected clients lost nothing
    await store.recordSnapshot(snap(A, 'COMPLETED', 20), none);
    await first.until((e) => e.length === 2);
    await second.until((e) => e.length === 2);
    first.close();
    await expect.poll(() => hub.size).toBe(1);
    const fourth = await openSse(url);
    cleanups.push(() => fourth.close());
    await fourth.until((e) => e.length === 1);
    expect(JSON.parse(fourth.events[0]?.data ?? '{}').status).toBe('COMPLETED');
  });

  it('drops a client that cannot keep up instead of buffering without bound', async () => {
    const { store, hub, url, drops } = await setup({ maxBufferedBytes: 64 * 1024 });
    // a raw socket that asks for the stream and then never reads
    const slow = connect(Number(new URL(url).port), '127.0.0.1');
    slow.write(`GET /events HTTP/1.1\r\nHost: x\r\n\r\n`);
    slow.pause();
    const reader = await openSse(url);
    cleanups.push(() => reader.close());
    await expect.poll(() => hub.size).toBe(2);
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 1000 && drops() === 0; i += 1) {
      await store.recordSnapshot(
        {
          ...snap(A, 'EXECUTING', 1000 + i),
          trouble: { code: 'T', message: big, since: 0, attempts: i },
        },
        none,
      );
      await new Promise((r) => setImmediate(r)); // let the reading client read
    }
    expect(drops()).toBe(1);
    expect(hub.size).toBe(1);
    slow.destroy();
  });

  it('sends one ready event after the catch-up, naming the interval and the requested jobs it does not watch', async () => {
    const { store, url } = await setup({ heartbeatMs: 60_000 });
    const C = 'jcccccccc-0000-4000-8000-000000000003';
    const D = 'jdddddddd-0000-4000-8000-000000000004';
    const E = 'jeeeeeeee-0000-4000-8000-000000000005';
    await store.recordSnapshot(snap(A, 'EXECUTING', 10), none); // 1
    await store.watch({ deployment: 'default', jobid: C }, 10); // watched, no snapshot yet
    await store.watch({ deployment: 'default', jobid: D }, 10); // could not be watched
    await store.setState({ deployment: 'default', jobid: D }, 'failed', {
      code: 'JOB_NOT_FOUND',
      message: 'not found',
    });
    const query = [A, B, C, D].map((id) => `jobid=${id}`).join('&');
    const fresh = await openSse(`${url}?${query}`);
    cleanups.push(() => fresh.close());
    await expect.poll(() => fresh.ready.length).toBe(1);
    expect(fresh.events.map((e) => e.id)).toEqual(['1']);
    expect(JSON.parse(fresh.ready[0]?.data ?? '{}')).toEqual({
      heartbeatMs: 60_000,
      unwatched: [B, D],
    });
    // A reconnecting client gets one too, after the events it missed.
    await store.recordSnapshot(snap(B, 'SUBMITTED', 20), none); // 2
    const resumed = await openSse(`${url}?${query}&jobid=${E}`, { 'last-event-id': '1' });
    cleanups.push(() => resumed.close());
    await expect.poll(() => resumed.ready.length).toBe(1);
    expect(resumed.events.map((e) => e.id)).toEqual(['2']);
    expect(JSON.parse(resumed.ready[0]?.data ?? '{}').unwatched).toEqual([D, E]);
    // Unfiltered and deployment-filtered streams name none.
    const every = await openSse(`${url}?deployment=default`);
    cleanups.push(() => every.close());
    await expect.poll(() => every.ready.length).toBe(1);
    expect(JSON.parse(every.ready[0]?.data ?? '{}').unwatched).toEqual([]);
    // The first stream's later events are unaffected.
    await store.recordSnapshot(snap(B, 'EXECUTING', 30), none); // 3
    await fresh.until((e) => e.length === 3);
    expect(fresh.ready).toHaveLength(1);
  });
});
