import { Agent, get } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FAULT_KINDS,
  type FaultKindValue,
  type Simulator,
  SimulatorError,
  startSimulator,
} from '../src/index.js';
import { control, getJson, raw } from './helpers.js';

let sim: Simulator;
let token: string;
let jobUrl: string;

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 9 });
  token = sim.issueToken();
  jobUrl = `${sim.adminUrl}/jobs/${sim.createJob({ outcome: 'COMPLETED', durationMs: 60_000 })}?f=json&token=${token}`;
});
afterEach(() => sim.clearFaults());
afterAll(() => sim.close());

const only = (kind: FaultKindValue, extra: object = {}) =>
  sim.setFaults({ rate: 1, kinds: [kind], ...extra });

describe('each fault kind, as a raw HTTP client sees it', () => {
  it.each([
    ['http502', 502, 'Bad Gateway'],
    ['http503', 503, 'Service Temporarily Unavailable'],
    ['http504', 504, 'Gateway Time-out'],
  ] as const)('%s answers status %i with a gateway HTML page', async (kind, status, reason) => {
    only(kind);
    const r = await raw(jobUrl);
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toBe('text/html');
    expect(r.text).toContain(`<title>${status} ${reason}</title>`);
  });

  it('http429 answers 429 with Retry-After in seconds', async () => {
    only('http429');
    expect((await raw(jobUrl)).headers['retry-after']).toBe('1');
    only('http429', { retryAfterSeconds: 7 });
    const r = await raw(jobUrl);
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe('7');
  });

  it('reset drops the connection without an answer', async () => {
    only('reset');
    await expect(raw(jobUrl)).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('delay waits, then answers normally', async () => {
    only('delay', { delayMs: 30 });
    const r = await raw(jobUrl);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).status).toBe('SUBMITTED');
    expect(sim.stats().faults.delay).toBeGreaterThanOrEqual(1);
  });

  it('delay leaves nothing behind on a keep-alive connection it delays again and again', async () => {
    only('delay', { delayMs: 1 });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 15; i++) {
        const status = await new Promise<number>((resolve, reject) => {
          get(jobUrl, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          }).on('error', reject);
        });
        expect(status).toBe(200);
      }
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      agent.destroy();
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('malformed answers 200 with a JSON content type and a body that is not JSON', async () => {
    only('malformed');
    const r = await raw(jobUrl);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toContain('application/json');
    expect(() => JSON.parse(r.text)).toThrow(SyntaxError);
  });

  it('truncated answers 200 with the first half of the real body', async () => {
    const whole = (await raw(jobUrl)).text;
    only('truncated');
    const r = await raw(jobUrl);
    expect(r.status).toBe(200);
    expect(r.text.length).toBe(Math.floor(whole.length / 2));
    expect(whole.startsWith(r.text)).toBe(true);
    expect(() => JSON.parse(r.text)).toThrow(SyntaxError);
  });

  it('empty answers 200 with no body', async () => {
    only('empty');
    const r = await raw(jobUrl);
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('0');
    expect(r.text).toBe('');
  });
});

