/**
 * The daemon and the command line against servers that answer as real ones do
 * (`shared/reference/real-world.md`): the simulator with quirks on (message objects, string
 * results, ERROR and lower-case statuses, numeric-string timestamps, a status nobody
 * documented), and deployments that read the token from one header only. No unexpected
 * shape costs a job's outcome: the exit code is right, the reason is printed, the webhook
 * carries it, and the warnings are logged once, counted and shown.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { failureReason, type Job, parseJob, type Snapshot } from '@jobwatch/schema';
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';
import { type Running, run, start } from './process.js';

const SECRET = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const poll = (fn: () => unknown, expected: unknown) =>
  expect.poll(fn, { timeout: 30_000, interval: 25 }).toEqual(expected);

/** The job body as the simulator serves it, read as jobwatch reads it. */
async function bodyOf(adminUrl: string, token: string, jobid: string): Promise<Job> {
  const res = await fetch(`${adminUrl}/jobs/${jobid}?f=json`, {
    headers: { 'x-esri-authorization': `Bearer ${token}` },
  });
  return parseJob(await res.json());
}

describe('jobwatch serve with quirks on', () => {
  let sim: Simulator;
  let token: string;
  let t: ReturnType<typeof tempDir>;
  let daemon: Running;
  let url: string;
  let receiver: Server;
  const hooks: Array<{ type: string; data: Snapshot }> = [];
  const api = async (path: string, init: RequestInit = {}) =>
    (await fetch(`${url}${path}`, init)).json() as Promise<Record<string, unknown>>;
  const watch = (jobid: string) =>
    fetch(`${url}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jobid }),
    });
  const snapshotOf = async (jobid: string) =>
    ((await api(`/api/jobs/${jobid}`)) as { snapshot: Snapshot | null }).snapshot;

  beforeAll(async () => {
    sim = await startSimulator({ clock: 'manual', seed: 12 });
    token = sim.issueToken('admin', 24 * 3_600_000);
    receiver = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      hooks.push(JSON.parse(body));
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    t = tempDir();
    const config = t.file(
      'config.yaml',
      [
        'listen: 127.0.0.1:0',
        `dataDir: ${t.dir}/data`,
        'deployments:',
        '  - name: prod',
        `    url: ${sim.adminUrl}`,
        '    tokenEnv: PROD_TOKEN',
        '    pacing: { minInterval: 200ms }',
        'webhooks:',
        `  - url: http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
        `    secret: ${SECRET}`,
        '    events: [terminal]',
      ].join('\n'),
    );
    daemon = start(['serve', '--config', config], {
      PROD_TOKEN: token,
      JOBWATCH_LOG_LEVEL: 'info',
    });
    await daemon.waitFor((out) => /"msg":"listening"/.test(out));
    url = /"url":"(http:[^"]+)"/.exec(daemon.stdout)?.[1] ?? '';
  });

  afterAll(async () => {
    if (daemon.child.exitCode === null) {
      daemon.child.kill('SIGTERM');
      await daemon.exit;
    }
    await sim.close();
    await new Promise((r) => receiver.close(r));
    t.cleanup();
  });

  it('watches quirky jobs to their end: reason and messages on the snapshot, warnings shown, counted and logged once', async () => {
    const failed = sim.createJob({
      outcome: 'FAILED',
      durationMs: 1_000,
      quirks: ['messageObjects', 'stringTimestamps', 'errorStatus'],
    });
    const done = sim.createJob({
      outcome: 'COMPLETED',
      durationMs: 1_000,
      quirks: ['stringTimestamps', 'typedProperties', 'nullUsername', 'lowerCaseStatus'],
    });
    for (const id of [failed, done]) expect((await watch(id)).status).toBe(201);
    await poll(async () => (await snapshotOf(failed))?.status, 'SUBMITTED');
    sim.advance(1_000);
    await poll(async () => (await snapshotOf(failed))?.terminal, true);
    await poll(async () => (await snapshotOf(done))?.terminal, true);

    const f = (await snapshotOf(failed)) as Snapshot;
    const reason = failureReason(await bodyOf(sim.adminUrl, token, failed));
    expect(reason).toBeTruthy();
    expect(f).toMatchObject({ status: 'ERROR', outcome: 'failed', reason });
    expect(f.messages?.some((m) => m.severity === 'error')).toBe(true);
    expect(f.warnings?.map((w) => w.pointer)).toEqual(['/starttime', '/endtime', '/updatedtime']);
    const d = (await snapshotOf(done)) as Snapshot;
    expect(d).toMatchObject({ status: 'COMPLETED', outcome: 'succeeded', terminal: true });
    expect(d.job?.status).toBe('completed');
    expect(d.job?.username).toBeNull();
    expect(d.job?.starttime).toEqual(expect.any(Number));

    // The webhook of the failed job carries its reason.
    await poll(() => hooks.find((h) => h.data.jobid === failed)?.data.reason, reason);

    // Counted by place, list indices collapsed, no job id in a label.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const count = (pointer: string) =>
      Number(
        new RegExp(
          `jobwatch_schema_warnings_total\\{deployment="prod",pointer="${pointer}"\\} (\\d+)`,
        ).exec(metrics)?.[1] ?? 0,
      );
    expect(count('/starttime')).toBeGreaterThanOrEqual(2);
    expect(metrics).not.toContain(failed);
    // Logged once per (deployment, place), however many jobs and polls showed it.
    const logged = daemon.stdout
      .split('\n')
      .filter((l) => l.includes('"level":"warn"') && l.includes('"pointer":"/starttime"'));
    expect(logged).toHaveLength(1);
    expect(JSON.parse(logged[0] ?? '{}')).toMatchObject({
      deployment: 'prod',
      pointer: '/starttime',
      expected: 'a number or null',
    });
  });

  it('reports a status nobody documented, keeps watching, and counts it', async () => {
    const id = sim.createJob({
      outcome: 'COMPLETED',
      durationMs: 2_000,
      timeline: [{ atMs: 500, status: 'PAUSED' }],
    });
    expect((await watch(id)).status).toBe(201);
    sim.advance(600);
    await poll(async () => (await snapshotOf(id))?.status, 'PAUSED');
    expect(await snapshotOf(id)).toMatchObject({ kind: 'unknown', terminal: false });
    expect((await snapshotOf(id))?.warnings?.[0]).toMatchObject({
      pointer: '/status',
      found: '"PAUSED"',
    });
    sim.advance(2_000);
    await poll(async () => (await snapshotOf(id))?.status, 'COMPLETED');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/jobwatch_unknown_statuses_total\{deployment="prod"\} 1\b/);
    const logged = daemon.stdout
      .split('\n')
      .filter((l) => l.includes('"status":"PAUSED"') && l.includes('"level":"warn"'));
    expect(logged).toHaveLength(1);
  });
});

