import {
  type AdminClient,
  AuthError,
  ConfigError,
  ErrorCode,
  InvalidJobIdError,
  isJobwatchError,
  JobNotFoundError,
  JobwatchError,
  RateLimitedError,
  TransportError,
  toJobwatchError,
  ValidationError,
} from '@jobwatch/client';
import type { Snapshot } from '@jobwatch/schema';
import { map, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  createWatcher,
  JobFailedError,
  UnknownStatusError,
  WaitTimeoutError,
  type WatcherOptions,
  waitForJob,
} from '../src/index.js';
import { FakeServer, job, type Script, timeline } from './fake.js';

const ID = 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d';
const ID2 = 'j6336aaaa-83a4-4cc1-a034-40e4a266e96d';

/** A status, with `*` when stale: what a user would see. */
const seen = (s: Snapshot) => `${s.status}${s.stale ? '*' : ''}`;
const statuses = (o: Observable<Snapshot>) => o.pipe(map(seen));

function setup(scheduler: TestScheduler, options: WatcherOptions = {}, latency = 0) {
  const server = new FakeServer(scheduler, latency);
  const watcher = createWatcher(server.client, {
    scheduler,
    pacing: { jitter: 0 },
    grace: 700,
    ...options,
  });
  return { server, watcher };
}

const newScheduler = () => {
  const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
  // Outside `run()` a TestScheduler stops at frame 750 by default.
  scheduler.maxFrames = Number.POSITIVE_INFINITY;
  return scheduler;
};

/** SUBMITTED at 0, EXECUTING at 2500, COMPLETED at 4200. */
const usual = timeline(ID, [
  [0, 'SUBMITTED'],
  [2500, 'EXECUTING'],
  [4200, 'COMPLETED'],
]);

function errorOf(o: Observable<unknown>, scheduler: TestScheduler): { error: unknown; at: number } {
  let error: unknown;
  let at = -1;
  o.subscribe({
    error: (e) => {
      error = e;
      at = scheduler.now();
    },
  });
  scheduler.flush();
  return { error, at };
}

describe('one job', () => {
  it('polls at once, emits each visible change and the terminal snapshot, then completes', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, usual);
      expectObservable(statuses(watcher.watch(ID))).toBe('a 2999ms b 1999ms (c|)', {
        a: 'SUBMITTED',
        b: 'EXECUTING',
        c: 'COMPLETED',
      });
      scheduler.flush();
      expect(server.callsFor(ID).map((c) => c.start)).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    });
  });

  it('builds snapshots with first-seen, last-polled and last-changed times', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, usual);
      const out: Snapshot[] = [];
      watcher.watch(ID).subscribe((s) => out.push(s));
      scheduler.flush();
      expect(out.map((s) => [s.firstSeen, s.lastPolled, s.lastChanged, s.kind, s.outcome])).toEqual(
        [
          [0, 0, 0, 'passing', 'none'],
          [0, 3000, 3000, 'passing', 'none'],
          [0, 5000, 5000, 'terminal', 'succeeded'],
        ],
      );
      expect(out[2]).toMatchObject({
        deployment: 'default',
        jobid: ID,
        terminal: true,
        stale: false,
      });
    });
  });

  it('paces an older job by its age, slower and slower, within the ceiling', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const { server, watcher } = setup(scheduler, { pacing: { jitter: 0, maxInterval: 20_000 } });
      // Started 100 s before jobwatch saw it (server clock), never changes for 10 min.
      server.scripts.set(ID, (t) =>
        t < 600_000
          ? job(ID, 'EXECUTING', 0, { starttime: -100_000 })
          : job(ID, 'COMPLETED', 600_000),
      );
      watcher.watch(ID).subscribe();
      scheduler.flush();
      const starts = server.callsFor(ID).map((c) => c.start);
      const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
      // The first poll counts as a change: 1 s first, then 100 × 1 s of "age" → 10 s, then
      // growing with the real age (over 100 s), capped at 20 s.
      expect(gaps[0]).toBe(1000);
      expect(gaps[1]).toBeCloseTo(0.1 * 100 * 1000, 0);
      expect(gaps.slice(2).every((g, i) => g >= gaps[i + 1]! - 1e-6)).toBe(true);
      expect(Math.max(...gaps)).toBe(20_000);
      expect(starts.length).toBeLessThan(50);
    });
  });

  it('never has two requests for one job in flight, even when answers are slower than the interval', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const { server, watcher } = setup(scheduler, {}, 3000);
      server.scripts.set(ID, usual);
      watcher.watch(ID).subscribe();
      watcher.watch(ID).subscribe();
      scheduler.flush();
      const calls = server.callsFor(ID);
      expect(server.maxInFlightPerJob).toBe(1);
      for (let i = 1; i < calls.length; i++)
        expect(calls[i]!.start).toBeGreaterThanOrEqual(calls[i - 1]!.end!);
      expect(calls.length).toBe(2);
    });
  });

  it('emits nothing for polls that change nothing visible', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, (t) =>
        t < 20_000 ? job(ID, 'EXECUTING', 0) : job(ID, 'COMPLETED', 20_000),
      );
      const out: string[] = [];
      watcher.watch(ID).subscribe((s) => out.push(seen(s)));
      scheduler.flush();
      expect(server.callsFor(ID).length).toBeGreaterThan(5);
      expect(out).toEqual(['EXECUTING', 'COMPLETED']);
    });
  });
});

