/**
 * The built CLI against the simulator for jobs of every source: `jobwatch wait <job URL>` for
 * ArcGIS Server admin jobs, geoprocessing jobs and portal item jobs (bare ids beside them),
 * `jobwatch submit`, progress on the line and result URLs at the end (hostile job URLs:
 * `wait-url.test.ts`).
 */
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, start } from './process.js';

const PASSWORD = 'correct-horse-battery-staple';
let sim: Simulator;
let env: Record<string, string>;

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', users: { admin: PASSWORD }, seed: 15 });
  env = { JOBWATCH_URL: sim.adminUrl, JOBWATCH_USERNAME: 'admin', JOBWATCH_PASSWORD: PASSWORD };
});
afterAll(async () => {
  await sim.close();
});

describe('jobwatch wait <job URL>', () => {
  it('server: a COMPLETED job whose operation answered an error exits 1, with its reason', async () => {
    const job = sim.createServerJob({ outcome: 'COMPLETED_WITH_ERROR', durationMs: 1_000 });
    sim.advance(1_000);
    const r = await run(['wait', job.jobUrl], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${job.jobid}  FAILED`);
    expect(r.stderr).toMatch(new RegExp(`jobwatch: ${job.jobid} FAILED: .+`));
  });

  it('gp: a succeeded job exits 0 and prints its result URLs', async () => {
    const job = sim.createGpJob({ outcome: 'esriJobSucceeded', durationMs: 1_000 });
    sim.advance(1_000);
    const r = await run(['wait', job.jobUrl], env);
    expect(r.code).toBe(0);
    const results = r.stdout.split('\n').filter((l) => l.includes(`${job.jobUrl}/results/`));
    expect(results.length).toBeGreaterThan(0);
    expect(results[0]).toMatch(new RegExp(`^${job.jobId}  \\S+  ${job.jobUrl}/results/\\S+$`));
  });

  it('item: a failed item job exits 1; a cancelled GP job 3; mixed with a bare id, the worst wins', async () => {
    const item = sim.createItemJob({ outcome: 'failed', durationMs: 1_000 });
    const gp = sim.createGpJob({ outcome: 'esriJobCancelled', durationMs: 1_000 });
    const admin = sim.createJob({ outcome: 'COMPLETED', durationMs: 1_000 });
    sim.advance(1_000);
    expect((await run(['wait', item.statusUrl], env)).code).toBe(1);
    expect((await run(['wait', gp.jobUrl], env)).code).toBe(3);
    const mixed = await run(['wait', admin, gp.jobUrl, item.statusUrl, '--json'], env);
    expect(mixed.code).toBe(1);
    const finals = mixed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { jobid: string; status: string; source?: string })
      .filter((s) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(s.status));
    expect(finals.map((s) => [s.source ?? 'enterprise', s.status]).sort()).toEqual([
      ['enterprise', 'COMPLETED'],
      ['gp', 'CANCELLED'],
      ['item', 'FAILED'],
    ]);
  });

  it('shows progress and the current step on the line while a job runs', async () => {
    const job = sim.createServerJob({ outcome: 'COMPLETED', durationMs: 100_000, steps: 4 });
    const p = start(['wait', job.jobUrl], env);
    await p.waitFor((out) => out.includes(job.jobid));
    sim.advance(60_000);
    await p.waitFor((out) => /EXECUTING .*\d+% step \d\/4/.test(out));
    sim.advance(40_000);
    expect(await p.exit).toBe(0);
    expect(p.stdout).toContain(`${job.jobid}  COMPLETED`);
  });
});

describe('jobwatch submit', () => {
  const task = () => `${sim.restUrl}/Tools/Buffer/GPServer/BufferPoints`;
  const params = [
    '--param',
    'Input_Features={"geometryType":"esriGeometryPoint","spatialReference":{"wkid":4326},"features":[{"geometry":{"x":-117.19,"y":34.05}}]}',
    '--param',
    'Distance={"distance":100,"units":"esriMeters"}',
  ];

  it('submits a job with its parameters and prints its URL', async () => {
    const before = sim.stats().byRoute.gpSubmit ?? 0;
    const r = await run(['submit', task(), ...params], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(new RegExp(`^${task()}/jobs/j[0-9a-f]{32}$`));
    expect(sim.stats().byRoute.gpSubmit).toBe(before + 1);
  });

  it('with --wait, waits as wait does and prints the result URLs', async () => {
    const p = start(['submit', task(), ...params, '--wait'], env);
    await p.waitFor((out) => out.includes('/jobs/j'));
    const url = p.stdout.split('\n')[0] ?? '';
    // Submitted jobs run for a seeded while on the simulator's clock.
    for (let i = 0; i < 20 && p.child.exitCode === null; i++) {
      sim.advance(60_000);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await p.exit).toBe(0);
    expect(p.stdout).toContain(`${url}/results/Output_Features`);
  });

  it('a task that refuses the parameters exits 5 and says why', async () => {
    const r = await run(['submit', task(), '--param', 'Distance=oops'], env);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/submit .*Unable to complete operation|missing|invalid/i);
  });
});
