import { isTerminalStatus, parseJob, resultObject } from '@jobwatch/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobEnd, type Simulator, SimulatorError, startSimulator } from '../src/index.js';
import { control, getJson } from './helpers.js';

let sim: Simulator;
let token: string;

beforeAll(async () => {
  sim = await startSimulator({
    clock: 'manual',
    seed: 5,
    retentionMs: 60_000,
    startTime: 1_700_000_000_000,
  });
  token = sim.issueToken('admin', 365 * 24 * 3_600_000);
});
afterAll(() => sim.close());

const read = async (id: string) => parseJob(await getJson(`${sim.adminUrl}/jobs/${id}`, { token }));

/** Every distinct status a job shows, sampled each `step` ms until it ends. */
async function walk(
  id: string,
  step = 100,
): Promise<Array<{ status: string; updatedtime: number; endtime: number }>> {
  const seen: Array<{ status: string; updatedtime: number; endtime: number }> = [];
  for (;;) {
    const job = await read(id);
    const last = seen.at(-1);
    if (!last || last.status !== job.status || last.updatedtime !== job.updatedtime)
      seen.push({
        status: job.status,
        updatedtime: job.updatedtime as number,
        endtime: job.endtime as number,
      });
    if (isTerminalStatus(job.status)) return seen;
    sim.advance(step);
  }
}