describe('trouble', () => {
  it('shows transient trouble as a stale snapshot, retries with backoff and recovers', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, watcher } = setup(scheduler);
      const base = timeline(ID, [
        [0, 'SUBMITTED'],
        [3000, 'EXECUTING'],
        [6000, 'COMPLETED'],
      ]);
      server.scripts.set(ID, (t, n) =>
        t >= 1000 && t < 3500
          ? new TransportError('HTTP 502: the server or a gateway failed', {
              reason: 'status',
              status: 502,
            })
          : base(t, n),
      );
      const stream = watcher.watch(ID);
      expectObservable(statuses(stream)).toBe('a 999ms b 2999ms c 1999ms (d|)', {
        a: 'SUBMITTED',
        b: 'SUBMITTED*',
        c: 'EXECUTING',
        d: 'COMPLETED',
      });
      const troubles: unknown[] = [];
      stream.subscribe((s) => troubles.push(s.trouble));
      scheduler.flush();
      expect(troubles[1]).toEqual({
        code: ErrorCode.TRANSPORT,
        message: 'HTTP 502: the server or a gateway failed',
        since: 1000,
        attempts: 1,
      });
      expect(troubles[2]).toBeUndefined();
      expect(server.callsFor(ID).map((c) => c.start)).toEqual([0, 1000, 2000, 4000, 5000, 6000]);
    });
  });

  it('sends every poll as one attempt: N failed requests are N budget grants, each shown at once', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const { server, watcher } = setup(scheduler);
      // What the watcher showed when each request reached the server: failures in a row.
      const shownBefore: number[] = [];
      server.scripts.set(ID, (t, n) => {
        shownBefore.push(watcher.current(ID)?.trouble?.attempts ?? 0);
        return t >= 1000 && t < 8000
          ? new TransportError('HTTP 503: the server or a gateway failed', {
              reason: 'status',
              status: 503,
            })
          : usual(t, n);
      });
      const out: Array<[number, string]> = [];
      watcher.watch(ID).subscribe((s) => out.push([scheduler.now(), seen(s)]));
      scheduler.flush();
      // Backoff 1 s, 2 s, 4 s after the failures at 1 s, 2 s and 4 s; healthy at 8 s.
      expect(server.callsFor(ID).map((c) => c.start)).toEqual([0, 1000, 2000, 4000, 8000]);
      expect(shownBefore).toEqual([0, 0, 1, 2, 3]);
      expect(out).toEqual([
        [0, 'SUBMITTED'],
        [1000, 'SUBMITTED*'],
        [8000, 'COMPLETED'],
      ]);
      expect(watcher.budget.stats().started).toBe(5);
      expect(server.options.every((o) => o?.retry === false)).toBe(true);
    });
  });

  it("waits at least the server's Retry-After after a 429", () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, (t, n) =>
        n === 2
          ? new RateLimitedError('Rate limited (HTTP 429)', { retryAfterMs: 7000 })
          : usual(t, n),
      );
      const out: string[] = [];
      watcher.watch(ID).subscribe((s) => out.push(seen(s)));
      scheduler.flush();
      expect(
        server
          .callsFor(ID)
          .map((c) => c.start)
          .slice(0, 3),
      ).toEqual([0, 1000, 8000]);
      expect(out).toEqual(['SUBMITTED', 'SUBMITTED*', 'COMPLETED']);
    });
  });

  it('treats an UNAVAILABLE status as passing trouble: the last status, stale', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(
        ID,
        timeline(ID, [
          [0, 'EXECUTING'],
          [1000, 'UNAVAILABLE'],
          [2000, 'EXECUTING'],
          [2500, 'COMPLETED'],
        ]),
      );
      const stream = watcher.watch(ID);
      expectObservable(statuses(stream)).toBe('a 999ms b 999ms c 999ms (d|)', {
        a: 'EXECUTING',
        b: 'EXECUTING*',
        c: 'EXECUTING',
        d: 'COMPLETED',
      });
      const codes: unknown[] = [];
      stream.subscribe((s) => codes.push(s.trouble?.code));
      scheduler.flush();
      expect(codes).toEqual([undefined, 'UNAVAILABLE', undefined, undefined]);
    });
  });

  it('shows a first answer of UNAVAILABLE as such, stale', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(
        ID,
        timeline(ID, [
          [0, 'UNAVAILABLE'],
          [500, 'COMPLETED'],
        ]),
      );
      expectObservable(statuses(watcher.watch(ID))).toBe('a 999ms (b|)', {
        a: 'UNAVAILABLE*',
        b: 'COMPLETED',
      });
    });
  });

  it('shows a network failure before any body as a pending, stale snapshot', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, (t, n) =>
        n === 1 ? new TransportError('connection refused', { reason: 'connect' }) : usual(t, n),
      );
      const out: Snapshot[] = [];
      watcher.watch(ID).subscribe((s) => out.push(s));
      scheduler.flush();
      expect(out[0]).toMatchObject({
        status: null,
        kind: 'pending',
        job: null,
        stale: true,
        lastPolled: 0,
      });
      expect(out.at(-1)?.status).toBe('COMPLETED');
    });
  });

  it('ends the stream with JobNotFoundError for a job that does not exist', () => {
    const scheduler = newScheduler();
    const { server, watcher } = setup(scheduler);
    server.scripts.set(ID, () => new JobNotFoundError('Job not found', { jobid: ID }));
    const { error, at } = errorOf(watcher.watch(ID), scheduler);
    expect(error).toBeInstanceOf(JobNotFoundError);
    expect(at).toBe(0);
    expect(server.callsFor(ID)).toHaveLength(1);
  });

  it('ends the stream with AuthError when credentials are refused mid-watch', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, (t, n) =>
        n === 2
          ? new AuthError('Invalid token (498) after a refresh', { arcgisCode: 498 })
          : usual(t, n),
      );
      expectObservable(statuses(watcher.watch(ID))).toBe(
        'a 999ms #',
        { a: 'SUBMITTED' },
        new AuthError('Invalid token (498) after a refresh', { arcgisCode: 498 }),
      );
    });
  });

  it('retries a body that does not validate, and recovers when it validates again', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const { server, watcher } = setup(scheduler);
      const bad = () =>
        new ValidationError('job.status: expected a string, got 42', { issues: [] });
      server.scripts.set(ID, (t, n) => (n === 2 || n === 3 ? bad() : usual(t, n)));
      const out: string[] = [];
      let failed: unknown;
      watcher.watch(ID).subscribe({ next: (s) => out.push(seen(s)), error: (e) => (failed = e) });
      scheduler.flush();
      expect(failed).toBeUndefined();
      expect(out).toEqual(['SUBMITTED', 'SUBMITTED*', 'EXECUTING', 'COMPLETED']);
    });
  });

  it('ends the stream with ValidationError when bodies never validate (3 in a row by default)', () => {
    const scheduler = newScheduler();
    const { server, watcher } = setup(scheduler);
    server.scripts.set(
      ID,
      () => new ValidationError('job: expected an object, got "<html>"', { issues: [] }),
    );
    const { error, at } = errorOf(watcher.watch(ID), scheduler);
    expect(error).toBeInstanceOf(ValidationError);
    expect(server.callsFor(ID)).toHaveLength(3);
    expect(at).toBe(3000);
  });

  it('refuses an unsafe job id with InvalidJobIdError before any request', () => {
    const scheduler = newScheduler();
    const { server, watcher } = setup(scheduler);
    for (const bad of ['../services', 'j1?x=y', '', 'a'.repeat(200)]) {
      const { error } = errorOf(watcher.watch(bad), scheduler);
      expect(error).toBeInstanceOf(InvalidJobIdError);
      expect((error as InvalidJobIdError).code).toBe('INVALID_JOB_ID');
    }
    expect(server.calls).toHaveLength(0);
  });
});

