import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  QUIRK_NAMES,
  QUIRK_SOURCES,
  type QuirkNameValue,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../src/index.js';
import { type Body, control, getJson, postForm, raw } from './helpers.js';

const open: Simulator[] = [];
afterAll(() => Promise.all(open.map((s) => s.close())));

async function start(options: SimulatorOptions): Promise<Simulator> {
  const sim = await startSimulator({ clock: 'manual', startTime: 1_700_000_000_000, ...options });
  open.push(sim);
  return sim;
}

const DOCUMENTED_KEYS = new Set([
  'jobid',
  'status',
  'starttime',
  'endtime',
  'updatedtime',
  'operationURI',
  'username',
  'result',
  'messages',
]);
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Which quirks a job body shows, told from the body and the same job's documented body. */
function quirksSeen(body: Body, documented: Body): QuirkNameValue[] {
  const seen: QuirkNameValue[] = [];
  const failed = documented.status === 'FAILED';
  const messages = body.messages;
  if (Array.isArray(messages) && messages.length > 0) {
    const objects = messages.filter(isObject).length;
    if (objects === messages.length) seen.push('messageObjects');
    else if (objects > 0) seen.push('mixedMessages');
  }
  if (failed && documented.messages && !('messages' in body) && body.result)
    seen.push('noMessages');
  if (failed && !('result' in body)) seen.push('noResult');
  if (failed && typeof body.result === 'string') seen.push('stringResult');
  if (failed && body.result === null) seen.push('nullResult');
  if (failed && typeof body.result?.error?.message === 'string') seen.push('errorResult');
  if (body.username === null) seen.push('nullUsername');
  if (!('operationURI' in body)) seen.push('noOperationUri');
  if (String(body.status).toUpperCase() === 'ERROR') seen.push('errorStatus');
  if (body.status !== String(body.status).toUpperCase()) seen.push('lowerCaseStatus');
  const service = body.result?.service;
  if (
    isObject(service) &&
    Object.values(service.properties as object).some((v) => typeof v !== 'string') &&
    (service.extensions as Body[]).some((e) => typeof e.enabled === 'boolean')
  )
    seen.push('typedProperties');
  if (
    documented.status === 'COMPLETED' &&
    documented.operationURI.endsWith('/backups/create') &&
    !('result' in body)
  )
    seen.push('backupNoResult');
  if (typeof body.starttime === 'string' && /^\d+$/.test(body.starttime))
    seen.push('stringTimestamps');
  if (Object.keys(body).some((k) => !DOCUMENTED_KEYS.has(k))) seen.push('extraFields');
  return seen;
}

/** The documented meaning of a status as the quirks spell it. */
const meaning = (status: string) => {
  const upper = status.toUpperCase();
  return upper === 'ERROR' ? 'FAILED' : upper;
};

