/**
 * Jobs of every source through one watcher: one loop per job however many subscribe, the same
 * budget and pacing as admin jobs, statuses mapped by source, progress and steps on the
 * snapshots, and no request for a URL that is not a job's or is on a foreign origin.
 */
import { ConfigError } from '@jobwatch/client';
import type { Job, Snapshot } from '@jobwatch/schema';
import { takeWhile } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { createWatcher, waitForJob, watchJob } from '../src/index.js';
import { FakeServer, type Script } from './fake.js';

const GP_ID = 'jf082fc6d926043fda44169444963fe46';
const SERVER_ID = 'jcbdbf7aa-385e-417a-b629-29a310895b9b';
const ADMIN_ID = 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d';
const TASK = 'http://fake/arcgis/rest/services/Tools/Buffer/GPServer/Buffer';
const GP = `${TASK}/jobs/${GP_ID}`;
const SERVER = `http://fake/arcgis/admin/system/jobs/${SERVER_ID}`;

const newScheduler = () => {
  const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
  scheduler.maxFrames = Number.POSITIVE_INFINITY;
  return scheduler;
};

function setup(scheduler: TestScheduler, budget = {}) {
  const server = new FakeServer(scheduler);
  const watcher = createWatcher(server.client, {
    scheduler,
    pacing: { jitter: 0 },
    grace: 0,
    budget,
  });
  return { server, watcher };
}

/** A GP job (as the client hands it over: jobid/status beside jobId/jobStatus) by time. */
const gpTimeline =
  (steps: ReadonlyArray<readonly [number, string, number?]>): Script =>
  (time) => {
    let current = steps[0] as readonly [number, string, number?];
    for (const step of steps) if (step[0] <= time) current = step;
    const [, status, percentage] = current;
    return {
      jobid: GP_ID,
      status,
      jobId: GP_ID,
      jobStatus: status,
      ...(percentage === undefined
        ? {}
        : { progress: { type: 'default', message: `at ${percentage}%`, percentage } }),
      ...(status === 'esriJobSucceeded'
        ? { results: { Output: { paramUrl: 'results/Output' } } }
        : {}),
    } as unknown as Job;
  };

const collect = (scheduler: TestScheduler, o: import('rxjs').Observable<Snapshot>) => {
  const out: Snapshot[] = [];
  let error: unknown;
  let done = false;
  o.subscribe({
    next: (s) => out.push(s),
    error: (e) => (error = e),
    complete: () => (done = true),
  });
  scheduler.flush();
  return { out, error, done };
};

