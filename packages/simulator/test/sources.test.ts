import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/index.js';
import { type Body, control, getJson, postForm, raw } from './helpers.js';

const T0 = 1_700_000_000_000;
let sim: Simulator;
let token: string;
const auth = () => ({ 'x-esri-authorization': `Bearer ${token}` });

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 3, startTime: T0 });
});
afterAll(() => sim.close());
beforeEach(() => {
  token = sim.issueToken();
});

/** GETs a job URL with f=json and the token in a header. */
const read = (url: string, params: Record<string, string> = {}): Promise<Body> =>
  getJson(url, params, auth());

describe('ArcGIS Server admin jobs', () => {
  it('advance their steps on the clock and end with the operation response', async () => {
    const { jobid, jobUrl } = sim.createServerJob({
      outcome: 'COMPLETED',
      durationMs: 4000,
      service: 'Hosted/Parcels.FeatureServer',
    });
    expect(jobUrl).toBe(`${sim.serverAdminUrl}/system/jobs/${jobid}`);
    expect(await read(jobUrl)).toEqual({
      jobid,
      status: 'SUBMITTED',
      totalsteps: 3,
      currentstep: 0,
      stepInfo: [],
    });
    const seen: number[] = [];
    for (const step of [400, 1200, 1200, 1100]) {
      sim.advance(step);
      const body = await read(jobUrl);
      expect(body.status).toBe('EXECUTING');
      expect(body.stepInfo).toHaveLength(body.currentstep);
      expect(body).not.toHaveProperty('operationResponse');
      seen.push(body.currentstep);
    }
    expect(seen).toEqual([1, 2, 3, 3]);
    sim.advance(100);
    const done = await read(jobUrl);
    expect(done).toMatchObject({ status: 'COMPLETED', totalsteps: 3, currentstep: 3 });
    expect(done.stepInfo[0]).toBe("Stopping the service 'Parcels' on machine 'SERVER.EXAMPLE.COM'");
    expect(done.operationResponse).toEqual({ status: 'success' });
    expect((await read(`${sim.serverAdminUrl}/system/jobs`)).jobs).toContain(jobid);
  });

  it('show COMPLETED with an error operationResponse as a chosen outcome, and FAILED half way', async () => {
    const withError = sim.createServerJob({
      outcome: 'COMPLETED_WITH_ERROR',
      durationMs: 1000,
      steps: ['One', 'Two', 'Three'],
    });
    const failed = sim.createServerJob({ outcome: 'FAILED', durationMs: 1000, steps: 4 });
    sim.advance(1000);
    const a = await read(withError.jobUrl);
    expect(a).toMatchObject({
      status: 'COMPLETED',
      currentstep: 3,
      stepInfo: ['One', 'Two', 'Three'],
    });
    expect(a.operationResponse.status).toBe('error');
    expect(a.operationResponse.messages).toEqual(['service failed to start']);
    expect(a.operationResponse.detail.machines[0].state).toBe('FAILED');
    const b = await read(failed.jobUrl);
    expect(b).toMatchObject({ status: 'FAILED', totalsteps: 4, currentstep: 2 });
    expect(b.operationResponse).toMatchObject({ status: 'error', code: 500 });
  });

  it('are started by admin operations with runAsync=true, which make their change at the end', async () => {
    const op = `${sim.serverAdminUrl}/services/SampleWorldCities.MapServer/stop`;
    const handle = await postForm(op, { runAsync: 'true' }, auth());
    expect(handle).toEqual({ status: 'success', jobid: expect.stringMatching(/^j[0-9a-f-]{36}$/) });
    expect(sim.service('SampleWorldCities.MapServer')?.configuredState).toBe('STARTED');
    sim.advance(10_000);
    const job = await read(`${sim.serverAdminUrl}/system/jobs/${handle.jobid}`);
    expect(job).toMatchObject({ status: 'COMPLETED', operationResponse: { status: 'success' } });
    expect(sim.service('SampleWorldCities.MapServer')?.configuredState).toBe('STOPPED');
    // Without runAsync the operation runs at once.
    const start = `${sim.serverAdminUrl}/services/SampleWorldCities.MapServer/start`;
    expect(await postForm(start, {}, auth())).toEqual({ status: 'success' });
    expect(sim.service('SampleWorldCities.MapServer')?.configuredState).toBe('STARTED');
  });

  it('end COMPLETED with an error operationResponse when the change cannot be made', async () => {
    const svc = `${sim.serverAdminUrl}/services/Utilities/Geometry.GeometryServer`;
    const handle = await postForm(`${svc}/stop`, { runAsync: 'true' }, auth());
    expect(await postForm(`${svc}/delete`, {}, auth())).toEqual({ status: 'success' });
    sim.advance(10_000);
    const job = await read(`${sim.serverAdminUrl}/system/jobs/${handle.jobid}`);
    expect(job.status).toBe('COMPLETED');
    expect(job.operationResponse).toMatchObject({
      status: 'error',
      messages: ["Service 'Utilities/Geometry.GeometryServer' does not exist."],
    });
  });

  it('answer operation errors in format B and unknown or hostile job ids as the admin API does', async () => {
    const get = await read(`${sim.serverAdminUrl}/services/SampleWorldCities.MapServer/stop`);
    expect(get).toEqual({
      status: 'error',
      messages: ['This operation is only supported via POST.'],
      code: 405,
    });
    const missing = await postForm(
      `${sim.serverAdminUrl}/services/Nope.MapServer/start`,
      {},
      auth(),
    );
    expect(missing).toMatchObject({ status: 'error', code: 404 });
    const unknown = await read(
      `${sim.serverAdminUrl}/system/jobs/j00000000-0000-4000-8000-000000000000`,
    );
    expect(unknown.error.code).toBe(404);
    expect((await read(`${sim.serverAdminUrl}/system/jobs/not.an.id`)).error.code).toBe(400);
    const hostile = await raw(`${sim.serverAdminUrl}/system/jobs/..%2f..%2fetc?f=json`, {
      headers: auth(),
    });
    expect(hostile.status).toBe(400);
  });
});

