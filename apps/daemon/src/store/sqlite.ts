/**
 * The embedded {@link Store}: one SQLite file in WAL mode (through `libsql`, which ships
 * prebuilt binaries), and in-process fan-out.
 */
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Snapshot } from '@jobwatch/schema';
import Database from 'libsql';
import {
  type Delivery,
  type EventFilter,
  type JobRecord,
  type JobRef,
  type NewDelivery,
  type OutboxMethods,
  type PruneOptions,
  type PruneResult,
  type ReplayResult,
  reconcileSnapshot,
  type Store,
  type StoredEvent,
  type WatchFailedEvent,
  type WatchFailure,
  type WatchState,
} from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  deployment TEXT NOT NULL,
  jobid TEXT NOT NULL,
  state TEXT NOT NULL,
  added_at INTEGER NOT NULL,
  snapshot TEXT,
  event_id INTEGER NOT NULL DEFAULT 0,
  error_code TEXT,
  error_message TEXT,
  ended_at INTEGER,
  failed_event_id INTEGER,
  url TEXT,
  PRIMARY KEY (deployment, jobid)
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
CREATE INDEX IF NOT EXISTS jobs_order ON jobs (added_at, deployment, jobid);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  deployment TEXT NOT NULL,
  jobid TEXT NOT NULL,
  snapshot TEXT NOT NULL,
  type TEXT NOT NULL DEFAULT 'snapshot'
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  UNIQUE (message_id, endpoint)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (due_at);
CREATE TABLE IF NOT EXISTS disabled_endpoints (endpoint TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS model_kinds (key TEXT PRIMARY KEY, json TEXT NOT NULL, updated_at INTEGER NOT NULL);
`;

/**
 * Brings a database written by an earlier version up to {@link SCHEMA}. Jobs that had already
 * ended when `ended_at` arrived count as ended at the migration, so they get the whole
 * retention period rather than vanishing at once.
 */
function migrate(db: Database.Database, at: number): void {
  const columns = db.prepare('PRAGMA table_info(jobs)').all() as Array<{ name: string }>;
  if (!columns.some((c) => c.name === 'ended_at')) {
    db.exec('ALTER TABLE jobs ADD COLUMN ended_at INTEGER');
    db.prepare("UPDATE jobs SET ended_at = ? WHERE state != 'watching'").run(at);
  }
  if (!columns.some((c) => c.name === 'failed_event_id'))
    db.exec('ALTER TABLE jobs ADD COLUMN failed_event_id INTEGER');
  // A job of another source than its deployment's own (a GP or item job): its URL. Rows
  // written before have none, and are the deployment's own jobs, as they always were.
  if (!columns.some((c) => c.name === 'url')) db.exec('ALTER TABLE jobs ADD COLUMN url TEXT');
  const eventColumns = db.prepare('PRAGMA table_info(events)').all() as Array<{ name: string }>;
  if (!eventColumns.some((c) => c.name === 'type'))
    db.exec("ALTER TABLE events ADD COLUMN type TEXT NOT NULL DEFAULT 'snapshot'");
  db.exec('CREATE INDEX IF NOT EXISTS jobs_ended ON jobs (ended_at)');
}

interface JobRow {
  deployment: string;
  jobid: string;
  state: WatchState;
  added_at: number;
  snapshot: string | null;
  event_id: number;
  error_code: string | null;
  error_message: string | null;
  ended_at: number | null;
  failed_event_id: number | null;
  url: string | null;
}

interface EventRow {
  id: number;
  /** The event's data: a snapshot, or a {@link WatchFailure} for `watch_failed`. */
  snapshot: string;
  type: string;
}

function toEvent(row: EventRow): StoredEvent {
  return row.type === 'watch_failed'
    ? { id: row.id, type: 'watch_failed', failure: JSON.parse(row.snapshot) as WatchFailure }
    : { id: row.id, snapshot: JSON.parse(row.snapshot) as Snapshot };
}

interface OutboxRow {
  seq: number;
  message_id: string;
  endpoint: string;
  body: string;
  attempts: number;
  created_at: number;
  due_at: number;
}

function toRecord(row: JobRow): JobRecord {
  return {
    deployment: row.deployment,
    jobid: row.jobid,
    state: row.state,
    addedAt: row.added_at,
    ...(row.ended_at !== null ? { endedAt: row.ended_at } : {}),
    snapshot: row.snapshot ? (JSON.parse(row.snapshot) as Snapshot) : null,
    eventId: row.event_id,
    ...(row.error_code
      ? { error: { code: row.error_code, message: row.error_message ?? '' } }
      : {}),
    ...(row.failed_event_id !== null ? { failureEventId: row.failed_event_id } : {}),
    ...(row.url ? { url: row.url } : {}),
  };
}

function where(
  filter: EventFilter & { state?: WatchState | undefined },
  params: unknown[],
): string {
  const clauses: string[] = [];
  if (filter.deployment) {
    clauses.push('deployment = ?');
    params.push(filter.deployment);
  }
  if (filter.jobids?.length) {
    clauses.push(`jobid IN (${filter.jobids.map(() => '?').join(',')})`);
    params.push(...filter.jobids);
  }
  if (filter.state) {
    clauses.push('state = ?');
    params.push(filter.state);
  }
  return clauses.length ? ` AND ${clauses.join(' AND ')}` : '';
}

/** Most snapshots written in one transaction; more wait for the next turn of the event loop. */
const MAX_BATCH = 256;

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** Directory of the database file `jobwatch.db`; created when missing. `:memory:` for a throwaway store. */
  readonly dataDir: string;
  /** Clock seam. @default Date.now */
  readonly now?: () => number;
}

/**
 * Opens (creating when needed) the SQLite store in `dataDir`.
 *
 * Writes use `synchronous = NORMAL` in WAL mode: a committed transaction survives a crash
 * of the process (`kill -9`); a power cut may lose the last moments, never corrupt the file.
 *
 * A directory it creates is private to the daemon's user (0700), and so is a database file
 * it creates (0600; SQLite gives its journal files the same mode). Existing ones are left as
 * they are.
 */
export function openSqliteStore(options: SqliteStoreOptions): Store {
  const now = options.now ?? Date.now;
  const db = openDatabase(options.dataDir, now);
  const q = prepareStatements(db);
  const listeners = new Set<(event: StoredEvent) => void>();
  const state = { closed: false };
  const guard = () => {
    if (state.closed) throw new Error('store is closed');
  };
  const writer = createSnapshotWriter({ db, q, now, listeners, state });
  const failOne = failWatchTransaction(db, q, now);
  const prune = pruneTransaction(db, q);

  return {
    async watch(ref, at) {
      guard();
      const before = q.getJob.get(ref.deployment, ref.jobid) as JobRow | undefined;
      q.insertJob.run(ref.deployment, ref.jobid, at, ref.url ?? null);
      return before?.state !== 'watching';
    },
    async failWatch(ref, error, deliveries) {
      guard();
      // Snapshots already queued for this job land first: the failure comes after them.
      writer.flushAll();
      const event = failOne(ref, error, deliveries) as WatchFailedEvent | undefined;
      if (event) for (const listener of listeners) listener(event);
      return event;
    },
    async setState(ref, state, error) {
      guard();
      const r = q.setState.run(
        state,
        error?.code ?? null,
        error?.message ?? null,
        now(),
        ref.deployment,
        ref.jobid,
      );
      return r.changes > 0;
    },
    async get(ref: JobRef) {
      guard();
      const row = q.getJob.get(ref.deployment, ref.jobid) as JobRow | undefined;
      return row ? toRecord(row) : undefined;
    },
    async list(filter = {}) {
      guard();
      return listJobs(db, filter);
    },
    recordSnapshot(snapshot, deliveries) {
      guard();
      return writer.record(snapshot, deliveries);
    },
    async eventsSince(afterId, filter, limit) {
      guard();
      return eventsSince(db, q, afterId, filter, limit);
    },
    async lastEventId() {
      guard();
      return (q.lastId.get() as { id: number }).id;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async prune(options) {
      guard();
      return prune(options) as PruneResult;
    },
    ...outboxMethods(db, q, now, guard),
    async loadModelKinds(keep) {
      guard();
      q.pruneModelKinds.run(keep);
      return (q.modelKinds.all() as Array<{ key: string; json: string }>).map((r) => ({
        key: r.key,
        json: r.json,
      }));
    },
    async saveModelKind(key, json, updatedAt) {
      guard();
      q.saveModelKind.run(key, json, updatedAt);
    },
    async close() {
      if (state.closed) return;
      writer.flushAll();
      state.closed = true;
      listeners.clear();
      db.close();
    },
  };
}

/**
 * Opens the database file in `dataDir` (`:memory:` for none), creating the directory (0700)
 * and the file (0600) when missing, in WAL mode with the schema brought up to date.
 */
function openDatabase(dataDir: string, now: () => number): Database.Database {
  let file = ':memory:';
  if (dataDir !== ':memory:') {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    file = join(dataDir, 'jobwatch.db');
    // 'wx' creates the file with this mode, or fails when it exists (then it is kept as is).
    if (!existsSync(file)) {
      try {
        closeSync(openSync(file, 'wx', 0o600));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
  }
  const db = new Database(file);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
  db.exec(SCHEMA);
  migrate(db, now());
  return db;
}

/** Every statement the store runs more than once, prepared once. */
function prepareStatements(db: Database.Database) {
  return {
    getJob: db.prepare('SELECT * FROM jobs WHERE deployment = ? AND jobid = ?'),
    insertJob: db.prepare(
      "INSERT INTO jobs (deployment, jobid, state, added_at, url) VALUES (?, ?, 'watching', ?, ?) " +
        "ON CONFLICT (deployment, jobid) DO UPDATE SET state = 'watching', error_code = NULL, error_message = NULL, ended_at = NULL, failed_event_id = NULL",
    ),
    failJob: db.prepare(
      "UPDATE jobs SET state = 'failed', error_code = ?, error_message = ?, ended_at = ?, failed_event_id = ? " +
        'WHERE deployment = ? AND jobid = ?',
    ),
    insertTypedEvent: db.prepare(
      'INSERT INTO events (at, deployment, jobid, snapshot, type) VALUES (?, ?, ?, ?, ?)',
    ),
    setState: db.prepare(
      'UPDATE jobs SET state = ?, error_code = ?, error_message = ?, ended_at = COALESCE(ended_at, ?) ' +
        'WHERE deployment = ? AND jobid = ?',
    ),
    insertEvent: db.prepare(
      'INSERT INTO events (at, deployment, jobid, snapshot) VALUES (?, ?, ?, ?)',
    ),
    upsertSnapshot: db.prepare(
      'INSERT INTO jobs (deployment, jobid, state, added_at, snapshot, event_id, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (deployment, jobid) DO UPDATE SET snapshot = excluded.snapshot, event_id = excluded.event_id, ' +
        "state = CASE WHEN excluded.state = 'finished' AND jobs.state = 'watching' THEN 'finished' ELSE jobs.state END, " +
        "ended_at = CASE WHEN excluded.state = 'finished' AND jobs.state = 'watching' THEN excluded.ended_at ELSE jobs.ended_at END",
    ),
    insertDelivery: db.prepare(
      'INSERT OR IGNORE INTO outbox (message_id, endpoint, body, created_at, due_at) ' +
        'SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM disabled_endpoints WHERE endpoint = ?)',
    ),
    lastId: db.prepare(
      "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) AS id",
    ),
    getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = MAX(value, excluded.value)',
    ),
    pruneCutoff: db.prepare(
      'SELECT MAX(id) AS id FROM events WHERE at < ? OR id <= (SELECT MAX(id) FROM events) - ?',
    ),
    pruneEvents: db.prepare('DELETE FROM events WHERE id <= ?'),
    pruneJobs: db.prepare("DELETE FROM jobs WHERE ended_at < ? AND state != 'watching'"),
    due: db.prepare(
      'SELECT * FROM outbox WHERE due_at <= ? AND endpoint NOT IN (SELECT endpoint FROM disabled_endpoints) ORDER BY due_at, seq LIMIT ?',
    ),
    nextDue: db.prepare('SELECT MIN(due_at) AS due FROM outbox'),
    removeDelivery: db.prepare('DELETE FROM outbox WHERE seq = ?'),
    retryDelivery: db.prepare('UPDATE outbox SET due_at = ?, attempts = ? WHERE seq = ?'),
    disable: db.prepare('INSERT OR IGNORE INTO disabled_endpoints (endpoint, at) VALUES (?, ?)'),
    dropEndpoint: db.prepare('DELETE FROM outbox WHERE endpoint = ?'),
    isDisabled: db.prepare('SELECT 1 AS yes FROM disabled_endpoints WHERE endpoint = ?'),
    modelKinds: db.prepare('SELECT key, json FROM model_kinds ORDER BY updated_at'),
    pruneModelKinds: db.prepare(
      'DELETE FROM model_kinds WHERE key NOT IN (SELECT key FROM model_kinds ORDER BY updated_at DESC LIMIT ?)',
    ),
    saveModelKind: db.prepare(
      'INSERT INTO model_kinds (key, json, updated_at) VALUES (?, ?, ?) ' +
        'ON CONFLICT (key) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at',
    ),
  };
}

/** The store's prepared statements. */
type Statements = ReturnType<typeof prepareStatements>;

/** What a snapshot's webhook deliveries are made from. */
type Deliveries = (previous: Snapshot | null, stored: Snapshot) => readonly NewDelivery[];

/** What {@link createSnapshotWriter} shares with its store. */
interface WriterContext {
  readonly db: Database.Database;
  readonly q: Statements;
  readonly now: () => number;
  readonly listeners: ReadonlySet<(event: StoredEvent) => void>;
  readonly state: { readonly closed: boolean };
}

/** One snapshot's write, its event and its deliveries; runs inside a transaction. */
function recordOne(
  q: Statements,
  now: () => number,
  next: Snapshot,
  deliveries: Deliveries,
): StoredEvent | undefined {
  const row = q.getJob.get(next.deployment, next.jobid) as JobRow | undefined;
  const previous = row?.snapshot ? (JSON.parse(row.snapshot) as Snapshot) : null;
  const snapshot = reconcileSnapshot(previous, next);
  if (!snapshot) {
    // Nothing new; but a watch whose job has ended is finished, in this same step.
    if ((previous?.terminal || next.terminal) && row?.state === 'watching')
      q.setState.run('finished', null, null, now(), next.deployment, next.jobid);
    return undefined;
  }
  const at = now();
  const json = JSON.stringify(snapshot);
  const id = Number(
    q.insertEvent.run(at, snapshot.deployment, snapshot.jobid, json).lastInsertRowid,
  );
  q.upsertSnapshot.run(
    snapshot.deployment,
    snapshot.jobid,
    snapshot.terminal ? 'finished' : 'watching',
    at,
    json,
    id,
    snapshot.terminal ? at : null,
  );
  for (const d of deliveries(previous, snapshot))
    q.insertDelivery.run(d.messageId, d.endpoint, d.body, at, at, d.endpoint);
  return { id, snapshot };
}

/**
 * The snapshot writer. Group commit: the snapshots recorded during one turn of the event loop
 * are written in one transaction (one WAL commit instead of one each), then fanned out in
 * order. Should one of them fail, each is written on its own so that the others still land.
 */
function createSnapshotWriter(context: WriterContext): {
  record(snapshot: Snapshot, deliveries: Deliveries): Promise<StoredEvent | undefined>;
  /** Writes everything queued now (before a failure is stored, or the store closes). */
  flushAll(): void;
} {
  const { db, q, now, listeners, state } = context;
  interface Pending {
    readonly snapshot: Snapshot;
    readonly deliveries: Deliveries;
    readonly resolve: (event: StoredEvent | undefined) => void;
    readonly reject: (error: unknown) => void;
  }
  type Outcome = { ok: true; event: StoredEvent | undefined } | { ok: false; error: unknown };
  /** Snapshots waiting for the next group commit, in arrival order. */
  let queue: Pending[] = [];
  const one = (snapshot: Snapshot, deliveries: Deliveries) =>
    recordOne(q, now, snapshot, deliveries);
  const recordBatch = db.transaction((batch: readonly Pending[]): Outcome[] =>
    batch.map((p) => ({ ok: true, event: one(p.snapshot, p.deliveries) })),
  );
  const recordAlone = db.transaction(one);

  const flush = () => {
    if (queue.length === 0) return;
    const batch = queue.slice(0, MAX_BATCH);
    queue = queue.slice(batch.length);
    if (queue.length > 0) setImmediate(flush);
    if (state.closed) {
      for (const p of batch) p.reject(new Error('store is closed'));
      return;
    }
    let outcomes: Outcome[];
    try {
      outcomes = recordBatch(batch) as Outcome[];
    } catch {
      outcomes = batch.map((p): Outcome => {
        try {
          return {
            ok: true,
            event: recordAlone(p.snapshot, p.deliveries) as StoredEvent | undefined,
          };
        } catch (error) {
          return { ok: false, error };
        }
      });
    }
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as Pending;
      const outcome = outcomes[i] as Outcome;
      if (!outcome.ok) {
        p.reject(outcome.error);
        continue;
      }
      try {
        if (outcome.event) for (const listener of listeners) listener(outcome.event);
        p.resolve(outcome.event);
      } catch (error) {
        p.reject(error);
      }
    }
  };

  return {
    record: (snapshot, deliveries) =>
      new Promise((resolve, reject) => {
        queue.push({ snapshot, deliveries, resolve, reject });
        if (queue.length === 1) setImmediate(flush);
      }),
    flushAll() {
      while (queue.length > 0) flush();
    },
  };
}

/** A watch that could not go on, stored with its `watch_failed` event and deliveries. */
function failWatchTransaction(db: Database.Database, q: Statements, now: () => number) {
  return db.transaction(
    (
      ref: JobRef,
      error: { code: string; message: string },
      deliveries: (failure: WatchFailure, eventId: number) => readonly NewDelivery[],
    ): WatchFailedEvent | undefined => {
      const row = q.getJob.get(ref.deployment, ref.jobid) as JobRow | undefined;
      if (row?.state !== 'watching') return undefined;
      const at = now();
      const failure: WatchFailure = {
        deployment: ref.deployment,
        jobid: ref.jobid,
        error: { code: error.code, message: error.message },
        snapshot: row.snapshot ? (JSON.parse(row.snapshot) as Snapshot) : null,
        failedAt: at,
      };
      const id = Number(
        q.insertTypedEvent.run(
          at,
          ref.deployment,
          ref.jobid,
          JSON.stringify(failure),
          'watch_failed',
        ).lastInsertRowid,
      );
      q.failJob.run(error.code, error.message, at, id, ref.deployment, ref.jobid);
      for (const d of deliveries(failure, id))
        q.insertDelivery.run(d.messageId, d.endpoint, d.body, at, at, d.endpoint);
      return { id, type: 'watch_failed', failure };
    },
  );
}

/** Drops old events and long-ended jobs, remembering how far events were pruned. */
function pruneTransaction(db: Database.Database, q: Statements) {
  return db.transaction(({ olderThan, maxEvents, jobsEndedBefore }: PruneOptions): PruneResult => {
    const jobs =
      jobsEndedBefore === undefined ? 0 : Number(q.pruneJobs.run(jobsEndedBefore).changes);
    const cutoff = (q.pruneCutoff.get(olderThan, maxEvents) as { id: number | null }).id;
    if (!cutoff) return { events: 0, jobs };
    q.setMeta.run('pruned_through', cutoff);
    return { events: Number(q.pruneEvents.run(cutoff).changes), jobs };
  });
}

/** {@link Store.list}: the jobs that match, in the order they were added, from `after` on. */
function listJobs(db: Database.Database, filter: Parameters<Store['list']>[0] = {}): JobRecord[] {
  const params: unknown[] = [];
  let sql = `SELECT * FROM jobs WHERE 1 = 1${where(filter, params)}`;
  if (filter.after) {
    sql += ' AND (added_at, deployment, jobid) > (?, ?, ?)';
    params.push(filter.after.addedAt, filter.after.deployment, filter.after.jobid);
  }
  sql += ' ORDER BY added_at, deployment, jobid';
  if (filter.limit !== undefined) {
    sql += ' LIMIT ?';
    params.push(filter.limit);
  }
  return (db.prepare(sql).all(...params) as JobRow[]).map(toRecord);
}

/** {@link Store.eventsSince}: the events after `afterId`, or `resync` when they are not all kept. */
function eventsSince(
  db: Database.Database,
  q: Statements,
  afterId: number,
  filter: EventFilter,
  limit: number,
): ReplayResult {
  const prunedThrough =
    (q.getMeta.get('pruned_through') as { value: number } | undefined)?.value ?? 0;
  const last = (q.lastId.get() as { id: number }).id;
  if (afterId < prunedThrough || afterId > last) return { kind: 'resync' };
  const params: unknown[] = [afterId];
  const sql = `SELECT id, snapshot, type FROM events WHERE id > ?${where(filter, params)} ORDER BY id LIMIT ?`;
  params.push(limit + 1);
  const rows = db.prepare(sql).all(...params) as EventRow[];
  if (rows.length > limit) return { kind: 'resync' };
  return { kind: 'events', events: rows.map(toEvent) };
}

/** The webhook outbox's part of the {@link Store}. */
function outboxMethods(
  db: Database.Database,
  q: Statements,
  now: () => number,
  guard: () => void,
): OutboxMethods {
  return {
    async dueDeliveries(at, limit) {
      guard();
      return (q.due.all(at, limit) as OutboxRow[]).map(
        (r): Delivery => ({
          seq: r.seq,
          messageId: r.message_id,
          endpoint: r.endpoint,
          body: r.body,
          attempts: r.attempts,
          createdAt: r.created_at,
          dueAt: r.due_at,
        }),
      );
    },
    async nextDueAt() {
      guard();
      return (q.nextDue.get() as { due: number | null }).due ?? undefined;
    },
    async removeDelivery(seq) {
      guard();
      q.removeDelivery.run(seq);
    },
    async retryDelivery(seq, dueAt, attempts) {
      guard();
      q.retryDelivery.run(dueAt, attempts, seq);
    },
    async disableEndpoint(endpoint) {
      guard();
      db.transaction(() => {
        q.disable.run(endpoint, now());
        q.dropEndpoint.run(endpoint);
      })();
    },
    async isEndpointDisabled(endpoint) {
      guard();
      return q.isDisabled.get(endpoint) !== undefined;
    },
  };
}
