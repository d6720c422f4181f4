/**
 * The second hardening pass, against the built CLI as users run it (`node dist/main.js`) and
 * an in-process simulator with a manual clock: failed watches told to every listener, waits of
 * any length, webhook secrets, DNS rebinding, URLs without their passwords,
 * `--max-unreachable`, the small HTTP things, private data files, and configuration errors
 * that never echo a secret.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { statSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fromDaemon } from '@jobwatch/rx';
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSse, tempDir } from './helpers.js';
import { type Running, run, start } from './process.js';

const KEY = 'hardening-api-key-0123456789';
const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

let sim: Simulator;
let t: ReturnType<typeof tempDir>;

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 13, users: { admin: 'admin' } });
  t = tempDir();
});
afterAll(async () => {
  await sim.close();
  t.cleanup();
});

const poll = <T>(fn: () => T | Promise<T>, expected: unknown) =>
  expect.poll(fn, { timeout: 20_000, interval: 25 }).toEqual(expected);

/** A daemon started from a YAML config; resolves once it listens. */
async function serve(
  lines: string[],
  env: Record<string, string> = {},
): Promise<{ daemon: Running; url: string }> {
  const file = t.file(`config-${Math.random().toString(36).slice(2)}.yaml`, lines.join('\n'));
  const daemon = start(['serve', '--config', file], { JOBWATCH_LOG_LEVEL: 'info', ...env });
  await daemon.waitFor((out) => /"msg":"listening"/.test(out));
  const url = /"url":"(http:[^"]+)"/.exec(daemon.stdout)?.[1] ?? '';
  return { daemon, url };
}

async function stop(daemon: Running): Promise<void> {
  if (daemon.child.exitCode === null) {
    daemon.child.kill('SIGTERM');
    await daemon.exit;
  }
}