describe('geoprocessing services', () => {
  const task = () => `${sim.restUrl}/Tools/Buffer/GPServer/BufferPoints`;
  const points = JSON.stringify({
    geometryType: 'esriGeometryPoint',
    spatialReference: { wkid: 4326 },
    features: [{ geometry: { x: -117.2, y: 34.05 } }, { geometry: { x: -117.3, y: 34.1 } }],
  });

  it('list their services and tasks with parameters', async () => {
    expect(await read(sim.restUrl)).toMatchObject({ folders: ['Tools'], services: [] });
    expect((await read(`${sim.restUrl}/Tools`)).services).toEqual([
      { name: 'Tools/Buffer', type: 'GPServer' },
      { name: 'Tools/Hotspots', type: 'GPServer' },
    ]);
    const t = await read(task());
    expect(t.executionType).toBe('esriExecutionTypeAsynchronous');
    expect(t.parameters.map((p: Body) => [p.name, p.direction])).toEqual([
      ['Input_Features', 'esriGPParameterDirectionInput'],
      ['Distance', 'esriGPParameterDirectionInput'],
      ['Dissolve', 'esriGPParameterDirectionInput'],
      ['Output_Features', 'esriGPParameterDirectionOutput'],
    ]);
  });

  it('run a submitted job through its statuses, with progress only while executing, to real results', async () => {
    const submitted = await postForm(
      `${task()}/submitJob`,
      { Input_Features: points, Distance: '{"distance":500,"units":"esriMeters"}' },
      auth(),
    );
    expect(submitted).toEqual({
      jobId: expect.stringMatching(/^j[0-9a-f]{32}$/),
      jobStatus: 'esriJobSubmitted',
    });
    const url = `${task()}/jobs/${submitted.jobId}`;
    const statuses: string[] = [];
    const percentages: number[] = [];
    let body: Body;
    for (let i = 0; i < 400; i++) {
      body = await read(url);
      if (statuses.at(-1) !== body.jobStatus) statuses.push(body.jobStatus);
      if (body.jobStatus === 'esriJobExecuting') {
        expect(body.progress).toMatchObject({ type: 'step', message: expect.any(String) });
        percentages.push(body.progress.percentage);
      } else expect(body).not.toHaveProperty('progress');
      if (body.jobStatus === 'esriJobSucceeded') break;
      sim.advance(50);
    }
    expect(statuses).toEqual([
      'esriJobSubmitted',
      'esriJobWaiting',
      'esriJobExecuting',
      'esriJobSucceeded',
    ]);
    expect(percentages.length).toBeGreaterThan(2);
    expect(percentages).toEqual([...percentages].sort((a, b) => a - b));
    expect(percentages.at(-1)).toBeLessThan(100);
    expect(body.results).toEqual({ Output_Features: { paramUrl: 'results/Output_Features' } });
    expect(body.inputs.Distance).toEqual({ paramUrl: 'inputs/Distance' });
    expect(body.messages.at(-1).description).toMatch(/^Succeeded at /);
    const out = await read(`${url}/${body.results.Output_Features.paramUrl}`);
    expect(out).toMatchObject({
      paramName: 'Output_Features',
      dataType: 'GPFeatureRecordSetLayer',
    });
    expect(out.value.features).toHaveLength(2);
    const [x, y] = out.value.features[0].geometry.rings[0][0];
    expect(Math.hypot(x + 117.2, y - 34.05) * 111_320).toBeCloseTo(500, -1);
    expect((await getJson(`${url}/inputs/Distance`, { f: 'json' }, auth())).value).toEqual({
      distance: 500,
      units: 'esriMeters',
    });
  });

  it('takes submitJob by GET too, for a task whose name has spaces and whose progress has no percentage', async () => {
    const url = `${sim.restUrl}/Tools/Hotspots/GPServer/Find%20Hot%20Spots`;
    const submitted = await read(`${url}/submitJob`, { Input_Points: points });
    sim.advance(300);
    const running = await read(`${url}/jobs/${submitted.jobId}`);
    expect(running.jobStatus).toBe('esriJobExecuting');
    expect(running.progress).toEqual({ type: 'default', message: 'Aggregating the incidents' });
    sim.advance(10_000);
    const summary = await read(`${url}/jobs/${submitted.jobId}/results/Summary`);
    expect(summary.value).toBe('2 incidents analysed: 1 hot spots, 1 cold spots.');
  });

  it('refuses a submitJob without a required parameter, or with a bad one', async () => {
    expect(
      await postForm(
        `${task()}/submitJob`,
        { Distance: '{"distance":1,"units":"esriMiles"}' },
        auth(),
      ),
    ).toEqual({
      error: {
        code: 400,
        message: 'Unable to complete operation.',
        details: ["'Input_Features' is required."],
      },
    });
    const bad = await postForm(
      `${task()}/submitJob`,
      { Input_Features: points, Distance: 'far' },
      auth(),
    );
    expect(bad.error.details).toEqual(["'Distance' is not valid JSON."]);
  });

  it('cancels an executing job: esriJobCancelling, then esriJobCancelled; not an ended or submitted one', async () => {
    const { jobId, jobUrl } = sim.createGpJob({ outcome: 'esriJobSucceeded', durationMs: 10_000 });
    expect(await read(`${jobUrl}/cancel`)).toMatchObject({ error: { code: 400 } });
    sim.advance(2000);
    expect(await postForm(`${jobUrl}/cancel`, {}, auth())).toEqual({
      jobId,
      jobStatus: 'esriJobCancelling',
    });
    expect((await read(jobUrl)).jobStatus).toBe('esriJobCancelling');
    sim.advance(1000);
    const cancelled = await read(jobUrl);
    expect(cancelled.jobStatus).toBe('esriJobCancelled');
    expect(cancelled).not.toHaveProperty('results');
    expect((await read(`${jobUrl}/cancel`)).error.details).toEqual([
      'Invalid or missing input parameters.',
    ]);
    expect((await read(`${jobUrl}/results/Output_Features`)).error.code).toBe(400);
  });

  it('ends failed and timed-out jobs with error messages, and answers unknown and hostile job ids', async () => {
    const failed = sim.createGpJob({ outcome: 'esriJobFailed', durationMs: 1000 });
    const timedOut = sim.createGpJob({
      outcome: 'esriJobTimedOut',
      durationMs: 1000,
      task: 'Tools/Hotspots/Find Hot Spots',
    });
    expect(timedOut.taskUrl).toBe(`${sim.restUrl}/Tools/Hotspots/GPServer/Find%20Hot%20Spots`);
    sim.advance(1000);
    const f = await read(failed.jobUrl);
    expect(f.jobStatus).toBe('esriJobFailed');
    expect(f.messages).toContainEqual({
      type: 'esriJobMessageTypeError',
      description: 'ERROR 999999: Something unexpected caused the tool to fail.',
    });
    expect((await read(timedOut.jobUrl)).jobStatus).toBe('esriJobTimedOut');
    expect((await read(`${task()}/jobs/j0123456789abcdef0123456789abcdef`)).error.code).toBe(404);
    // A job is read under its own task only.
    expect(
      (await read(`${sim.restUrl}/Tools/Hotspots/GPServer/Find%20Hot%20Spots/jobs/${failed.jobId}`))
        .error.code,
    ).toBe(404);
    expect((await read(`${task()}/jobs/bad.id`)).error.code).toBe(400);
    const hostile = new URL(`${task()}/jobs/x`).pathname.replace(/x$/, '%2e%2e');
    expect((await raw(sim.url, { path: `${hostile}?f=json`, headers: auth() })).status).toBe(400);
    expect((await read(`${sim.restUrl}/Tools/Nope/GPServer/X`)).error.code).toBe(404);
  });
});

