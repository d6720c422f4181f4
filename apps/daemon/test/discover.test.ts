/** A deployment with `discover: true` watches every new job without being asked. */
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resolveServeConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { type RunningServer, startServer } from '../src/serve.js';
import { openSse, tempDir } from './helpers.js';

let sim: Simulator;
let server: RunningServer;
let t: ReturnType<typeof tempDir>;

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 12 });
  t = tempDir();
  const file = t.file(
    'config.yaml',
    `listen: 127.0.0.1:0\ndataDir: ${t.dir}/data\ndeployments:\n  - name: site\n    url: ${sim.adminUrl}\n    username: admin\n    passwordEnv: PW\n    discover: true\n    listInterval: 100ms\n    pacing: { minInterval: 100ms }\n`,
  );
  server = await startServer({
    config: resolveServeConfig({ config: file }, { PW: 'admin' }),
    logger: createLogger({ level: 'silent' }),
  });
});

afterAll(async () => {
  await server.close();
  await sim.close();
  t.cleanup();
});

it('finds new jobs by listing, stores them, and streams their end', async () => {
  const stream = await openSse(`${server.url}/api/events`);
  const id = sim.createJob({ outcome: 'FAILED', durationMs: 60_000 });
  await stream.until((events) => events.some((e) => JSON.parse(e.data).jobid === id));
  const list = async () =>
    (
      (await (await fetch(`${server.url}/api/jobs`)).json()) as {
        jobs: Array<{ jobid: string; state: string }>;
      }
    ).jobs;
  expect((await list()).find((j) => j.jobid === id)).toMatchObject({ state: 'watching' });
  sim.advance(60_000);
  await stream.until((events) =>
    events.some((e) => JSON.parse(e.data).jobid === id && JSON.parse(e.data).status === 'FAILED'),
  );
  await expect
    .poll(async () => (await list()).find((j) => j.jobid === id)?.state, { timeout: 10_000 })
    .toBe('finished');
  await stream.close();
});

it('leaves a job stopped once someone stops watching it', async () => {
  const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 60_000 });
  const state = async () =>
    ((await (await fetch(`${server.url}/api/jobs/${id}`)).json()) as { state?: string }).state;
  await expect.poll(state, { timeout: 10_000 }).toBe('watching');
  expect((await fetch(`${server.url}/api/jobs/${id}`, { method: 'DELETE' })).status).toBe(200);
  // Trouble makes the (still listed) job's snapshot stale: a visible change while it runs.
  sim.setFaults({ rate: 1, kinds: ['http502'], paths: [`/arcgis/admin/jobs/${id}`] });
  const polled = sim.stats().byJob[id] ?? 0;
  await expect
    .poll(() => (sim.stats().byJob[id] ?? 0) >= polled + 3, { timeout: 10_000 })
    .toBe(true);
  sim.clearFaults();
  sim.advance(60_000);
  const listed = sim.stats().byRoute.jobsList ?? 0;
  const after = sim.stats().byJob[id] ?? 0;
  await expect
    .poll(
      () =>
        (sim.stats().byRoute.jobsList ?? 0) >= listed + 3 &&
        (sim.stats().byJob[id] ?? 0) >= after + 1,
      { timeout: 10_000 },
    )
    .toBe(true);
  expect(await state()).toBe('stopped');
});

it('does not take a job that ended before the retention horizon for news', async () => {
  const HOUR = 3_600_000;
  const old = await startSimulator({ clock: 'manual', seed: 13, startTime: Date.now() - 3 * HOUR });
  const dir = tempDir();
  let other: RunningServer | undefined;
  try {
    const ancient = old.createJob({ outcome: 'COMPLETED', durationMs: 60_000 });
    old.advance(3 * HOUR);
    const recent = old.createJob({ outcome: 'FAILED', durationMs: 1_000 });
    old.advance(1_000);
    const file = dir.file(
      'config.yaml',
      `listen: 127.0.0.1:0\ndataDir: ${dir.dir}/data\njobs: { retention: 1h }\ndeployments:\n  - name: site\n    url: ${old.adminUrl}\n    username: admin\n    passwordEnv: PW\n    discover: true\n    listInterval: 100ms\n`,
    );
    other = await startServer({
      config: resolveServeConfig({ config: file }, { PW: 'admin' }),
      logger: createLogger({ level: 'silent' }),
    });
    const url = other.url;
    const get = async (id: string) => (await fetch(`${url}/api/jobs/${id}`)).json();
    // the job that ended a moment ago is news, even on first sight
    await expect
      .poll(() => get(recent), { timeout: 10_000 })
      .toMatchObject({
        state: 'finished',
        snapshot: { status: 'FAILED' },
      });
    // the one that ended three hours ago was polled and listed again, and left alone
    const listed = old.stats().byRoute.jobsList ?? 0;
    await expect
      .poll(
        () =>
          (old.stats().byJob[ancient] ?? 0) >= 1 &&
          (old.stats().byRoute.jobsList ?? 0) >= listed + 2,
        { timeout: 10_000 },
      )
      .toBe(true);
    expect(await get(ancient)).toMatchObject({ error: { code: 'JOB_NOT_WATCHED' } });
  } finally {
    await other?.close();
    await old.close();
    dir.cleanup();
  }
});
