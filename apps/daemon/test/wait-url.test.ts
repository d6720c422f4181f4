/**
 * The built CLI with job URLs against the simulator: an admin job by its URL, and a hostile job
 * URL of each source refused with exit 2 before any request.
 */
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './process.js';

let sim: Simulator;
let env: Record<string, string>;
/** The simulator's origin: every source of a deployment lives there. */
let origin: string;

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 21 });
  env = { JOBWATCH_URL: sim.adminUrl, JOBWATCH_USERNAME: 'admin', JOBWATCH_PASSWORD: 'admin' };
  origin = new URL(sim.adminUrl).origin;
});
afterAll(async () => {
  await sim.close();
});

describe('jobwatch wait <admin job URL>', () => {
  it('waits for an admin job named by its URL as for its bare id, the worst outcome winning', async () => {
    const done = sim.createJob({ outcome: 'COMPLETED', durationMs: 1_000 });
    const failed = sim.createJob({ outcome: 'FAILED', durationMs: 1_000 });
    sim.advance(1_000);
    const one = await run(['wait', `${sim.adminUrl}/jobs/${done}`], env);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain(`${done}  COMPLETED`);
    // The same job by id and by URL is waited for once.
    const both = await run(
      ['wait', done, `${sim.adminUrl}/jobs/${done}/?f=json`, `${sim.adminUrl}/jobs/${failed}`],
      env,
    );
    expect(both.code).toBe(1);
    expect(both.stdout.split('\n').filter((l) => l.startsWith(`${done}  COMPLETED`))).toHaveLength(
      1,
    );
  });
});

describe('a hostile job URL of each source exits 2 before any request', () => {
  const cases: [string, () => string, RegExp][] = [
    ['enterprise', () => `${sim.adminUrl}/jobs/../services/x`, /job URL/],
    ['server', () => `${origin}/server/admin/system/jobs/j1%2F..%2Fx`, /percent-encoding/],
    [
      'gp',
      () =>
        `${origin}/server/rest/services/Tools/Buffer/GPServer/BufferPoints/jobs/j1?token=SECRET`,
      /token/,
    ],
    [
      'item',
      () =>
        `${origin}/portal/sharing/rest/content/users/../items/0123456789abcdef0123456789abcdef/status?jobType=publish&jobId=j1`,
      /"\." or "\.\." path segment/,
    ],
    [
      'credentials in the URL',
      () => `${sim.adminUrl.replace('://', '://admin:hunter2@')}/jobs/j1`,
      /user name or password/,
    ],
  ];
  it.each(cases)('%s', async (_name, url, message) => {
    const before = sim.stats().total;
    const r = await run(['wait', url()], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/SECRET|hunter2/);
    expect(sim.stats().total).toBe(before);
  });

  it('submit: a task URL that is not one, or a --param without a name, before any request', async () => {
    const before = sim.stats().total;
    expect((await run(['submit', `${sim.adminUrl}/services`], env)).code).toBe(2);
    const task = `${origin}/server/rest/services/Tools/Buffer/GPServer/BufferPoints`;
    const r = await run(['submit', task, '--param', '=x'], env);
    expect(r.code).toBe(2);
    expect(sim.stats().total).toBe(before);
  });
});
