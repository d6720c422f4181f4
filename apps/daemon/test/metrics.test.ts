/**
 * The poll metrics come from the client's hooks: every poll counted by outcome and timed, and
 * a custom client factory handed the options (hooks included) the daemon would use.
 */
import { type AdminClientOptions, createAdminClient } from '@jobwatch/client';
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Deployment, resolveServeConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { type RunningServer, startServer } from '../src/serve.js';
import { tempDir } from './helpers.js';

let sim: Simulator;
let server: RunningServer;
let t: ReturnType<typeof tempDir>;
const made: Array<{ deployment: string; options: AdminClientOptions }> = [];

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 7 });
  t = tempDir();
  const file = t.file(
    'config.yaml',
    `listen: 127.0.0.1:0\ndataDir: ${t.dir}/data\ndeployments:\n  - name: site\n    url: ${sim.adminUrl}\n    username: admin\n    passwordEnv: PW\n    pacing: { minInterval: 100ms }\n`,
  );
  server = await startServer({
    config: resolveServeConfig({ config: file }, { PW: 'admin' }),
    logger: createLogger({ level: 'silent' }),
    daemon: {
      createClient(deployment: Deployment, options: AdminClientOptions) {
        made.push({ deployment: deployment.name, options });
        return createAdminClient(options);
      },
    },
  });
});

afterAll(async () => {
  await server.close();
  await sim.close();
  t.cleanup();
});

const metric = (text: string, line: RegExp) => Number(line.exec(text)?.[1] ?? Number.NaN);

it('counts every poll by outcome and times each one, with no job id in a label', async () => {
  expect(made).toHaveLength(1);
  expect(made[0]).toMatchObject({ deployment: 'site', options: { url: sim.adminUrl } });
  expect(typeof made[0]?.options.hooks?.onResponse).toBe('function');

  const done = sim.createJob({ outcome: 'COMPLETED', durationMs: 1_000 });
  sim.advance(1_000);
  const missing = 'j00000000-0000-4000-8000-000000000000';
  for (const jobid of [done, missing]) {
    const post = await fetch(`${server.url}/api/jobs`, {
      method: 'POST',
      body: JSON.stringify({ jobid, deployment: 'site' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(post.status).toBe(201);
  }
  const state = async (jobid: string) =>
    ((await (await fetch(`${server.url}/api/jobs/${jobid}`)).json()) as { state?: string }).state;
  await expect.poll(() => state(done), { timeout: 10_000 }).toBe('finished');
  await expect.poll(() => state(missing), { timeout: 10_000 }).toBe('failed');

  const text = await (await fetch(`${server.url}/metrics`)).text();
  const ok = metric(text, /^jobwatch_polls_total\{deployment="site",outcome="ok"\} (\d+)$/m);
  const notFound = metric(
    text,
    /^jobwatch_polls_total\{deployment="site",outcome="job_not_found"\} (\d+)$/m,
  );
  expect(ok).toBeGreaterThanOrEqual(1);
  expect(notFound).toBe(1);
  expect(metric(text, /^jobwatch_poll_duration_seconds_count\{deployment="site"\} (\d+)$/m)).toBe(
    ok + notFound,
  );
  expect(text).toMatch(
    /^jobwatch_watches_failed_total\{deployment="site",code="JOB_NOT_FOUND"\} 1$/m,
  );
  // A job the server does not know says nothing of the server's health.
  expect(text).toMatch(/^jobwatch_deployment_up\{deployment="site"\} 1$/m);
  expect(text).not.toContain(done);
  expect(text).not.toContain(missing);
});