describe('portal item status', () => {
  it('reads partial, processing, then the outcome, keyed by item, job type and job id', async () => {
    const job = sim.createItemJob({
      outcome: 'failed',
      durationMs: 3000,
      partialMs: 500,
      jobType: 'export',
    });
    expect(job.statusUrl).toBe(
      `${sim.portalUrl}/sharing/rest/content/users/admin/items/${job.itemId}/status?jobType=export&jobId=${job.jobId}`,
    );
    const url = job.statusUrl.split('?')[0]!;
    const params = { jobType: 'export', jobId: job.jobId };
    expect(await read(url, params)).toEqual({
      status: 'partial',
      statusMessage: 'partial',
      itemId: job.itemId,
    });
    sim.advance(500);
    expect((await read(url, params)).status).toBe('processing');
    sim.advance(2500);
    expect(await read(url, params)).toEqual({
      status: 'failed',
      statusMessage: 'Failed to export the item: the layer exceeds the export limit.',
      itemId: job.itemId,
    });
    const ok = sim.createItemJob({ outcome: 'completed', durationMs: 100, itemId: job.itemId });
    sim.advance(100);
    expect((await read(url, { jobType: 'publish', jobId: ok.jobId })).status).toBe('completed');
    // The item's own status, with no job named.
    expect((await read(url)).status).toBe('completed');
  });

  it('answers unknown items, other keys and hostile ids with errors, never with a status', async () => {
    const job = sim.createItemJob({ outcome: 'completed', durationMs: 100 });
    const url = job.statusUrl.split('?')[0]!;
    const unknownItem = url.replace(job.itemId, '0'.repeat(32));
    expect(await read(unknownItem, { jobType: 'publish', jobId: job.jobId })).toEqual({
      error: {
        code: 400,
        messageCode: 'CONT_0001',
        message: 'Item does not exist or is inaccessible.',
        details: [],
      },
    });
    expect((await read(url, { jobType: 'export', jobId: job.jobId })).error.code).toBe(404);
    expect((await read(url, { jobType: 'nope', jobId: job.jobId })).error.code).toBe(400);
    expect((await read(url, { jobType: 'publish', jobId: 'a/../b' })).error.code).toBe(400);
    expect(
      (await read(url.replace(job.itemId, 'NOT-AN-ITEM'), { jobType: 'publish', jobId: job.jobId }))
        .error.messageCode,
    ).toBe('CONT_0001');
    expect((await read(url.replace('/users/admin/', '/users/nobody/'), {})).error.code).toBe(400);
  });
});

