import { isTerminalStatus, parseJob, parseOperationUri } from '@jobwatch/schema';
import { afterAll, describe, expect, it } from 'vitest';
import { SIM_ROUTES, type Simulator, type SimulatorOptions, startSimulator } from '../src/index.js';
import { control, getJson, postForm } from './helpers.js';

const open: Simulator[] = [];
afterAll(() => Promise.all(open.map((s) => s.close())));

async function start(options: SimulatorOptions): Promise<Simulator> {
  const sim = await startSimulator({ clock: 'manual', startTime: 1_700_000_000_000, ...options });
  open.push(sim);
  return sim;
}

const workload = { jobsPerMinute: 120, minDurationMs: 1000, maxDurationMs: 30_000 };

/** Everything observable of a run: job ids and bodies, and the catalogue. */
async function run(sim: Simulator): Promise<unknown> {
  const token = sim.issueToken();
  const created = [
    sim.createJob({ outcome: 'COMPLETED', durationMs: 5000 }),
    sim.createJob({ outcome: 'FAILED', durationMs: 2000, unavailableBlips: 1 }),
  ];
  const stop = await postForm(`${sim.adminUrl}/services/SampleWorldCities.MapServer/stop`, {
    async: 'true',
    token,
  });
  sim.advance(90_000);
  const ids = (await getJson(`${sim.adminUrl}/jobs`, { token })).jobs as string[];
  return {
    created,
    handle: stop.jobID,
    bodies: await Promise.all(ids.map((id) => getJson(`${sim.adminUrl}/jobs/${id}`, { token }))),
    services: await getJson(`${sim.adminUrl}/services/Hosted/Parcels.FeatureServer`, { token }),
  };
}

describe('determinism for a seed', () => {
  it('gives the same ids, schedules, workload and catalogue for the same seed, and others for another', async () => {
    const [a, b, c] = await Promise.all([
      start({ seed: 42, workload }),
      start({ seed: 42, workload }),
      start({ seed: 43, workload }),
    ]);
    const ra = await run(a);
    expect(await run(b)).toEqual(ra);
    const rc = (await run(c)) as { created: string[] };
    expect(rc.created).not.toEqual((ra as { created: string[] }).created);
    expect(a.seed).toBe(42);
  });

  it('reports a fresh seed when none is given, which replays the run', async () => {
    const first = await start({ workload });
    const replay = await start({ seed: first.seed, workload });
    expect(await run(replay)).toEqual(await run(first));
  });
});

describe('the workload generator', () => {
  it('starts jobs at about the asked rate, on the simulator clock, each with a valid body', async () => {
    const sim = await start({ seed: 1, workload });
    const token = sim.issueToken();
    expect((await getJson(`${sim.adminUrl}/jobs`, { token })).jobs).toEqual([]);
    sim.advance(60_000);
    const ids = (await getJson(`${sim.adminUrl}/jobs`, { token })).jobs as string[];
    expect(ids.length).toBeGreaterThan(80);
    expect(ids.length).toBeLessThan(160);
    const bodies = ids.map((id) => parseJob(sim.job(id)));
    const starts = bodies.map((j) => j.starttime as number);
    expect([...starts].sort((x, y) => x - y)).toEqual(starts);
    expect(starts.every((t) => t > 1_700_000_000_000 && t <= sim.now())).toBe(true);
  });

  it('draws outcomes by the rates, durations within the bounds, and a mix of operations', async () => {
    const sim = await start({
      seed: 2,
      workload: {
        jobsPerMinute: 600,
        minDurationMs: 500,
        maxDurationMs: 20_000,
        failureRate: 0.2,
        cancelRate: 0.1,
        timeoutRate: 0.05,
        unavailableRate: 0.3,
      },
    });
    sim.advance(5 * 60_000);
    const ids = (await getJson(`${sim.adminUrl}/jobs`, { token: sim.issueToken() }))
      .jobs as string[];
    sim.advance(20_000);
    const jobs = ids.map((id) => parseJob(sim.job(id)));
    expect(jobs.length).toBeGreaterThan(2500);
    const share = (status: string) => jobs.filter((j) => j.status === status).length / jobs.length;
    expect(jobs.every((j) => isTerminalStatus(j.status))).toBe(true);
    expect(share('FAILED')).toBeCloseTo(0.2, 1);
    expect(share('CANCELLED')).toBeCloseTo(0.1, 1);
    expect(share('TIMED OUT')).toBeCloseTo(0.05, 1);
    expect(share('COMPLETED')).toBeCloseTo(0.65, 1);
    for (const j of jobs) {
      expect((j.endtime as number) - (j.starttime as number)).toBeGreaterThanOrEqual(500);
      expect((j.endtime as number) - (j.starttime as number)).toBeLessThanOrEqual(20_000);
    }
    const ops = new Set(jobs.map((j) => parseOperationUri(j.operationURI).operation));
    expect([...ops].sort()).toEqual(['create', 'edit', 'start', 'stop']);
  });

  it('leaves the catalogue alone', async () => {
    const sim = await start({ seed: 3, workload: { jobsPerMinute: 600 } });
    const before = sim.service('SampleWorldCities.MapServer');
    sim.advance(10 * 60_000);
    expect(sim.service('SampleWorldCities.MapServer')).toEqual(before);
  });

  it('does not keep jobs that would already be purged after a long jump', async () => {
    const sim = await start({
      seed: 4,
      retentionMs: 60_000,
      workload: { jobsPerMinute: 60, maxDurationMs: 5000 },
    });
    sim.advance(6 * 60 * 60_000);
    expect(sim.stats().jobs).toBeLessThan(150);
  });
});

describe('request counts', () => {
  it('counts by route and by job, with total the sum of the routes', async () => {
    const sim = await start({ seed: 5 });
    const token = sim.issueToken();
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1 });
    await getJson(sim.adminUrl, { token });
    await getJson(`${sim.adminUrl}/jobs`, { token });
    for (let i = 0; i < 3; i++) await getJson(`${sim.adminUrl}/jobs/${id}`, { token });
    await getJson(`${sim.adminUrl}/services`, { token });
    await getJson(`${sim.adminUrl}/services/SampleWorldCities.MapServer`, { token });
    await postForm(`${sim.adminUrl}/services/SampleWorldCities.MapServer/start`, { token });
    await postForm(`${sim.adminUrl}/system/disasterrecovery/stores/default/backups/create`, {
      token,
    });
    await postForm(sim.tokenUrl, { username: 'admin', password: 'admin' });
    await getJson(`${sim.adminUrl}/nowhere`, { token });
    const stats = (await control(`${sim.url}/__sim/stats`, 'GET')).json;
    expect(stats.byRoute).toEqual({
      generateToken: 1,
      site: 1,
      jobsList: 1,
      job: 3,
      services: 1,
      service: 1,
      operation: 1,
      backup: 1,
      sim: 1,
      other: 1,
      serverAdmin: 0,
      serverJobsList: 0,
      serverJob: 0,
      serverOperation: 0,
      gpCatalog: 0,
      gpSubmit: 0,
      gpJob: 0,
      gpCancel: 0,
      gpParam: 0,
      itemStatus: 0,
    });
    expect(Object.keys(stats.byRoute)).toEqual([...SIM_ROUTES]);
    expect(stats.total).toBe(12);
    expect(stats.byJob).toEqual({ [id]: 3 });
    expect(sim.stats()).toEqual({ ...stats, jobs: 2 });
  });
});
