/**
 * The HTTP API in-process (`startServer`) with two deployments on one simulator: qualified
 * routes, ambiguity, stopping a watch, readiness during shutdown, and the change webhooks.
 */
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { type RunningServer, startServer } from '../src/serve.js';
import { tempDir } from './helpers.js';

let sim: Simulator;
let server: RunningServer;
let t: ReturnType<typeof tempDir>;
let token: string;
const lines: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 3 });
  t = tempDir();
  token = sim.issueToken('admin', 3_600_000);
  const file = t.file(
    'config.json',
    JSON.stringify({
      listen: '127.0.0.1:0',
      dataDir: `${t.dir}/data`,
      deployments: [
        { name: 'a', url: sim.adminUrl, tokenEnv: 'TOKEN', pacing: { minInterval: '200ms' } },
        { name: 'b', url: sim.adminUrl, tokenEnv: 'TOKEN', budget: { concurrency: 2, rate: 5 } },
      ],
    }),
  );
  const config = resolveServeConfig({ config: file }, { TOKEN: token });
  server = await startServer({
    config,
    logger: createLogger({ level: 'debug', destination: { write: (l: string) => lines.push(l) } }),
  });
});

afterAll(async () => {
  await server.close();
  await sim.close();
  t.cleanup();
});

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown> & { error?: { code: string } },
  };
};

