/**
 * The daemon's storage and event fan-out, behind one small interface.
 *
 * Everything the daemon remembers — which jobs it watches, the last snapshot of each, the
 * event log behind the event stream's ids, and the webhook outbox — goes through {@link Store}.
 * The embedded default is SQLite ({@link openSqliteStore}). When one machine is not enough,
 * a Redis implementation can replace it without touching the rest: the contract below is
 * written so that several daemons may share one store.
 */
import {
  canonicalStatus,
  type JobRef as JobSourceRef,
  JobStatus,
  makeSnapshot,
  parseJobRef,
  type Snapshot,
  visiblyDiffers,
} from '@jobwatch/schema';

/** Names a job across deployments. */
export interface JobRef {
  readonly deployment: string;
  readonly jobid: string;
}

/**
 * A job to watch: its key, and — for a job of another source than its deployment's own kind
 * (a geoprocessing or portal item job, say) — its URL, which says what it is and where to
 * read it. Jobs keep the key `(deployment, jobid)` of every source: ArcGIS job ids are
 * GUIDs, unique within a site whatever their source, so the id a user sees in ArcGIS is the
 * one the API, the event stream's `?jobid=` and the widget use.
 */
export interface WatchTarget extends JobRef {
  /** The job's URL (`jobRefUrl`) when it is not of its deployment's kind; absent otherwise. */
  readonly url?: string | undefined;
}

/** Where a watch stands. `watching` resumes after a restart; the others do not. */
export type WatchState = 'watching' | 'finished' | 'stopped' | 'failed';

/** A job the daemon watches or has watched, with its last snapshot. */
export interface JobRecord extends JobRef {
  readonly state: WatchState;
  /** Epoch ms when watching began. */
  readonly addedAt: number;
  /** Epoch ms when the watch ended (finished, stopped or failed); absent while watching. */
  readonly endedAt?: number;
  /** The last stored snapshot, `null` before the first one. */
  readonly snapshot: Snapshot | null;
  /** Id of the event that carried {@link snapshot}, `0` before any. */
  readonly eventId: number;
  /** Why watching failed (state `failed`): a stable code and a one-line message. */
  readonly error?: { readonly code: string; readonly message: string };
  /** Id of the `watch_failed` event (state `failed`). */
  readonly failureEventId?: number;
  /**
   * The job's URL when it is not of its deployment's kind (see {@link WatchTarget}); absent
   * for the deployment's own jobs, and for every row stored before jobs of other sources.
   */
  readonly url?: string;
}

/**
 * A watch that could not go on (credentials refused, a fixed token expired, the job purged,
 * a body that is not the job), as the event stream and webhooks carry it.
 */
export interface WatchFailure {
  readonly deployment: string;
  readonly jobid: string;
  /** The error's stable code (`AUTH`, `JOB_NOT_FOUND`, `SCHEMA`, …) and one-line message. */
  readonly error: { readonly code: string; readonly message: string };
  /** The last snapshot stored before the failure, `null` when none came. */
  readonly snapshot: Snapshot | null;
  /** Epoch ms of the failure. */
  readonly failedAt: number;
}

/** One entry of the event log: a visible snapshot change, with its monotonic id. */
export interface SnapshotEvent {
  /** Strictly increasing across the whole store (shared by all daemons using it). */
  readonly id: number;
  readonly type?: 'snapshot';
  readonly snapshot: Snapshot;
  readonly failure?: undefined;
}

/** One entry of the event log: a watch that failed, with its monotonic id. */
export interface WatchFailedEvent {
  /** Strictly increasing across the whole store, shared with snapshot events. */
  readonly id: number;
  readonly type: 'watch_failed';
  readonly failure: WatchFailure;
  readonly snapshot?: undefined;
}

/** One entry of the event log. */
export type StoredEvent = SnapshotEvent | WatchFailedEvent;

/** The job an event is about. */
export function eventRef(event: StoredEvent): JobRef {
  return event.type === 'watch_failed' ? event.failure : event.snapshot;
}

