import { join } from 'node:path';
import { makeSnapshot, type Snapshot } from '@jobwatch/schema';
import Database from 'libsql';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/store/sqlite.js';
import { reconcileSnapshot, type Store } from '../src/store/store.js';
import { job, snap, tempDir } from './helpers.js';
import { describeStoreContract, JOB, OTHER } from './store-contract.js';

const contractDirs: Array<() => void> = [];
afterAll(() => {
  for (const cleanup of contractDirs.splice(0)) cleanup();
});

describeStoreContract('SQLite', {
  async open(options = {}) {
    const t = tempDir();
    contractDirs.push(t.cleanup);
    return {
      store: openSqliteStore({ dataDir: t.dir, ...options }),
      reopen: async () => openSqliteStore({ dataDir: t.dir, ...options }),
    };
  },
});

describe('SQLite store', () => {
  const dirs: Array<() => void> = [];
  const stores: Store[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const c of dirs.splice(0)) c();
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
    const store = openSqliteStore({ dataDir: t.dir });
    stores.push(store);
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
});
