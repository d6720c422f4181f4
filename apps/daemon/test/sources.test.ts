/**
 * Jobs of every source through the daemon, as users run it: the built CLI's `serve` as a
 * process, the simulator in-process on a manual clock, `POST /api/jobs` with a job URL or a
 * reference, and the event stream and webhooks read as a client reads them. A deployment of
 * kind `server` discovers ArcGIS Server admin jobs by listing; geoprocessing and portal item
 * jobs go to the deployment whose credentials serve their host; hostile job URLs of every
 * source are refused before any request.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Snapshot } from '@jobwatch/schema';
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { DaemonProcess, freePort } from '@jobwatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSse, tempDir } from './helpers.js';
import { MAIN } from './process.js';

const KEY = 'sources-test-key-0123456789abcdef';
const auth = { authorization: `Bearer ${KEY}` };

let sim: Simulator;
let daemon: DaemonProcess;
let t: ReturnType<typeof tempDir>;
/** Counts every request to an origin a deployment serves that nothing should ever reach. */
let trap: Server;
let trapUrl: string;
let trapRequests = 0;
/** Webhook bodies received. */
const hooks: Array<{ type: string; data: Snapshot }> = [];
let hookServer: Server;

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', users: { admin: 'admin' }, seed: 15 });
  trap = createServer((_req, res) => {
    trapRequests += 1;
    res.writeHead(500).end();
  });
  trapUrl = await listen(trap);
  hookServer = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      hooks.push(JSON.parse(body) as { type: string; data: Snapshot });
      res.writeHead(204).end();
    });
  });
  const hookUrl = await listen(hookServer);
  t = tempDir();
  const port = await freePort();
  const login = { username: 'admin', passwordEnv: 'PASSWORD' };
  const config = t.file(
    'jobwatch.json',
    JSON.stringify({
      listen: `127.0.0.1:${port}`,
      dataDir: `${t.dir}/data`,
      apiKeys: [KEY],
      logLevel: 'warn',
      deployments: [
        { name: 'ent', url: sim.adminUrl, ...login },
        {
          name: 'srv',
          kind: 'server',
          url: sim.serverAdminUrl,
          ...login,
          discover: true,
          listInterval: '1s',
        },
        { name: 'trap', url: `${trapUrl}/arcgis/admin`, token: 'fixed-token-never-sent' },
      ],
      webhooks: [{ url: `${hookUrl}/hook`, secret: 'sources-test-secret', events: ['terminal'] }],
    }),
  );
  daemon = new DaemonProcess({
    main: MAIN,
    args: ['serve', '--config', config],
    env: { PASSWORD: 'admin' },
    url: `http://127.0.0.1:${port}`,
  });
  await daemon.start();
});

afterAll(async () => {
  if (daemon?.pid !== undefined) await daemon.stop('SIGTERM');
  await sim?.close();
  trap?.close();
  hookServer?.close();
  t?.cleanup();
});