describe('every source shares tokens, headers, faults and counters', () => {
  const urls = () => {
    const server = sim.createServerJob({ outcome: 'COMPLETED', durationMs: 1000 });
    const gp = sim.createGpJob({ outcome: 'esriJobSucceeded', durationMs: 1000 });
    const item = sim.createItemJob({ outcome: 'completed', durationMs: 1000 });
    return { server: server.jobUrl, gp: gp.jobUrl, item: item.statusUrl, gpId: gp.jobId };
  };
  const get = (url: string, headers: Record<string, string> = {}) =>
    raw(`${url}${url.includes('?') ? '&' : '?'}f=json`, { headers }).then((r) => ({
      ...r,
      json: JSON.parse(r.text),
    }));

  it('answers 499 without a token and 498 with a bad one (HTTP 200), and reads both token headers', async () => {
    for (const url of Object.values(urls()).slice(0, 3)) {
      const none = await get(url);
      expect(none.status).toBe(200);
      expect(none.json.error).toMatchObject({ code: 499 });
      expect((await get(url, { authorization: 'Bearer nope' })).json.error).toMatchObject({
        code: 498,
      });
      expect((await get(url, { authorization: `Bearer ${token}` })).json).not.toHaveProperty(
        'error',
      );
      expect(
        (await get(url, { 'x-esri-authorization': `Bearer ${token}` })).json,
      ).not.toHaveProperty('error');
      expect(
        (await get(`${url}${url.includes('?') ? '&' : '?'}token=${token}`)).json,
      ).not.toHaveProperty('error');
    }
    const op = await raw(`${sim.serverAdminUrl}/services/SampleWorldCities.MapServer/stop`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'f=json&runAsync=true',
    });
    expect(JSON.parse(op.text)).toMatchObject({ status: 'error', code: 499 });
  });

  it('honours the token-header mode on every source', async () => {
    const u = urls();
    sim.setTokenHeader('authorization');
    try {
      for (const url of [u.server, u.gp, u.item]) {
        expect(
          (await get(url, { 'x-esri-authorization': `Bearer ${token}` })).json.error.code,
        ).toBe(499);
        expect((await get(url, { authorization: `Bearer ${token}` })).json).not.toHaveProperty(
          'error',
        );
      }
    } finally {
      sim.setTokenHeader('both');
    }
  });

  it('injects faults on every job route with paths: ["jobs"], and counts reads per job', async () => {
    const u = urls();
    const before = sim.stats();
    sim.setFaults({ rate: 1, kinds: ['http503'], paths: ['jobs'] });
    try {
      for (const url of [u.server, u.gp, u.item])
        expect(
          (await raw(`${url}${url.includes('?') ? '&' : '?'}f=json`, { headers: auth() })).status,
        ).toBe(503);
    } finally {
      sim.clearFaults();
    }
    const after = sim.stats();
    expect(after.byJob[u.gpId]).toBe(1);
    for (const route of ['serverJob', 'gpJob', 'itemStatus'] as const)
      expect(after.byRoute[route]).toBe(before.byRoute[route] + 1);
    expect(after.faults.http503).toBe((before.faults.http503 ?? 0) + 3);
  });

  it('creates jobs of each source through the control surface, and refuses bad specs', async () => {
    const server = await control(`${sim.url}/__sim/server/jobs`, 'POST', {
      outcome: 'COMPLETED_WITH_ERROR',
      durationMs: 10,
      steps: 2,
    });
    expect(server.json.jobUrl).toBe(`${sim.serverAdminUrl}/system/jobs/${server.json.jobid}`);
    const gp = await control(`${sim.url}/__sim/gp/jobs`, 'POST', {
      outcome: 'esriJobSucceeded',
      durationMs: 10,
      params: {
        Input_Features: JSON.parse('{"features":[{"geometry":{"x":1,"y":2}}]}'),
        Distance: { distance: 1, units: 'esriKilometers' },
      },
    });
    expect(gp.json.jobUrl).toBe(
      `${sim.restUrl}/Tools/Buffer/GPServer/BufferPoints/jobs/${gp.json.jobId}`,
    );
    const item = await control(`${sim.url}/__sim/items/jobs`, 'POST', {
      outcome: 'completed',
      durationMs: 10,
      jobType: 'createService',
    });
    expect(item.json).toMatchObject({ jobType: 'createService', username: 'admin' });
    for (const [path, spec] of [
      ['server', { outcome: 'DONE', durationMs: 1 }],
      ['server', { outcome: 'COMPLETED', durationMs: 1, steps: 0 }],
      ['gp', { outcome: 'esriJobSucceeded', durationMs: 1, task: 'Tools/Nope/X' }],
      ['gp', { outcome: 'esriJobSucceeded', durationMs: 1, params: { Input_Features: 'x' } }],
      ['items', { outcome: 'completed', durationMs: 1, itemId: '../x' }],
      ['items', { outcome: 'completed', durationMs: 10, partialMs: 10 }],
    ] as const) {
      const r = await control(`${sim.url}/__sim/${path}/jobs`, 'POST', spec);
      expect(r.status, JSON.stringify(spec)).toBe(400);
      expect(r.json.error.code).toBe('INVALID_SPEC');
    }
    expect((await control(`${sim.url}/__sim/gp/jobs/${gp.json.jobId}`, 'DELETE')).json.purged).toBe(
      true,
    );
    expect((await read(gp.json.jobUrl)).error.code).toBe(404);
    expect((await control(`${sim.url}/__sim/items/jobs/bad.id`, 'DELETE')).status).toBe(400);
  });
});

