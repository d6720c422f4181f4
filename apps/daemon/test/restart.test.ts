/**
 * Restarts never repeat a transition. After a restart, discovery lists every job again, so a
 * job that already ended is polled once more; trouble on that poll must not show the job as
 * pending and then end it a second time. Webhooks waiting in the outbox across the restart
 * keep their message id.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Snapshot } from '@jobwatch/schema';
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resolveServeConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { type RunningServer, startServer } from '../src/serve.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { tempDir } from './helpers.js';

let sim: Simulator;
let t: ReturnType<typeof tempDir>;
let receiver: Server;
let refuse = true;
const attempts: Array<{ id: string; accepted: boolean; type: string; jobid: string }> = [];

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 31 });
  t = tempDir();
  receiver = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const { type, data } = JSON.parse(body) as { type: string; data: Snapshot };
    attempts.push({
      id: String(req.headers['webhook-id']),
      accepted: !refuse,
      type,
      jobid: data.jobid,
    });
    res.writeHead(refuse ? 503 : 204).end();
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  await sim.close();
  await new Promise((r) => receiver.close(r));
  t.cleanup();
});

const start = () =>
  startServer({
    config: resolveServeConfig(
      {
        config: t.file(
          'config.yaml',
          [
            'listen: 127.0.0.1:0',
            `dataDir: ${t.dir}/data`,
            'deployments:',
            '  - name: site',
            `    url: ${sim.adminUrl}`,
            '    username: admin',
            '    passwordEnv: PW',
            '    discover: true',
            '    listInterval: 50ms',
            '    pacing: { minInterval: 50ms, maxInterval: 200ms }',
            'webhooks:',
            `  - url: http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
            '    secret: a-webhook-secret-of-some-length',
            '    events: [terminal]',
            'webhookRetry: { base: 20ms, max: 50ms }',
          ].join('\n'),
        ),
      },
      { PW: 'admin' },
    ),
    logger: createLogger({ level: 'silent' }),
  });

const jobState = async (server: RunningServer, id: string) =>
  ((await (await fetch(`${server.url}/api/jobs/${id}`)).json()) as { state?: string }).state;

/** Answers of the job route that reached the daemon's client as a valid body. */
const okPolls = async (server: RunningServer) =>
  Number(
    /jobwatch_polls_total\{deployment="site",outcome="ok"\} (\d+)/.exec(
      await (await fetch(`${server.url}/metrics`)).text(),
    )?.[1] ?? 0,
  );

it('records a job ended before a restart once, though trouble meets its first poll after it', async () => {
  const id = sim.createJob({ outcome: 'FAILED', durationMs: 60_000 });
  const first = await start();
  try {
    await expect.poll(() => jobState(first, id), { timeout: 10_000 }).toBe('watching');
    sim.advance(60_000);
    await expect.poll(() => jobState(first, id), { timeout: 10_000 }).toBe('finished');
    // The receiver refuses: the terminal webhook waits in the outbox across the restart.
    await expect.poll(() => attempts.length, { timeout: 10_000 }).toBeGreaterThan(0);
  } finally {
    await first.close();
  }

  // Every answer about the job fails until the restarted daemon has met that trouble.
  sim.setFaults({ rate: 1, kinds: ['http502'], paths: [`/arcgis/admin/jobs/${id}`] });
  const polled = sim.stats().byJob[id] ?? 0;
  refuse = false;
  const second = await start();
  try {
    await expect
      .poll(() => sim.stats().byJob[id] ?? 0, { timeout: 10_000 })
      .toBeGreaterThan(polled);
    const ok = await okPolls(second);
    sim.clearFaults();
    // Discovery polls it again, now successfully: the job is FAILED, as it was.
    await expect.poll(() => okPolls(second), { timeout: 10_000 }).toBeGreaterThan(ok);
    await expect
      .poll(() => attempts.filter((a) => a.accepted).length, { timeout: 10_000 })
      .toBeGreaterThan(0);
    expect(await jobState(second, id)).toBe('finished');
  } finally {
    await second.close(); // waits for every pending write
  }

  const store = openSqliteStore({ dataDir: `${t.dir}/data` });
  try {
    const log = await store.eventsSince(0, { jobids: [id] }, 100);
    if (log.kind !== 'events') throw new Error('the event log was pruned');
    const statuses = log.events.map((e) => e.snapshot?.status);
    // Nothing after the end, no pending state in between, the end once.
    expect(statuses.at(-1)).toBe('FAILED');
    expect(statuses.filter((s) => s === 'FAILED')).toHaveLength(1);
    expect(statuses).not.toContain(null);
    expect(log.events.every((e) => !e.snapshot?.stale)).toBe(true);
  } finally {
    await store.close();
  }
  // At least once, under one id: refused before the restart, accepted after it.
  const mine = attempts.filter((a) => a.jobid === id);
  expect(mine.every((a) => a.type === 'job.terminal')).toBe(true);
  expect(new Set(mine.map((a) => a.id)).size).toBe(1);
  expect(mine.filter((a) => a.accepted)).toHaveLength(1);
  expect(mine.filter((a) => !a.accepted).length).toBeGreaterThan(0);
});