/** A GET with a Host header of our choosing (fetch does not let one set it). */
function getWithHost(
  url: string,
  path: string,
  host: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, headers: { ...headers, host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A receiver written from the Standard Webhooks description. */
async function startReceiver() {
  const got: Array<{ verified: boolean; body: { type: string; data: Record<string, unknown> } }> =
    [];
  const server: Server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const id = String(req.headers['webhook-id']);
    const ts = String(req.headers['webhook-timestamp']);
    const expected = createHmac('sha256', Buffer.from(SECRET.slice(6), 'base64'))
      .update(`${id}.${ts}.${body}`)
      .digest();
    const given = Buffer.from(
      String(req.headers['webhook-signature']).split(',')[1] ?? '',
      'base64',
    );
    got.push({
      verified: given.length === expected.length && timingSafeEqual(given, expected),
      body: JSON.parse(body),
    });
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    got,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () => new Promise((r) => server.close(r)),
  };
}

describe('a watch that cannot go on is told to every listener', () => {
  it('a fixed token that expires: a watch_failed event, a job.watch_failed webhook, the API view, a metric, and a hint to use credentials', async () => {
    const receiver = await startReceiver();
    const token = sim.issueToken('admin', 3_600_000);
    const { daemon, url } = await serve(
      [
        'listen: 127.0.0.1:0',
        `dataDir: ${t.dir}/failed`,
        `apiKeys: [${KEY}]`,
        'deployments:',
        '  - name: prod',
        `    url: ${sim.adminUrl}`,
        '    tokenEnv: PROD_TOKEN',
        'webhooks:',
        `  - url: ${receiver.url}`,
        `    secret: ${SECRET}`,
        '    events: [terminal]',
      ],
      { PROD_TOKEN: token },
    );
    const auth = { authorization: `Bearer ${KEY}` };
    try {
      const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 3_600_000 });
      const stream = await openSse(`${url}/api/events`, auth);
      let rxError: unknown;
      const rx = fromDaemon(url, { jobid: id, headers: auth }).subscribe({
        error: (e) => (rxError = e),
      });
      const posted = await fetch(`${url}/api/jobs`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ jobid: id }),
      });
      expect(posted.status).toBe(201);
      await stream.until((e) => e.some((x) => x.event === 'snapshot'));
      const before = Number(stream.events.findLast((x) => x.id !== undefined)?.id);
      sim.revokeTokens(); // the fixed token is now refused, and nothing can refresh it

      const [failed] = (
        await stream.until((e) => e.some((x) => x.event === 'watch_failed'))
      ).filter((x) => x.event === 'watch_failed');
      const data = JSON.parse(failed?.data ?? '{}');
      expect(data).toMatchObject({
        deployment: 'prod',
        jobid: id,
        error: { code: 'AUTH' },
        snapshot: { jobid: id },
      });
      expect(data.error.message).toMatch(/fixed token.*username with passwordEnv or passwordFile/);
      expect(Number(failed?.id)).toBeGreaterThan(before);
      await stream.close();

      const view = (await (await fetch(`${url}/api/jobs/${id}`, { headers: auth })).json()) as {
        error: { message: string };
      };
      expect(view).toMatchObject({ state: 'failed', error: { code: 'AUTH' } });
      expect(view.error.message).toMatch(/refresh/);

      await poll(
        () => receiver.got.map((h) => [h.body.type, h.verified]),
        [['job.watch_failed', true]],
      );
      expect(receiver.got[0]?.body.data).toMatchObject({ jobid: id, error: { code: 'AUTH' } });

      await poll(() => (rxError as { code?: string } | undefined)?.code, 'AUTH');
      rx.unsubscribe();

      // A client that connects later learns of it too, fresh or resuming.
      const fresh = await openSse(`${url}/api/events?jobid=${id}`, auth);
      await fresh.until((e) => e.some((x) => x.event === 'watch_failed'));
      await fresh.close();
      const resumed = await openSse(`${url}/api/events`, {
        ...auth,
        'last-event-id': String(before),
      });
      await resumed.until((e) => e.some((x) => x.event === 'watch_failed'));
      await resumed.close();

      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/jobwatch_watches_failed_total\{deployment="prod",code="AUTH"\} 1/);
      expect(metrics).toMatch(/jobwatch_deployment_up\{deployment="prod"\} 1/);
      await stop(daemon);
      expect(daemon.stdout).toMatch(/"msg":"watch failed"/);
      expect(daemon.stdout + daemon.stderr).not.toContain(token);
    } finally {
      await stop(daemon);
      await receiver.close();
    }
  });

  it('a purged job ends its watch with JOB_NOT_FOUND on the stream', async () => {
    const { daemon, url } = await serve(
      [
        'listen: 127.0.0.1:0',
        `dataDir: ${t.dir}/purged`,
        'deployments:',
        '  - name: lab',
        `    url: ${sim.adminUrl}`,
        '    username: admin',
        '    passwordEnv: LAB_PASS',
        '    pacing: { minInterval: 100ms, maxInterval: 200ms }',
      ],
      { LAB_PASS: 'admin' },
    );
    try {
      const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 3_600_000 });
      const stream = await openSse(`${url}/api/events?jobid=${id}`);
      await fetch(`${url}/api/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jobid: id }),
      });
      await stream.until((e) => e.some((x) => x.event === 'snapshot'));
      sim.purgeJob(id);
      const events = await stream.until((e) => e.some((x) => x.event === 'watch_failed'));
      const failure = JSON.parse(events.find((x) => x.event === 'watch_failed')?.data ?? '{}');
      expect(failure.error.code).toBe('JOB_NOT_FOUND');
      expect(failure.error.message).not.toMatch(/fixed token/); // credentials refresh on their own
      await stream.close();
    } finally {
      await stop(daemon);
    }
  });
});

describe('a discovered job whose watch cannot go on', () => {
  it('is told as watch_failed too, instead of staying watching when discovery stops', async () => {
    const token = sim.issueToken('admin', 24 * 3_600_000);
    const { daemon, url } = await serve(
      [
        'listen: 127.0.0.1:0',
        `dataDir: ${t.dir}/discovered`,
        'deployments:',
        '  - name: site',
        `    url: ${sim.adminUrl}`,
        '    tokenEnv: SITE_TOKEN',
        '    discover: true',
        '    listInterval: 100ms',
        '    pacing: { minInterval: 100ms, maxInterval: 200ms }',
      ],
      { SITE_TOKEN: token },
    );
    try {
      const stream = await openSse(`${url}/api/events`);
      const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 3_600_000 });
      await stream.until((e) => e.some((x) => x.event === 'snapshot' && x.data.includes(id)));
      sim.revokeTokens();
      const events = await stream.until((e) =>
        e.some((x) => x.event === 'watch_failed' && x.data.includes(id)),
      );
      const failure = JSON.parse(
        events.find((x) => x.event === 'watch_failed' && x.data.includes(id))?.data ?? '{}',
      );
      expect(failure).toMatchObject({ deployment: 'site', jobid: id, error: { code: 'AUTH' } });
      await stream.close();
      const view = (await (await fetch(`${url}/api/jobs/${id}`)).json()) as { state: string };
      expect(view.state).toBe('failed');
    } finally {
      await stop(daemon);
    }
  });
});

describe('durations of any length', () => {
  it('`wait --timeout 25d --max-unreachable 30d` waits instead of giving up at once', async () => {
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 3_600_000 });
    const p = start(['wait', id, '--timeout', '25d', '--max-unreachable', '30d', '--json'], {
      JOBWATCH_URL: sim.adminUrl,
      JOBWATCH_USERNAME: 'admin',
      JOBWATCH_PASSWORD: 'admin',
    });
    await p.waitFor((out) => out.includes('"EXECUTING"') || out.includes('"SUBMITTED"'));
    expect(p.child.exitCode).toBeNull();
    sim.advance(3_600_000);
    expect(await p.exit).toBe(0);
  });

  it('refuses durations past their bound, naming the key', async () => {
    const base = [
      'listen: 127.0.0.1:0',
      'deployments:',
      '  - { name: a, url: https://h/c/admin, token: t }',
    ];
    const cases: Array<[string[], RegExp]> = [
      [
        [...base, 'events: { heartbeat: 25d }'],
        /events\.heartbeat: expected between 1s and 1h0m0s, got "25d"/,
      ],
      [[...base, 'jobs: { retention: 2000y }'], /jobs\.retention: "2000y" is longer than 1000y/],
      [
        [
          ...base.slice(0, 2),
          '  - { name: a, url: https://h/c/admin, token: t, pacing: { minInterval: 10m } }',
        ],
        /deployments\[0\]\.pacing: minInterval \(10m\) is above maxInterval \(60s\)/,
      ],
    ];
    const runs = await Promise.all(
      cases.map(([lines]) =>
        run(['serve', '--config', t.file(`d${Math.random()}.yaml`, lines.join('\n'))]),
      ),
    );
    runs.forEach((r, i) => {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(cases[i]?.[1] as RegExp);
    });
  });
});

describe('webhook secrets', () => {
  it('refuses whsec_ without a key, invalid base64 and short plain secrets, naming the webhook and never the secret', async () => {
    const secrets = ['whsec_', 'whsec_%%%not-base64%%%', 'whsec_aGVsbG8=', 'short-secret'];
    const runs = await Promise.all(
      secrets.map((secret) =>
        run([
          'serve',
          '--config',
          t.file(
            `w${Math.random()}.json`,
            JSON.stringify({
              deployments: [{ name: 'a', url: 'https://h/c/admin', token: 't' }],
              webhooks: [
                { url: 'https://hooks.example.com/a', secret: 'a-good-plain-secret' },
                { url: 'https://hooks.example.com/b', secret },
              ],
            }),
          ),
        ]),
      ),
    );
    runs.forEach((r, i) => {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^jobwatch: webhooks\[1\]\.secret: /);
      expect(r.stderr).toMatch(/whsec_ followed by the base64 of 24 to 64 bytes/);
      const secret = secrets[i] as string;
      if (secret.length > 'whsec_'.length)
        expect(r.stderr).not.toContain(secret.replace('whsec_', ''));
    });
  });
});

describe('DNS rebinding', () => {
  it('without API keys answers /api only to loopback host names and the listen address', async () => {
    const { daemon, url } = await serve([
      'listen: 127.0.0.1:0',
      `dataDir: ${t.dir}/rebind`,
      'deployments:',
      `  - { name: a, url: "${sim.adminUrl}", token: t }`,
    ]);
    try {
      const port = new URL(url).port;
      for (const host of [
        'evil.example.com',
        `evil.example.com:${port}`,
        `127.0.0.1.nip.io:${port}`,
      ]) {
        const r = await getWithHost(url, '/api/jobs', host);
        expect([host, r.status, JSON.parse(r.body).error.code]).toEqual([
          host,
          403,
          'FORBIDDEN_HOST',
        ]);
        expect((await getWithHost(url, '/api/events', host)).status).toBe(403);
      }
      for (const host of [
        `127.0.0.1:${port}`,
        `localhost:${port}`,
        'LOCALHOST',
        `[::1]:${port}`,
        'app.localhost',
      ])
        expect([host, (await getWithHost(url, '/api/jobs', host)).status]).toEqual([host, 200]);
    } finally {
      await stop(daemon);
    }
  });

  it('with API keys and allowedHosts, answers /api only to the names listed', async () => {
    const { daemon, url } = await serve([
      'listen: 127.0.0.1:0',
      `dataDir: ${t.dir}/allowed`,
      `apiKeys: [${KEY}]`,
      'allowedHosts: [jobs.example.com]',
      'deployments:',
      `  - { name: a, url: "${sim.adminUrl}", token: t }`,
    ]);
    const auth = { authorization: `Bearer ${KEY}` };
    try {
      expect((await getWithHost(url, '/api/jobs', 'jobs.example.com:443', auth)).status).toBe(200);
      expect((await getWithHost(url, '/api/jobs', 'other.example.com', auth)).status).toBe(403);
      expect((await getWithHost(url, '/livez', 'other.example.com')).status).toBe(200); // probes carry no jobs
    } finally {
      await stop(daemon);
    }
  });
});

describe('URLs are shown without their credentials', () => {
  it('in usage and configuration errors of wait and serve', async () => {
    const password = 'hunter2-Pa55';
    const runs = await Promise.all([
      run([
        'wait',
        'j1',
        '--url',
        `https://admin:${password}@gis example.com/arcgis/admin`,
        '--token',
        't',
      ]),
      run(
        ['wait', `https://admin:${password}@gis.example.com/arcgis/admin/jobs/j1`, '--token', 't'],
        {
          JOBWATCH_URL: sim.adminUrl,
        },
      ),
      run([
        'serve',
        '--config',
        t.file(
          'u.json',
          JSON.stringify({
            deployments: [{ name: 'a', url: `https://a:${password}@h st/c/admin`, token: 't' }],
          }),
        ),
      ]),
      run([
        'serve',
        '--config',
        t.file(
          'v.json',
          JSON.stringify({
            deployments: [{ name: 'a', url: 'https://h/c/admin', token: 't' }],
            webhooks: [{ url: `https://u:${password}@ho ok/x`, secret: 'a-good-plain-secret' }],
          }),
        ),
      ]),
    ]);
    for (const r of runs) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/URL|job id/);
      expect(r.stderr).not.toContain(password);
      expect(r.stderr).not.toContain('hunter2');
    }
  });
});