describe('sister-source quirks and determinism', () => {
  it('shows each source quirk on the jobs that ask for it', async () => {
    const server = sim.createServerJob({
      outcome: 'COMPLETED_WITH_ERROR',
      durationMs: 100,
      quirks: ['stepInfoOverflow'],
    });
    const gpFailed = sim.createGpJob({
      outcome: 'esriJobFailed',
      durationMs: 100,
      quirks: ['expectedFailure'],
    });
    const gpQuiet = sim.createGpJob({
      outcome: 'esriJobSucceeded',
      durationMs: 10_000,
      quirks: ['noProgress'],
    });
    const item = sim.createItemJob({
      outcome: 'failed',
      durationMs: 100,
      quirks: ['statusMessageJson'],
    });
    sim.advance(2000);
    const s = await read(server.jobUrl);
    expect(s.stepInfo).toHaveLength(s.totalsteps + 1);
    expect((await read(gpFailed.jobUrl)).jobStatus).toBe('expectedFailure');
    const quiet = await read(gpQuiet.jobUrl);
    expect(quiet.jobStatus).toBe('esriJobExecuting');
    expect(quiet).not.toHaveProperty('progress');
    const status = await read(item.statusUrl.split('?')[0]!, {
      jobType: 'publish',
      jobId: item.jobId,
    });
    expect(JSON.parse(status.statusMessage)).toEqual({
      code: 500,
      message: expect.stringMatching(/^Failed to publish/),
    });
  });

  it('gives the same ids for the same seed, without moving the admin jobs\u2019 ids', async () => {
    const make = async () => {
      const s = await startSimulator({ clock: 'manual', seed: 99, startTime: T0 });
      const ids = [
        s.createServerJob({ outcome: 'COMPLETED', durationMs: 1 }).jobid,
        s.createGpJob({ outcome: 'esriJobSucceeded', durationMs: 1 }).jobId,
        s.createItemJob({ outcome: 'completed', durationMs: 1 }).jobId,
        s.createJob({ outcome: 'COMPLETED', durationMs: 1 }),
      ];
      await s.close();
      return ids;
    };
    const plain = await startSimulator({ clock: 'manual', seed: 99, startTime: T0 });
    const admin = plain.createJob({ outcome: 'COMPLETED', durationMs: 1 });
    await plain.close();
    const a = await make();
    expect(await make()).toEqual(a);
    expect(a[3]).toBe(admin);
  });
});