describe('watchRef: a job of any source, watched like an admin job', () => {
  it('maps GP statuses, carries progress, its step and results, and ends at esriJobSucceeded', () => {
    const scheduler = newScheduler();
    const { server, watcher } = setup(scheduler);
    server.scripts.set(
      GP_ID,
      gpTimeline([
        [0, 'esriJobSubmitted'],
        [1500, 'esriJobExecuting', 20],
        [4000, 'esriJobExecuting', 70],
        [9000, 'esriJobSucceeded'],
      ]),
    );
    const { out, done } = collect(scheduler, watcher.watchRef(GP));
    expect(done).toBe(true);
    expect(out.map((s) => [s.status, s.progress, s.step?.text])).toEqual([
      ['SUBMITTED', null, undefined],
      ['EXECUTING', 0.2, 'at 20%'],
      ['EXECUTING', 0.7, 'at 70%'],
      ['COMPLETED', 1, undefined],
    ]);
    const last = out[out.length - 1] as Snapshot;
    expect(last).toMatchObject({ source: 'gp', url: GP, outcome: 'succeeded', terminal: true });
    expect(last.results).toEqual([{ name: 'Output', url: `${GP}/results/Output` }]);
  });

  it('shares one loop between every subscriber of one job, however its URL is spelled', () => {
    const scheduler = newScheduler();
    const { server, watcher } = setup(scheduler);
    server.scripts.set(
      GP_ID,
      gpTimeline([
        [0, 'esriJobExecuting', 10],
        [5000, 'esriJobSucceeded'],
      ]),
    );
    const a = collect(scheduler, watcher.watchRef(GP));
    expect(a.done).toBe(true);
    const alone = server.callsFor(GP_ID).length;

    const scheduler2 = newScheduler();
    const two = setup(scheduler2);
    two.server.scripts.set(
      GP_ID,
      gpTimeline([
        [0, 'esriJobExecuting', 10],
        [5000, 'esriJobSucceeded'],
      ]),
    );
    const outs: Snapshot[][] = [[], [], []];
    two.watcher.watchRef(GP).subscribe((s) => outs[0]?.push(s));
    two.watcher
      .watchRef(`${GP.replace('Buffer/jobs', 'Buffer/jobs')}/?f=json`)
      .subscribe((s) => outs[1]?.push(s));
    two.watcher
      .watchRef({ source: 'gp', taskUrl: TASK, jobid: GP_ID })
      .subscribe((s) => outs[2]?.push(s));
    expect(two.watcher.size).toBe(1);
    scheduler2.flush();
    expect(two.server.callsFor(GP_ID).length).toBe(alone);
    expect(two.server.maxInFlightPerJob).toBe(1);
    for (const o of outs) expect(o.at(-1)?.status).toBe('COMPLETED');
  });

  it('a COMPLETED ArcGIS Server job whose operation answered an error ends FAILED, with its reason', async () => {
    const scheduler = newScheduler();
    const { server, watcher } = setup(scheduler);
    server.scripts.set(
      SERVER_ID,
      (time) =>
        (time < 2000
          ? {
              jobid: SERVER_ID,
              status: 'EXECUTING',
              totalsteps: 3,
              currentstep: 1,
              stepInfo: ['Stopping the service'],
            }
          : {
              jobid: SERVER_ID,
              status: 'COMPLETED',
              totalsteps: 3,
              currentstep: 3,
              operationResponse: { status: 'error', messages: ['service failed to start'] },
            }) as unknown as Job,
    );
    const { out } = collect(scheduler, watcher.watchRef(SERVER));
    expect(out[0]).toMatchObject({
      status: 'EXECUTING',
      progress: 1 / 3,
      step: { text: 'Stopping the service', index: 1, total: 3 },
    });
    expect(out.at(-1)).toMatchObject({
      source: 'server',
      status: 'FAILED',
      outcome: 'failed',
      reason: 'service failed to start',
    });
    expect(out.at(-1)?.job?.status).toBe('COMPLETED');
  });

  it("watchAll({ source: 'server' }) lists an ArcGIS Server's jobs and watches each as one", () => {
    const scheduler = newScheduler();
    const { server, watcher } = setup(scheduler);
    server.scripts.set(
      SERVER_ID,
      (time) =>
        ({
          jobid: SERVER_ID,
          status: time < 3000 ? 'EXECUTING' : 'COMPLETED',
          totalsteps: 2,
          currentstep: time < 3000 ? 1 : 2,
        }) as unknown as Job,
    );
    const { out } = collect(
      scheduler,
      watcher
        .watchAll({ discover: true, source: 'server', listInterval: 60_000 })
        .pipe(takeWhile((s) => !s.terminal, true)),
    );
    expect(server.serverListCalls.length).toBeGreaterThan(0);
    expect(server.listCalls).toEqual([]);
    expect(out[0]).toMatchObject({ jobid: SERVER_ID, source: 'server', progress: 0.5 });
    expect(out.at(-1)).toMatchObject({ status: 'COMPLETED', url: SERVER, progress: 1 });
  });

  it('watchAll refuses a source it cannot list', () => {
    const scheduler = newScheduler();
    const { watcher } = setup(scheduler);
    const { error } = collect(
      scheduler,
      watcher.watchAll({ discover: true, source: 'gp' as 'server' }),
    );
    expect(error).toBeInstanceOf(ConfigError);
  });

  it('GP and admin jobs of one watcher share its budget', () => {
    const scheduler = newScheduler();
    const { server, watcher } = setup(scheduler, { concurrency: 1, rate: 1 });
    server.latency = 100;
    server.scripts.set(
      GP_ID,
      gpTimeline([
        [0, 'esriJobExecuting'],
        [3000, 'esriJobSucceeded'],
      ]),
    );
    server.scripts.set(
      ADMIN_ID,
      (t) => ({ jobid: ADMIN_ID, status: t < 3000 ? 'EXECUTING' : 'COMPLETED' }) as Job,
    );
    watcher.watchRef(GP).subscribe();
    watcher.watch(ADMIN_ID).subscribe();
    scheduler.flush();
    const starts = server.calls.map((c) => c.start).sort((a, b) => a - b);
    // One start per second at most across both jobs: the rate of the one budget.
    for (let i = 1; i < starts.length; i++) {
      expect((starts[i] as number) - (starts[i - 1] as number)).toBeGreaterThanOrEqual(1000);
    }
    expect(watcher.budget.stats().started).toBe(server.calls.length);
  });

  it("an admin job URL at the client's own admin URL shares the loop of its id", () => {
    const scheduler = newScheduler();
    const { server, watcher } = setup(scheduler);
    server.scripts.set(
      ADMIN_ID,
      (t) => ({ jobid: ADMIN_ID, status: t < 2000 ? 'EXECUTING' : 'COMPLETED' }) as Job,
    );
    watcher.watch(ADMIN_ID).subscribe();
    watcher.watchRef(`http://fake/arcgis/admin/jobs/${ADMIN_ID}`).subscribe();
    expect(watcher.size).toBe(1);
    scheduler.flush();
    expect(watcher.current(ADMIN_ID)).toBeUndefined();
  });

  it.each([
    ['a climbing path', 'http://fake/arcgis/rest/services/../admin/jobs/j1'],
    ['a token in the query', `${GP}?token=SECRET`],
    ['not a job URL', 'http://fake/arcgis/rest/services/Tools/MapServer/0'],
    ['a foreign origin', GP.replace('http://fake', 'https://elsewhere.example.com')],
  ])('refuses %s with CONFIG, before any request', (_what, url) => {
    const scheduler = newScheduler();
    const { server, watcher } = setup(scheduler);
    const { error } = collect(scheduler, watcher.watchRef(url));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain('SECRET');
    expect(server.calls).toHaveLength(0);
  });

  it('waitForJob takes a reference; watchJob a URL, refused before any request when foreign', async () => {
    const scheduler = newScheduler();
    const { server, watcher } = setup(scheduler);
    server.scripts.set(
      GP_ID,
      gpTimeline([
        [0, 'esriJobExecuting'],
        [1000, 'esriJobFailed'],
      ]),
    );
    const waited = waitForJob(watcher, { source: 'gp', taskUrl: TASK, jobid: GP_ID });
    scheduler.flush();
    await expect(waited).resolves.toMatchObject({ status: 'FAILED', outcome: 'failed' });
    const before = server.calls.length;
    const foreign = collect(scheduler, watchJob(server.client, GP.replace('fake', 'other')));
    expect(foreign.error).toBeInstanceOf(ConfigError);
    const bad = collect(scheduler, watchJob('not a url'));
    expect(bad.error).toBeInstanceOf(ConfigError);
    expect(server.calls).toHaveLength(before);
  });
});