describe('jobwatch wait against jobwatch sim --quirks', () => {
  let sim: Running;
  let adminUrl: string;
  let origin: string;
  let token: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    sim = start(['sim', '--quiet', '--quirks', '--seed', '12']);
    await sim.waitFor((out) => out.includes('\n'));
    adminUrl = sim.stdout.split('\n')[0] ?? '';
    origin = new URL(adminUrl).origin;
    env = { JOBWATCH_URL: adminUrl, JOBWATCH_USERNAME: 'admin', JOBWATCH_PASSWORD: 'admin' };
    token = (
      (await (await fetch(`${origin}/__sim/tokens`, { method: 'POST' })).json()) as {
        token: string;
      }
    ).token;
  });
  afterAll(async () => {
    sim.child.kill('SIGTERM');
    await sim.exit;
  });

  /** A job of the running simulator, with chosen quirks. */
  const create = async (spec: Record<string, unknown>): Promise<string> =>
    (
      (await (
        await fetch(`${origin}/__sim/jobs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ durationMs: 300, ...spec }),
        })
      ).json()) as { jobid: string }
    ).jobid;

  it.each([
    ['ERROR, the reason in a string result', 'FAILED', ['errorStatus', 'stringResult'], 1],
    ['FAILED, messages as {type, description}', 'FAILED', ['messageObjects'], 1],
    ['FAILED, the reason only in {error: {message}}', 'FAILED', ['noMessages', 'errorResult'], 1],
    [
      'timed out, in lower case, a mix of messages',
      'TIMED OUT',
      ['lowerCaseStatus', 'mixedMessages'],
      1,
    ],
    ['cancelled, in lower case', 'CANCELLED', ['lowerCaseStatus', 'messageObjects'], 3],
    ['COMPLETED with every quirk', 'COMPLETED', true, 0],
  ] as const)('%s (%s, quirks %j): exits %i and says why', async (_name, outcome, quirks, code) => {
    const id = await create({ outcome, quirks });
    const r = await run(['wait', id, '--timeout', '20s'], env);
    expect(r.code).toBe(code);
    const body = await bodyOf(adminUrl, token, id);
    const reason = failureReason(body);
    if (code === 0) {
      expect(r.stderr).toBe('');
      return;
    }
    expect(reason).toBeTruthy();
    const status = body.status.toUpperCase();
    expect(r.stderr).toContain(`jobwatch: ${id} ${status}: ${reason}\n`);
  });

  it('carries the reason in --json, and prints warnings only with --verbose, once each', async () => {
    const id = await create({ outcome: 'FAILED', quirks: ['stringTimestamps', 'errorResult'] });
    const json = await run(['wait', id, '--json'], env);
    expect(json.code).toBe(1);
    const last = JSON.parse(json.stdout.trim().split('\n').at(-1) ?? '{}') as Snapshot;
    expect(last.reason).toBe(failureReason(await bodyOf(adminUrl, token, id)));
    expect(json.stderr).not.toMatch(/warning/);

    const verbose = await run(['wait', id, '--verbose'], env);
    expect(verbose.code).toBe(1);
    const warnings = verbose.stderr.split('\n').filter((l) => l.includes(': warning: '));
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(`^jobwatch: ${id}: warning: /starttime: expected a number or null, got "\\d+"$`),
      ),
      expect.stringMatching(/warning: \/endtime: /),
      expect.stringMatching(/warning: \/updatedtime: /),
    ]);
  });
});

describe('a deployment that reads only one header, each way', () => {
  it.each(['authorization', 'x-esri-authorization'] as const)(
    'reads only %s: jobwatch wait finds it (auto), and a setting of the other header fails with exit 5',
    async (reads) => {
      const sim = await startSimulator({ clock: 'manual', seed: 4, tokenHeader: reads });
      try {
        const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 10 });
        sim.advance(10);
        const env = {
          JOBWATCH_URL: sim.adminUrl,
          JOBWATCH_USERNAME: 'admin',
          JOBWATCH_PASSWORD: 'admin',
        };
        const auto = await run(['wait', id], env);
        expect([auto.code, auto.stderr]).toEqual([0, '']);
        const other = reads === 'authorization' ? 'x-esri-authorization' : 'authorization';
        const wrong = await run(['wait', id, '--token-header', other], env);
        expect(wrong.code).toBe(5);
        expect(wrong.stderr).toMatch(/Token required \(499\).*\(AUTH\)/);
        const fixed = await run(['wait', id], { ...env, JOBWATCH_TOKEN_HEADER: reads });
        expect(fixed.code).toBe(0);
      } finally {
        await sim.close();
      }
    },
  );

  it('refuses a --token-header it does not know, before any request', async () => {
    const r = await run([
      'wait',
      'j1',
      '--url',
      'https://h/arcgis/admin',
      '--token',
      't',
      '--token-header',
      'query',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--token-header/);
  });
});