/**
 * Proof that a write comes from the daemon that holds the lease on the work it belongs to,
 * for stores that several daemons share. A shared store refuses a write whose token is not
 * the lease's current one (the writer lost its lease: it paused, or was partitioned, and
 * another daemon took over); a store only one daemon uses (SQLite) has nothing to check.
 */
export interface Fence {
  /** The leased unit of work, e.g. `deployment:<name>`. */
  readonly work: string;
  /** The fencing token the lease was granted with; strictly increasing per work. */
  readonly token: number;
}

/** Which events a reader wants. An empty or missing list means all. */
export interface EventFilter {
  readonly deployment?: string | undefined;
  readonly jobids?: readonly string[] | undefined;
}

/**
 * Where a page of {@link Store.list} starts: after this job, in list order (`addedAt`, then
 * `deployment`, then `jobid`).
 */
export interface JobCursor {
  readonly addedAt: number;
  readonly deployment: string;
  readonly jobid: string;
}

/** Which jobs {@link Store.list} returns. */
export interface JobFilter extends EventFilter {
  /** Only jobs in this state. */
  readonly state?: WatchState | undefined;
  /** Only jobs after this one in list order. */
  readonly after?: JobCursor | undefined;
  /** At most this many. @default all */
  readonly limit?: number | undefined;
}

/** What {@link Store.prune} removes. */
export interface PruneOptions {
  /** Events appended before this epoch ms go. */
  readonly olderThan: number;
  /** Beyond the newest this many, events go. */
  readonly maxEvents: number;
  /**
   * Jobs whose watch ended (finished, stopped or failed) before this epoch ms are forgotten.
   * Watched jobs are never removed. @default none are
   */
  readonly jobsEndedBefore?: number | undefined;
}

/** What {@link Store.prune} removed. */
export interface PruneResult {
  readonly events: number;
  readonly jobs: number;
}

/** A webhook delivery waiting in the outbox. */
export interface Delivery {
  /** Outbox row id (internal). */
  readonly seq: number;
  /** The Standard Webhooks message id: stable per (job, transition), for receivers to deduplicate on. */
  readonly messageId: string;
  /** The endpoint URL. */
  readonly endpoint: string;
  /** The exact JSON body to sign and send. */
  readonly body: string;
  /** Failed attempts so far. */
  readonly attempts: number;
  /** Epoch ms when the delivery was queued; retries stop a configured time after it. */
  readonly createdAt: number;
  /** Epoch ms when the next attempt is due. */
  readonly dueAt: number;
}

/** A delivery to queue along with the event that caused it. */
export interface NewDelivery {
  readonly messageId: string;
  readonly endpoint: string;
  readonly body: string;
}

/** What {@link Store.eventsSince} found. */
export type ReplayResult =
  /** Every event after the given id, oldest first (filtered). */
  | { readonly kind: 'events'; readonly events: readonly StoredEvent[] }
  /** Some events after the given id are gone (retention) or the id is unknown: send a resync. */
  | { readonly kind: 'resync' };

/** Whether a store can be reached, for `/readyz`, logs and metrics. */
export interface StoreHealth {
  /** `false` while the store cannot be reached (writes are being buffered). */
  readonly up: boolean;
  /** Why it is down, in a few words that never hold a secret (`ECONNREFUSED`, say). */
  readonly reason?: string | undefined;
  /** Transitions held in memory, waiting to be written. */
  readonly buffered: number;
}

/**
 * Storage and fan-out for the daemon.
 *
 * Contract, for every implementation:
 * - **Write before acknowledge.** Every method resolves only once its change is durable; the
 *   daemon answers an HTTP request or moves on only after that.
 * - **Atomic transitions.** {@link recordSnapshot} reconciles the snapshot with the last
 *   stored one (`reconcileSnapshot`) and, when something visible changed, stores it,
 *   appends the event, queues the deliveries and — for a terminal snapshot — ends the watch,
 *   in one step. A job's end is final and a poll loop that starts again after a restart
 *   cannot take back what the store knows, so a resumed or rediscovered job never
 *   duplicates an event, and a terminal transition is never lost.
 * - **Monotonic ids.** Event ids strictly increase across the store, also when several
 *   daemons share it (SQLite: `AUTOINCREMENT`; Redis: `INCR` or stream ids).
 * - **Fencing.** A shared store refuses {@link recordSnapshot} and {@link failWatch} with a
 *   {@link Fence} that is not current, changing nothing (error code `FENCED`).
 * - **Fan-out.** {@link subscribe} delivers every event appended by any writer of this store
 *   (SQLite: this process; Redis: every daemon, read from the stream), in id order, once,
 *   after it is durable.
 * - **Claimed deliveries.** A delivery {@link dueDeliveries} answers is the caller's until it
 *   removes or retries it. A shared store hands each one to one daemon at a time, and gives a
 *   silent daemon's deliveries to another after a while.
 */
