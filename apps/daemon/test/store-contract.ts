/**
 * The {@link Store} contract as tests: every implementation runs this same suite (SQLite in
 * `store.test.ts`, Redis in `redis-store.test.ts`), so that the daemon cannot tell them apart.
 */

import { makeSnapshot, type Snapshot } from '@jobwatch/schema';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobCursor, Store, StoredEvent, WatchFailure } from '../src/store/store.js';
import { snap } from './helpers.js';

export const JOB = 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d';
export const OTHER = 'j00000000-0000-4000-8000-000000000001';
export const none = () => [];

/** Opens stores of one implementation for the contract. */
export interface StoreHarness {
  /**
   * A fresh, empty store, and a way to close it and open the same data again (a restart).
   */
  open(options?: { now?: () => number }): Promise<{ store: Store; reopen: () => Promise<Store> }>;
}

/** Runs the contract against the stores `harness` opens; closes them after each test. */
export function describeStoreContract(name: string, harness: StoreHarness): void {
  describe(`${name} store contract`, () => {
    const stores: Store[] = [];
    const open = async (options?: { now?: () => number }) => {
      const opened = await harness.open(options);
      stores.push(opened.store);
      return {
        store: opened.store,
        reopen: async () => {
          await opened.store.close();
          const again = await opened.reopen();
          stores.push(again);
          return again;
        },
      };
    };
    afterEach(async () => {
      for (const s of stores.splice(0)) await s.close();
    });

    it('records only visible changes, with monotonic ids, and fans them out', async () => {
      const { store } = await open();
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
      const { store, reopen } = await open();
      await store.watch({ deployment: 'default', jobid: JOB }, 1);
      await store.watch({ deployment: 'default', jobid: OTHER }, 1);
      await store.recordSnapshot(snap(JOB, 'EXECUTING', 10), none);
      await store.recordSnapshot(snap(JOB, 'COMPLETED', 20), none);
      await store.recordSnapshot(snap(OTHER, 'EXECUTING', 20), none);
      const reopened = await reopen();
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
      const { store } = await open();
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
      const { store, reopen } = await open();
      await store.recordSnapshot(snap(JOB, 'EXECUTING', 10), none);
      await store.prune({ olderThan: Number.MAX_SAFE_INTEGER, maxEvents: 100 });
      const reopened = await reopen();
      expect((await reopened.recordSnapshot(snap(JOB, 'COMPLETED', 20), none))?.id).toBe(2);
      expect(await reopened.eventsSince(0, {}, 10)).toEqual({ kind: 'resync' });
    });

    it('queues deliveries with their event, dedupes them, retries and disables endpoints', async () => {
      const { store } = await open();
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

    it('writes snapshots that arrive together in order, and one bad write spoils no other', async () => {
      const { store } = await open();
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

    it('keeps the URL of a job of another source across a reopen and a re-watch; none for its deployment’s own', async () => {
      const { store, reopen } = await open();
      const url = `https://h/server/rest/services/B/GPServer/B/jobs/${OTHER}`;
      await store.watch({ deployment: 'default', jobid: JOB }, 1);
      await store.watch({ deployment: 'default', jobid: OTHER, url }, 2);
      await store.setState({ deployment: 'default', jobid: OTHER }, 'stopped');
      await store.watch({ deployment: 'default', jobid: OTHER, url }, 3);
      const again = await reopen();
      expect((await again.list({ state: 'watching' })).map((r) => [r.jobid, r.url])).toEqual([
        [JOB, undefined],
        [OTHER, url],
      ]);
      expect(await again.get({ deployment: 'default', jobid: JOB })).not.toHaveProperty('url');
    });

    it('stops, fails and re-watches jobs', async () => {
      const { store } = await open();
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
      let clock = 1_000;
      const { store } = await open({ now: () => clock });
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
      expect(replay.kind === 'events' && replay.events.map((e) => e.snapshot?.jobid)).toEqual([
        done,
      ]);
    });

    it('pages the list in a stable order after a cursor, filtered', async () => {
      const { store } = await open();
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

    it('fails a watch once, with its event and deliveries, and only while it is watched', async () => {
      const { store } = await open();
      const ref = { deployment: 'default', jobid: JOB };
      const seen: StoredEvent[] = [];
      store.subscribe((e) => seen.push(e));
      await store.watch(ref, 1);
      await store.recordSnapshot(snap(JOB, 'EXECUTING', 10), none);
      const asked: Array<[WatchFailure, number]> = [];
      const event = await store.failWatch(
        ref,
        { code: 'JOB_NOT_FOUND', message: 'purged' },
        (f, id) => {
          asked.push([f, id]);
          return [
            { messageId: `msg_fail_${id}`, endpoint: 'https://hooks.example.com/a', body: '{}' },
          ];
        },
      );
      expect(event).toMatchObject({
        id: 2,
        type: 'watch_failed',
        failure: {
          jobid: JOB,
          error: { code: 'JOB_NOT_FOUND' },
          snapshot: { status: 'EXECUTING' },
        },
      });
      expect(asked.map(([, id]) => id)).toEqual([2]);
      expect(seen.map((e) => [e.id, e.type ?? 'snapshot'])).toEqual([
        [1, 'snapshot'],
        [2, 'watch_failed'],
      ]);
      expect(await store.get(ref)).toMatchObject({
        state: 'failed',
        error: { code: 'JOB_NOT_FOUND', message: 'purged' },
        failureEventId: 2,
      });
      expect((await store.dueDeliveries(Date.now() + 1, 10)).map((d) => d.messageId)).toEqual([
        'msg_fail_2',
      ]);
      // no longer watched, or never known: nothing changes
      expect(await store.failWatch(ref, { code: 'AUTH', message: 'again' }, none)).toBeUndefined();
      expect(
        await store.failWatch(
          { deployment: 'default', jobid: OTHER },
          { code: 'AUTH', message: 'x' },
          none,
        ),
      ).toBeUndefined();
      const log = await store.eventsSince(0, {}, 10);
      expect(log.kind === 'events' && log.events.map((e) => e.id)).toEqual([1, 2]);
    });

    it('keeps the duration model kinds updated last', async () => {
      const { store } = await open();
      await store.saveModelKind('a', '{"n":1}', 10);
      await store.saveModelKind('b', '{"n":2}', 20);
      await store.saveModelKind('c', '{"n":3}', 30);
      await store.saveModelKind('a', '{"n":4}', 40);
      expect(await store.loadModelKinds(10)).toEqual([
        { key: 'b', json: '{"n":2}' },
        { key: 'c', json: '{"n":3}' },
        { key: 'a', json: '{"n":4}' },
      ]);
      expect((await store.loadModelKinds(2)).map((k) => k.key)).toEqual(['c', 'a']);
      expect((await store.loadModelKinds(10)).map((k) => k.key)).toEqual(['c', 'a']);
    });

    it('hands out a delivery until it is removed or retried, and not twice once sent', async () => {
      const { store } = await open();
      const d = { messageId: 'msg_9', endpoint: 'https://hooks.example.com/a', body: '{"x":1}' };
      await store.recordSnapshot(snap(JOB, 'EXECUTING', 10), () => [d]);
      const [first] = await store.dueDeliveries(Date.now() + 1, 10);
      expect(first).toMatchObject({ ...d, attempts: 0 });
      expect((await store.dueDeliveries(Date.now() + 1, 10)).map((x) => x.seq)).toEqual([
        first?.seq,
      ]);
      await store.retryDelivery(first!.seq, 0, 1);
      const [again] = await store.dueDeliveries(Date.now() + 1, 10);
      expect(again).toMatchObject({ ...d, attempts: 1, dueAt: 0 });
      await store.removeDelivery(again!.seq);
      expect(await store.dueDeliveries(Date.now() + 1, 10)).toEqual([]);
      expect(await store.nextDueAt()).toBeUndefined();
      // the same message to the same endpoint, queued again after it was sent, is a new delivery
      await store.recordSnapshot(snap(JOB, 'COMPLETED', 20), () => [d]);
      expect((await store.dueDeliveries(Date.now() + 1, 10)).map((x) => x.messageId)).toEqual([
        'msg_9',
      ]);
    });
    it('stores the reconciled snapshot and computes deliveries from it', async () => {
      const { store } = await open();
      {
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
      }
    });
  });
}

/** What a poll loop started afresh (after a restart) emits before its first good answer. */
export const troubled = (jobid: string, at: number, body: Snapshot['job'] = null): Snapshot =>
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
