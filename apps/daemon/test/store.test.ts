import { join } from 'node:path';
import { makeSnapshot, type Snapshot } from '@jobwatch/schema';
import Database from 'libsql';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/store/sqlite.js';
import {
  type JobCursor,
  reconcileSnapshot,
  type Store,
  type StoredEvent,
} from '../src/store/store.js';
import { job, snap, tempDir } from './helpers.js';

const JOB = 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d';
const OTHER = 'j00000000-0000-4000-8000-000000000001';
const none = () => [];

describe('SQLite store', () => {
  const dirs: Array<() => void> = [];
  const stores: Store[] = [];
  const open = (dir?: string) => {
    const t = dir ? undefined : tempDir();
    if (t) dirs.push(t.cleanup);
    const store = openSqliteStore({ dataDir: dir ?? (t as { dir: string }).dir });
    stores.push(store);
    return { store, dir: dir ?? (t as { dir: string }).dir };
  };
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const c of dirs.splice(0)) c();
  });

  it('records only visible changes, with monotonic ids, and fans them out', async () => {
    const { store } = open();
    const seen: StoredEvent[] = [];
    store.subscribe((e) => seen.push(e));
    await store.watch({ deployment: 'default', jobid: JOB }, 1);
    const a = await store.recordSnapshot(snap(JOB, 'SUBMITTED', 10), none);
    const again = await store.recordSnapshot(
      { ...snap(JOB, 'SUBMITTED', 10), lastPolled: 99 },
      none,
    );
    const b = await store.recordSnapshot(snap(JOB, 'EXECUTING', 20), none);
    const c = await store.recordSnapshot(snap(OTHER, 'EXECUTING', 20), none);
    expect(again).toBeUndefined();
    expect([a?.id, b?.id, c?.id]).toEqual([1, 2, 3]);
    expect(seen.map((e) => e.id)).toEqual([1, 2, 3]);
    const record = await store.get({ deployment: 'default', jobid: JOB });
    expect(record).toMatchObject({
      state: 'watching',
      eventId: 2,
      snapshot: { status: 'EXECUTING' },
    });
    expect(await store.lastEventId()).toBe(3);
  });

  it('marks a watch finished on its terminal snapshot, and keeps everything across a reopen', async () => {
    const { store, dir } = open();
    await store.watch({ deployment: 'default', jobid: JOB }, 1);
    await store.watch({ deployment: 'default', jobid: OTHER }, 1);
    await store.recordSnapshot(snap(JOB, 'EXECUTING', 10), none);
    await store.recordSnapshot(snap(JOB, 'COMPLETED', 20), none);
    await store.recordSnapshot(snap(OTHER, 'EXECUTING', 20), none);
    await store.close();
    const { store: reopened } = open(dir);
    expect((await reopened.list({ state: 'watching' })).map((r) => r.jobid)).toEqual([OTHER]);
    expect(await reopened.get({ deployment: 'default', jobid: JOB })).toMatchObject({
      state: 'finished',
      snapshot: { status: 'COMPLETED' },
    });
    // the same terminal state, seen again after a restart, is not a new event
    expect(await reopened.recordSnapshot(snap(JOB, 'COMPLETED', 20), none)).toBeUndefined();
    expect((await reopened.recordSnapshot(snap(OTHER, 'FAILED', 30), none))?.id).toBe(4);
  });

  it('replays exactly the missed events, filtered, and asks for a resync past the retained window', async () => {
    const { store } = open();
    for (let i = 1; i <= 6; i += 1)
      await store.recordSnapshot(
        snap(i % 2 ? JOB : OTHER, i < 5 ? 'EXECUTING' : 'COMPLETED', i * 10),
        none,
      );
    const since2 = await store.eventsSince(2, {}, 100);
    expect(since2.kind === 'events' && since2.events.map((e) => e.id)).toEqual([3, 4, 5, 6]);
    const filtered = await store.eventsSince(0, { jobids: [OTHER] }, 100);
    expect(filtered.kind === 'events' && filtered.events.map((e) => e.snapshot?.jobid)).toEqual([
      OTHER,
      OTHER,
      OTHER,
    ]);
    expect(await store.eventsSince(6, {}, 100)).toEqual({ kind: 'events', events: [] });
    expect(await store.eventsSince(99, {}, 100)).toEqual({ kind: 'resync' });
    expect(await store.eventsSince(0, {}, 3)).toEqual({ kind: 'resync' });
    expect(await store.prune({ olderThan: 0, maxEvents: 2 })).toEqual({ events: 4, jobs: 0 });
    expect(await store.eventsSince(2, {}, 100)).toEqual({ kind: 'resync' });
    const kept = await store.eventsSince(4, {}, 100);
    expect(kept.kind === 'events' && kept.events.map((e) => e.id)).toEqual([5, 6]);
  });

  it('keeps ids monotonic after the whole log is pruned', async () => {
    const { store, dir } = open();
    await store.recordSnapshot(snap(JOB, 'EXECUTING', 10), none);
    await store.prune({ olderThan: Number.MAX_SAFE_INTEGER, maxEvents: 100 });
    await store.close();
    const { store: reopened } = open(dir);
    expect((await reopened.recordSnapshot(snap(JOB, 'COMPLETED', 20), none))?.id).toBe(2);
    expect(await reopened.eventsSince(0, {}, 10)).toEqual({ kind: 'resync' });
  });

  it('queues deliveries with their event, dedupes them, retries and disables endpoints', async () => {
    const { store } = open();
    const d = { messageId: 'msg_1', endpoint: 'https://hooks.example.com/a', body: '{}' };
    await store.recordSnapshot(snap(JOB, 'COMPLETED', 10), () => [
      d,
      d,
      { ...d, endpoint: 'https://hooks.example.com/b' },
    ]);
    const due = await store.dueDeliveries(Date.now() + 1, 10);
    expect(due.map((x) => x.endpoint)).toEqual([
      'https://hooks.example.com/a',
      'https://hooks.example.com/b',
    ]);
    await store.retryDelivery(due[0]!.seq, 5_000_000_000_000, 1);
    expect((await store.dueDeliveries(Date.now() + 1, 10)).map((x) => x.endpoint)).toEqual([
      'https://hooks.example.com/b',
    ]);
    await store.disableEndpoint('https://hooks.example.com/b');
    expect(await store.dueDeliveries(Date.now() + 1, 10)).toEqual([]);
    expect(await store.isEndpointDisabled('https://hooks.example.com/b')).toBe(true);
    expect(await store.nextDueAt()).toBe(5_000_000_000_000);
    await store.removeDelivery(due[0]!.seq);
    expect(await store.nextDueAt()).toBeUndefined();
  });

  it('writes the snapshots of one turn together, in order, and one bad write spoils no other', async () => {
    const { store } = open();
    const seen: number[] = [];
    store.subscribe((e) => seen.push(e.id));
    const results = await Promise.allSettled([
      store.recordSnapshot(snap(JOB, 'SUBMITTED', 10), none),
      store.recordSnapshot(snap(OTHER, 'SUBMITTED', 10), () => {
        throw new Error('cannot build the deliveries');
      }),
      store.recordSnapshot(snap(JOB, 'EXECUTING', 20), none),
      store.recordSnapshot(snap(JOB, 'EXECUTING', 20), none),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    const ids = results.map((r) => (r.status === 'fulfilled' ? (r.value?.id ?? null) : 'error'));
    expect(ids).toEqual([1, 'error', 2, null]);
    expect(seen).toEqual([1, 2]);
    expect(await store.get({ deployment: 'default', jobid: OTHER })).toBeUndefined();
    expect((await store.get({ deployment: 'default', jobid: JOB }))?.snapshot?.status).toBe(
      'EXECUTING',
    );
  });

  it('stops, fails and re-watches jobs', async () => {
    const { store } = open();
    const ref = { deployment: 'default', jobid: JOB };
    expect(await store.watch(ref, 1)).toBe(true);
    expect(await store.watch(ref, 2)).toBe(false);
    expect(await store.setState(ref, 'failed', { code: 'JOB_NOT_FOUND', message: 'gone' })).toBe(
      true,
    );
    expect(await store.get(ref)).toMatchObject({
      state: 'failed',
      error: { code: 'JOB_NOT_FOUND' },
    });
    expect(await store.watch(ref, 3)).toBe(true);
    expect((await store.get(ref))?.error).toBeUndefined();
    expect(await store.setState({ deployment: 'x', jobid: JOB }, 'stopped')).toBe(false);
  });

  it('records when a watch ended, and forgets ended jobs past the horizon but never a watched one', async () => {
    const t = tempDir();
    dirs.push(t.cleanup);
    let clock = 1_000;
    const store = openSqliteStore({ dataDir: t.dir, now: () => clock });
    stores.push(store);
    const ref = (jobid: string) => ({ deployment: 'default', jobid });
    const [done, stopped, failed, watched, again] = [1, 2, 3, 4, 5].map(
      (n) => `j00000000-0000-4000-8000-00000000000${n}`,
    ) as [string, string, string, string, string];
    for (const id of [done, stopped, failed, watched, again]) await store.watch(ref(id), 500);
    await store.recordSnapshot(snap(done, 'COMPLETED', 900), none);
    clock = 2_000;
    await store.setState(ref(stopped), 'stopped');
    await store.setState(ref(failed), 'failed', { code: 'JOB_NOT_FOUND', message: 'gone' });
    await store.setState(ref(again), 'stopped');
    clock = 3_000;
    // a second end keeps the first moment; a re-watch clears it
    await store.setState(ref(stopped), 'stopped');
    await store.watch(ref(again), 3_000);
    expect((await store.list()).map((r) => [r.jobid, r.state, r.endedAt])).toEqual([
      [done, 'finished', 1_000],
      [stopped, 'stopped', 2_000],
      [failed, 'failed', 2_000],
      [watched, 'watching', undefined],
      [again, 'watching', undefined],
    ]);
    const keepEvents = { olderThan: 0, maxEvents: 100 };
    expect(await store.prune({ ...keepEvents, jobsEndedBefore: 1_500 })).toEqual({
      events: 0,
      jobs: 1,
    });
    expect(await store.get(ref(done))).toBeUndefined();
    expect(await store.prune({ ...keepEvents, jobsEndedBefore: 10_000 })).toEqual({
      events: 0,
      jobs: 2,
    });
    expect((await store.list()).map((r) => r.jobid)).toEqual([watched, again]);
    // the event log keeps its own retention: the forgotten job's events are still replayable
    const replay = await store.eventsSince(0, {}, 10);
    expect(replay.kind === 'events' && replay.events.map((e) => e.snapshot?.jobid)).toEqual([done]);
  });

  it('pages the list in a stable order after a cursor, filtered', async () => {
    const { store } = open();
    const ids = Array.from({ length: 7 }, (_, i) => `j00000000-0000-4000-8000-00000000001${i}`);
    // two jobs share each start time, so the order falls back on deployment, then id
    for (const [i, id] of ids.entries())
      await store.watch({ deployment: i % 2 ? 'b' : 'a', jobid: id }, 100 + Math.floor(i / 2));
    const all = await store.list();
    expect(all.map((r) => r.jobid)).toEqual(ids);
    const seen: string[] = [];
    let after: JobCursor | undefined;
    for (;;) {
      const page = await store.list({ limit: 3, ...(after ? { after } : {}) });
      seen.push(...page.map((r) => r.jobid));
      const last = page[page.length - 1];
      if (page.length < 3 || !last) break;
      after = last;
    }
    expect(seen).toEqual(ids);
    const onlyB = await store.list({ deployment: 'b', after: all[1], limit: 10 });
    expect(onlyB.map((r) => r.jobid)).toEqual([ids[3], ids[5]]);
  });

  it('upgrades a database written before jobs recorded their end, keeping every row', async () => {
    const t = tempDir();
    dirs.push(t.cleanup);
    const old = new Database(join(t.dir, 'jobwatch.db'));
    old.exec(
      'CREATE TABLE jobs (deployment TEXT NOT NULL, jobid TEXT NOT NULL, state TEXT NOT NULL, ' +
        'added_at INTEGER NOT NULL, snapshot TEXT, event_id INTEGER NOT NULL DEFAULT 0, ' +
        'error_code TEXT, error_message TEXT, PRIMARY KEY (deployment, jobid))',
    );
    old
      .prepare("INSERT INTO jobs (deployment, jobid, state, added_at) VALUES ('default', ?, ?, 5)")
      .run(JOB, 'finished');
    old
      .prepare("INSERT INTO jobs (deployment, jobid, state, added_at) VALUES ('default', ?, ?, 6)")
      .run(OTHER, 'watching');
    old.close();
    const store = openSqliteStore({ dataDir: t.dir, now: () => 7_000 });
    stores.push(store);
    expect((await store.list()).map((r) => [r.jobid, r.state, r.endedAt])).toEqual([
      [JOB, 'finished', 7_000],
      [OTHER, 'watching', undefined],
    ]);
    // ended "now": the whole retention is still ahead of it
    expect(await store.prune({ olderThan: 0, maxEvents: 10, jobsEndedBefore: 7_000 })).toEqual({
      events: 0,
      jobs: 0,
    });
  });

  it('keeps the URL of a job of another source, and reads rows written before URLs as the deployment’s own jobs', async () => {
    const t = tempDir();
    dirs.push(t.cleanup);
    const old = new Database(join(t.dir, 'jobwatch.db'));
    old.exec(
      'CREATE TABLE jobs (deployment TEXT NOT NULL, jobid TEXT NOT NULL, state TEXT NOT NULL, ' +
        'added_at INTEGER NOT NULL, snapshot TEXT, event_id INTEGER NOT NULL DEFAULT 0, ' +
        'error_code TEXT, error_message TEXT, ended_at INTEGER, failed_event_id INTEGER, ' +
        'PRIMARY KEY (deployment, jobid))',
    );
    old
      .prepare("INSERT INTO jobs (deployment, jobid, state, added_at) VALUES ('default', ?, ?, 5)")
      .run(JOB, 'watching');
    old.close();
    const { store } = open(t.dir);
    const before = await store.get({ deployment: 'default', jobid: JOB });
    expect(before).toMatchObject({ jobid: JOB, state: 'watching' });
    expect(before).not.toHaveProperty('url');
    const url = `https://h/server/rest/services/B/GPServer/B/jobs/${OTHER}`;
    await store.watch({ deployment: 'default', jobid: OTHER, url }, 6);
    expect((await store.list({ state: 'watching' })).map((r) => [r.jobid, r.url])).toEqual([
      [JOB, undefined],
      [OTHER, url],
    ]);
  });
});