describe('unknown statuses', () => {
  const paused = timeline(ID, [
    [0, 'SUBMITTED'],
    [1000, 'PAUSED'],
    [3000, 'COMPLETED'],
  ]);

  it("keeps watching and surfaces it by default ('watch')", () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, paused);
      const out: Snapshot[] = [];
      watcher.watch(ID).subscribe((s) => out.push(s));
      scheduler.flush();
      expect(out.map((s) => [s.status, s.kind])).toEqual([
        ['SUBMITTED', 'passing'],
        ['PAUSED', 'unknown'],
        ['COMPLETED', 'terminal'],
      ]);
    });
  });

  it("emits it, then ends with UnknownStatusError under 'error'", () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, watcher } = setup(scheduler, { unknownStatus: 'error' });
      server.scripts.set(ID, paused);
      expectObservable(statuses(watcher.watch(ID))).toBe(
        'a 999ms (b#)',
        { a: 'SUBMITTED', b: 'PAUSED' },
        new UnknownStatusError({ jobid: ID, status: 'PAUSED' }),
      );
    });
  });

  it('makes UnknownStatusError a JobwatchError with a code from ErrorCode', () => {
    const error = new UnknownStatusError({ jobid: ID, status: 'PAUSED' });
    expect(error).toBeInstanceOf(JobwatchError);
    expect(Object.values(ErrorCode)).toContain(error.code);
    expect(error).toMatchObject({ jobid: ID, status: 'PAUSED', retryable: false });
  });

  it("emits it, then completes under 'complete'", () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, watcher } = setup(scheduler, { unknownStatus: 'complete' });
      server.scripts.set(ID, paused);
      expectObservable(statuses(watcher.watch(ID))).toBe('a 999ms (b|)', {
        a: 'SUBMITTED',
        b: 'PAUSED',
      });
    });
  });

  it('refuses an unknown policy name', () => {
    const { client } = new FakeServer(newScheduler());
    expect(() => createWatcher(client, { unknownStatus: 'ignore' as 'watch' })).toThrow(
      ConfigError,
    );
  });

  it.each([
    ['a negative grace', { grace: -1 }],
    ['zero schema failures', { maxSchemaFailures: 0 }],
    ['a bad budget', { budget: { concurrency: 0 } }],
    ['a bad pacing', { pacing: { jitter: 2 } }],
  ])('refuses %s with a ConfigError', (_name, options) => {
    const { client } = new FakeServer(newScheduler());
    expect(() => createWatcher(client, options)).toThrow(ConfigError);
  });

  it('refuses a negative maxWait with a ConfigError', () => {
    const scheduler = newScheduler();
    const { watcher } = setup(scheduler);
    expect(errorOf(watcher.watch(ID, { maxWait: -5 }), scheduler).error).toBeInstanceOf(
      ConfigError,
    );
  });
});

