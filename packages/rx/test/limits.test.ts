/**
 * Waits of any length, and `maxUnreachable`: timers past 2³¹ − 1 ms (Node fires those after
 * 1 ms) and a server that answers nothing at all, as opposed to one that answers errors.
 */
import { ErrorCode, TransportError } from '@jobwatch/client';
import fc from 'fast-check';
import { asyncScheduler, type SchedulerAction, type SchedulerLike, Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createWatcher,
  isNoAnswer,
  longTimer,
  MAX_TIMER_DELAY,
  scheduleAfter,
  UnreachableError,
  WaitTimeoutError,
  waitForJob,
} from '../src/index.js';
import { FakeServer, job, timeline } from './fake.js';

const ID = 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d';
const DAY = 86_400_000;
const YEAR = 365 * DAY;

const newScheduler = () => {
  const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
  scheduler.maxFrames = Number.POSITIVE_INFINITY;
  return scheduler;
};

const refused = () =>
  new TransportError('Network failure (connect ECONNREFUSED 127.0.0.1:9)', { reason: 'connect' });
const badGateway = () =>
  new TransportError('HTTP 502: the server or a gateway failed; try again later', {
    reason: 'status',
    status: 502,
  });

afterEach(() => {
  vi.useRealTimers();
});

describe('timers of any length', () => {
  it('fire exactly after their delay on the real scheduler, for any delay up to a thousand years (property)', () => {
    vi.useFakeTimers();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: 1000 * YEAR }),
          fc.integer({ min: MAX_TIMER_DELAY - 2, max: 3 * MAX_TIMER_DELAY + 2 }),
        ),
        (delay) => {
          let fired = 0;
          const sub = longTimer(delay, asyncScheduler).subscribe(() => {
            fired += 1;
          });
          if (delay > 0) {
            vi.advanceTimersByTime(delay - 1);
            expect(fired, `fired before ${delay} ms`).toBe(0);
          }
          vi.advanceTimersByTime(1);
          expect(fired).toBe(1);
          sub.unsubscribe();
          vi.clearAllTimers();
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never hand the platform a delay above 2^31 - 1 ms, and add up to the delay asked (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 * MAX_TIMER_DELAY }), (delay) => {
        const asked: number[] = [];
        const inner = newScheduler();
        const recording: SchedulerLike = {
          now: () => inner.now(),
          schedule<T>(
            work: (this: SchedulerAction<T>, state?: T) => void,
            d = 0,
            state?: T,
          ): Subscription {
            asked.push(d);
            // Reschedules go through the action itself; record them too.
            return inner.schedule(
              function (this: SchedulerAction<T>, s?: T) {
                const proxy = Object.create(this) as SchedulerAction<T>;
                proxy.schedule = (next?: T, again = 0) => {
                  asked.push(again);
                  return this.schedule(next, again);
                };
                work.call(proxy, s);
              },
              d,
              state,
            );
          },
        };
        let at = -1;
        scheduleAfter(recording, () => (at = inner.now()), delay, undefined);
        inner.flush();
        expect(at).toBe(delay);
        expect(Math.max(...asked)).toBeLessThanOrEqual(MAX_TIMER_DELAY);
        expect(asked.reduce((a, b) => a + b, 0)).toBe(delay);
      }),
      { numRuns: 200 },
    );
  });

  it('never fires for Infinity and can be cancelled', () => {
    const scheduler = newScheduler();
    let fired = false;
    scheduleAfter(scheduler, () => (fired = true), Number.POSITIVE_INFINITY, undefined);
    const cancelled = scheduleAfter(scheduler, () => (fired = true), 40 * DAY, undefined);
    cancelled.unsubscribe();
    scheduler.flush();
    expect(fired).toBe(false);
    expect(cancelled).toBeInstanceOf(Subscription);
  });

  it('a maxWait of 25 days does not end the watch at once, and ends it after 25 days (real scheduler)', () => {
    vi.useFakeTimers();
    const server = new FakeServer(asyncScheduler, 10);
    server.scripts.set(ID, (t) => job(ID, 'EXECUTING', Math.min(t, 1000)));
    const watcher = createWatcher(server.client, {
      scheduler: asyncScheduler,
      pacing: { jitter: 0, maxInterval: MAX_TIMER_DELAY },
    });
    let error: unknown;
    const started = Date.now();
    let endedAt = 0;
    watcher.watch(ID, { maxWait: 25 * DAY }).subscribe({
      error: (e) => {
        error = e;
        endedAt = Date.now();
      },
    });
    vi.advanceTimersByTime(60_000);
    expect(error).toBeUndefined();
    vi.advanceTimersByTime(25 * DAY);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect(endedAt - started).toBe(25 * DAY);
    watcher.close();
  });

  it('paces polls and listings past 2^31 - 1 ms without polling every millisecond', () => {
    vi.useFakeTimers();
    const server = new FakeServer(asyncScheduler, 0);
    server.scripts.set(ID, () => job(ID, 'EXECUTING', 0));
    const watcher = createWatcher(server.client, {
      scheduler: asyncScheduler,
      pacing: { jitter: 0, minInterval: 30 * DAY, maxInterval: 30 * DAY },
    });
    const sub = watcher.watch(ID).subscribe();
    const listing = watcher.watchAll({ discover: true, listInterval: 40 * DAY }).subscribe();
    vi.advanceTimersByTime(1000);
    expect([server.callsFor(ID).length, server.listCalls.length]).toEqual([1, 1]);
    vi.advanceTimersByTime(29 * DAY - 1000);
    // One poll loop for the job, shared with the listing's watch of it: the first poll only.
    expect(server.callsFor(ID)).toHaveLength(1);
    expect(server.listCalls).toHaveLength(1);
    vi.advanceTimersByTime(DAY);
    expect(server.callsFor(ID)).toHaveLength(2);
    vi.advanceTimersByTime(10 * DAY);
    expect(server.listCalls).toHaveLength(2);
    sub.unsubscribe();
    listing.unsubscribe();
    watcher.close();
  });
});