export interface Store {
  /**
   * Starts watching (or re-watching) a job, keeping its URL when it has one (a job of another
   * source than its deployment's). Resolves `true` when it was not being watched.
   */
  watch(ref: WatchTarget, now: number): Promise<boolean>;
  /**
   * Ends a watch that cannot go on, in one step: state `failed` with its error, a
   * `watch_failed` event appended, `deliveries` (given the event) queued. Resolves the event,
   * or `undefined` when the job is unknown or no longer watched (then nothing changes).
   */
  failWatch(
    ref: JobRef,
    error: { code: string; message: string },
    deliveries: (failure: WatchFailure, eventId: number) => readonly NewDelivery[],
    fence?: Fence,
  ): Promise<WatchFailedEvent | undefined>;
  /** Marks a watch `stopped`, `finished` or `failed`. Resolves `false` when the job is unknown. */
  setState(
    ref: JobRef,
    state: Exclude<WatchState, 'watching'>,
    error?: { code: string; message: string },
  ): Promise<boolean>;
  /** One job, or `undefined`. */
  get(ref: JobRef): Promise<JobRecord | undefined>;
  /** The jobs known, filtered, in list order (`addedAt`, `deployment`, `jobid`). */
  list(filter?: JobFilter): Promise<JobRecord[]>;
  /**
   * Records a snapshot when, reconciled with the stored one (`reconcileSnapshot`), it
   * differs visibly; appends an event, queues `deliveries` (computed from the previous
   * snapshot and the one stored) and, when it is terminal, marks the watch `finished`, atomically. Resolves the
   * new event (carrying the snapshot as stored), or `undefined` when nothing visible changed.
   */
  recordSnapshot(
    snapshot: Snapshot,
    deliveries: (previous: Snapshot | null, stored: Snapshot) => readonly NewDelivery[],
    fence?: Fence,
  ): Promise<StoredEvent | undefined>;
  /** Events after `afterId`, filtered; `resync` when some of them are no longer kept. */
  eventsSince(afterId: number, filter: EventFilter, limit: number): Promise<ReplayResult>;
  /** The id of the newest event, `0` when none. */
  lastEventId(): Promise<number>;
  /** Receives every event appended from now on. Returns the unsubscribe function. */
  subscribe(listener: (event: StoredEvent) => void): () => void;
  /**
   * Deletes events older than `olderThan` and beyond the newest `maxEvents`, and forgets jobs
   * whose watch ended before `jobsEndedBefore` (with their pending webhook deliveries kept).
   */
  prune(options: PruneOptions): Promise<PruneResult>;
  /** Deliveries due at `now`, oldest first, skipping disabled endpoints. */
  dueDeliveries(now: number, limit: number): Promise<Delivery[]>;
  /** Epoch ms of the earliest pending delivery, `undefined` when the outbox is empty. */
  nextDueAt(): Promise<number | undefined>;
  /** Removes a delivery (delivered, or given up). */
  removeDelivery(seq: number): Promise<void>;
  /** Schedules another attempt. */
  retryDelivery(seq: number, dueAt: number, attempts: number): Promise<void>;
  /** Disables an endpoint for good (it answered 410) and drops its pending deliveries. */
  disableEndpoint(endpoint: string): Promise<void>;
  /** Whether an endpoint is disabled. */
  isEndpointDisabled(endpoint: string): Promise<boolean>;
  /**
   * Every kind of the duration model as stored, each a `DurationModelKindJSON` of
   * `@jobwatch/rx` as JSON text (read and checked by the caller, so one bad row loses
   * nothing else), the one updated longest ago first. Only the `keep` updated last are kept;
   * older ones are deleted.
   */
  loadModelKinds(keep: number): Promise<Array<{ readonly key: string; readonly json: string }>>;
  /** Stores one kind of the duration model (its key and `DurationModelKindJSON` as JSON text), replacing what was there. */
  saveModelKind(key: string, json: string, updatedAt: number): Promise<void>;
  /** Flushes and closes. */
  close(): Promise<void>;
  /**
   * Whether the store can be reached now; absent for a store that is always there (SQLite).
   */
  health?(): StoreHealth;
  /**
   * For a store that other daemons fill too: the webhook dispatcher looks at the outbox at
   * least this often (ms), since deliveries may come due that it did not queue itself.
   */
  readonly outboxSweepMs?: number;
}