describe('reconciling a snapshot of another source', () => {
  const ref = {
    source: 'gp',
    taskUrl: 'https://h/server/rest/services/B/GPServer/B',
    jobid: OTHER,
  } as const;
  const gp = (at: number, body: Snapshot['job'], stale = false) =>
    makeSnapshot({
      deployment: 'default',
      jobid: OTHER,
      job: body,
      firstSeen: at,
      lastPolled: at,
      lastChanged: at,
      stale,
      ...(stale
        ? { trouble: { code: 'TRANSPORT', message: 'HTTP 502', since: at, attempts: 1 } }
        : {}),
      ref,
    });
  const running = (percentage: number) =>
    ({
      jobid: OTHER,
      status: 'esriJobExecuting',
      progress: { type: 'default', message: 'Buffering', percentage },
    }) as unknown as Snapshot['job'];

  it('keeps its source, URL, progress and step when a fresh loop’s trouble keeps the stored body', () => {
    const stored = gp(1_000, running(40));
    const merged = reconcileSnapshot(stored, gp(9_000, null, true));
    expect(merged).toMatchObject({
      source: 'gp',
      url: `${ref.taskUrl}/jobs/${OTHER}`,
      status: 'EXECUTING',
      progress: 0.4,
      step: { text: 'Buffering' },
      stale: true,
      firstSeen: 1_000,
    });
  });

  it('counts a move of progress as a change', () => {
    const stored = gp(1_000, running(40));
    const next = reconcileSnapshot(stored, gp(2_000, running(60)));
    expect(next).toMatchObject({ progress: 0.6, lastChanged: 2_000 });
  });
});

