import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, SimulatorError, startSimulator } from '../src/index.js';
import { control, getJson, postForm, raw } from './helpers.js';

let sim: Simulator;
let jobs: string;

beforeAll(async () => {
  sim = await startSimulator({
    clock: 'manual',
    seed: 3,
    users: { admin: 'admin', viewer: 's3cret' },
    tokenTtlMs: 10 * 60_000,
  });
  jobs = `${sim.adminUrl}/jobs`;
});
afterAll(() => sim.close());

async function newToken(
  params: Record<string, string> = {},
): Promise<{ token: string; expires: number }> {
  return postForm(sim.tokenUrl, { username: 'admin', password: 'admin', ...params });
}

describe('generateToken', () => {
  it('issues a token by POST and by GET, with expires in epoch ms on the simulator clock', async () => {
    const posted = await newToken({ client: 'requestip' });
    const got = await getJson(sim.tokenUrl, { username: 'viewer', password: 's3cret' });
    expect(posted.token).not.toBe(got.token);
    expect(posted.expires).toBe(sim.now() + 10 * 60_000);
    expect(got.expires).toBe(sim.now() + 10 * 60_000);
  });

  it('honours expiration (minutes) and lets the token die at that moment', async () => {
    const { token, expires } = await newToken({ expiration: '1' });
    expect(expires).toBe(sim.now() + 60_000);
    sim.advance(59_999);
    expect(await getJson(jobs, { token })).toHaveProperty('jobs');
    sim.advance(1);
    expect(await getJson(jobs, { token })).toEqual({
      error: { code: 498, message: 'Invalid token.', details: [] },
    });
  });

  it('also answers under the admin root (admin/generateToken)', async () => {
    const body = await postForm(`${sim.adminUrl}/generateToken`, {
      username: 'admin',
      password: 'admin',
    });
    expect(typeof body.token).toBe('string');
  });

  it.each([
    ['a wrong password', { username: 'admin', password: 'nope' }, 'Invalid username or password.'],
    [
      'an unknown user',
      { username: 'mallory', password: 'admin' },
      'Invalid username or password.',
    ],
    ['no username', { password: 'admin' }, "'username' must be specified."],
    ['no password', { username: 'admin' }, "'password' must be specified."],
    [
      'an unknown client type',
      { username: 'admin', password: 'admin', client: 'browser' },
      "'client' must be one of referer, ip, requestip.",
    ],
    [
      'client=referer without a referer',
      { username: 'admin', password: 'admin', client: 'referer' },
      "'referer' must be specified when client is referer.",
    ],
    [
      'a bad expiration',
      { username: 'admin', password: 'admin', expiration: 'soon' },
      "'expiration' must be a positive number of minutes.",
    ],
  ])('refuses %s with an error body and HTTP 200', async (_name, params, detail) => {
    const r = await raw(sim.tokenUrl, {
      method: 'POST',
      body: new URLSearchParams({ f: 'json', ...params }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({
      error: { code: 400, message: 'Unable to generate token.', details: [detail] },
    });
    expect(r.text).not.toContain('nope');
  });
});

describe('token carriers and refusals on admin routes', () => {
  it.each([
    ['the token query parameter', (t: string) => ({ params: { token: t }, headers: {} })],
    [
      'X-Esri-Authorization: Bearer',
      (t: string) => ({ params: {}, headers: { 'X-Esri-Authorization': `Bearer ${t}` } }),
    ],
    [
      'Authorization: Bearer',
      (t: string) => ({ params: {}, headers: { Authorization: `Bearer ${t}` } }),
    ],
  ])('accepts %s on GET', async (_name, carry) => {
    const { token } = await newToken();
    const { params, headers } = carry(token);
    expect(await getJson(jobs, params, headers)).toHaveProperty('jobs');
  });

  it('accepts the token form field on POST, for resources and operations', async () => {
    const { token } = await newToken();
    expect(await postForm(jobs, { token })).toHaveProperty('jobs');
    expect(
      await postForm(`${sim.adminUrl}/services/SampleWorldCities.MapServer/start`, { token }),
    ).toEqual({ status: 'success' });
  });

  it('answers 499 (format A) without a token and 498 for an unknown one, with HTTP 200', async () => {
    const missing = await raw(`${jobs}?f=json`);
    expect(missing.status).toBe(200);
    expect(JSON.parse(missing.text)).toEqual({
      error: { code: 499, message: 'Token Required', details: [] },
    });
    expect(await getJson(jobs, {}, { Authorization: 'Bearer made-up' })).toEqual({
      error: { code: 498, message: 'Invalid token.', details: [] },
    });
    expect(await getJson(jobs, {}, { Authorization: 'Basic YWRtaW46YWRtaW4=' })).toMatchObject({
      error: { code: 499 },
    });
  });

  it('answers format B on operation POSTs: 499 without a token, 498 with a bad one', async () => {
    const op = `${sim.adminUrl}/services/SampleWorldCities.MapServer/stop`;
    expect(await postForm(op)).toEqual({
      status: 'error',
      messages: [
        "Unauthorized access.Token not found. You can generate a token using the 'generateToken' operation.",
      ],
      code: 499,
    });
    expect(await postForm(op, { token: 'forged' })).toEqual({
      status: 'error',
      messages: ['Invalid token.'],
      code: 498,
    });
  });

  it('refuses a token after its default lifetime on the manual clock', async () => {
    const { token } = await newToken();
    sim.advance(10 * 60_000 - 1);
    expect(await getJson(jobs, { token })).toHaveProperty('jobs');
    sim.advance(1);
    expect((await getJson(jobs, { token })).error.code).toBe(498);
  });

  it('refuses every issued token after a revoke (HTTP and in-process)', async () => {
    const a = (await newToken()).token;
    const b = sim.issueToken('viewer');
    const r = await control(`${sim.url}/__sim/tokens/revoke`, 'POST');
    expect(r.json.revoked).toBeGreaterThanOrEqual(2);
    for (const token of [a, b]) expect((await getJson(jobs, { token })).error.code).toBe(498);
    const c = sim.issueToken();
    expect(sim.revokeTokens()).toBe(1);
    expect((await getJson(jobs, { token: c })).error.code).toBe(498);
    expect(await getJson(jobs, { token: (await newToken()).token })).toHaveProperty('jobs');
  });

  it('issues tokens in-process only for known users', () => {
    expect(() => sim.issueToken('mallory')).toThrow(SimulatorError);
    expect(() => sim.issueToken('mallory')).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_USER' }),
    );
  });

  it('records the token holder as the job username', async () => {
    const token = sim.issueToken('viewer');
    const handle = await postForm(`${sim.adminUrl}/services/SampleWorldCities.MapServer/stop`, {
      async: 'true',
      token,
    });
    expect((await getJson(`${sim.adminUrl}/jobs/${handle.jobID}`, { token })).username).toBe(
      'viewer',
    );
  });

  it('never logs a token or a password', async () => {
    const lines: string[] = [];
    const logged = await startSimulator({ log: (e) => lines.push(JSON.stringify(e)) });
    try {
      const body = await postForm(logged.tokenUrl, { username: 'admin', password: 'admin' });
      await getJson(`${logged.adminUrl}/jobs`, { token: body.token });
      await getJson(logged.tokenUrl, { username: 'admin', password: 'admin' });
      expect(lines.length).toBe(3);
      expect(lines.join('\n')).not.toContain(body.token);
      expect(lines.join('\n')).not.toContain('password');
    } finally {
      await logged.close();
    }
  });
});
