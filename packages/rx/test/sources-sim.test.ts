/**
 * Jobs of every source watched against the simulator over real HTTP, through the real client:
 * statuses mapped, progress and steps on the way, results at the end, one loop per job for
 * many subscribers, and the request counts the simulator keeps.
 */
import { type AdminClient, ConfigError, createAdminClient } from '@jobwatch/client';
import type { Snapshot } from '@jobwatch/schema';
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWatcher, type Watcher, waitForJob } from '../src/index.js';

let sim: Simulator;
let client: AdminClient;
let watcher: Watcher;

beforeAll(async () => {
  // The simulator's clock runs 20× faster: a 20 s job takes 1 s of the test.
  sim = await startSimulator({ clock: { speed: 20 }, seed: 15 });
  client = createAdminClient({
    url: sim.serverAdminUrl,
    auth: { type: 'credentials', username: 'admin', password: 'admin' },
    timeout: 1500,
    retry: { attempts: 2, baseDelay: 10, maxDelay: 50, deadline: 2000 },
  });
  watcher = createWatcher(client, {
    pacing: { minInterval: 20, maxInterval: 40, troubleInterval: 20, maxTroubleInterval: 200 },
    budget: { concurrency: 8, rate: 400 },
    grace: 50,
  });
});

afterAll(async () => {
  watcher.close();
  await sim.close();
});

const all = (url: string) => lastValueFrom(watcher.watchRef(url).pipe(toArray()));

describe('watchRef against the simulator', () => {
  it('an ArcGIS Server job: progress rises with its steps; COMPLETED with an error ends FAILED', async () => {
    const job = sim.createServerJob({
      outcome: 'COMPLETED_WITH_ERROR',
      durationMs: 20_000,
      steps: 4,
    });
    const seen = await all(job.jobUrl);
    const last = seen.at(-1) as Snapshot;
    expect(last).toMatchObject({
      source: 'server',
      status: 'FAILED',
      outcome: 'failed',
      terminal: true,
    });
    expect(last.job?.status).toBe('COMPLETED');
    expect(last.reason).toBeTruthy();
    const progress = seen.map((s) => s.progress).filter((p): p is number => typeof p === 'number');
    expect(progress.length).toBeGreaterThan(1);
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1] as number);
    }
    expect(seen.some((s) => s.step?.text && s.step.total === 4)).toBe(true);
  });

  it('a GP job: executing with a percentage, then succeeded with result links', async () => {
    const job = sim.createGpJob({ outcome: 'esriJobSucceeded', durationMs: 20_000 });
    const seen = await all(job.jobUrl);
    expect(
      seen.some(
        (s) => s.status === 'EXECUTING' && typeof s.progress === 'number' && s.progress < 1,
      ),
    ).toBe(true);
    const last = seen.at(-1) as Snapshot;
    expect(last).toMatchObject({ source: 'gp', status: 'COMPLETED', progress: 1 });
    expect(last.results?.length).toBeGreaterThan(0);
    for (const r of last.results ?? [])
      expect(r.url.startsWith(`${job.jobUrl}/results/`)).toBe(true);
  });

  it('an item job that failed ends FAILED with its reason', async () => {
    const job = sim.createItemJob({ outcome: 'failed', durationMs: 10_000 });
    const final = await waitForJob(watcher, job.statusUrl);
    expect(final).toMatchObject({ source: 'item', status: 'FAILED', outcome: 'failed' });
    expect(final.reason).toBeTruthy();
  });

  it('many subscribers of one GP job share one poll loop', async () => {
    const job = sim.createGpJob({ outcome: 'esriJobFailed', durationMs: 10_000 });
    const streams = Array.from({ length: 5 }, () => all(job.jobUrl));
    const alone = sim.createGpJob({ outcome: 'esriJobFailed', durationMs: 10_000 });
    const results = await Promise.all([...streams, all(alone.jobUrl)]);
    for (const seen of results) expect(seen.at(-1)?.status).toBe('FAILED');
    const byJob = sim.stats().byJob;
    // Five subscribers cost what one does, give or take a poll of pacing's jitter.
    expect(byJob[job.jobId] as number).toBeLessThanOrEqual((byJob[alone.jobId] as number) + 2);
  });

  it('a hostile job URL of each source is refused before any request', async () => {
    const before = sim.stats().total;
    const hostile = [
      `${sim.serverAdminUrl}/system/jobs/../../../arcgis/admin/jobs/j1`,
      `${sim.restUrl}/Tools/Buffer/GPServer/BufferPoints/jobs/j1%2F..`,
      `${sim.portalUrl}/sharing/rest/content/users/admin/items/0123/status?jobType=publish&jobId=j1&token=SECRET`,
      `${sim.adminUrl}/jobs/j1#x`,
    ];
    for (const url of hostile) {
      const error = await all(url).catch((e: unknown) => e);
      expect(error, url).toBeInstanceOf(ConfigError);
    }
    expect(sim.stats().total).toBe(before);
  });
});