describe('with quirks on, bodies vary the way real servers vary them', () => {
  let sim: Simulator;
  let token: string;
  let ids: string[];
  let running: Record<string, Body>;
  let ended: Record<string, Body>;
  const workload = {
    jobsPerMinute: 600,
    minDurationMs: 1000,
    maxDurationMs: 20_000,
    failureRate: 0.4,
    cancelRate: 0.1,
    timeoutRate: 0.1,
    operations: { edit: 3, start: 1, backup: 2 },
  };

  beforeAll(async () => {
    sim = await start({ seed: 7, quirks: true, workload });
    token = sim.issueToken();
    sim.advance(30_000);
    ids = (await getJson(`${sim.adminUrl}/jobs`, { token })).jobs;
    running = {};
    for (const id of ids) running[id] = await getJson(`${sim.adminUrl}/jobs/${id}`, { token });
    sim.advance(60_000);
    ended = {};
    for (const id of ids) ended[id] = await getJson(`${sim.adminUrl}/jobs/${id}`, { token });
  });

  it('shows every job quirk at least once over a seeded workload, each on some jobs only', async () => {
    expect(ids.length).toBeGreaterThan(200);
    sim.setQuirks(false);
    const counts = new Map<string, number>();
    for (const id of ids) {
      for (const q of quirksSeen(ended[id], sim.job(id)!)) counts.set(q, (counts.get(q) ?? 0) + 1);
    }
    sim.setQuirks(true);
    const jobQuirks = QUIRK_NAMES.filter((q) => QUIRK_SOURCES[q] === 'enterprise');
    expect(jobQuirks.filter((q) => !counts.has(q))).toEqual([]);
    // Quirks mix with documented bodies, as across a fleet: none is on every job.
    for (const q of ['nullUsername', 'noOperationUri', 'stringTimestamps', 'extraFields'])
      expect(counts.get(q), q).toBeLessThan(ids.length);
    // Running jobs are spelled the same way.
    const spellings = new Set(ids.map((id) => running[id].status));
    expect(spellings).toContain('executing');
    expect(spellings).toContain('EXECUTING');
  });

  it('keeps what watching needs: each body names the job asked for and a status meaning the documented one', async () => {
    sim.setQuirks(false);
    const documented = Object.fromEntries(ids.map((id) => [id, sim.job(id)!]));
    sim.setQuirks(true);
    for (const id of ids) {
      expect(ended[id].jobid).toBe(id);
      expect(typeof ended[id].status).toBe('string');
      expect(meaning(ended[id].status)).toBe(documented[id]?.status);
      expect(running[id].jobid).toBe(id);
      expect(typeof running[id].status).toBe('string');
    }
  });

  it('keeps a reason for every failed job: in messages or in result', () => {
    const failed = ids.filter((id) => meaning(ended[id].status) === 'FAILED');
    expect(failed.length).toBeGreaterThan(50);
    for (const id of failed) {
      const b = ended[id];
      const inMessages = Array.isArray(b.messages) && b.messages.length > 0;
      const inResult =
        typeof b.result === 'string' ||
        typeof b.result?.error?.message === 'string' ||
        (Array.isArray(b.result?.messages) && b.result.messages.length > 0);
      expect(inMessages || inResult, id).toBe(true);
    }
  });

  it('shows the same quirks on every poll and in every run with the same seed', async () => {
    const again = await start({ seed: 7, quirks: true, workload });
    again.advance(90_000);
    const t = again.issueToken();
    for (const id of ids.slice(0, 40)) {
      expect(await getJson(`${sim.adminUrl}/jobs/${id}`, { token })).toEqual(ended[id]);
      expect(await getJson(`${again.adminUrl}/jobs/${id}`, { token: t })).toEqual(ended[id]);
    }
  });

  it('spells job handles by the job quirks: a lower-case jobStatus and an extra status field', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const handle = await postForm(`${sim.adminUrl}/services/SampleWorldCities.MapServer/start`, {
        async: 'true',
        token,
      });
      expect(typeof handle.jobID).toBe('string');
      if (handle.jobStatus === 'submitted') seen.add('lowerCaseStatus');
      if (handle.status === 'success') seen.add('extraFields');
    }
    expect([...seen].sort()).toEqual(['extraFields', 'lowerCaseStatus']);
  });

  it('answers errors in each shape arcgis-rest-js reads, but keeps token errors and an unknown job documented', async () => {
    const shapes = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const b = await getJson(`${sim.adminUrl}/services/Missing${i}.MapServer`, { token });
      if (isObject(b.error) && b.error.code === 404) shapes.add('documented');
      else if (isObject(b.error) && !('code' in b.error) && typeof b.error.message === 'string')
        shapes.add('error without code');
      else if (b.code === 404 && typeof b.message === 'string') shapes.add('top-level code');
      else if (b.status === 'failed' && typeof b.statusMessage === 'string')
        shapes.add(b.statusMessage.startsWith('{') ? 'statusMessage JSON' : 'statusMessage plain');
      else throw new Error(`unexpected error body ${JSON.stringify(b)}`);
    }
    expect([...shapes].sort()).toEqual([
      'documented',
      'error without code',
      'statusMessage JSON',
      'statusMessage plain',
      'top-level code',
    ]);
    const json = await getJson(`${sim.adminUrl}/services/Missing0.MapServer`, { token });
    expect(await getJson(`${sim.adminUrl}/services/Missing0.MapServer`, { token })).toEqual(json);
    for (let i = 0; i < 20; i++) {
      const id = `j0000000${i}-0000-4000-8000-000000000000`;
      expect((await getJson(`${sim.adminUrl}/jobs/${id}`, { token })).error.code).toBe(404);
      expect((await getJson(`${sim.adminUrl}/jobs/${id}`)).error.code).toBe(499);
      expect((await getJson(`${sim.adminUrl}/jobs/${id}`, { token: `x${i}` })).error.code).toBe(
        498,
      );
      const op = await postForm(`${sim.adminUrl}/services/Nope${i}.MapServer/start`, {
        token: `x${i}`,
      });
      expect(op).toMatchObject({ status: 'error', code: 498 });
    }
  });
});