/** The reference of a snapshot of another source than an admin job (its `url`), else none. */
function snapshotRef(snapshot: Snapshot): JobSourceRef | undefined {
  if (!snapshot.url || !snapshot.source || snapshot.source === 'enterprise') return undefined;
  try {
    return parseJobRef(snapshot.url);
  } catch {
    return undefined;
  }
}

/** The webhook outbox's part of a {@link Store}, which each implementation builds apart. */
export type OutboxMethods = Pick<
  Store,
  | 'dueDeliveries'
  | 'nextDueAt'
  | 'removeDelivery'
  | 'retryDelivery'
  | 'disableEndpoint'
  | 'isEndpointDisabled'
>;

/**
 * What a store records when `next` arrives for a job whose stored snapshot is `previous`:
 * the snapshot to store, or `undefined` when nothing is worth an event. Every {@link Store}
 * implementation applies it inside its atomic write.
 *
 * - **An end is final.** After a terminal snapshot nothing more is recorded: a finished job
 *   polled again (rediscovered after a restart, say) and met with trouble would otherwise
 *   show as pending, then end a second time.
 * - **A fresh poll loop knows less than the store.** After a restart, trouble before the
 *   first good answer (no body, or only `UNAVAILABLE`) keeps the stored body and shows as
 *   stale, as one uninterrupted loop would have shown it.
 * - **Times carry over.** `firstSeen` stays the earliest; `lastChanged` stays while the job
 *   itself has not changed.
 * - Then only a visible difference (`visiblyDiffers`) is recorded.
 */
export function reconcileSnapshot(previous: Snapshot | null, next: Snapshot): Snapshot | undefined {
  if (!previous) return next;
  if (previous.terminal) return undefined;
  const known = previous.job;
  const keepBody =
    known !== null &&
    next.stale &&
    (next.job === null || canonicalStatus(next.job.status) === JobStatus.UNAVAILABLE);
  const job = keepBody ? known : next.job;
  const unchanged =
    known !== null &&
    job !== null &&
    known.status === job.status &&
    known.updatedtime === job.updatedtime &&
    known.endtime === job.endtime &&
    // Jobs of other sources spell their status otherwise (`jobStatus`) and move in progress.
    (job === known ||
      (previous.status === next.status && (previous.progress ?? null) === (next.progress ?? null)));
  const firstSeen = Math.min(previous.firstSeen, next.firstSeen);
  const lastChanged = unchanged ? previous.lastChanged : next.lastChanged;
  const merged =
    keepBody || firstSeen !== next.firstSeen || lastChanged !== next.lastChanged
      ? makeSnapshot({
          deployment: next.deployment,
          jobid: next.jobid,
          job,
          firstSeen,
          lastPolled: next.lastPolled,
          lastChanged,
          stale: next.stale,
          trouble: next.trouble,
          // The warnings go with the body they are about.
          warnings: keepBody ? previous.warnings : next.warnings,
          eta: next.eta,
          ref: snapshotRef(next),
        })
      : next;
  return visiblyDiffers(previous, merged) ? merged : undefined;
}
