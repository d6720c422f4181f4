/**
 * The event stream (`GET /api/events`): Server-Sent Events fanned out from the store to many
 * clients, with replay from `Last-Event-ID`, heartbeats, and slow clients dropped rather than
 * buffered without bound. Event types, frames and the `ready` data are the protocol's
 * (`@jobwatch/schema`), the same module `fromDaemon` reads them with.
 */
import type { ServerResponse } from 'node:http';
import type { Snapshot } from '@jobwatch/schema';
import { DaemonEvent, type DaemonReadyData, eventFrame } from '@jobwatch/schema';
import {
  type EventFilter,
  eventRef,
  type JobRecord,
  type JobRef,
  type Store,
  type StoredEvent,
} from '../store/store.js';

/** Options of {@link createEventHub}. */
export interface EventHubOptions {
  readonly store: Store;
  /** Interval of `ping` events (the heartbeat, named in each stream's `ready`). @default 15_000 */
  readonly heartbeatMs?: number;
  /** The `retry:` hint in ms sent first. @default 3000 */
  readonly retryMs?: number;
  /** A client whose unsent output exceeds this many bytes is dropped. @default 1 MiB */
  readonly maxBufferedBytes?: number;
  /** At most this many missed events are replayed; beyond, a resync. @default 10_000 */
  readonly replayLimit?: number;
  /** Most clients at once; one more is answered 503 `TOO_MANY_CLIENTS`. @default 10_000 */
  readonly maxClients?: number;
  /** Called when the number of clients changes. */
  readonly onClients?: (count: number) => void;
  /** Called when a client is dropped for not keeping up. */
  readonly onDrop?: () => void;
  /** Called when a client is refused because {@link maxClients} are connected. */
  readonly onRefuse?: () => void;
}

/** The fan-out of snapshot events to event-stream clients. */
export interface EventHub {
  /**
   * Serves one client on `res` until it leaves or the hub closes. Without `lastEventId` the
   * client first receives the current snapshot of every matching job; with it, exactly the
   * events it missed (or one `resync` and the current snapshots when they are no longer kept);
   * then one `ready` event naming the heartbeat interval and the requested jobs not watched.
   * While closing, or with `maxClients` connected, answers 503 with a JSON error instead.
   */
  attach(
    res: ServerResponse,
    options: {
      filter: EventFilter;
      lastEventId?: number | undefined;
      headers?: Record<string, string>;
    },
  ): Promise<void>;
  /** Clients connected now. */
  readonly size: number;
  /** Sends `event: end` to every client, ends their responses and stops the heartbeat. */
  close(reason?: string): void;
}

interface Client {
  readonly res: ServerResponse;
  readonly deployment: string | undefined;
  readonly jobids: ReadonlySet<string> | undefined;
  /** Live events that arrived while the replay was being read. */
  pending: StoredEvent[] | undefined;
  lastSent: number;
}

/** `snapshot` for a visible change; `watch_failed` for a watch that could not go on. */
const frame = (event: StoredEvent) =>
  event.type === 'watch_failed'
    ? eventFrame(DaemonEvent.WATCH_FAILED, event.failure, event.id)
    : eventFrame(DaemonEvent.SNAPSHOT, event.snapshot, event.id);

function matches(client: Client, ref: JobRef): boolean {
  return (
    (!client.deployment || client.deployment === ref.deployment) &&
    (!client.jobids || client.jobids.has(ref.jobid))
  );
}

/**
 * The clients of one hub and their writes: indexed by the jobs they want, corked within a
 * turn so that one turn's events leave together, dropped when they fall too far behind.
 */
class Fanout {
  readonly clients = new Set<Client>();
  /** Clients that want every job (of a deployment, or of all). */
  readonly #everyJob = new Set<Client>();
  /** Clients that named jobs, by job id: an event reaches only the clients that want it. */
  readonly #byJob = new Map<string, Set<Client>>();
  /** Clients written to in this turn; their writes go out together at its end. */
  readonly #corked = new Set<Client>();
  readonly #maxBuffered: number;
  readonly #options: EventHubOptions;