describe('time limits', () => {
  it('ends one subscriber with WaitTimeoutError after maxWait, leaving the others watching', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, usual);
      const limited = watcher.watch(ID, { maxWait: 1500 });
      expectObservable(statuses(limited)).toBe(
        'a 1499ms #',
        { a: 'SUBMITTED' },
        new WaitTimeoutError({
          jobid: ID,
          maxWait: 1500,
          last: expect.objectContaining({ status: 'SUBMITTED' }) as Snapshot,
        }),
      );
      expectObservable(statuses(watcher.watch(ID))).toBe('a 2999ms b 1999ms (c|)', {
        a: 'SUBMITTED',
        b: 'EXECUTING',
        c: 'COMPLETED',
      });
    });
  });

  it('carries the last snapshot on the timeout error, and stops the loop when no one is left', () => {
    const scheduler = newScheduler();
    const { server, watcher } = setup(scheduler);
    server.scripts.set(ID, usual);
    const { error, at } = errorOf(watcher.watch(ID, { maxWait: 1500 }), scheduler);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as WaitTimeoutError).code).toBe('WAIT_TIMEOUT');
    expect(isJobwatchError(error)).toBe(true);
    expect((error as WaitTimeoutError).last?.status).toBe('SUBMITTED');
    expect(at).toBe(1500);
    // Grace of 700 ms after 1500: polls at 0, 1000, 2000 and no more.
    expect(server.callsFor(ID).map((c) => c.start)).toEqual([0, 1000, 2000]);
    expect(watcher.size).toBe(0);
  });
});

