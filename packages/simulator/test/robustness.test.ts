import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/index.js';
import { control, getJson, raw } from './helpers.js';

let sim: Simulator;
let token: string;

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 13, maxBodyBytes: 64 * 1024 });
  token = sim.issueToken();
});
afterAll(() => sim.close());

const path = (p: string) => raw(sim.url, { path: p });

async function stillServing(): Promise<void> {
  expect((await getJson(`${sim.adminUrl}/jobs`, { token })).jobs).toBeInstanceOf(Array);
}

describe('robustness: clear errors, never a crash', () => {
  it.each([
    '/arcgis/admin/jobs/../services?f=json',
    '/arcgis/admin/./jobs?f=json',
    '/arcgis/admin/services/Hosted%2FParcels.FeatureServer?f=json',
    '/arcgis/admin/services/Hosted%2fParcels.FeatureServer?f=json',
    '/arcgis/admin/jobs/%2e%2e?f=json',
    '/arcgis/admin/jobs\\..\\services?f=json',
    '/arcgis/admin//jobs?f=json',
    '/arcgis/admin/jobs/%E0%A4%A?f=json',
    '/arcgis/admin/jobs/j1%00?f=json',
  ])('refuses the hostile path %s with HTTP 400 and an error body', async (p) => {
    const r = await path(p);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toEqual({
      error: { code: 400, message: 'Invalid URL.', details: [expect.any(String)] },
    });
    await stillServing();
  });

  it.each([
    ['j1?x=y', 'j1%3Fx=y'],
    ['j;drop', 'j;drop'],
    ['j space', 'j%20space'],
    ['jé', 'j%C3%A9'],
    ['129 characters', 'x'.repeat(129)],
  ])(
    'answers the hostile job id %s with code 400 (HTTP 200), counting no job',
    async (_label, encoded) => {
      const r = await raw(sim.url, { path: `/arcgis/admin/jobs/${encoded}?f=json&token=${token}` });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.text)).toEqual({
        error: { code: 400, message: 'Invalid job id.', details: [expect.any(String)] },
      });
      expect(Object.keys(sim.stats().byJob)).toEqual([]);
    },
  );

  it('answers an unknown job with code 404 (HTTP 200) and counts it', async () => {
    const r = await raw(
      `${sim.adminUrl}/jobs/jdeadbeef-0000-4000-8000-000000000000?f=json&token=${token}`,
    );
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({
      error: {
        code: 404,
        message: "Job 'jdeadbeef-0000-4000-8000-000000000000' not found.",
        details: [],
      },
    });
    expect(sim.stats().byJob['jdeadbeef-0000-4000-8000-000000000000']).toBe(1);
  });

  it('answers an unknown route under the admin root with an ArcGIS error, outside it with 404', async () => {
    expect(await getJson(`${sim.adminUrl}/nothing/here`, { token })).toEqual({
      error: {
        code: 404,
        message: "Could not find resource or operation 'here' on the system.",
        details: [],
      },
    });
    expect((await getJson(`${sim.adminUrl}/jobs/a/b`, { token })).error.code).toBe(404);
    expect(
      (await getJson(`${sim.adminUrl}/services/SampleWorldCities.MapServer/explode`, { token }))
        .error.code,
    ).toBe(404);
    expect((await path('/')).status).toBe(404);
    expect((await path('/other/admin/jobs')).status).toBe(404);
    expect((await path('/arcgis/rest/services')).status).toBe(404);
    expect(sim.stats().byRoute.other).toBeGreaterThanOrEqual(4);
  });

  it.each(['PUT', 'DELETE', 'PATCH', 'OPTIONS'])(
    'refuses %s with 405 and Allow',
    async (method) => {
      const r = await raw(`${sim.adminUrl}/jobs?f=json&token=${token}`, { method });
      expect(r.status).toBe(405);
      expect(r.headers.allow).toBe('GET, POST');
    },
  );

  it('refuses a malformed form body with 400', async () => {
    const r = await raw(`${sim.adminUrl}/jobs`, {
      method: 'POST',
      body: `f=json&token=${token}&x=%zz`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error.message).toBe('The form body has a malformed percent-escape.');
    const q = await raw(`${sim.adminUrl}/jobs?f=json&token=${token}&x=%`);
    expect(q.status).toBe(400);
  });

  it('refuses multipart and JSON bodies with 415, naming the fix', async () => {
    for (const type of ['multipart/form-data; boundary=x', 'application/json']) {
      const r = await raw(`${sim.adminUrl}/jobs`, {
        method: 'POST',
        body: '--x--',
        headers: { 'content-type': type },
      });
      expect(r.status).toBe(415);
      expect(JSON.parse(r.text).error.details).toEqual([
        'Send parameters as application/x-www-form-urlencoded.',
      ]);
    }
  });

  it('refuses an oversized body with 413, declared or streamed', async () => {
    const big = `f=json&token=${token}&service=${'a'.repeat(70 * 1024)}`;
    const declared = await raw(`${sim.adminUrl}/jobs`, {
      method: 'POST',
      body: big,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(declared.status).toBe(413);
    const streamed = await raw(`${sim.adminUrl}/jobs`, {
      method: 'POST',
      body: big,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'transfer-encoding': 'chunked',
      },
    });
    expect(streamed.status).toBe(413);
    await stillServing();
  });

  it('refuses an unknown format with an error body', async () => {
    expect(await getJson(`${sim.adminUrl}/jobs`, { f: 'xml', token })).toEqual({
      error: {
        code: 400,
        message: "Invalid format 'xml'.",
        details: ['Supported formats: html, json, pjson.'],
      },
    });
  });

  it('survives a garbage request line', async () => {
    const { connect } = await import('node:net');
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(sim.port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    await stillServing();
  });

  it('control surface: bad JSON, wrong method, unknown route', async () => {
    const bad = await raw(`${sim.url}/__sim/jobs`, {
      method: 'POST',
      body: '{oops',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error.code).toBe('INVALID_SPEC');
    const wrong = await control(`${sim.url}/__sim/stats`, 'POST', {});
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET');
    expect((await control(`${sim.url}/__sim/nope`, 'GET')).status).toBe(404);
    expect((await control(`${sim.url}/__sim/jobs/..%2f`, 'DELETE')).status).toBe(400);
  });

  it('keeps the control surface off when asked, and off by default on a non-loopback address', async () => {
    const off = await startSimulator({ control: false });
    try {
      expect((await raw(`${off.url}/__sim/stats`)).status).toBe(404);
      expect(off.stats().byRoute.sim).toBe(1);
    } finally {
      await off.close();
    }
    const wide = await startSimulator({ host: '0.0.0.0' });
    try {
      expect(wide.url).toBe(`http://127.0.0.1:${wide.port}`);
      expect((await raw(`${wide.url}/__sim/stats`)).status).toBe(404);
    } finally {
      await wide.close();
    }
  });

  it.each([
    [{ context: 'a/b' }],
    [{ context: 'server' }],
    [{ portalContext: 'a b' }],
    [{ serverContext: '__sim' }],
    [{ users: {} }],
    [{ users: { admin: '' } }],
    [{ port: 70_000 }],
    [{ clock: { speed: 0 } }],
    [{ workload: { jobsPerMinute: 0 } }],
    [{ workload: { jobsPerMinute: 1, failureRate: 0.9, cancelRate: 0.2 } }],
    [{ retentionMs: -1 }],
    [{ operationDurationMs: { min: 10, max: 5 } }],
    [{ workload: { jobsPerMinute: 1, operations: { edit: 0, stop: 0 } } }],
    [{ workload: { jobsPerMinute: 1, operations: { edit: -1 } } }],
    [{ cors: 'yes' }],
    [{ backupStores: [] }],
    [{ backupStores: ['../etc'] }],
  ])('refuses the options %j with INVALID_OPTIONS', async (options) => {
    await expect(startSimulator(options as never)).rejects.toMatchObject({
      name: 'SimulatorError',
      code: 'INVALID_OPTIONS',
    });
  });
});

describe('cross-origin access for pages in direct mode', () => {
  const page = 'http://app.example:5173';

  it('answers a preflight for the token headers and allows the page origin on answers', async () => {
    const pre = await raw(`${sim.adminUrl}/jobs`, {
      method: 'OPTIONS',
      headers: {
        origin: page,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'x-esri-authorization',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe(page);
    expect(pre.headers['access-control-allow-headers']).toContain('X-Esri-Authorization');
    const r = await raw(`${sim.adminUrl}/jobs?f=json`, {
      headers: { origin: page, 'x-esri-authorization': `Bearer ${token}` },
    });
    expect(r.headers['access-control-allow-origin']).toBe(page);
    expect(r.headers['access-control-expose-headers']).toBe('Retry-After');
    expect(JSON.parse(r.text)).toHaveProperty('jobs');
  });

  it('keeps CORS off the control surface, and to the listed origins when given a list', async () => {
    expect(
      (await raw(`${sim.url}/__sim/stats`, { headers: { origin: page } })).headers[
        'access-control-allow-origin'
      ],
    ).toBeUndefined();
    const listed = await startSimulator({ cors: ['http://ok.example'] });
    try {
      expect(
        (await raw(`${listed.adminUrl}/jobs`, { headers: { origin: 'http://ok.example' } }))
          .headers['access-control-allow-origin'],
      ).toBe('http://ok.example');
      const other = await raw(`${listed.adminUrl}/jobs`, {
        method: 'OPTIONS',
        headers: { origin: page, 'access-control-request-method': 'GET' },
      });
      expect(other.status).toBe(405);
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await listed.close();
    }
  });
});

describe('clients that go away', () => {
  it('survives a client that disconnects halfway through a body', async () => {
    const { connect } = await import('node:net');
    await new Promise<void>((resolve) => {
      const socket = connect(sim.port, '127.0.0.1', () => {
        socket.write(
          `POST /arcgis/admin/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nf=json&tok`,
        );
        setTimeout(() => socket.destroy(), 20);
      });
      socket.on('close', () => resolve());
    });
    await stillServing();
  });
});