describe('maxUnreachable', () => {
  it('tells a silent server from one that answers errors', () => {
    expect(isNoAnswer(refused())).toBe(true);
    expect(isNoAnswer(new TransportError('reset', { reason: 'network' }))).toBe(true);
    expect(isNoAnswer(new TransportError('slow', { reason: 'timeout' }))).toBe(true);
    expect(isNoAnswer(badGateway())).toBe(false);
    expect(isNoAnswer(new TransportError('html', { reason: 'body' }))).toBe(false);
    expect(isNoAnswer(new TypeError('fetch failed'))).toBe(true);
  });

  it('ends the watch with UNREACHABLE when a server never answers, counted from the subscription', () => {
    const scheduler = newScheduler();
    const server = new FakeServer(scheduler, 5);
    server.scripts.set(ID, () => refused());
    const watcher = createWatcher(server.client, { scheduler, pacing: { jitter: 0 } });
    let error: unknown;
    let at = -1;
    watcher.watch(ID, { maxUnreachable: 60_000 }).subscribe({
      error: (e) => {
        error = e;
        at = scheduler.now();
      },
    });
    scheduler.flush();
    expect(error).toBeInstanceOf(UnreachableError);
    expect(error).toMatchObject({
      code: ErrorCode.UNREACHABLE,
      jobid: ID,
      maxUnreachable: 60_000,
      lastAnswer: undefined,
    });
    expect((error as Error).message).toMatch(/never answered.*ECONNREFUSED/);
    expect(at).toBe(60_000);
    watcher.close();
  });

  it('counts from the last answer, and an answer in between starts it again', () => {
    const scheduler = newScheduler();
    const server = new FakeServer(scheduler, 0);
    // EXECUTING until 10 s, silent until 40 s, EXECUTING once at 40 s, silent after.
    server.scripts.set(ID, (t) =>
      t < 10_000 || (t >= 40_000 && t < 41_000) ? job(ID, 'EXECUTING', 0) : refused(),
    );
    const watcher = createWatcher(server.client, {
      scheduler,
      pacing: { jitter: 0, maxTroubleInterval: 1_000 },
    });
    let at = -1;
    watcher
      .watch(ID, { maxUnreachable: 35_000 })
      .subscribe({ error: () => (at = scheduler.now()) });
    scheduler.flush();
    const answers = server.callsFor(ID).filter((c) => c.start < 10_000 || c.start === 40_000);
    const lastAnswer = Math.max(...answers.map((c) => c.start));
    expect(lastAnswer).toBe(40_000);
    expect(at).toBe(lastAnswer + 35_000);
    watcher.close();
  });

  it('never ends a watch whose server answers errors: 502s and UNAVAILABLE are answers', () => {
    const scheduler = newScheduler();
    const server = new FakeServer(scheduler, 0);
    const steps = timeline(ID, [
      [0, 'EXECUTING'],
      [100_000, 'UNAVAILABLE'],
      [200_000, 'COMPLETED'],
    ]);
    server.scripts.set(ID, (t, n) => (t < 100_000 && n > 1 ? badGateway() : steps(t, n)));
    const watcher = createWatcher(server.client, { scheduler, pacing: { jitter: 0 } });
    const statuses: string[] = [];
    let error: unknown;
    watcher.watch(ID, { maxUnreachable: 5_000 }).subscribe({
      next: (s) => statuses.push(`${s.status}${s.stale ? '*' : ''}`),
      error: (e) => (error = e),
    });
    scheduler.flush();
    expect(error).toBeUndefined();
    expect(statuses.at(-1)).toBe('COMPLETED');
    expect(statuses).toContain('EXECUTING*');
    watcher.close();
  });
});