async function post(body: unknown) {
  const res = await fetch(`${daemon.url}/api/jobs`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The event stream of one job, its snapshots parsed. */
async function stream(jobid: string) {
  const sse = await openSse(`${daemon.url}/api/events?jobid=${jobid}`, auth);
  const snapshots = () =>
    sse.events.filter((e) => e.event === 'snapshot').map((e) => JSON.parse(e.data) as Snapshot);
  return {
    snapshots,
    /** Resolves with the first snapshot that `predicate` accepts. */
    async until(predicate: (s: Snapshot) => boolean): Promise<Snapshot> {
      await sse.until(() => snapshots().some(predicate));
      return snapshots().find(predicate) as Snapshot;
    },
    close: () => sse.close(),
  };
}

describe('POST /api/jobs with a job URL or reference, through the event stream', () => {
  it('follows a geoprocessing job: progress and its message while it runs, result links at its end', async () => {
    const gp = sim.createGpJob({ outcome: 'esriJobSucceeded', durationMs: 10_000 });
    const answer = await post({ url: gp.jobUrl });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    // Two deployments serve the simulator's origin: the one of the GP service's context wins.
    expect(answer.body).toMatchObject({
      deployment: 'srv',
      jobid: gp.jobId,
      source: 'gp',
      url: gp.jobUrl,
      state: 'watching',
    });
    const events = await stream(gp.jobId);
    try {
      sim.advance(5_000);
      const running = await events.until((s) => (s.progress ?? 0) > 0 && s.progress! < 1);
      expect(running).toMatchObject({ source: 'gp', url: gp.jobUrl, status: 'EXECUTING' });
      expect(running.step?.text).toEqual(expect.any(String));
      sim.advance(6_000);
      const end = await events.until((s) => s.terminal);
      expect(end).toMatchObject({ status: 'COMPLETED', outcome: 'succeeded', source: 'gp' });
      expect(end.results?.length).toBeGreaterThan(0);
      for (const r of end.results ?? []) expect(r.url.startsWith(`${gp.jobUrl}/`)).toBe(true);
    } finally {
      await events.close();
    }
    // The same job by reference is the same watch.
    const again = await post({
      ref: { source: 'gp', taskUrl: gp.taskUrl, jobid: gp.jobId },
      deployment: 'srv',
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ jobid: gp.jobId, source: 'gp', state: 'finished' });
  });

  it('discovers an ArcGIS Server admin job with steps; COMPLETED with an error operationResponse ends FAILED, on the stream and to webhooks', async () => {
    const job = sim.createServerJob({
      outcome: 'COMPLETED_WITH_ERROR',
      durationMs: 3_000,
      steps: 3,
    });
    const events = await stream(job.jobid);
    try {
      const first = await events.until(() => true);
      expect(first).toMatchObject({ deployment: 'srv', source: 'server', url: job.jobUrl });
      sim.advance(1_500);
      const midway = await events.until((s) => (s.progress ?? 0) > 0 && !s.terminal);
      expect(midway.step?.total).toBe(3);
      sim.advance(2_000);
      const end = await events.until((s) => s.terminal);
      expect(end).toMatchObject({ status: 'FAILED', outcome: 'failed', source: 'server' });
      expect(end.reason).toEqual(expect.any(String));
    } finally {
      await events.close();
    }
    const view = await fetch(`${daemon.url}/api/jobs/${job.jobid}`, { headers: auth });
    expect(await view.json()).toMatchObject({
      deployment: 'srv',
      source: 'server',
      url: job.jobUrl,
      state: 'finished',
      snapshot: { status: 'FAILED' },
    });
    await expect
      .poll(() => hooks.find((h) => h.data.jobid === job.jobid), { timeout: 10_000 })
      .toMatchObject({ type: 'job.terminal', data: { source: 'server', status: 'FAILED' } });
  });

  it('watches a portal item job by reference on the deployment named; unnamed, it asks which of those serving its host', async () => {
    const item = sim.createItemJob({ outcome: 'failed', durationMs: 2_000, jobType: 'export' });
    const ref = {
      source: 'item',
      portalUrl: sim.portalUrl,
      username: item.username,
      itemId: item.itemId,
      jobType: item.jobType,
      jobid: item.jobId,
    };
    const unnamed = await post({ ref });
    expect(unnamed.status).toBe(409);
    expect(unnamed.body).toMatchObject({ error: { code: 'AMBIGUOUS_JOB' } });
    const answer = await post({ ref, deployment: 'ent' });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body).toMatchObject({ deployment: 'ent', source: 'item', url: item.statusUrl });
    const events = await stream(item.jobId);
    try {
      sim.advance(2_500);
      const end = await events.until((s) => s.terminal);
      expect(end).toMatchObject({ status: 'FAILED', source: 'item', deployment: 'ent' });
    } finally {
      await events.close();
    }
  });

  it('resumes a geoprocessing job after a restart, from the URL it stored', async () => {
    const gp = sim.createGpJob({ outcome: 'esriJobFailed', durationMs: 20_000 });
    expect((await post({ url: gp.jobUrl })).status).toBe(201);
    await expect
      .poll(async () => {
        const res = await fetch(`${daemon.url}/api/jobs/${gp.jobId}`, { headers: auth });
        return ((await res.json()) as { snapshot: Snapshot | null }).snapshot?.status;
      })
      .toBe('SUBMITTED');
    await daemon.stop('SIGTERM');
    sim.advance(21_000);
    await daemon.start();
    const events = await stream(gp.jobId);
    try {
      const end = await events.until((s) => s.terminal);
      expect(end).toMatchObject({ status: 'FAILED', source: 'gp', url: gp.jobUrl });
    } finally {
      await events.close();
    }
  });

  it('keeps an admin job posted by URL at its deployment byte for byte as one posted by id', async () => {
    const jobid: string = sim.createJob({ outcome: 'COMPLETED', durationMs: 60_000 });
    const byUrl = await post({ url: `${sim.adminUrl}/jobs/${jobid}` });
    expect(byUrl.status).toBe(201);
    expect(Object.keys(byUrl.body).sort()).toEqual(
      ['addedAt', 'deployment', 'jobid', 'snapshot', 'state'].sort(),
    );
    const byId = await post({ jobid, deployment: 'ent' });
    expect(byId).toMatchObject({ status: 200, body: { deployment: 'ent', jobid } });
  });
});

describe('job URLs the daemon refuses, without a request', () => {
  const hostile = (origin: string): Array<[string, unknown]> => [
    ['enterprise: a climbing path', { url: `${origin}/arcgis/admin/jobs/../security/users/j1` }],
    ['enterprise: an unsafe id', { url: `${origin}/arcgis/admin/jobs/j1;rm` }],
    ['server: an encoded slash', { url: `${origin}/arcgis/admin/system/jobs/j1%2F..%2Fx` }],
    ['server: a token in the query', { url: `${origin}/arcgis/admin/system/jobs/j1?token=S3CRET` }],
    ['gp: dot segments', { url: `${origin}/arcgis/rest/services/./B/GPServer/B/jobs/j1` }],
    [
      'gp: an encoded dot task',
      { url: `${origin}/arcgis/rest/services/B/GPServer/%2e%2e/jobs/j1` },
    ],
    [
      'item: a dotted user',
      {
        url: `${origin}/portal/sharing/rest/content/users/../items/abc/status?jobType=publish&jobId=j1`,
      },
    ],
    [
      'item: an unsafe job id',
      {
        url: `${origin}/portal/sharing/rest/content/users/u/items/abc/status?jobType=publish&jobId=a.b`,
      },
    ],
    [
      'gp reference: a climbing task URL',
      { ref: { source: 'gp', taskUrl: `${origin}/arcgis/x/../admin`, jobid: 'j1' } },
    ],
    [
      'server reference: credentials in its URL',
      {
        ref: {
          source: 'server',
          adminUrl: `http://u:p@${origin.slice(7)}/arcgis/admin`,
          jobid: 'j1',
        },
      },
    ],
  ];

  it.each(hostile('http://127.0.0.1:1'))('%s: 400 BAD_JOB_URL', async (_what, body) => {
    // The trap's origin stands in: its deployment would send its token there.
    const text = JSON.stringify(body).replaceAll('http://127.0.0.1:1', trapUrl);
    const answer = await post(JSON.parse(text));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'BAD_JOB_URL' } });
    expect(JSON.stringify(answer.body)).not.toContain('S3CRET');
    expect(trapRequests).toBe(0);
  });

  it('refuses a reference whose id could change a URL by its schema (400 BAD_REQUEST)', async () => {
    const answer = await post({
      ref: { source: 'gp', taskUrl: `${trapUrl}/arcgis/rest/services/B/GPServer/B`, jobid: '../x' },
    });
    expect(answer).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });
    expect(trapRequests).toBe(0);
  });

  it.each([
    ['another host', 'https://gis.example.com/arcgis/rest/services/B/GPServer/B/jobs/j1'],
    [
      'the same host over another scheme',
      () => `${sim.serverAdminUrl.replace('http:', 'https:')}/system/jobs/j1`,
    ],
  ])('refuses a job on %s with 422 NO_DEPLOYMENT_FOR_HOST', async (_what, url) => {
    const answer = await post({ url: typeof url === 'function' ? url() : url });
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ error: { code: 'NO_DEPLOYMENT_FOR_HOST' } });
  });

  it('refuses another source’s job under an id the deployment already watches (409 JOB_ID_TAKEN)', async () => {
    const jobid: string = sim.createJob({ outcome: 'COMPLETED', durationMs: 60_000 });
    expect((await post({ jobid, deployment: 'ent' })).status).toBeLessThan(300);
    const clash = await post({
      url: `${sim.restUrl}/B/GPServer/B/jobs/${jobid}`,
      deployment: 'ent',
    });
    expect(clash).toMatchObject({ status: 409, body: { error: { code: 'JOB_ID_TAKEN' } } });
  });
});