  constructor(options: EventHubOptions) {
    this.#options = options;
    this.#maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  }

  add(client: Client): void {
    this.clients.add(client);
    if (!client.jobids) this.#everyJob.add(client);
    else
      for (const jobid of client.jobids) {
        const set = this.#byJob.get(jobid);
        if (set) set.add(client);
        else this.#byJob.set(jobid, new Set([client]));
      }
    this.#changed();
  }

  remove(client: Client): boolean {
    if (!this.clients.delete(client)) return false;
    this.#corked.delete(client);
    if (!client.jobids) this.#everyJob.delete(client);
    else
      for (const jobid of client.jobids) {
        const set = this.#byJob.get(jobid);
        set?.delete(client);
        if (set?.size === 0) this.#byJob.delete(jobid);
      }
    this.#changed();
    return true;
  }

  drop(client: Client): void {
    if (this.remove(client)) client.res.destroy();
  }

  readonly uncork = (): void => {
    for (const client of this.#corked) client.res.uncork();
    this.#corked.clear();
  };

  /** Writes unless the client is too far behind, in which case it is dropped. */
  write(client: Client, chunk: string | Buffer): void {
    if (client.res.writableLength > this.#maxBuffered) {
      this.#options.onDrop?.();
      this.drop(client);
      return;
    }
    if (!this.#corked.has(client)) {
      if (this.#corked.size === 0) process.nextTick(this.uncork);
      this.#corked.add(client);
      client.res.cork();
    }
    client.res.write(chunk);
  }

  /** Sends an event the client wants and has not had yet. */
  send(client: Client, event: StoredEvent, bytes?: Buffer): void {
    if (event.id <= client.lastSent || !matches(client, eventRef(event))) return;
    client.lastSent = event.id;
    this.write(client, bytes ?? frame(event));
  }

  /** A live event to every client that wants it; held for those still catching up. */
  broadcast(event: StoredEvent): void {
    // Framed and encoded once for every client that wants it.
    let bytes: Buffer | undefined;
    const ref = eventRef(event);
    for (const group of [this.#everyJob, this.#byJob.get(ref.jobid)]) {
      if (!group) continue;
      for (const client of group) {
        if (client.pending) client.pending.push(event);
        else if (matches(client, ref)) {
          bytes ??= Buffer.from(frame(event));
          this.send(client, event, bytes);
        }
      }
    }
  }

  /** Ends every client's response with `last`. */
  endAll(last: string): void {
    this.uncork();
    for (const client of this.clients) client.res.end(last);
    this.clients.clear();
    this.#everyJob.clear();
    this.#byJob.clear();
    this.#changed();
  }

  #changed(): void {
    this.#options.onClients?.(this.clients.size);
  }
}

/**
 * The current snapshot of every matching job, and each failed watch's failure, in id order.
 * Resolves the records read.
 */
async function sendCurrent(
  fanout: Fanout,
  store: Store,
  client: Client,
  filter: EventFilter,
): Promise<JobRecord[]> {
  const records = await store.list(filter);
  const current: StoredEvent[] = [];
  for (const r of records) {
    if (r.snapshot !== null) current.push({ id: r.eventId, snapshot: r.snapshot as Snapshot });
    if (r.state === 'failed' && r.error && r.failureEventId !== undefined)
      current.push({
        id: r.failureEventId,
        type: 'watch_failed',
        failure: {
          deployment: r.deployment,
          jobid: r.jobid,
          error: r.error,
          snapshot: r.snapshot,
          failedAt: r.endedAt ?? 0,
        },
      });
  }
  current.sort((a, b) => a.id - b.id);
  for (const event of current) fanout.send(client, event);
  return records;
}

/**
 * The `ready` event: the catch-up is sent. `unwatched` names the requested jobs the stream
 * has nothing for and nothing coming: no record, or a watch that ended before any snapshot
 * without a `watch_failed` to say why.
 */
function readyFrame(
  heartbeatMs: number,
  client: Client,
  records: readonly JobRecord[],
  sent: readonly StoredEvent[],
): string {
  const watched = new Set(
    records
      .filter(
        (r) => r.snapshot !== null || r.state === 'watching' || r.failureEventId !== undefined,
      )
      .map((r) => r.jobid),
  );
  for (const event of sent) watched.add(eventRef(event).jobid);
  const data: DaemonReadyData = {
    heartbeatMs,
    unwatched: [...(client.jobids ?? [])].filter((jobid) => !watched.has(jobid)),
  };
  return eventFrame(DaemonEvent.READY, data);
}

/**
 * What a new client missed: the current snapshots without `lastEventId`; with it, the events
 * since (or a `resync` and the current snapshots when they are no longer kept). Resolves the
 * records read, for `ready`.
 */
async function catchUp(
  fanout: Fanout,
  options: EventHubOptions,
  client: Client,
  filter: EventFilter,
  lastEventId: number | undefined,
): Promise<readonly JobRecord[]> {
  const { store } = options;
  if (lastEventId === undefined) return sendCurrent(fanout, store, client, filter);
  const replay = await store.eventsSince(lastEventId, filter, options.replayLimit ?? 10_000);
  if (replay.kind === 'events') {
    client.lastSent = lastEventId;
    for (const event of replay.events) fanout.send(client, event);
    return client.jobids ? store.list(filter) : [];
  }
  fanout.write(client, eventFrame(DaemonEvent.RESYNC, {}));
  return sendCurrent(fanout, store, client, filter);
}

/** The 503 answer of a hub that is closing or full, or `false` when the client may join. */
function refused(
  res: ServerResponse,
  headers: Record<string, string> | undefined,
  closed: boolean,
  full: { readonly clients: number; readonly maxClients: number; readonly onRefuse?: () => void },
): boolean {
  if (closed) {
    res
      .writeHead(503, { ...headers, 'content-type': 'application/json' })
      .end('{"error":{"code":"SHUTTING_DOWN","message":"the daemon is shutting down"}}');
    return true;
  }
  if (full.clients < full.maxClients) return false;
  full.onRefuse?.();
  res
    .writeHead(503, { ...headers, 'content-type': 'application/json', 'retry-after': '10' })
    .end(
      `{"error":{"code":"TOO_MANY_CLIENTS","message":"${full.maxClients} event-stream clients are connected; try again later"}}`,
    );
  return true;
}

/** Creates the hub and subscribes it to the store's events. */
export function createEventHub(options: EventHubOptions): EventHub {
  const { store } = options;
  const maxClients = options.maxClients ?? 10_000;
  const fanout = new Fanout(options);
  let closed = false;

  const unsubscribe = store.subscribe((event) => fanout.broadcast(event));

  const heartbeatMs = options.heartbeatMs ?? 15_000;
  // An event, not a comment: `EventSource` hides comments, and clients watch for silence.
  const ping = Buffer.from(eventFrame(DaemonEvent.PING, {}));
  const heartbeat = setInterval(() => {
    for (const client of fanout.clients) if (!client.pending) fanout.write(client, ping);
  }, heartbeatMs);
  heartbeat.unref();

  return {
    get size() {
      return fanout.clients.size;
    },
    async attach(res, { filter, lastEventId, headers }) {
      const full = { clients: fanout.clients.size, maxClients, onRefuse: options.onRefuse };
      if (refused(res, headers, closed, full)) return;
      res.writeHead(200, {
        ...headers,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.socket?.setNoDelay(true);
      const client: Client = {
        res,
        deployment: filter.deployment,
        jobids: filter.jobids?.length ? new Set(filter.jobids) : undefined,
        pending: [],
        lastSent: 0,
      };
      fanout.add(client);
      res.on('close', () => fanout.remove(client));
      res.write(`retry: ${options.retryMs ?? 3000}\n\n`);
      let records: readonly JobRecord[];
      try {
        records = await catchUp(fanout, options, client, filter, lastEventId);
      } catch {
        fanout.drop(client);
        return;
      }
      const pending = client.pending ?? [];
      client.pending = undefined;
      for (const event of pending) fanout.send(client, event);
      if (fanout.clients.has(client))
        fanout.write(client, readyFrame(heartbeatMs, client, records, pending));
    },
    close(reason = 'shutdown') {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      fanout.endAll(eventFrame(DaemonEvent.END, { reason }));
    },
  };
}
