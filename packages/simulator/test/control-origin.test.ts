import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/index.js';
import { control, raw } from './helpers.js';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 12 });
});
afterAll(() => sim.close());

const page = 'http://evil.example';
const jobSpec = JSON.stringify({ outcome: 'COMPLETED', durationMs: 1000 });
const faultSpec = JSON.stringify({ rate: 1, kinds: ['http502'] });

/** A request as a browser page would send it (no client library adds anything). */
function send(path: string, headers: Record<string, string>, body?: string, method = 'POST') {
  return raw(`${sim.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
}

describe('the control surface refuses requests from a foreign origin', () => {
  it('refuses a JSON POST /__sim/jobs from another origin with 403 FOREIGN_ORIGIN and creates no job', async () => {
    const before = sim.stats().jobs;
    const r = await send(
      '/__sim/jobs',
      { origin: page, 'content-type': 'application/json' },
      jobSpec,
    );
    expect(r.status).toBe(403);
    const body = JSON.parse(r.text);
    expect(body.error.code).toBe('FOREIGN_ORIGIN');
    expect(body.error.message).toContain(sim.url);
    expect(body.error.message).toContain(page);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(sim.stats().jobs).toBe(before);
  });

  it('refuses fault injection, token revocation, purges and clock moves from another origin', async () => {
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1000 });
    const now = sim.now();
    const json = { origin: page, 'content-type': 'application/json' };
    expect((await send('/__sim/faults', json, faultSpec)).status).toBe(403);
    expect((await send('/__sim/tokens/revoke', { origin: page })).status).toBe(403);
    expect((await send(`/__sim/jobs/${id}`, { origin: page }, undefined, 'DELETE')).status).toBe(
      403,
    );
    expect((await send('/__sim/clock/advance', json, '{"ms":5000}')).status).toBe(403);
    expect((await send('/__sim/quirks', json, '{"quirks":true}')).status).toBe(403);
    expect(sim.stats().faults).toEqual({});
    expect(sim.job(id)).toBeDefined();
    expect(sim.now()).toBe(now);
    expect(sim.quirks()).toEqual([]);
  });

  it('refuses Origin: null (sandboxed frames, file pages) and a preflight from another origin', async () => {
    const nul = await send(
      '/__sim/jobs',
      { origin: 'null', 'content-type': 'application/json' },
      jobSpec,
    );
    expect(nul.status).toBe(403);
    const pre = await send(
      '/__sim/jobs',
      { origin: page, 'access-control-request-method': 'POST' },
      undefined,
      'OPTIONS',
    );
    expect(pre.status).toBe(403);
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses a cross-site request that carries no Origin (Sec-Fetch-Site: cross-site)', async () => {
    const r = await raw(`${sim.url}/__sim/stats`, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.text).error.code).toBe('FOREIGN_ORIGIN');
    const typed = await raw(`${sim.url}/__sim/stats`, { headers: { 'sec-fetch-site': 'none' } });
    expect(typed.status).toBe(200);
  });

  it('refuses a loopback page on another port (a dev server) and loopback over https', async () => {
    for (const origin of [
      `http://127.0.0.1:${sim.port === 5173 ? 5174 : 5173}`,
      `http://localhost:${sim.port + 1}`,
      `https://127.0.0.1:${sim.port}`,
      `http://127.0.0.1:${sim.port}/path`,
    ]) {
      const r = await send('/__sim/jobs', { origin, 'content-type': 'application/json' }, jobSpec);
      expect(r.status, origin).toBe(403);
    }
  });

  it('acts for its own origin, the same port under localhost or [::1], and requests without Origin', async () => {
    for (const origin of [
      sim.url,
      `http://localhost:${sim.port}`,
      `http://[::1]:${sim.port}`,
      undefined,
    ]) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (origin) {
        headers.origin = origin;
        headers['sec-fetch-site'] = 'same-origin';
      }
      const r = await send('/__sim/jobs', headers, jobSpec);
      expect(r.status, String(origin)).toBe(200);
      expect(JSON.parse(r.text).jobid).toMatch(/^j/);
    }
  });

  it('keeps the ArcGIS routes open to pages (CORS), unlike the control surface', async () => {
    const r = await raw(`${sim.adminUrl}/jobs?f=json`, { headers: { origin: page } });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe(page);
  });
});

describe('the control surface takes JSON bodies only', () => {
  it('refuses a text/plain POST /__sim/jobs (no preflight needed for it) with 415 NOT_JSON and creates no job', async () => {
    const before = sim.stats().jobs;
    const r = await send('/__sim/jobs', { 'content-type': 'text/plain;charset=UTF-8' }, jobSpec);
    expect(r.status).toBe(415);
    const body = JSON.parse(r.text);
    expect(body.error.code).toBe('NOT_JSON');
    expect(body.error.message).toContain('application/json');
    expect(body.error.message).toContain('text/plain');
    expect(sim.stats().jobs).toBe(before);
  });

  it('refuses a text/plain POST /__sim/faults and injects nothing', async () => {
    const r = await send('/__sim/faults', { 'content-type': 'text/plain' }, faultSpec);
    expect(r.status).toBe(415);
    expect(sim.stats().faults).toEqual({});
    expect((await control(`${sim.url}/__sim/faults`, 'GET')).json).toEqual({ faults: null });
  });

  it('refuses an empty text/plain POST that would revoke tokens', async () => {
    const token = sim.issueToken();
    const r = await send('/__sim/tokens/revoke', { 'content-type': 'text/plain' }, '');
    expect(r.status).toBe(415);
    const check = await raw(`${sim.adminUrl}/jobs?f=json`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(JSON.parse(check.text)).toHaveProperty('jobs');
  });

  it.each([
    ['a form', 'application/x-www-form-urlencoded', 'outcome=COMPLETED&durationMs=1000'],
    ['multipart', 'multipart/form-data; boundary=x', '--x--'],
    ['a JSON-like type', 'application/json-patch+json', jobSpec],
  ])('refuses %s body with 415 NOT_JSON', async (_, type, body) => {
    const before = sim.stats().jobs;
    const r = await send('/__sim/jobs', { 'content-type': type }, body);
    expect(r.status).toBe(415);
    expect(JSON.parse(r.text).error.code).toBe('NOT_JSON');
    expect(sim.stats().jobs).toBe(before);
  });

  it('refuses a body without a Content-Type', async () => {
    const r = await send('/__sim/jobs', {}, jobSpec);
    expect(r.status).toBe(415);
    expect(JSON.parse(r.text).error.code).toBe('NOT_JSON');
  });

  it('accepts application/json with parameters, in any case, and a POST with no body at all', async () => {
    const r = await send(
      '/__sim/jobs',
      { 'content-type': 'Application/JSON; charset=utf-8' },
      jobSpec,
    );
    expect(r.status).toBe(200);
    expect((await send('/__sim/tokens/revoke', {})).status).toBe(200);
  });
});
