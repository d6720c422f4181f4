/**
 * Each job source end to end through the built CLI, against the simulator on a manual clock:
 * `jobwatch wait <job URL>` for an ArcGIS Enterprise admin job, an ArcGIS Server admin job, a
 * geoprocessing job and a portal item job, with the exit codes of the contract; and
 * `jobwatch submit <task URL> --param … --wait`, which submits a geoprocessing job, waits for
 * it and prints its result URLs.
 */
import type { Snapshot } from '@jobwatch/schema';
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, start } from './process.js';

const PASSWORD = 'sources-cli-password';
let sim: Simulator;
let env: Record<string, string>;

beforeAll(async () => {
  sim = await startSimulator({
    clock: 'manual',
    users: { admin: PASSWORD },
    seed: 151,
    operationDurationMs: { min: 2_000, max: 2_000 },
  });
  // No --url: the token goes to the one origin all job URLs share.
  env = { JOBWATCH_USERNAME: 'admin', JOBWATCH_PASSWORD: PASSWORD };
});
afterAll(async () => {
  await sim.close();
});

const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Snapshot);

describe('jobwatch wait <job URL>, one source at a time', () => {
  it('an ArcGIS Enterprise admin job by URL: exit 0', async () => {
    const jobid = sim.createJob({ outcome: 'COMPLETED', durationMs: 1_000 });
    sim.advance(1_000);
    const r = await run(['wait', `${sim.adminUrl}/jobs/${jobid}`, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout).at(-1)).toMatchObject({ jobid, status: 'COMPLETED' });
  });

  it('an ArcGIS Server admin job COMPLETED with an error operationResponse: exit 1, its reason, progress on the way', async () => {
    const job = sim.createServerJob({
      outcome: 'COMPLETED_WITH_ERROR',
      durationMs: 3_000,
      steps: 3,
    });
    sim.advance(1_500);
    const p = start(['wait', job.jobUrl, '--json'], env);
    await p.waitFor((out) => out.includes('"progress"'));
    sim.advance(2_000);
    expect(await p.exit, p.stderr).toBe(1);
    const seen = lines(p.stdout);
    expect(seen[0]).toMatchObject({ source: 'server', url: job.jobUrl, status: 'EXECUTING' });
    expect(seen[0]?.progress).toBeGreaterThan(0);
    expect(seen[0]?.progress).toBeLessThan(1);
    expect(seen.at(-1)).toMatchObject({ status: 'FAILED', outcome: 'failed' });
    expect(seen.at(-1)?.reason).toEqual(expect.any(String));
  });

  it('a geoprocessing job that succeeded: exit 0, and its result URLs printed', async () => {
    const gp = sim.createGpJob({ outcome: 'esriJobSucceeded', durationMs: 1_000 });
    sim.advance(1_000);
    const r = await run(['wait', gp.jobUrl], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${gp.jobUrl}/results/`);
  });

  it('a geoprocessing job that failed: exit 1; one cancelled: exit 3', async () => {
    const failed = sim.createGpJob({ outcome: 'esriJobFailed', durationMs: 1_000 });
    const cancelled = sim.createGpJob({ outcome: 'esriJobCancelled', durationMs: 1_000 });
    sim.advance(1_000);
    expect((await run(['wait', failed.jobUrl], env)).code).toBe(1);
    expect((await run(['wait', cancelled.jobUrl], env)).code).toBe(3);
  });

  it('a portal item job: completed exits 0, failed exits 1', async () => {
    const ok = sim.createItemJob({ outcome: 'completed', durationMs: 1_000 });
    const bad = sim.createItemJob({ outcome: 'failed', durationMs: 1_000, jobType: 'export' });
    sim.advance(1_000);
    const r = await run(['wait', ok.statusUrl, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout).at(-1)).toMatchObject({ source: 'item', status: 'COMPLETED' });
    expect((await run(['wait', bad.statusUrl], env)).code).toBe(1);
  });

  it('refuses a hostile job URL of each source with exit 2, before any request', async () => {
    const before = sim.stats().total;
    for (const url of [
      `${sim.adminUrl}/jobs/j1;rm`,
      `${sim.serverAdminUrl}/system/jobs/j1%2F..%2Fx`,
      `${sim.restUrl}/./B/GPServer/B/jobs/j1`,
      `${sim.portalUrl}/sharing/rest/content/users/../items/abc/status?jobType=publish&jobId=j1`,
    ]) {
      const r = await run(['wait', url], env);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/job URL/);
    }
    expect(sim.stats().total).toBe(before);
  });
});

/** One point near Redlands, as a GP feature set. */
const POINTS = {
  geometryType: 'esriGeometryPoint',
  spatialReference: { wkid: 4326 },
  features: [{ geometry: { x: -117.19, y: 34.05 }, attributes: {} }],
};

describe('jobwatch submit <task URL> --wait', () => {
  it('submits a geoprocessing job with its parameters, waits for it, and prints its result URLs', async () => {
    const task = `${sim.restUrl}/Tools/Buffer/GPServer/BufferPoints`;
    const submits = sim.stats().byRoute.gpSubmit;
    const p = start(
      [
        'submit',
        task,
        '--param',
        `Input_Features=${JSON.stringify(POINTS)}`,
        '--param',
        'Distance={"distance":5,"units":"esriMeters"}',
        '--wait',
      ],
      env,
    );
    // Advance the clock only once the job exists, then until it has ended.
    await expect.poll(() => sim.stats().byRoute.gpSubmit, { timeout: 20_000 }).toBe(submits + 1);
    const ticker = setInterval(() => sim.advance(500), 100);
    try {
      expect(await p.exit, p.stderr).toBe(0);
    } finally {
      clearInterval(ticker);
    }
    expect(p.stdout).toMatch(/\/jobs\/j[0-9a-f]+\/results\/Output_Features/);
  });

  it('refuses a URL that is not a task, with exit 2 and no request', async () => {
    const before = sim.stats().total;
    const r = await run(['submit', `${sim.restUrl}/Tools/Buffer/MapServer/0`, '--wait'], env);
    expect(r.code).toBe(2);
    expect(sim.stats().total).toBe(before);
  });
});
