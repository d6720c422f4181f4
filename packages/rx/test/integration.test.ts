/**
 * The watcher against the simulator over real HTTP, through the real client: faults of
 * every kind, many subscribers, and the request counts the simulator keeps.
 */
import { type AdminClient, createAdminClient } from '@jobwatch/client';
import { failureReason, jobOutcome, parseJob, type Snapshot } from '@jobwatch/schema';
import { FAULT_KINDS, JOB_ENDS, type Simulator, startSimulator } from '@jobwatch/simulator';
import {
  asyncScheduler,
  lastValueFrom,
  type SchedulerAction,
  type SchedulerLike,
  toArray,
} from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWatcher,
  defaultWatcher,
  JobFailedError,
  sharedWatcher,
  type WatcherOptions,
  waitForJob,
  watchJob,
  watchJobs,
} from '../src/index.js';

/** Fast pacing for a simulator whose clock runs 10× faster. */
const fast: WatcherOptions = {
  pacing: { minInterval: 20, maxInterval: 40, troubleInterval: 20, maxTroubleInterval: 200 },
  budget: { concurrency: 8, rate: 400 },
  grace: 50,
};

let sim: Simulator;
let client: AdminClient;
/** Requests the client sent for each job. */
const sent = new Map<string, number>();
const inFlight = new Map<string, number>();
let maxInFlight = 0;

beforeAll(async () => {
  sim = await startSimulator({ clock: { speed: 10 }, seed: 42 });
  const counting: typeof fetch = async (input, init) => {
    const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
    const id = /\/jobs\/([^/]+)$/.exec(path)?.[1];
    if (!id) return fetch(input, init);
    sent.set(id, (sent.get(id) ?? 0) + 1);
    const n = (inFlight.get(id) ?? 0) + 1;
    inFlight.set(id, n);
    maxInFlight = Math.max(maxInFlight, n);
    try {
      return await fetch(input, init);
    } finally {
      inFlight.set(id, (inFlight.get(id) ?? 1) - 1);
    }
  };
  client = createAdminClient({
    url: sim.adminUrl,
    auth: { type: 'credentials', username: 'admin', password: 'admin' },
    fetch: counting,
    timeout: 1500,
    retry: { attempts: 2, baseDelay: 10, maxDelay: 50, deadline: 2000 },
  });
});

afterAll(() => sim.close());