describe('wait --max-unreachable', () => {
  it('exits 5 saying why when the server answers nothing at all for that long', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const r = await run([
      'wait',
      'j00000000-0000-4000-8000-0000000000c1',
      '--url',
      `http://127.0.0.1:${closed}/arcgis/admin`,
      '--token',
      'a-token',
      '--max-unreachable',
      '1s',
    ]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/no answer at all from the server for 1s \(--max-unreachable\)/);
    expect(r.stderr).toMatch(/\(UNREACHABLE\)/);
  });

  it('does not count 502 answers as unreachable', async () => {
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 3_600_000 });
    const path = `/arcgis/admin/jobs/${id}`;
    const faults = () => sim.stats().faults.http502 ?? 0;
    const before = faults();
    sim.setFaults({ rate: 1, kinds: ['http502'], paths: [path] });
    const p = start(['wait', id, '--max-unreachable', '500ms'], {
      JOBWATCH_URL: sim.adminUrl,
      JOBWATCH_TOKEN: sim.issueToken('admin', 24 * 3_600_000),
    });
    try {
      // Two 502s a second apart: longer than --max-unreachable with nothing but errors.
      await expect
        .poll(faults, { timeout: 20_000, interval: 20 })
        .toBeGreaterThanOrEqual(before + 2);
      expect(p.child.exitCode).toBeNull();
    } finally {
      sim.clearFaults();
    }
    sim.advance(3_600_000);
    expect(await p.exit).toBe(0);
  });
});