describe('sharing', () => {
  it('runs one loop for many subscribers', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, usual);
      const finals: string[] = [];
      for (let i = 0; i < 50; i++) {
        watcher.watch(ID).subscribe((s) => {
          if (s.terminal) finals.push(seen(s));
        });
      }
      expect(watcher.size).toBe(1);
      scheduler.flush();
      expect(server.callsFor(ID)).toHaveLength(6);
      expect(finals).toEqual(Array(50).fill('COMPLETED'));
      expect(watcher.size).toBe(0);
    });
  });

  it('gives a late subscriber the latest snapshot at once', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, usual);
      watcher.watch(ID).subscribe();
      expectObservable(statuses(watcher.watch(ID)), '3500ms ^').toBe('3500ms b 1499ms (c|)', {
        b: 'EXECUTING',
        c: 'COMPLETED',
      });
      scheduler.flush();
      expect(server.callsFor(ID)).toHaveLength(6);
    });
  });

  it('keeps the loop through a short grace after the last subscriber leaves, then stops it', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, usual);
      expectObservable(statuses(watcher.watch(ID)), '^ 1499ms !').toBe('a', { a: 'SUBMITTED' });
      scheduler.flush();
      expect(server.callsFor(ID).map((c) => c.start)).toEqual([0, 1000, 2000]);
      expect(watcher.current(ID)).toBeUndefined();
    });
  });

  it('reuses the loop for a subscriber who comes back within the grace', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, usual);
      expectObservable(statuses(watcher.watch(ID)), '^ 1499ms !').toBe('a', { a: 'SUBMITTED' });
      expectObservable(statuses(watcher.watch(ID)), '1800ms ^').toBe(
        '1800ms a 1199ms b 1999ms (c|)',
        {
          a: 'SUBMITTED',
          b: 'EXECUTING',
          c: 'COMPLETED',
        },
      );
      scheduler.flush();
      expect(server.callsFor(ID).map((c) => c.start)).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    });
  });

  it('never disturbs one subscriber when another leaves', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, usual);
      const values = { a: 'SUBMITTED', b: 'EXECUTING', c: 'COMPLETED' };
      expectObservable(statuses(watcher.watch(ID)), '^ 99ms !').toBe('a', values);
      expectObservable(statuses(watcher.watch(ID)), '^ 3200ms !').toBe('a 2999ms b', values);
      expectObservable(statuses(watcher.watch(ID))).toBe('a 2999ms b 1999ms (c|)', values);
    });
  });

  it('stops for good even when answers arrive synchronously', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const polls: number[] = [];
      const client = {
        url: 'http://fake/arcgis/admin',
        readJob: () => {
          polls.push(scheduler.now());
          const job = usual(scheduler.now(), 0);
          // biome-ignore lint/suspicious/noThenProperty: an answer that is there at once
          return { then: (ok: (j: unknown) => void) => ok({ job, warnings: [] }) };
        },
      } as unknown as AdminClient;
      const watcher = createWatcher(client, { scheduler, pacing: { jitter: 0 }, grace: 0 });
      expectObservable(statuses(watcher.watch(ID)), '^ 2499ms !').toBe('a', { a: 'SUBMITTED' });
      scheduler.flush();
      expect(polls).toEqual([0, 1000, 2000]);
      expect(watcher.size).toBe(0);
    });
  });

  it('starts a fresh loop for a job watched again after it ended', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, usual);
      watcher.watch(ID).subscribe();
      expectObservable(statuses(watcher.watch(ID)), '8000ms ^').toBe('8000ms (c|)', {
        c: 'COMPLETED',
      });
      scheduler.flush();
      expect(server.callsFor(ID)).toHaveLength(7);
    });
  });

  it('knows the current snapshot of a watched job', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, usual);
      watcher.watch(ID).subscribe();
      let during: Snapshot | undefined;
      scheduler.schedule(() => {
        during = watcher.current(ID);
      }, 3500);
      scheduler.flush();
      expect(during).toMatchObject({ status: 'EXECUTING', lastPolled: 3000 });
    });
  });

  it('completes open streams on close, and refuses later watches with CONFIG', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, usual);
      expectObservable(statuses(watcher.watch(ID))).toBe('a 1499ms |', { a: 'SUBMITTED' });
      scheduler.schedule(() => watcher.close(), 1500);
      scheduler.flush();
      expect(watcher.closed).toBe(true);
      const { error } = errorOf(watcher.watch(ID), scheduler);
      expect(error).toMatchObject({ code: 'CONFIG' });
      expect(server.callsFor(ID)).toHaveLength(2);
    });
  });
});

