/**
 * The watcher against the simulator over real HTTP, through the real client: faults of
 * every kind, many subscribers, and the request counts the simulator keeps.
 */
import { type AdminClient, createAdminClient } from '@jobwatch/client';
import type { Snapshot } from '@jobwatch/schema';
import { FAULT_KINDS, JOB_ENDS, type Simulator, startSimulator } from '@jobwatch/simulator';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWatcher,
  defaultWatcher,
  JobFailedError,
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

  it('a thousand subscribers to one job make one poll loop', async () => {
    const watcher = createWatcher(client, fast);
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 3000 });
    const before = sim.stats().byJob[id] ?? 0;
    const finals = await Promise.all(Array.from({ length: 1000 }, () => waitForJob(watcher, id)));
    expect(finals.every((s) => s.status === 'COMPLETED')).toBe(true);
    expect(new Set(finals).size).toBe(1);
    const polled = (sim.stats().byJob[id] ?? 0) - before;
    // The server saw exactly what one loop sent, a few polls over 300 ms of real time, not 1000×.
    expect(polled).toBe(sent.get(id));
    expect(polled).toBeGreaterThanOrEqual(2);
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

  it('watches the job an operation started, from its handle', async () => {
    const [service] = (await client.listServices()).services;
    if (!service) throw new Error('the simulator lists no service');
    const started = await client.stopService(
      {
        name: service.serviceName,
        type: service.type,
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