describe('choosing quirks', () => {
  it('a job created with its own quirks shows exactly those, whatever the simulator-wide setting', async () => {
    const sim = await start({ seed: 3 });
    const id = sim.createJob({
      outcome: 'FAILED',
      durationMs: 1000,
      quirks: ['errorStatus', 'nullUsername', 'stringResult'],
    });
    const plain = sim.createJob({ outcome: 'FAILED', durationMs: 1000 });
    sim.advance(1000);
    const body = sim.job(id)!;
    expect(body).toMatchObject({ jobid: id, status: 'ERROR', username: null });
    expect(body.result).toBe(body.messages && (body.messages as string[])[0]);
    expect(body.operationURI).toEqual(expect.any(String));
    expect(sim.job(plain)).toMatchObject({ status: 'FAILED', username: 'admin' });
    sim.setQuirks(true);
    const documented = sim.createJob({ outcome: 'FAILED', durationMs: 0, quirks: false });
    expect(sim.job(documented)).toMatchObject({ status: 'FAILED', username: 'admin' });
  });

  it('a simulator started with a list shows only the listed quirks', async () => {
    const sim = await start({
      seed: 4,
      quirks: ['lowerCaseStatus'],
      workload: { jobsPerMinute: 600, maxDurationMs: 5000 },
    });
    sim.advance(20_000);
    const ids = (await getJson(`${sim.adminUrl}/jobs`, { token: sim.issueToken() })).jobs;
    const bodies = ids.map((id: string) => sim.job(id)!);
    const lower = bodies.filter((b: Body) => /^[a-z ]+$/.test(b.status));
    expect(lower.length).toBeGreaterThan(0);
    expect(lower.length).toBeLessThan(bodies.length);
    for (const b of bodies) {
      expect(typeof b.starttime).toBe('number');
      expect(typeof b.username).toBe('string');
      expect(b.status).not.toMatch(/^error$/i);
    }
    expect(sim.quirks()).toEqual(['lowerCaseStatus']);
  });

  it('is switched at run time through POST /__sim/quirks, and off again with DELETE', async () => {
    const sim = await start({ seed: 5 });
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 0 });
    const before = sim.job(id);
    expect((await control(`${sim.url}/__sim/quirks`, 'GET')).json).toEqual({ quirks: [] });
    const on = await control(`${sim.url}/__sim/quirks`, 'POST', { quirks: true });
    expect(on.json).toEqual({ quirks: [...QUIRK_NAMES] });
    expect(sim.quirks()).toEqual(QUIRK_NAMES);
    const some = await control(`${sim.url}/__sim/quirks`, 'POST', {
      quirks: ['nullUsername', 'extraFields'],
    });
    expect(some.json).toEqual({ quirks: ['nullUsername', 'extraFields'] });
    expect((await control(`${sim.url}/__sim/quirks`, 'DELETE')).json).toEqual({ quirks: [] });
    expect(sim.job(id)).toEqual(before);
  });

  it.each([
    [{ quirks: ['noSuchQuirk'] }, /unknown quirk "noSuchQuirk"/],
    [{ quirks: 'yes' }, /true, false or a list/],
    [{}, /send \{"quirks"/],
  ])('refuses the quirks switch %j with 400 INVALID_SPEC', async (spec, message) => {
    const sim = await start({ seed: 6 });
    const r = await control(`${sim.url}/__sim/quirks`, 'POST', spec);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('INVALID_SPEC');
    expect(r.json.error.message).toMatch(message);
    expect(sim.quirks()).toEqual([]);
  });

  it('refuses unknown quirks in options and job specs', async () => {
    await expect(startSimulator({ quirks: ['nope' as QuirkNameValue] })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    const sim = await start({ seed: 8 });
    expect(() =>
      sim.createJob({ outcome: 'FAILED', durationMs: 1, quirks: ['nope' as QuirkNameValue] }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_SPEC' }));
  });
});

describe('token header modes, like the two kinds of deployment', () => {
  let sim: Simulator;
  let token: string;
  beforeAll(async () => {
    sim = await start({ seed: 9 });
    token = sim.issueToken();
  });
  const jobs = (headers: Record<string, string>) =>
    raw(`${sim.adminUrl}/jobs?f=json`, { headers }).then((r) => JSON.parse(r.text));
  const stop = (headers: Record<string, string>) =>
    postForm(`${sim.adminUrl}/services/SampleWorldCities.MapServer/stop`, {}, headers);

  it('reads both headers by default', async () => {
    expect(sim.tokenHeader()).toBe('both');
    expect(await jobs({ authorization: `Bearer ${token}` })).toHaveProperty('jobs');
    expect(await jobs({ 'x-esri-authorization': `Bearer ${token}` })).toHaveProperty('jobs');
  });

  it.each([
    ['x-esri-authorization', 'authorization'],
    ['authorization', 'x-esri-authorization'],
  ] as const)(
    'in %s mode reads that header and answers a token in %s as missing (499)',
    async (mode, other) => {
      const only = await start({ seed: 10, tokenHeader: mode });
      const t = only.issueToken();
      const list = (headers: Record<string, string>) =>
        raw(`${only.adminUrl}/jobs?f=json`, { headers }).then((r) => JSON.parse(r.text));
      expect(await list({ [mode]: `Bearer ${t}` })).toHaveProperty('jobs');
      expect(await list({ [other]: `Bearer ${t}` })).toEqual({
        error: { code: 499, message: 'Token Required', details: [] },
      });
      const op = await postForm(
        `${only.adminUrl}/services/SampleWorldCities.MapServer/start`,
        {},
        { [other]: `Bearer ${t}` },
      );
      expect(op).toMatchObject({ status: 'error', code: 499 });
      // Both headers: the one the mode reads wins.
      expect(await list({ [other]: 'Bearer wrong', [mode]: `Bearer ${t}` })).toHaveProperty('jobs');
      // The token parameter is read in every mode.
      expect(await getJson(`${only.adminUrl}/jobs`, { token: t })).toHaveProperty('jobs');
    },
  );

  it('is switched at run time through POST /__sim/token-header and setTokenHeader', async () => {
    const r = await control(`${sim.url}/__sim/token-header`, 'POST', {
      tokenHeader: 'authorization',
    });
    expect(r.json).toEqual({ tokenHeader: 'authorization' });
    expect((await jobs({ 'x-esri-authorization': `Bearer ${token}` })).error.code).toBe(499);
    expect(await stop({ authorization: `Bearer ${token}` })).toEqual({ status: 'success' });
    sim.setTokenHeader('x-esri-authorization');
    expect((await control(`${sim.url}/__sim/token-header`, 'GET')).json).toEqual({
      tokenHeader: 'x-esri-authorization',
    });
    expect((await jobs({ authorization: `Bearer ${token}` })).error.code).toBe(499);
    const bad = await control(`${sim.url}/__sim/token-header`, 'POST', { tokenHeader: 'cookie' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('INVALID_SPEC');
    expect(sim.tokenHeader()).toBe('x-esri-authorization');
    sim.setTokenHeader('both');
    await expect(
      startSimulator({ tokenHeader: 'Authorization' as 'authorization' }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });
});