describe('smaller things of the HTTP API', () => {
  let daemon: Running;
  let url: string;
  const auth = { authorization: `Bearer ${KEY}` };
  beforeAll(async () => {
    ({ daemon, url } = await serve([
      'listen: 127.0.0.1:0',
      `dataDir: ${t.dir}/small/data`,
      `apiKeys: [${KEY}]`,
      'deployments:',
      `  - { name: a, url: "${sim.adminUrl}", token: t }`,
    ]));
  });
  afterAll(() => stop(daemon));

  it('names the allowed methods in Allow on 405', async () => {
    for (const [method, path, allow] of [
      ['PUT', '/api/jobs', 'GET, POST, OPTIONS'],
      ['POST', '/api/jobs/j1', 'GET, DELETE, OPTIONS'],
      ['DELETE', '/api/events', 'GET, OPTIONS'],
      ['GET', '/api/tickets', 'POST, OPTIONS'],
      ['POST', '/api/deployments', 'GET, OPTIONS'],
    ] as const) {
      const res = await fetch(`${url}${path}`, { method, headers: auth });
      expect([path, res.status, res.headers.get('allow')]).toEqual([path, 405, allow]);
    }
  });

  it('challenges with WWW-Authenticate on 401', async () => {
    for (const path of ['/api/jobs', '/api/events']) {
      const res = await fetch(`${url}${path}`);
      expect([res.status, res.headers.get('www-authenticate')]).toEqual([
        401,
        'Bearer realm="jobwatch"',
      ]);
    }
  });

  it('sends X-Content-Type-Options: nosniff on every answer', async () => {
    const answers = await Promise.all([
      fetch(`${url}/livez`),
      fetch(`${url}/readyz`),
      fetch(`${url}/metrics`),
      fetch(`${url}/nowhere`),
      fetch(`${url}/api/jobs`),
      fetch(`${url}/api/jobs`, { headers: auth }),
      fetch(`${url}/api/jobs`, { method: 'OPTIONS' }),
    ]);
    for (const res of answers) {
      expect([res.url, res.headers.get('x-content-type-options')]).toEqual([res.url, 'nosniff']);
      await res.arrayBuffer();
    }
    const stream = await openSse(`${url}/api/events`, auth);
    expect(stream.res.headers.get('x-content-type-options')).toBe('nosniff');
    await stream.close();
  });

  it('takes JSON bodies only as application/json, with parameters', async () => {
    const post = (type: string) =>
      fetch(`${url}/api/jobs`, {
        method: 'POST',
        headers: { ...auth, 'content-type': type },
        body: JSON.stringify({ jobid: 'j00000000-0000-4000-8000-0000000000d1' }),
      });
    expect((await post('application/json-patch+json')).status).toBe(415);
    expect((await post('application/jsonx')).status).toBe(415);
    expect((await post('text/plain')).status).toBe(415);
    expect((await post('Application/JSON; charset=utf-8')).status).toBe(201);
  });

  it('takes Last-Event-ID only as a decimal id', async () => {
    for (const id of ['0x1', '1e1', '+1', '1.0', '-1', '1_000']) {
      const res = await fetch(`${url}/api/events`, { headers: { ...auth, 'last-event-id': id } });
      expect([id, res.status]).toEqual([id, 400]);
      await res.arrayBuffer();
    }
    for (const id of ['0x1', ' 1', '１']) {
      const res = await fetch(`${url}/api/events?lastEventId=${encodeURIComponent(id)}`, {
        headers: auth,
      });
      expect([id, res.status]).toEqual([id, 400]);
      await res.arrayBuffer();
    }
    const stream = await openSse(`${url}/api/events`, { ...auth, 'last-event-id': '0' });
    expect(stream.res.status).toBe(200);
    await stream.close();
  });

  it('creates the data directory 0700 and the database 0600', () => {
    expect((statSync(`${t.dir}/small/data`).mode & 0o777).toString(8)).toBe('700');
    expect((statSync(`${t.dir}/small/data/jobwatch.db`).mode & 0o777).toString(8)).toBe('600');
  });
});