/** What a poll loop started afresh (after a restart) emits before its first good answer. */
const troubled = (jobid: string, at: number, body: Snapshot['job'] = null): Snapshot =>
  makeSnapshot({
    deployment: 'default',
    jobid,
    job: body,
    firstSeen: at,
    lastPolled: at,
    lastChanged: at,
    stale: true,
    trouble: { code: 'TRANSPORT', message: 'HTTP 502', since: at, attempts: 1 },
  });

describe('reconciling a snapshot with the stored one', () => {
  it('records nothing after a terminal snapshot, whatever comes next', () => {
    const ended = snap(JOB, 'COMPLETED', 20);
    expect(reconcileSnapshot(ended, troubled(JOB, 30))).toBeUndefined();
    expect(reconcileSnapshot(ended, snap(JOB, 'EXECUTING', 40))).toBeUndefined();
    expect(
      reconcileSnapshot(ended, { ...snap(JOB, 'COMPLETED', 50), lastPolled: 60 }),
    ).toBeUndefined();
  });

  it('keeps the stored body when a fresh loop meets trouble before its first answer', () => {
    const running = snap(JOB, 'EXECUTING', 20);
    for (const next of [
      troubled(JOB, 1_800_000_000_000),
      troubled(JOB, 1_800_000_000_000, job(JOB, 'UNAVAILABLE', 1_800_000_000_000)),
    ]) {
      const stored = reconcileSnapshot(running, next);
      expect(stored).toMatchObject({
        status: 'EXECUTING',
        kind: 'passing',
        stale: true,
        job: running.job,
        trouble: { code: 'TRANSPORT' },
        firstSeen: running.firstSeen,
        lastChanged: running.lastChanged,
        lastPolled: 1_800_000_000_000,
      });
    }
  });

  it('takes a real change, keeping the earliest firstSeen, and ignores what is not visible', () => {
    const running = snap(JOB, 'EXECUTING', 20);
    const later = { ...snap(JOB, 'COMPLETED', 40), firstSeen: 1_800_000_000_000 };
    expect(reconcileSnapshot(running, later)).toMatchObject({
      status: 'COMPLETED',
      terminal: true,
      firstSeen: running.firstSeen,
      lastChanged: 40,
    });
    expect(reconcileSnapshot(running, { ...running, lastPolled: 99 })).toBeUndefined();
    expect(reconcileSnapshot(null, running)).toBe(running);
  });

  it('keeps the eta of what it stores, also when it carries times over', () => {
    const eta = {
      middle: 90,
      low: 80,
      high: 120,
      basis: 12,
      overdue: false,
    };
    const running = snap(JOB, 'SUBMITTED', 20);
    // A fresh loop after a restart: its firstSeen is later, so the times are merged.
    const next = { ...snap(JOB, 'EXECUTING', 40), firstSeen: 1_800_000_000_000, eta };
    expect(reconcileSnapshot(running, next)?.eta).toEqual(eta);
    expect(reconcileSnapshot(null, next)?.eta).toEqual(eta);
  });

  it('stores the reconciled snapshot and computes deliveries from it', async () => {
    const t = tempDir();
    const store = openSqliteStore({ dataDir: t.dir });
    try {
      await store.watch({ deployment: 'default', jobid: JOB }, 1);
      await store.recordSnapshot(snap(JOB, 'EXECUTING', 10), none);
      const seen: Array<[string | null | undefined, string | null]> = [];
      const event = await store.recordSnapshot(troubled(JOB, 50), (previous, stored) => {
        seen.push([previous?.status, stored.status]);
        return [];
      });
      expect(event?.snapshot).toMatchObject({ status: 'EXECUTING', stale: true });
      expect(seen).toEqual([['EXECUTING', 'EXECUTING']]);
      await store.recordSnapshot(snap(JOB, 'FAILED', 60), none);
      expect(await store.recordSnapshot(troubled(JOB, 70), none)).toBeUndefined();
      expect(await store.recordSnapshot(snap(JOB, 'FAILED', 60), none)).toBeUndefined();
      const log = await store.eventsSince(0, {}, 10);
      expect(log.kind === 'events' && log.events.map((e) => e.snapshot?.status)).toEqual([
        'EXECUTING',
        'EXECUTING',
        'FAILED',
      ]);
      expect((await store.get({ deployment: 'default', jobid: JOB }))?.state).toBe('finished');
    } finally {
      await store.close();
      t.cleanup();
    }
  });
});