describe("waitForJob's options", () => {
  it('passes maxUnreachable on: a wait on a server that never answers rejects with UNREACHABLE', async () => {
    const scheduler = newScheduler();
    scheduler.maxFrames = 10 * 60_000;
    const server = new FakeServer(scheduler, 5);
    server.scripts.set(ID, () => refused());
    const watcher = createWatcher(server.client, { scheduler, pacing: { jitter: 0 } });
    let settled: unknown = 'pending';
    waitForJob(watcher, ID, { maxUnreachable: 60_000 }).then(
      (s) => {
        settled = s;
      },
      (e: unknown) => {
        settled = e;
      },
    );
    scheduler.flush();
    await new Promise((r) => setTimeout(r, 0));
    expect(settled).toBeInstanceOf(UnreachableError);
    expect(settled).toMatchObject({ code: ErrorCode.UNREACHABLE, maxUnreachable: 60_000 });
    watcher.close();
  });

  it('tells onSnapshot each snapshot on the way, and a throw from it ends the wait (not the watch of others)', async () => {
    const scheduler = newScheduler();
    const server = new FakeServer(scheduler, 5);
    const steps = [
      [0, 'SUBMITTED'],
      [2_000, 'EXECUTING'],
      [5_000, 'COMPLETED'],
    ] as const;
    server.scripts.set(ID, timeline(ID, steps));
    const watcher = createWatcher(server.client, { scheduler, pacing: { jitter: 0 } });
    const seen: (string | null)[] = [];
    const boom = new Error('could not draw it');
    const waiting = waitForJob(watcher, ID, { onSnapshot: (s) => seen.push(s.status) });
    const failing = waitForJob(watcher, ID, {
      onSnapshot: () => {
        throw boom;
      },
    });
    scheduler.flush();
    await expect(waiting).resolves.toMatchObject({ status: 'COMPLETED', terminal: true });
    expect(seen).toEqual(['SUBMITTED', 'EXECUTING', 'COMPLETED']);
    await expect(failing).rejects.toBe(boom);
    expect(watcher.size).toBe(0);
    watcher.close();
  });
});