describe('job lifecycles on a manual clock', () => {
  it.each<[JobEnd, string[]]>([
    ['COMPLETED', ['SUBMITTED', 'EXECUTING', 'COMPLETED']],
    ['FAILED', ['SUBMITTED', 'EXECUTING', 'FAILED']],
    ['CANCELLED', ['SUBMITTED', 'EXECUTING', 'CANCELLING', 'CANCELLED']],
    ['TIMED OUT', ['SUBMITTED', 'EXECUTING', 'TIMED OUT']],
  ])('%s passes through %j', async (outcome, expected) => {
    const start = sim.now();
    const id = sim.createJob({ outcome, durationMs: 5000 });
    const seen = await walk(id);
    expect(seen.map((s) => s.status)).toEqual(expected);
    const end = seen.at(-1)!;
    expect(end.endtime).toBe(start + 5000);
    expect(end.updatedtime).toBe(end.endtime);
    for (const s of seen.slice(0, -1)) expect(s.endtime).toBe(0);
    const final = await read(id);
    expect(final.starttime).toBe(start);
    if (outcome === 'COMPLETED') expect(final.messages).toBeUndefined();
    else expect(final.messages?.length).toBeGreaterThan(0);
    if (outcome === 'COMPLETED' || outcome === 'FAILED') expect(final.result).toBeDefined();
    else expect(final.result).toBeUndefined();
  });

  it('moves updatedtime on every change and only then', async () => {
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 8000, unavailableBlips: 2 });
    const seen = await walk(id, 50);
    const times = seen.map((s) => s.updatedtime);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(new Set(times).size).toBe(times.length);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.status).not.toBe(seen[i - 1]!.status);
  });

  it('shows UNAVAILABLE blips while executing, then goes on', async () => {
    const id = sim.createJob({ outcome: 'FAILED', durationMs: 20_000, unavailableBlips: 3 });
    const statuses = (await walk(id, 250)).map((s) => s.status);
    expect(statuses).toEqual([
      'SUBMITTED',
      'EXECUTING',
      'UNAVAILABLE',
      'EXECUTING',
      'UNAVAILABLE',
      'EXECUTING',
      'UNAVAILABLE',
      'EXECUTING',
      'FAILED',
    ]);
  });

  it('follows a scripted timeline, unknown statuses included, kept verbatim', async () => {
    const id = sim.createJob({
      outcome: 'COMPLETED',
      durationMs: 3000,
      timeline: [
        { atMs: 500, status: 'EXECUTING' },
        { atMs: 1000, status: 'PAUSED' },
        { atMs: 2000, status: 'EXECUTING' },
      ],
    });
    const seen = await walk(id, 250);
    expect(seen.map((s) => s.status)).toEqual([
      'SUBMITTED',
      'EXECUTING',
      'PAUSED',
      'EXECUTING',
      'COMPLETED',
    ]);
    expect(seen[2]!.updatedtime - seen[0]!.updatedtime).toBe(1000);
  });

  it.each([
    [
      'offsets that do not rise',
      [
        { atMs: 500, status: 'A' },
        { atMs: 500, status: 'B' },
      ],
    ],
    ['an offset at the end', [{ atMs: 3000, status: 'A' }]],
    ['a status with a slash', [{ atMs: 5, status: 'A/B' }]],
    ['a status that is not a string', [{ atMs: 5, status: 7 }]],
  ])('refuses a timeline with %s', (_name, timeline) => {
    expect(() =>
      sim.createJob({ outcome: 'COMPLETED', durationMs: 3000, timeline } as never),
    ).toThrow(expect.objectContaining({ code: 'INVALID_SPEC' }));
  });

  it('ends at once with durationMs 0', async () => {
    const id = sim.createJob({ outcome: 'CANCELLED', durationMs: 0 });
    const job = await read(id);
    expect(job.status).toBe('CANCELLED');
    expect(job.endtime).toBe(job.starttime);
  });

  it('uses the given operation URI, or an edit of a catalogue service', async () => {
    const given = sim.createJob({
      outcome: 'COMPLETED',
      durationMs: 10,
      operation: '/arcgis/admin/services/Folder/Thing.MapServer/edit',
    });
    const chosen = sim.createJob({ outcome: 'COMPLETED', durationMs: 10 });
    sim.advance(10);
    const a = await read(given);
    expect(a.operationURI).toBe('/arcgis/admin/services/Folder/Thing.MapServer/edit');
    expect(resultObject(a)?.service?.serviceName).toBe('Thing');
    expect(resultObject(a)?.service?.folderName).toBe('Folder');
    expect((await read(chosen)).operationURI).toMatch(/^\/arcgis\/admin\/services\/.+\/edit$/);
  });

  it('purges a finished job after the retention period, not before', async () => {
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1000 });
    const running = sim.createJob({ outcome: 'COMPLETED', durationMs: 10 * 60_000 });
    sim.advance(1000 + 59_999);
    expect((await read(id)).status).toBe('COMPLETED');
    sim.advance(1);
    expect(await getJson(`${sim.adminUrl}/jobs/${id}`, { token })).toEqual({
      error: { code: 404, message: `Job '${id}' not found.`, details: [] },
    });
    const list = (await getJson(`${sim.adminUrl}/jobs`, { token })).jobs as string[];
    expect(list).not.toContain(id);
    expect(list).toContain(running);
    expect(sim.job(running)?.status).toBe('EXECUTING');
  });

  it('sweeps purged jobs out of memory even when nobody reads them', () => {
    const before = sim.stats().jobs;
    sim.createJob({ outcome: 'FAILED', durationMs: 500 });
    expect(sim.stats().jobs).toBe(before + 1);
    sim.advance(10 * 60_000);
    sim.advance(60_000);
    expect(sim.stats().jobs).toBeLessThanOrEqual(before);
  });

  it('purges on demand over HTTP and in-process', async () => {
    const a = sim.createJob({ outcome: 'COMPLETED', durationMs: 1000 });
    const b = sim.createJob({ outcome: 'COMPLETED', durationMs: 1000 });
    expect((await control(`${sim.url}/__sim/jobs/${a}`, 'DELETE')).json).toEqual({
      jobid: a,
      purged: true,
    });
    expect((await control(`${sim.url}/__sim/jobs/${a}`, 'DELETE')).status).toBe(404);
    expect(sim.purgeJob(b)).toBe(true);
    expect(sim.purgeJob(b)).toBe(false);
    expect((await getJson(`${sim.adminUrl}/jobs/${a}`, { token })).error.code).toBe(404);
    expect(sim.job(b)).toBeUndefined();
  });

  it('creates jobs over HTTP and advances the clock over HTTP', async () => {
    const created = await control(`${sim.url}/__sim/jobs`, 'POST', {
      outcome: 'TIMED OUT',
      durationMs: 3000,
      unavailableBlips: 1,
    });
    expect(created.status).toBe(200);
    const before = sim.now();
    const advanced = await control(`${sim.url}/__sim/clock/advance`, 'POST', { ms: 3000 });
    expect(advanced.json.now).toBe(before + 3000);
    expect((await control(`${sim.url}/__sim/clock`, 'GET')).json).toEqual({
      kind: 'manual',
      now: before + 3000,
    });
    expect((await read(created.json.jobid)).status).toBe('TIMED OUT');
  });

  it.each([
    ['an unknown outcome', { outcome: 'DONE', durationMs: 1 }],
    ['a negative duration', { outcome: 'COMPLETED', durationMs: -1 }],
    ['a duration that is not a number', { outcome: 'COMPLETED', durationMs: '5s' }],
    ['a relative operation', { outcome: 'COMPLETED', durationMs: 1, operation: 'services/x' }],
    ['fractional blips', { outcome: 'COMPLETED', durationMs: 1, unavailableBlips: 1.5 }],
    ['an unknown user', { outcome: 'COMPLETED', durationMs: 1, username: 'mallory' }],
    ['an array', [1, 2]],
  ])(
    'refuses a job spec with %s (400 over HTTP, SimulatorError in-process)',
    async (_name, spec) => {
      const r = await control(`${sim.url}/__sim/jobs`, 'POST', spec);
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('INVALID_SPEC');
      expect(() => sim.createJob(spec as never)).toThrow(SimulatorError);
    },
  );

  it('refuses to advance a clock that is not manual', async () => {
    const real = await startSimulator();
    try {
      expect(() => real.advance(1)).toThrow(expect.objectContaining({ code: 'CLOCK_NOT_MANUAL' }));
      const r = await control(`${real.url}/__sim/clock/advance`, 'POST', { ms: 1 });
      expect(r.status).toBe(409);
      expect(r.json.error.code).toBe('CLOCK_NOT_MANUAL');
    } finally {
      await real.close();
    }
    expect(() => sim.advance(-5)).toThrow(expect.objectContaining({ code: 'INVALID_SPEC' }));
  });

  it('runs a scaled clock faster than real time', async () => {
    const fast = await startSimulator({ clock: { speed: 1000 }, startTime: 0 });
    try {
      const id = fast.createJob({ outcome: 'COMPLETED', durationMs: 60_000 });
      await new Promise((r) => setTimeout(r, 80));
      expect(fast.job(id)?.status).toBe('COMPLETED');
    } finally {
      await fast.close();
    }
  });
});