describe('many jobs', () => {
  it('merges several jobs and completes when all have ended', () => {
    const scheduler = newScheduler();
    scheduler.run(({ expectObservable }) => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, usual);
      server.scripts.set(
        ID2,
        timeline(ID2, [
          [0, 'EXECUTING'],
          [1500, 'FAILED'],
        ]),
      );
      const stream = watcher
        .watchMany([ID, ID2, ID])
        .pipe(map((s) => `${s.jobid === ID ? 1 : 2}:${s.status}`));
      expectObservable(stream).toBe('(ab) 1996ms c 999ms d 1999ms (e|)', {
        a: '1:SUBMITTED',
        b: '2:EXECUTING',
        c: '2:FAILED',
        d: '1:EXECUTING',
        e: '1:COMPLETED',
      });
    });
  });

  it('shares the budget fairly under overload: lag grows evenly, no job starves', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const { server, watcher } = setup(scheduler, { budget: { concurrency: 2, rate: 5 } }, 50);
      const ids = Array.from({ length: 40 }, (_, i) => `j${String(i).padStart(32, '0')}`);
      for (const id of ids)
        server.scripts.set(id, (t) => job(id, t < 60_000 ? 'EXECUTING' : 'COMPLETED', 0));
      const lastSeen = new Map<string, number>();
      watcher.watchMany(ids).subscribe((s) => lastSeen.set(s.jobid, s.lastPolled ?? -1));
      scheduler.flush();
      const counts = ids.map((id) => server.callsFor(id).length);
      // 5 requests a second for 40 jobs: each job about every 8 s, all alike.
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      const finished = ids.map((id) => lastSeen.get(id)!);
      expect(Math.max(...finished) - Math.min(...finished)).toBeLessThanOrEqual(8_000 + 1000);
      expect(Math.min(...finished)).toBeGreaterThanOrEqual(60_000);
      // Never more than the rate: starts in any 1 s window ≤ burst + rate.
      const starts = server.calls.map((c) => c.start).sort((a, b) => a - b);
      for (let i = 0; i < starts.length; i++) {
        const inWindow = starts.filter((t) => t >= starts[i]! && t < starts[i]! + 1000).length;
        expect(inWindow).toBeLessThanOrEqual(10);
      }
    });
  });

  it('can share one budget between two watchers of a deployment', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const { server, watcher } = setup(
        scheduler,
        { budget: { concurrency: 1, rate: Infinity } },
        100,
      );
      const other = createWatcher(server.client, { scheduler, budget: watcher.budget });
      server.scripts.set(ID, usual);
      server.scripts.set(ID2, usual);
      watcher.watch(ID).subscribe();
      other.watch(ID2).subscribe();
      expect(other.budget).toBe(watcher.budget);
      expect(watcher.budget.stats()).toMatchObject({ active: 1, queued: 1 });
      scheduler.flush();
      const calls = [...server.calls].sort((a, b) => a.start - b.start);
      for (let i = 1; i < calls.length; i++)
        expect(calls[i]!.start).toBeGreaterThanOrEqual(calls[i - 1]!.end!);
    });
  });

  it('discovers jobs by listing on its own pace and watches each new one', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, usual);
      const third = 'jcccc0000000000000000000000000000';
      server.listScript = (t) => (t < 5000 ? [ID] : t < 10_000 ? [ID, ID2] : [ID, ID2, third]);
      server.scripts.set(ID2, timeline(ID2, [[0, 'COMPLETED']]));
      // Listed, then purged before its first poll.
      server.scripts.set(third, () => new JobNotFoundError('purged', { jobid: third }));
      const out: string[] = [];
      let failed: unknown;
      const sub = watcher.watchAll({ discover: true, listInterval: 5000 }).subscribe({
        next: (s) => out.push(`${s.jobid.slice(0, 5)}:${s.status}`),
        error: (e) => (failed = e),
      });
      scheduler.schedule(() => sub.unsubscribe(), 12_000);
      scheduler.flush();
      expect(server.listCalls).toEqual([0, 5000, 10_000]);
      expect(out).toEqual([
        'j2bcb:SUBMITTED',
        'j2bcb:EXECUTING',
        'j2bcb:COMPLETED',
        'j6336:COMPLETED',
      ]);
      expect(failed).toBeUndefined();
    });
  });

  it('skips the jobs of the first listing when asked, and retries a listing that fails', () => {
    const scheduler = newScheduler();
    scheduler.run(() => {
      const { server, watcher } = setup(scheduler);
      server.scripts.set(ID, usual);
      server.scripts.set(ID2, timeline(ID2, [[0, 'COMPLETED']]));
      server.listScript = (_t, n) =>
        n === 2
          ? new TransportError('HTTP 503', { reason: 'status', status: 503 })
          : n === 1
            ? [ID]
            : [ID, ID2];
      const out: string[] = [];
      const sub = watcher
        .watchAll({ discover: true, listInterval: 5000, existing: false })
        .subscribe((s) => out.push(s.jobid));
      scheduler.schedule(() => sub.unsubscribe(), 7000);
      scheduler.flush();
      expect(server.listCalls).toEqual([0, 5000, 6000]);
      expect(out).toEqual([ID2]);
    });
  });

  it('ends discovery with the typed error when listing is refused', () => {
    const scheduler = newScheduler();
    const { server, watcher } = setup(scheduler);
    server.listScript = () => new AuthError('Token required (499)', { arcgisCode: 499 });
    const { error } = errorOf(watcher.watchAll({ discover: true }), scheduler);
    expect(error).toBeInstanceOf(AuthError);
  });
});

