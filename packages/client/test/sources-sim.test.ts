/**
 * Jobs of every source against the simulator over real HTTP: one client (one token) reads
 * ArcGIS Server admin jobs, geoprocessing jobs and portal item jobs; submits, cancels and
 * starts jobs; and a hostile URL of each source reaches the server never.
 */
import { sourceStatus } from '@jobwatch/schema';
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AdminClient,
  ConfigError,
  createAdminClient,
  JobNotFoundError,
  ValidationError,
} from '../src/index.js';

let sim: Simulator;
const requested: string[] = [];

const recordingFetch: typeof fetch = (input, init) => {
  const request = input instanceof Request ? input : new Request(input, init);
  requested.push(request.url);
  return fetch(request);
};

/** A client at the ArcGIS Server admin URL: the GP services and the portal share its origin. */
function client(): AdminClient {
  return createAdminClient({
    url: sim.serverAdminUrl,
    auth: { type: 'credentials', username: 'admin', password: 'admin' },
    fetch: recordingFetch,
    now: () => sim.now(),
    retry: { sleep: async () => undefined },
  });
}

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 15 });
});
afterAll(async () => {
  await sim.close();
});

describe('one client, every source, over HTTP', () => {
  it('server: follows steps to a COMPLETED job whose operation answered an error, read as FAILED', async () => {
    const c = client();
    const job = sim.createServerJob({
      outcome: 'COMPLETED_WITH_ERROR',
      durationMs: 10_000,
      steps: 4,
    });
    sim.advance(5_000);
    const running = await c.readJobRef(job.jobUrl);
    expect(running.ref).toMatchObject({ source: 'server', jobid: job.jobid });
    expect(sourceStatus('server', running.job)).toBe('EXECUTING');
    expect(running.job.currentstep).toBeGreaterThan(0);
    sim.advance(5_000);
    const done = await c.readJobRef(job.jobUrl);
    expect(done.job.status).toBe('COMPLETED');
    expect(sourceStatus('server', done.job)).toBe('FAILED');
    expect(done.warnings).toEqual([]);
  });

  it('gp: submits a job with parameters, reads its progress, and cancels it', async () => {
    const c = client();
    const task = `${sim.restUrl}/Tools/Buffer/GPServer/BufferPoints`;
    const { ref, job } = await c.submitGpJob(task, {
      Input_Features: {
        geometryType: 'esriGeometryPoint',
        spatialReference: { wkid: 4326 },
        features: [{ geometry: { x: -117.19, y: 34.05 } }],
      },
      Distance: { distance: 100, units: 'esriMeters' },
    });
    expect(ref).toMatchObject({ source: 'gp', taskUrl: task });
    expect(job.status).toBe('esriJobSubmitted');
    const read = await c.readJobRef(ref);
    expect(read.job.jobid).toBe(ref.jobid);
    sim.advance(200);
    // Submitted jobs run for a seeded while: cancel one that is waiting or executing.
    let status = sourceStatus('gp', (await c.readJobRef(ref)).job);
    for (let i = 0; i < 50 && status === 'SUBMITTED'; i++) {
      sim.advance(100);
      status = sourceStatus('gp', (await c.readJobRef(ref)).job);
    }
    const cancelled = await c.cancelGpJob(ref);
    expect(sourceStatus('gp', cancelled.job)).toBe('CANCELLING');
    sim.advance(1_500);
    expect(sourceStatus('gp', (await c.readJobRef(ref)).job)).toBe('CANCELLED');
  });

  it('gp: a created job succeeds with its results, a task name with spaces included', async () => {
    const c = client();
    const job = sim.createGpJob({
      outcome: 'esriJobSucceeded',
      durationMs: 4_000,
      task: 'Tools/Hotspots/Find Hot Spots',
    });
    sim.advance(4_000);
    const read = await c.readJobRef(job.jobUrl);
    expect(sourceStatus('gp', read.job)).toBe('COMPLETED');
    expect(read.job.results).toBeDefined();
  });

  it('item: processing, then failed as the job outcome (a value, not an error)', async () => {
    const c = client();
    const job = sim.createItemJob({ outcome: 'failed', durationMs: 3_000 });
    const first = await c.readJobRef(job.statusUrl);
    expect(['EXECUTING']).toContain(sourceStatus('item', first.job));
    sim.advance(3_000);
    const last = await c.readJobRef(job.statusUrl);
    expect(sourceStatus('item', last.job)).toBe('FAILED');
  });

  it('starts an ArcGIS Server admin operation with runAsync=true and reads the job it started', async () => {
    const c = client();
    const ref = await c.startServerJob('services/SampleWorldCities.MapServer/stop');
    expect(ref).toMatchObject({ source: 'server', adminUrl: sim.serverAdminUrl });
    const read = await c.readJobRef(ref);
    expect(read.job.jobid).toBe(ref.jobid);
  });

  it('an unknown job of each source is JobNotFoundError', async () => {
    const c = client();
    await expect(c.readJobRef(`${sim.serverAdminUrl}/system/jobs/jnothere`)).rejects.toBeInstanceOf(
      JobNotFoundError,
    );
    await expect(
      c.readJobRef(`${sim.restUrl}/Tools/Buffer/GPServer/BufferPoints/jobs/jnothere`),
    ).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('refuses a hostile URL of each source, and a foreign origin, with no request at all', async () => {
    const c = client();
    const before = requested.length;
    const stats = sim.stats().total;
    const hostile = [
      `${sim.adminUrl}/jobs/..%2F..%2Fservices`,
      `${sim.serverAdminUrl}/system/jobs/../../admin/services/x/delete`,
      `${sim.restUrl}/Tools/Buffer/GPServer/BufferPoints/jobs/j1?token=SECRET`,
      `${sim.portalUrl}/sharing/rest/content/users/../items/0123456789abcdef0123456789abcdef/status?jobType=publish&jobId=j1`,
      `https://elsewhere.example.com/server/admin/system/jobs/j1`,
    ];
    for (const url of hostile) {
      const error = await c.readJobRef(url).catch((e: unknown) => e);
      expect(error, url).toBeInstanceOf(ConfigError);
      expect((error as Error).message).not.toContain('SECRET');
    }
    expect(requested.length).toBe(before);
    expect(sim.stats().total).toBe(stats);
  });

  it('a body about another job is a ValidationError, never a watch of the wrong job', async () => {
    const c = client();
    const a = sim.createGpJob({ outcome: 'esriJobSucceeded', durationMs: 1_000 });
    const b = sim.createGpJob({ outcome: 'esriJobSucceeded', durationMs: 1_000 });
    // The simulator answers for the job asked; another task's URL for it is a 404.
    const wrongTask = a.jobUrl.replace(
      '/Buffer/GPServer/BufferPoints/',
      '/Hotspots/GPServer/Find%20Hot%20Spots/',
    );
    const error = await c.readJobRef(wrongTask).catch((e: unknown) => e);
    expect(error instanceof JobNotFoundError || error instanceof ValidationError).toBe(true);
    expect(b.jobId).not.toBe(a.jobId);
  });
});