describe('configuration errors name the key and never print a secret', () => {
  it('for API keys, tokens and files that do not parse', async () => {
    const secretKey = 'short-secret';
    const spaced = 'a key with spaces in it';
    const cases: Array<[string, string, Record<string, string>, RegExp, string]> = [
      [
        'a.yaml',
        `apiKeys: [${secretKey}]\n`,
        {},
        /apiKeys\[0\]: expected at least 16 characters, got fewer \(not shown\)/,
        secretKey,
      ],
      ['b.yaml', `apiKeys: ["${spaced}"]\n`, {}, /apiKeys\[0\]: holds whitespace/, spaced],
      [
        'c.yaml',
        'deployments: [{ name: a, url: "https://h/c/admin", token: t }]\n',
        { JOBWATCH_API_KEYS: `${KEY},${spaced}` },
        /JOBWATCH_API_KEYS\[1\]: holds whitespace/,
        spaced,
      ],
      [
        'd.json',
        '{"deployments": [{"name": "a", "url": "https://h/c/admin", "token": 8675309123}]}',
        {},
        /deployments\[0\]\.token: expected a string, got a number \(not shown\)/,
        '8675309123',
      ],
      [
        'e.json',
        '{"deployments": [{"name": "a", "url": "https://h/c/admin", "token": s3cr3t-t0ken}]}',
        {},
        /is not valid JSON/,
        's3cr3t-t0ken',
      ],
      [
        'f.json',
        '{"apiKeys": "a-single-string-key"}',
        {},
        /apiKeys: expected an array, got a string \(not shown\)/,
        'a-single-string-key',
      ],
    ];
    const runs = await Promise.all(
      cases.map(([name, text, env]) =>
        run(['serve', '--config', t.file(name, text)], {
          JOBWATCH_URL: 'https://h/c/admin',
          JOBWATCH_TOKEN: 't',
          ...env,
        }),
      ),
    );
    runs.forEach((r, i) => {
      const [, , , message, secret] = cases[i] as (typeof cases)[number];
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toContain(secret);
    });
  });
});