describe('waitForJob', () => {
  function run(script: Script, options: Parameters<typeof waitForJob>[2] = {}) {
    const scheduler = newScheduler();
    const { server, watcher } = setup(scheduler);
    server.scripts.set(ID, script);
    const promise = waitForJob(watcher, ID, options);
    scheduler.flush();
    return promise;
  }
  const failing = timeline(ID, [
    [0, 'EXECUTING'],
    [2000, 'FAILED'],
  ]);

  it('resolves with the final snapshot', async () => {
    await expect(run(usual)).resolves.toMatchObject({ status: 'COMPLETED', terminal: true });
  });

  it('resolves with a failed job by default', async () => {
    await expect(run(failing)).resolves.toMatchObject({ status: 'FAILED', outcome: 'failed' });
  });

  it('rejects with JobFailedError on failure when asked', async () => {
    const error = await run(failing, { rejectOnFailure: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error).toMatchObject({
      code: 'JOB_FAILED',
      outcome: 'failed',
      retryable: false,
      snapshot: { status: 'FAILED' },
    });
    // One base class and one code table for every error jobwatch throws.
    expect(error).toBeInstanceOf(JobwatchError);
    expect(isJobwatchError(error)).toBe(true);
    expect(toJobwatchError(error)).toBe(error);
    expect(Object.values(ErrorCode)).toContain((error as JobFailedError).code);
  });

  it('rejects with WaitTimeoutError after maxWait', async () => {
    await expect(run(usual, { maxWait: 2000 })).rejects.toBeInstanceOf(WaitTimeoutError);
  });

  it('rejects with AbortedError when the signal aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(run(usual, { signal: controller.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
  });
});