describe('HTTP API with two deployments', () => {
  it('serves without a key on loopback and lists the deployments', async () => {
    expect(await call('GET', '/api/deployments')).toEqual({
      status: 200,
      body: { deployments: [{ name: 'a' }, { name: 'b' }] },
    });
  });

  it('needs a deployment to start watching when several are configured', async () => {
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 60_000 });
    const r = await call('POST', '/api/jobs', { jobid: id });
    expect([r.status, r.body.error?.code]).toEqual([400, 'BAD_REQUEST']);
  });

  it('qualifies a job id that several deployments watch, and stops one watch', async () => {
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 60_000 });
    expect((await call('POST', '/api/jobs', { jobid: id, deployment: 'a' })).status).toBe(201);
    expect((await call('POST', '/api/jobs', { jobid: id, deployment: 'b' })).status).toBe(201);
    const ambiguous = await call('GET', `/api/jobs/${id}`);
    expect([ambiguous.status, ambiguous.body.error?.code]).toEqual([409, 'AMBIGUOUS_JOB']);
    await expect
      .poll(async () => (await call('GET', `/api/deployments/a/jobs/${id}`)).body.snapshot, {
        timeout: 10_000,
      })
      .toMatchObject({ deployment: 'a', jobid: id });
    const stopped = await call('DELETE', `/api/deployments/b/jobs/${id}`);
    expect(stopped.body).toMatchObject({ deployment: 'b', state: 'stopped' });
    expect((await call('GET', `/api/jobs/${id}?deployment=a`)).body).toMatchObject({
      state: 'watching',
    });
    expect((await call('GET', '/api/jobs?state=stopped')).body.jobs).toEqual([
      expect.objectContaining({ deployment: 'b', jobid: id }),
    ]);
    expect((await call('GET', '/api/jobs?deployment=b')).body.jobs).toHaveLength(1);
    sim.advance(60_000);
    await expect
      .poll(async () => (await call('GET', `/api/deployments/a/jobs/${id}`)).body.state, {
        timeout: 10_000,
      })
      .toBe('finished');
    expect((await call('GET', `/api/deployments/b/jobs/${id}`)).body).toMatchObject({
      state: 'stopped',
    });
    // both ends carry their moment
    const [a, b] = [
      (await call('GET', `/api/deployments/a/jobs/${id}`)).body,
      (await call('GET', `/api/deployments/b/jobs/${id}`)).body,
    ];
    expect([typeof a.endedAt, typeof b.endedAt]).toEqual(['number', 'number']);
    expect(Number(b.endedAt)).toBeLessThanOrEqual(Number(a.endedAt));
  });

  it('records a job the server does not know as failed with its code', async () => {
    const id = 'j00000000-0000-4000-8000-0000000000aa';
    expect((await call('POST', '/api/jobs', { jobid: id, deployment: 'a' })).status).toBe(201);
    await expect
      .poll(async () => (await call('GET', `/api/jobs/${id}`)).body, { timeout: 10_000 })
      .toMatchObject({ state: 'failed', error: { code: 'JOB_NOT_FOUND' } });
  });

  it('pages the job list with limit and the opaque next cursor, in the unpaged order', async () => {
    for (let i = 0; i < 5; i += 1) {
      const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 3_600_000 });
      expect((await call('POST', '/api/jobs', { jobid: id, deployment: 'b' })).status).toBe(201);
    }
    const whole = (await call('GET', '/api/jobs?deployment=b')).body;
    expect(whole.next).toBeUndefined();
    const all = (whole.jobs as Array<{ jobid: string }>).map((j) => j.jobid);
    expect(all.length).toBeGreaterThanOrEqual(5);
    const paged: string[] = [];
    let path = '/api/jobs?deployment=b&limit=2';
    for (let pages = 1; ; pages += 1) {
      const { status, body } = await call('GET', path);
      expect(status).toBe(200);
      const jobs = body.jobs as Array<{ jobid: string }>;
      expect(jobs.length).toBeLessThanOrEqual(2);
      paged.push(...jobs.map((j) => j.jobid));
      if (body.next === undefined) break;
      expect(typeof body.next).toBe('string');
      expect(pages).toBeLessThan(10);
      path = `/api/jobs?deployment=b&limit=2&after=${encodeURIComponent(String(body.next))}`;
    }
    expect(paged).toEqual(all);
  });

  it('refuses a bad page size or cursor with BAD_REQUEST', async () => {
    const hostile = Buffer.from('[1,"b","../../etc/passwd"]').toString('base64url');
    for (const query of [
      'limit=0',
      'limit=1001',
      'limit=ten',
      'limit=2.5',
      'limit=-1',
      'limit=2&after=not-a-cursor',
      `limit=2&after=${hostile}`,
      `limit=2&after=${'A'.repeat(600)}`,
      'after=WzEsImIiLCJqMSJd',
    ]) {
      const r = await call('GET', `/api/jobs?${query}`);
      expect([query, r.status, r.body.error?.code]).toEqual([query, 400, 'BAD_REQUEST']);
    }
  });

  it('refuses unknown routes, methods and deployments with stable codes', async () => {
    expect((await call('PUT', '/api/jobs')).body.error?.code).toBe('METHOD_NOT_ALLOWED');
    expect((await call('GET', '/api/deployments/zzz/jobs/j1')).body.error?.code).toBe(
      'UNKNOWN_DEPLOYMENT',
    );
    expect((await call('GET', '/api/jobs?state=done')).body.error?.code).toBe('BAD_REQUEST');
    expect((await call('GET', '/nowhere')).status).toBe(404);
    expect((await call('GET', '/api/jobs/%E0%A4%A')).body.error?.code).toBe('BAD_REQUEST');
    expect((await call('GET', '/api/jobs/j1%2F..%2Fx')).body.error?.code).toBe('INVALID_JOB_ID');
  });

  it('refuses a port already in use as a configuration error', async () => {
    const port = Number(new URL(server.url).port);
    const config = resolveServeConfig(
      { listen: `127.0.0.1:${port}`, dataDir: `${t.dir}/other` },
      { JOBWATCH_URL: sim.adminUrl, JOBWATCH_TOKEN: token },
    );
    await expect(
      startServer({ config, logger: createLogger({ level: 'silent' }) }),
    ).rejects.toMatchObject({
      name: 'DaemonError',
      code: 'CONFIG',
      message: expect.stringMatching(/^listen: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)$/),
    });
  });

  it('logs without secrets', () => {
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes('"msg":"transition"'))).toBe(true);
    expect(lines.join('')).not.toContain(token);
  });
});