/** Resolves once `done()` holds, checking every few ms; fails after `limit` ms. */
async function until(done: () => boolean, limit = 10_000): Promise<void> {
  for (let waited = 0; !done(); waited += 5) {
    if (waited > limit) throw new Error('gave up waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('against the simulator', () => {
  it('with 20% faults of every kind, every subscriber sees each terminal status exactly once and no errors', async () => {
    sim.setFaults({ rate: 0.2, kinds: FAULT_KINDS, delayMs: 100, retryAfterSeconds: 0 });
    const watcher = createWatcher(client, fast);
    const jobs = Array.from({ length: 40 }, (_, i) => {
      const outcome = JOB_ENDS[i % JOB_ENDS.length]!;
      const id = sim.createJob({ outcome, durationMs: 2000 + i * 250, unavailableBlips: i % 3 });
      return { id, outcome };
    });
    try {
      const perSubscriber = await Promise.all(
        [0, 1, 2].map((n) =>
          lastValueFrom(
            watcher
              .watchMany(n === 2 ? jobs.map((j) => j.id).reverse() : jobs.map((j) => j.id))
              .pipe(toArray()),
          ),
        ),
      );
      for (const seen of perSubscriber) {
        for (const { id, outcome } of jobs) {
          const terminal = seen.filter((s: Snapshot) => s.jobid === id && s.terminal);
          expect(terminal.map((s) => s.status)).toEqual([outcome]);
        }
      }
      const stats = sim.stats();
      // Every kind of fault was met along the way.
      expect(Object.keys(stats.faults).sort()).toEqual([...FAULT_KINDS].sort());
      expect(perSubscriber.flat().some((s) => s.stale)).toBe(true);
      expect(maxInFlight).toBe(1);
    } finally {
      sim.clearFaults();
      watcher.close();
    }
  }, 30_000);

  it('polls one attempt at a time: the first failure is stale at once, and every request is one budget grant', async () => {
    const watcher = createWatcher(client, {
      ...fast,
      pacing: { ...fast.pacing, troubleInterval: 30, maxTroubleInterval: 60 },
    });
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 600_000 });
    const grants = () => watcher.budget.stats().started;
    const requests = () => sent.get(id) ?? 0;
    // Read at each emission, inside the poll's settle: no request of this job is in flight.
    const marks: Array<{ stale: boolean; attempts: number; grants: number; requests: number }> = [];
    let base = { grants: 0, requests: 0 };
    const sub = watcher.watch(id).subscribe((s) => {
      if (marks.length === 0) base = { grants: grants(), requests: requests() };
      marks.push({
        stale: s.stale,
        attempts: s.trouble?.attempts ?? 0,
        grants: grants() - base.grants,
        requests: requests() - base.requests,
      });
    });
    try {
      await until(() => marks.length === 1);
      sim.setFaults({ rate: 1, kinds: ['http503'], paths: ['job'] });
      await until(() => (watcher.current(id)?.trouble?.attempts ?? 0) >= 4);
      sim.clearFaults();
      await until(() => marks.length === 3);
      const [, stale, healthy] = marks;
      expect(stale).toEqual({ stale: true, attempts: 1, grants: 1, requests: 1 });
      expect(healthy?.stale).toBe(false);
      expect(healthy?.requests).toBe(healthy?.grants);
      expect(healthy?.grants).toBeGreaterThanOrEqual(5);
    } finally {
      sim.clearFaults();
      sub.unsubscribe();
      watcher.close();
    }
  });

  it('keeps token refresh in the client: a revoked token costs no stale snapshot', async () => {
    const watcher = createWatcher(client, fast);
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 600_000 });
    const seen: Snapshot[] = [];
    const sub = watcher.watch(id).subscribe((s) => seen.push(s));
    try {
      await until(() => seen.length === 1);
      const tokens = sim.stats().byRoute.generateToken;
      const polled = sent.get(id) ?? 0;
      sim.revokeTokens();
      await until(() => (sent.get(id) ?? 0) >= polled + 4);
      // One new token, the refused poll sent once more by the client, and nothing stale.
      expect(sim.stats().byRoute.generateToken).toBe(tokens + 1);
      expect(seen.every((s) => !s.stale)).toBe(true);
      expect(watcher.current(id)?.stale).toBe(false);
    } finally {
      sub.unsubscribe();
      watcher.close();
    }
  });

  it("waits the 429's Retry-After before the next poll, and shows the 429 at once", async () => {
    const delays: number[] = [];
    const recording: SchedulerLike = {
      now: () => asyncScheduler.now(),
      schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay?: number, state?: T) {
        delays.push(delay ?? 0);
        return asyncScheduler.schedule(work, delay, state);
      },
    } as SchedulerLike;
    const watcher = createWatcher(client, { ...fast, scheduler: recording });
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 600_000 });
    let staleAt: { delays: number; requests: number; trouble: unknown } | undefined;
    let first = -1;
    const sub = watcher.watch(id).subscribe((s) => {
      if (first < 0) first = sent.get(id) ?? 0;
      if (s.stale && !staleAt) {
        // Inside the settle: the wait before the next poll is the next thing scheduled.
        staleAt = {
          delays: delays.length,
          requests: (sent.get(id) ?? 0) - first,
          trouble: s.trouble,
        };
      }
    });
    try {
      await until(() => first >= 0);
      sim.setFaults({ rate: 1, kinds: ['http429'], paths: ['job'], retryAfterSeconds: 1 });
      await until(() => staleAt !== undefined && delays.length > staleAt.delays);
      expect(staleAt?.trouble).toMatchObject({ code: 'RATE_LIMITED', attempts: 1 });
      expect(staleAt?.requests).toBe(1);
      expect(delays[staleAt?.delays ?? -1]).toBeGreaterThanOrEqual(1000);
    } finally {
      sim.clearFaults();
      sub.unsubscribe();
      watcher.close();
    }
  });

  it('a thousand subscribers to one job make one poll loop', async () => {
    const watcher = createWatcher(client, fast);
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 3000 });
    const before = sim.stats().byJob[id] ?? 0;
    const finals = await Promise.all(Array.from({ length: 1000 }, () => waitForJob(watcher, id)));
    expect(finals.every((s) => s.status === 'COMPLETED')).toBe(true);
    expect(new Set(finals).size).toBe(1);
    const polled = (sim.stats().byJob[id] ?? 0) - before;
    // The server saw exactly what one loop sent, a few polls over 300 ms of real time, not 1000×
    // (on a loaded machine the first answer may already be the end: one poll is then enough).
    expect(polled).toBe(sent.get(id));
    expect(polled).toBeGreaterThanOrEqual(1);
    expect(polled).toBeLessThan(30);
    expect(watcher.size).toBe(0);
    watcher.close();
  });

  it('ends with JobNotFoundError for a job the server does not know', async () => {
    const watcher = createWatcher(client, fast);
    await expect(
      waitForJob(watcher, 'j00000000-0000-0000-0000-000000000000'),
    ).rejects.toMatchObject({
      code: 'JOB_NOT_FOUND',
    });
    watcher.close();
  });

  it('shares one default watcher per client between watchJob, watchJobs and waitForJob', async () => {
    const id = sim.createJob({ outcome: 'CANCELLED', durationMs: 2000 });
    const watcher = defaultWatcher(client);
    expect(defaultWatcher(client)).toBe(watcher);
    const a = lastValueFrom(watchJob(client, id).pipe(toArray()));
    const b = lastValueFrom(watchJobs(client, [id, id]).pipe(toArray()));
    const c = waitForJob(client, id, { rejectOnFailure: true }).catch((e: unknown) => e);
    expect(watcher.size).toBe(1);
    const [first, second, third] = await Promise.all([a, b, c]);
    expect(first.at(-1)?.status).toBe('CANCELLED');
    expect(second.filter((s) => s.terminal)).toHaveLength(1);
    expect(third).toBeInstanceOf(JobFailedError);
    expect(third).toMatchObject({ outcome: 'cancelled' });
    watcher.close();
    expect(defaultWatcher(client)).not.toBe(watcher);
    defaultWatcher(client).close();
  });

  it('shares a watcher under an owner and key: two callers that each make a client poll a job once', async () => {
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1500 });
    const owner = async () => 'token-provider-like owner';
    let made = 0;
    const make = () => {
      made++;
      return createWatcher(client, { ...fast, deployment: 'prod' });
    };
    const first = sharedWatcher(owner, `prod\u0000${sim.adminUrl}`, make);
    const second = sharedWatcher(owner, `prod\u0000${sim.adminUrl}`, make);
    expect(second).toBe(first);
    expect(made).toBe(1);
    const a$ = lastValueFrom(first.watch(id).pipe(toArray()));
    const b$ = lastValueFrom(second.watch(id).pipe(toArray()));
    // One poll loop for both callers.
    expect(first.size).toBe(1);
    const [a, b] = await Promise.all([a$, b$]);
    expect(a.at(-1)).toMatchObject({ status: 'COMPLETED', deployment: 'prod' });
    expect(b).toEqual(a);
    expect(sent.get(id)).toBeGreaterThan(0);
    expect(first.size).toBe(0);
    // Another key or another owner is another watcher; a closed one is made anew.
    const other = sharedWatcher(owner, `staging\u0000${sim.adminUrl}`, make);
    expect(other).not.toBe(first);
    expect(sharedWatcher({}, `prod\u0000${sim.adminUrl}`, make)).not.toBe(first);
    first.close();
    const fresh = sharedWatcher(owner, `prod\u0000${sim.adminUrl}`, make);
    expect(fresh).not.toBe(first);
    expect(fresh.closed).toBe(false);
    for (const w of [other, fresh]) w.close();
  });

  it('refuses a shared watcher with an owner that is not an object, a key that is not a string, or no create function', () => {
    const make = () => createWatcher(client, fast);
    const bad: [string, () => unknown][] = [
      ['a string owner', () => sharedWatcher('prod' as unknown as object, 'k', make)],
      ['a null owner', () => sharedWatcher(null as unknown as object, 'k', make)],
      ['a number key', () => sharedWatcher({}, 1 as unknown as string, make)],
      ['no create function', () => sharedWatcher({}, 'k', undefined as unknown as () => never)],
    ];
    for (const [name, call] of bad) {
      expect(call, name).toThrow(expect.objectContaining({ code: 'CONFIG' }));
    }
  });

  it('watches the job an operation started, from its handle', async () => {
    const [service] = (await client.listServices()).services;
    if (!service) throw new Error('the simulator lists no service');
    const started = await client.stopService(
      {
        name: service.serviceName!,
        type: service.type!,
        ...(service.folderName ? { folder: service.folderName } : {}),
      },
      { async: true },
    );
    const watcher = createWatcher(client, fast);
    const final = await lastValueFrom(watcher.fromStarted(started));
    expect(final).toMatchObject({ jobid: started.jobid, terminal: true });
    watcher.close();
  });

  it('discovers jobs started after it began listing', async () => {
    const watcher = createWatcher(client, fast);
    const seen = new Set<string>();
    const sub = watcher
      .watchAll({ discover: true, listInterval: 50, existing: false })
      .subscribe((s) => s.terminal && seen.add(s.jobid));
    await new Promise((r) => setTimeout(r, 120));
    const id = sim.createJob({ outcome: 'FAILED', durationMs: 1000 });
    while (!seen.has(id)) await new Promise((r) => setTimeout(r, 20));
    sub.unsubscribe();
    watcher.close();
    expect(seen.has(id)).toBe(true);
  });
});

describe('quirks on: bodies as real servers send them', () => {
  it('watches every outcome with every quirk to its end, with the reason its body gives', async () => {
    const watcher = createWatcher(client, { ...fast, deployment: 'quirky' });
    const ids = JOB_ENDS.map((outcome) =>
      sim.createJob({ outcome, durationMs: 400, quirks: true }),
    );
    const finals = await Promise.all(
      ids.map((id) => lastValueFrom(watcher.watch(id).pipe(toArray())).then((all) => all.at(-1))),
    );
    for (const [i, final] of finals.entries()) {
      const body = parseJob(sim.job(ids[i] as string));
      expect(final).toMatchObject({
        jobid: ids[i],
        terminal: true,
        outcome: jobOutcome(body.status),
      });
      expect(final?.reason).toBe(failureReason(body));
      if (final?.outcome === 'failed' || final?.outcome === 'cancelled') {
        expect(final.reason).toBeTruthy();
      }
    }
    watcher.close();
  });
});