describe('fault selection', () => {
  it('applies to the named routes only, with `jobs` meaning both job routes', async () => {
    only('http503', { paths: ['jobs'] });
    expect((await raw(jobUrl)).status).toBe(503);
    expect((await raw(`${sim.adminUrl}/jobs?f=json&token=${token}`)).status).toBe(503);
    expect((await raw(`${sim.adminUrl}/services?f=json&token=${token}`)).status).toBe(200);
    only('http503', { paths: ['generateToken'] });
    expect((await raw(jobUrl)).status).toBe(200);
    expect((await raw(`${sim.tokenUrl}?f=json&username=admin&password=admin`)).status).toBe(503);
    only('http503', { paths: ['/arcgis/admin/services/Hosted'] });
    expect((await raw(`${sim.adminUrl}/services/Hosted?f=json&token=${token}`)).status).toBe(503);
    expect((await raw(`${sim.adminUrl}/services?f=json&token=${token}`)).status).toBe(200);
  });

  it('never touches the /__sim/ control surface', async () => {
    only('reset');
    expect((await control(`${sim.url}/__sim/stats`, 'GET')).status).toBe(200);
    expect(
      (await control(`${sim.url}/__sim/jobs`, 'POST', { outcome: 'COMPLETED', durationMs: 1 }))
        .status,
    ).toBe(200);
  });

  it('does not run an operation whose request a gateway refused', async () => {
    only('http502');
    const r = await raw(`${sim.adminUrl}/services/SampleWorldCities.MapServer/stop`, {
      method: 'POST',
      body: `f=json&token=${token}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r.status).toBe(502);
    expect(sim.service('SampleWorldCities.MapServer')?.configuredState).toBe('STARTED');
  });

  it('hits about `rate` of requests, in the same order for the same seed', async () => {
    const pattern = async (s: Simulator): Promise<string> => {
      s.setFaults({ rate: 0.5, kinds: ['http502', 'http503'] });
      const t = s.issueToken();
      let out = '';
      for (let i = 0; i < 40; i++)
        out += `${(await raw(`${s.adminUrl}/jobs?f=json&token=${t}`)).status} `;
      return out;
    };
    const [a, b] = await Promise.all([startSimulator({ seed: 77 }), startSimulator({ seed: 77 })]);
    const c = await startSimulator({ seed: 78 });
    try {
      const pa = await pattern(a);
      expect(await pattern(b)).toBe(pa);
      expect(await pattern(c)).not.toBe(pa);
      const faulted = pa.split(' ').filter((s) => s.startsWith('50')).length;
      expect(faulted).toBeGreaterThan(8);
      expect(faulted).toBeLessThan(32);
      expect(a.stats().faults).toEqual({
        http502: expect.any(Number),
        http503: expect.any(Number),
      });
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('is set, read and cleared over HTTP, and can be given at start', async () => {
    const set = await control(`${sim.url}/__sim/faults`, 'POST', {
      rate: 1,
      kinds: ['empty'],
      paths: ['site'],
    });
    expect(set.json).toEqual({ faults: { rate: 1, kinds: ['empty'], paths: ['site'] } });
    expect((await raw(`${sim.adminUrl}?f=json&token=${token}`)).text).toBe('');
    expect((await control(`${sim.url}/__sim/faults`, 'GET')).json.faults.kinds).toEqual(['empty']);
    expect((await control(`${sim.url}/__sim/faults`, 'DELETE')).json).toEqual({ faults: null });
    expect((await getJson(sim.adminUrl, { token })).currentVersion).toBe('11.3');
    const started = await startSimulator({ faults: { rate: 1, kinds: ['http504'] } });
    try {
      expect((await raw(`${started.adminUrl}/jobs`)).status).toBe(504);
    } finally {
      await started.close();
    }
  });

  it.each([
    ['no kinds', { rate: 1, kinds: [] }],
    ['an unknown kind', { rate: 1, kinds: ['http500'] }],
    ['a rate above 1', { rate: 2, kinds: ['reset'] }],
    ['a rate that is not a number', { rate: '0.5', kinds: ['reset'] }],
    ['paths that are not strings', { rate: 1, kinds: ['reset'], paths: [1] }],
    ['a negative delay', { rate: 1, kinds: ['delay'], delayMs: -1 }],
    ['a null spec', null],
  ])('refuses a spec with %s, keeping the current one', async (_name, spec) => {
    only('empty', { paths: ['site'] });
    const r = await control(`${sim.url}/__sim/faults`, 'POST', spec);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('INVALID_SPEC');
    expect(() => sim.setFaults(spec as never)).toThrow(SimulatorError);
    expect((await control(`${sim.url}/__sim/faults`, 'GET')).json.faults.kinds).toEqual(['empty']);
  });

  it('knows exactly the documented kinds', () => {
    expect([...FAULT_KINDS].sort()).toEqual([
      'delay',
      'empty',
      'http429',
      'http502',
      'http503',
      'http504',
      'malformed',
      'reset',
      'truncated',
    ]);
  });
});
