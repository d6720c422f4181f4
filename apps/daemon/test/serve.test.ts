/**
 * `jobwatch serve` as a built process against an in-process simulator (manual clock):
 * authentication, CORS, tickets, input errors, the event stream and its resumption, signed
 * webhooks with retries, `kill -9` and restart losing nothing, shutdown, and no secret in logs.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSse, tempDir } from './helpers.js';
import { type Running, run, start } from './process.js';

const KEY = 'test-api-key-0123456789';
const SECRET = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const ORIGIN = 'https://portal.example.com';
const OPS_PASSWORD = 'ops-Pa55word-never-logged';

let sim: Simulator;
let token: string;
let t: ReturnType<typeof tempDir>;
let configFile: string;
const logs: string[] = [];

// A webhook receiver written from the Standard Webhooks description: base64 key after
// `whsec_`, HMAC-SHA256 over `${id}.${timestamp}.${body}`, `v1,<base64>` signatures.
const hooks: Array<{
  id: string;
  verified: boolean;
  body: { type: string; data: { jobid: string; status: string } };
}> = [];
let failNext = 0;
let receiver: Server;
function verify(headers: IncomingHttpHeaders, body: string): boolean {
  const id = String(headers['webhook-id']);
  const ts = String(headers['webhook-timestamp']);
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const expected = createHmac('sha256', Buffer.from(SECRET.slice(6), 'base64'))
    .update(`${id}.${ts}.${body}`)
    .digest();
  return String(headers['webhook-signature'])
    .split(' ')
    .some((s) => {
      const given = Buffer.from(s.split(',')[1] ?? '', 'base64');
      return (
        s.startsWith('v1,') && given.length === expected.length && timingSafeEqual(given, expected)
      );
    });
}

let daemon: Running;
let url: string;

async function startDaemon(): Promise<void> {
  daemon = start(['serve', '--config', configFile], {
    PROD_TOKEN: token,
    OPS_PASS: OPS_PASSWORD,
    JOBWATCH_LOG_LEVEL: 'info',
  });
  await daemon.waitFor((out) => /"msg":"listening"/.test(out));
  url = /"url":"(http:[^"]+)"/.exec(daemon.stdout)?.[1] ?? '';
  const current = daemon;
  void current.exit.then(() => logs.push(current.stdout, current.stderr));
}

const auth = { authorization: `Bearer ${KEY}` };
const api = (path: string, init: RequestInit = {}) =>
  fetch(`${url}${path}`, {
    ...init,
    headers: { ...auth, ...(init.headers as Record<string, string>) },
  });
const jobState = async (id: string) =>
  ((await (await api(`/api/jobs/${id}`)).json()) as { state: string }).state;
const poll = (fn: () => unknown, expected: unknown) =>
  expect.poll(fn, { timeout: 30_000, interval: 25 }).toEqual(expected);

beforeAll(async () => {
  sim = await startSimulator({
    clock: 'manual',
    seed: 6,
    users: { admin: 'admin', ops: OPS_PASSWORD },
  });
  token = sim.issueToken('admin', 24 * 3_600_000);
  receiver = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    if (failNext > 0) {
      failNext -= 1;
      res.writeHead(500).end();
      return;
    }
    hooks.push({
      id: String(req.headers['webhook-id']),
      verified: verify(req.headers, body),
      body: JSON.parse(body),
    });
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  t = tempDir();
  configFile = t.file(
    'config.yaml',
    [
      'listen: 127.0.0.1:0',
      `dataDir: ${t.dir}/data`,
      `apiKeys: [${KEY}]`,
      `cors: { origins: ["${ORIGIN}"] }`,
      'deployments:',
      '  - name: prod',
      `    url: ${sim.adminUrl}`,
      '    tokenEnv: PROD_TOKEN',
      '  - name: lab',
      `    url: ${sim.adminUrl}`,
      '    username: ops',
      '    passwordEnv: OPS_PASS',
      'webhooks:',
      `  - url: http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
      `    secret: ${SECRET}`,
      '    events: [terminal]',
      'webhookRetry: { base: 20ms, max: 100ms }',
    ].join('\n'),
  );
  await startDaemon();
});

afterAll(async () => {
  if (daemon.child.exitCode === null) {
    daemon.child.kill('SIGKILL');
    await daemon.exit;
  }
  await sim.close();
  await new Promise((r) => receiver.close(r));
  t.cleanup();
});

describe('jobwatch serve', () => {
  it('answers health probes', async () => {
    expect((await fetch(`${url}/livez`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it('refuses /api without the key, with a JSON error code', async () => {
    for (const headers of [
      {} as Record<string, string>,
      { authorization: 'Bearer wrong-key-wrong-key-wrong' },
      { authorization: KEY },
    ]) {
      const res = await fetch(`${url}/api/jobs`, { headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        error: { code: 'UNAUTHORIZED', message: expect.any(String) },
      });
    }
    expect((await fetch(`${url}/api/events`)).status).toBe(401);
    expect((await api('/api/jobs')).status).toBe(200);
  });

  it('answers CORS only for configured origins, always with Vary: Origin', async () => {
    const allowed = await api('/api/jobs', { headers: { origin: ORIGIN } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(allowed.headers.get('vary')).toMatch(/Origin/);
    const denied = await api('/api/jobs', { headers: { origin: 'https://evil.example.com' } });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
    expect(denied.headers.get('vary')).toMatch(/Origin/);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe(
      'FORBIDDEN_ORIGIN',
    );
    const preflight = await fetch(`${url}/api/events`, {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
  });

  it('names bad input with a stable code and loses nothing', async () => {
    const post = (body: string, type = 'application/json') =>
      api('/api/jobs', { method: 'POST', body, headers: { 'content-type': type } });
    const code = async (res: Response) => [
      res.status,
      ((await res.json()) as { error: { code: string } }).error.code,
    ];
    expect(await code(await post('{"jobid": "../services"}'))).toEqual([400, 'INVALID_JOB_ID']);
    expect(await code(await post('{"jobid": '))).toEqual([400, 'BAD_REQUEST']);
    expect(await code(await post('[]'))).toEqual([400, 'BAD_REQUEST']);
    expect(
      await code(await post(JSON.stringify({ jobid: 'j1', pad: 'x'.repeat(40_000) }))),
    ).toEqual([413, 'BODY_TOO_LARGE']);
    expect(await code(await post('jobid=j1', 'application/x-www-form-urlencoded'))).toEqual([
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ]);
    expect(await code(await post('{"jobid": "j1", "deployment": "nope"}'))).toEqual([
      404,
      'UNKNOWN_DEPLOYMENT',
    ]);
    expect(await code(await api('/api/jobs/j0000000000000000000000000000beef'))).toEqual([
      404,
      'JOB_NOT_WATCHED',
    ]);
    expect(await code(await api('/api/nothing'))).toEqual([404, 'NOT_FOUND']);
    expect(((await (await api('/api/jobs')).json()) as { jobs: unknown[] }).jobs).toEqual([]);
  });

  it('issues short-lived tickets that open the event stream, and refuses forged ones', async () => {
    const res = await api('/api/tickets', { method: 'POST' });
    expect(res.status).toBe(201);
    const { ticket, expiresAt } = (await res.json()) as { ticket: string; expiresAt: number };
    expect(expiresAt).toBeGreaterThan(Date.now());
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 120_000);
    const stream = await openSse(`${url}/api/events?ticket=${encodeURIComponent(ticket)}`);
    expect(stream.res.status).toBe(200);
    await stream.close();
    const forged = `${ticket.slice(0, -4)}AAAA`;
    expect((await fetch(`${url}/api/events?ticket=${encodeURIComponent(forged)}`)).status).toBe(
      401,
    );
    expect((await fetch(`${url}/api/tickets`, { method: 'POST' })).status).toBe(401);
  });

  let lastSeen = 0;
  let jobA = '';

  it('streams changes, resumes from Last-Event-ID with exactly what was missed, and calls the webhook once verified', async () => {
    jobA = sim.createJob({ outcome: 'FAILED', durationMs: 3_600_000 });
    const stream = await openSse(`${url}/api/events`, auth);
    expect(stream.retry).toBeUndefined(); // read lazily below
    const created = await api('/api/jobs', {
      method: 'POST',
      body: JSON.stringify({ jobid: jobA, deployment: 'prod' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(created.status).toBe(201);
    expect(
      (
        await api('/api/jobs', {
          method: 'POST',
          body: JSON.stringify({ jobid: jobA, deployment: 'prod' }),
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(200);
    await stream.until((e) =>
      e.some((x) => x.event === 'snapshot' && JSON.parse(x.data).jobid === jobA),
    );
    expect(stream.retry).toBe(3000);
    lastSeen = Number(stream.events.at(-1)?.id);
    await stream.close();

    failNext = 2; // the receiver fails twice; the outbox retries
    sim.advance(3_600_000);
    await poll(() => jobState(jobA), 'finished');

    const resumed = await openSse(`${url}/api/events`, {
      ...auth,
      'last-event-id': String(lastSeen),
    });
    await resumed.until((e) => e.some((x) => JSON.parse(x.data).terminal === true));
    const ids = resumed.events.map((e) => Number(e.id));
    expect(ids[0]).toBe(lastSeen + 1);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(JSON.parse(resumed.events.at(-1)?.data ?? '{}')).toMatchObject({
      jobid: jobA,
      status: 'FAILED',
      deployment: 'prod',
    });
    await resumed.close();

    await poll(() => hooks.filter((h) => h.body.data.jobid === jobA).length, 1);
    const hook = hooks.find((h) => h.body.data.jobid === jobA);
    expect(hook).toMatchObject({
      verified: true,
      body: { type: 'job.terminal', data: { status: 'FAILED' } },
    });
    expect(failNext).toBe(0);
  });

  it('watches a second deployment with a generated token', async () => {
    const jobC = sim.createJob({ outcome: 'CANCELLED', durationMs: 1_000 });
    sim.advance(1_000);
    const post = await api('/api/jobs', {
      method: 'POST',
      body: JSON.stringify({ jobid: jobC, deployment: 'lab' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(post.status).toBe(201);
    await poll(
      async () =>
        (
          (await (await api(`/api/deployments/lab/jobs/${jobC}`)).json()) as {
            snapshot: { status: string } | null;
          }
        ).snapshot?.status,
      'CANCELLED',
    );
    expect(
      ((await (await api(`/api/jobs/${jobC}`)).json()) as { deployment: string }).deployment,
    ).toBe('lab');
  });

  it('exports metrics without job ids in labels', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/jobwatch_polls_total\{deployment="prod",outcome="ok"\} \d+/);
    expect(text).toMatch(/jobwatch_transitions_total\{deployment="prod",status="FAILED"\} 1/);
    expect(text).toMatch(/jobwatch_poll_duration_seconds_bucket/);
    expect(text).toMatch(/jobwatch_event_stream_clients/);
    expect(text).toMatch(/nodejs_eventloop_lag_p99_seconds/);
    expect(text).not.toContain(jobA);
  });

  it('survives kill -9: the unfinished watch resumes and its terminal transition is not lost', async () => {
    const jobB = sim.createJob({ outcome: 'COMPLETED', durationMs: 3_600_000 });
    expect(
      (
        await api('/api/jobs', {
          method: 'POST',
          body: JSON.stringify({ jobid: jobB, deployment: 'prod' }),
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(201);
    const stream = await openSse(`${url}/api/events?jobid=${jobB}`, auth);
    await stream.until((e) => e.length > 0);
    const before = Number(stream.events.at(-1)?.id);
    await stream.close();

    daemon.child.kill('SIGKILL');
    expect(await daemon.exit).toBe('SIGKILL');
    sim.advance(3_600_000); // B ends while nobody watches

    await startDaemon();
    await poll(() => jobState(jobB), 'finished');
    expect(await jobState(jobA)).toBe('finished');
    const resumed = await openSse(`${url}/api/events?jobid=${jobB}`, {
      ...auth,
      'last-event-id': String(before),
    });
    await resumed.until((e) => e.some((x) => JSON.parse(x.data).status === 'COMPLETED'));
    expect(Number(resumed.events[0]?.id)).toBeGreaterThan(before);
    await resumed.close();
    await poll(
      () => hooks.filter((h) => h.body.data.jobid === jobB).map((h) => h.body.data.status),
      ['COMPLETED'],
    );
    expect(hooks.filter((h) => h.body.data.jobid === jobA)).toHaveLength(1); // not re-sent after the restart
  });

  it('on SIGTERM ends streams with an end event and exits 0', async () => {
    const stream = await openSse(`${url}/api/events`, auth);
    await stream.until((e) => e.length >= 2);
    daemon.child.kill('SIGTERM');
    await stream.done;
    expect(stream.events.at(-1)).toEqual({ event: 'end', data: '{"reason":"shutdown"}' });
    expect(await daemon.exit).toBe(0);
  });

  it('logs one JSON line per transition and never a secret', async () => {
    const all = logs.join('\n');
    const lines = all.split('\n').filter((l) => l.startsWith('{'));
    expect(lines.every((l) => JSON.parse(l).name === 'jobwatch')).toBe(true);
    const transitions = lines
      .map((l) => JSON.parse(l))
      .filter((l) => l.msg === 'transition' && l.jobid === jobA);
    expect(transitions.map((l) => l.status)).toContain('FAILED');
    for (const secret of [token, KEY, SECRET, SECRET.slice(6), OPS_PASSWORD])
      expect(all).not.toContain(secret);
  });
});

describe('jobwatch serve configuration errors exit 2 naming the key', () => {
  it.each([
    [
      'a bad key type',
      '{"deployments": [{"name": "a", "url": 42, "token": "t"}]}',
      /deployments\[0\]\.url: expected a string, got 42/,
    ],
    ['an unknown key', '{"listn": "127.0.0.1:1"}', /listn: unknown key/],
    [
      'a missing token variable',
      '{"deployments": [{"name": "a", "url": "https://h/c/admin", "tokenEnv": "NOPE"}]}',
      /deployments\[0\]\.tokenEnv: environment variable NOPE is not set/,
    ],
    [
      'no key beyond loopback',
      '{"listen": "0.0.0.0:0", "deployments": [{"name": "a", "url": "https://h/c/admin", "token": "t"}]}',
      /refusing to serve 0\.0\.0\.0 without an API key/,
    ],
    [
      'a data directory that cannot be made',
      '{"dataDir": "/dev/null/jobwatch", "deployments": [{"name": "a", "url": "https://h/c/admin", "token": "t"}]}',
      /dataDir: cannot open the database in \/dev\/null\/jobwatch \(ENOTDIR\)/,
    ],
  ])('%s', async (_name, json, message) => {
    const r = await run(['serve', '--config', t.file('bad.json', json)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
