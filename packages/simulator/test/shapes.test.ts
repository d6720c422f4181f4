import {
  jobIdFromHandle,
  parseAdminErrorBody,
  parseAdminSuccess,
  parseJob,
  parseJobHandle,
  parseJobList,
  parseRestErrorBody,
  parseService,
  parseServiceList,
  parseSiteInfo,
  parseTokenResponse,
  readErrorBody,
  resultObject,
} from '@jobwatch/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/index.js';
import { fixture, getJson, postForm, shapeDiff } from './helpers.js';

let sim: Simulator;
let token: string;

beforeAll(async () => {
  sim = await startSimulator({
    clock: 'manual',
    seed: 11,
    operationDurationMs: { min: 5000, max: 5000 },
  });
  token = sim.issueToken();
});
afterAll(() => sim.close());

describe('every body has the documented shape, key by key', () => {
  it('generateToken matches token.json and validates', async () => {
    const body = await postForm(sim.tokenUrl, {
      username: 'admin',
      password: 'admin',
      client: 'referer',
      referer: 'http://localhost',
      expiration: '60',
    });
    expect(shapeDiff(body, fixture('token'))).toEqual([]);
    expect(parseTokenResponse(body).token).toBe(body.token);
    expect(body.ssl).toBe(false);
    expect(body.expires).toBe(sim.now() + 60 * 60_000);
  });

  it('a running job matches job-executing.json and validates', async () => {
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 10_000 });
    sim.advance(2000);
    const body = await getJson(`${sim.adminUrl}/jobs/${id}`, { token });
    expect(body.status).toBe('EXECUTING');
    expect(shapeDiff(body, fixture('job-executing'))).toEqual([]);
    expect(parseJob(body).jobid).toBe(id);
  });

  it('a completed async edit matches job-completed-edit.json down to result.service', async () => {
    const service = sim.service('SampleWorldCities.MapServer')!;
    const handle = await postForm(`${sim.adminUrl}/services/SampleWorldCities.MapServer/edit`, {
      async: 'true',
      token,
      service: JSON.stringify({
        ...service,
        description: 'Updating description using the edit operation, run asynchronously',
      }),
    });
    sim.advance(5000);
    const body = await getJson(`${sim.adminUrl}/jobs/${jobIdFromHandle(parseJobHandle(handle))}`, {
      token,
    });
    expect(body.status).toBe('COMPLETED');
    expect(shapeDiff(body, fixture('job-completed-edit'))).toEqual([]);
    expect(resultObject(parseJob(body))?.service?.description).toBe(
      'Updating description using the edit operation, run asynchronously',
    );
    expect(parseService(body.result.service).serviceName).toBe('SampleWorldCities');
  });

  it('the jobs list matches jobs-list.json', async () => {
    const body = await getJson(`${sim.adminUrl}/jobs`, { token });
    expect(shapeDiff(body, fixture('jobs-list'))).toEqual([]);
    expect(parseJobList(body).jobs.length).toBeGreaterThan(0);
  });

  it('an async stop answers handle-stop-async.json (jobID and jobStatus)', async () => {
    const body = await postForm(`${sim.adminUrl}/services/Hosted/Parcels.FeatureServer/stop`, {
      async: 'true',
      token,
    });
    expect(shapeDiff(body, fixture('handle-stop-async'))).toEqual([]);
    expect(body.jobStatus).toBe('SUBMITTED');
    expect(body.jobsUrl).toBe(`${sim.adminUrl}/jobs/${body.jobID}`);
    expect(jobIdFromHandle(parseJobHandle(body))).toBe(body.jobID);
  });

  it('backup create answers handle-backup-create.json (lower-case jobid)', async () => {
    const body = await postForm(
      `${sim.adminUrl}/system/disasterrecovery/stores/default/backups/create`,
      { token },
    );
    expect(shapeDiff(body, fixture('handle-backup-create'))).toEqual([]);
    expect(body.jobsUrl).toBe(`${sim.adminUrl}/jobs/${body.jobid}`);
    expect(jobIdFromHandle(parseJobHandle(body))).toBe(body.jobid);
  });

  it('a synchronous operation answers admin-success.json exactly', async () => {
    const body = await postForm(
      `${sim.adminUrl}/services/Utilities/Geometry.GeometryServer/start`,
      { token },
    );
    expect(body).toEqual(fixture('admin-success'));
    expect(parseAdminSuccess(body).status).toBe('success');
  });

  it('errors match the three documented error bodies exactly', async () => {
    const required = await getJson(`${sim.adminUrl}/jobs`);
    expect(required).toEqual(fixture('error-token-required'));
    const invalid = await getJson(`${sim.adminUrl}/jobs`, { token: 'not-a-token' });
    expect(invalid).toEqual(fixture('error-invalid-token'));
    const opWithout = await postForm(`${sim.adminUrl}/services/SampleWorldCities.MapServer/stop`);
    expect(opWithout).toEqual(fixture('admin-error-token-not-found'));
    expect(parseRestErrorBody(required).error.code).toBe(499);
    expect(parseAdminErrorBody(opWithout).code).toBe(499);
    expect(readErrorBody(invalid)?.code).toBe(498);
  });

  it('site info, services list and a service validate', async () => {
    expect(parseSiteInfo(await getJson(sim.adminUrl, { token })).currentVersion).toBeDefined();
    const list = parseServiceList(await getJson(`${sim.adminUrl}/services`, { token }));
    expect(list.folders).toContain('Hosted');
    const hosted = parseServiceList(await getJson(`${sim.adminUrl}/services/Hosted`, { token }));
    expect(hosted.services.map((s) => s.type).sort()).toEqual([
      'FeatureServer',
      'VectorTileServer',
    ]);
    for (const s of [...list.services, ...hosted.services]) {
      const path = `${s.folderName && s.folderName !== '/' ? `${s.folderName}/` : ''}${s.serviceName}.${s.type}`;
      expect(
        parseService(await getJson(`${sim.adminUrl}/services/${path}`, { token })).serviceName,
      ).toBe(s.serviceName);
    }
  });

  it('every catalogue MapServer has the example service fields exactly', async () => {
    const body = await getJson(`${sim.adminUrl}/services/FireWeatherWatch.MapServer`, { token });
    expect(shapeDiff(body, fixture('job-completed-edit').result.service)).toEqual([]);
  });

  it('a failed job carries messages and a result, and validates', async () => {
    const id = sim.createJob({ outcome: 'FAILED', durationMs: 100 });
    sim.advance(100);
    const job = parseJob(await getJson(`${sim.adminUrl}/jobs/${id}`, { token }));
    expect(job.status).toBe('FAILED');
    expect(job.messages?.length).toBeGreaterThan(0);
    expect(job.result).toBeDefined();
    expect(readErrorBody(job)).toBeUndefined();
  });

  it('a completed backup carries result.stages like the reference', async () => {
    const handle = await postForm(
      `${sim.adminUrl}/system/disasterrecovery/stores/default/backups/create`,
      { token },
    );
    sim.advance(5000);
    const job = parseJob(await getJson(`${sim.adminUrl}/jobs/${handle.jobid}`, { token }));
    expect(job.status).toBe('COMPLETED');
    const stages = resultObject(job)?.stages ?? [];
    expect(stages.length).toBe(5);
    expect(
      shapeDiff(stages[0], {
        name: 'Validation',
        state: 'completed',
        duration: '3096 millis (~ 0 minutes)',
        lastUpdated: 1635285646933,
      }),
    ).toEqual([]);
    expect(
      stages.every(
        (s) => s.state === 'completed' && /^\d+ millis \(~ \d+ minutes\)$/.test(String(s.duration)),
      ),
    ).toBe(true);
    expect(stages.at(-1)?.lastUpdated).toBe(job.endtime);
  });
});

describe('the sister sources answer in the documented shapes, key by key', () => {
  const auth = () => ({ authorization: `Bearer ${token}` });

  it('ArcGIS Server admin: the jobs list, the runAsync handle, and the COMPLETED job whose operation failed', async () => {
    expect(
      shapeDiff(
        await getJson(`${sim.serverAdminUrl}/system/jobs`, {}, auth()),
        fixture('server-jobs-list'),
      ),
    ).toEqual([]);
    const handle = await postForm(
      `${sim.serverAdminUrl}/services/SampleWorldCities.MapServer/stop`,
      { runAsync: 'true' },
      auth(),
    );
    expect(shapeDiff(handle, fixture('server-async-handle'))).toEqual([]);
    expect(
      shapeDiff(
        await getJson(`${sim.serverAdminUrl}/system/jobs`, {}, auth()),
        fixture('server-jobs-list'),
      ),
    ).toEqual([]);
    const { jobUrl } = sim.createServerJob({ outcome: 'COMPLETED_WITH_ERROR', durationMs: 100 });
    sim.advance(100);
    expect(
      shapeDiff(await getJson(jobUrl, {}, auth()), fixture('server-job-completed-error')),
    ).toEqual([]);
  });

  it('geoprocessing: submitJob, an executing and a succeeded job, cancel', async () => {
    const task = `${sim.restUrl}/Tools/Buffer/GPServer/BufferPoints`;
    const points = '{"features":[{"geometry":{"x":1,"y":2}}],"spatialReference":{"wkid":4326}}';
    const submitted = await postForm(
      `${task}/submitJob`,
      { Input_Features: points, Distance: '{"distance":1,"units":"esriMiles"}' },
      auth(),
    );
    expect(shapeDiff(submitted, fixture('gp-submit'))).toEqual([]);
    sim.advance(2000);
    const url = `${task}/jobs/${submitted.jobId}`;
    expect(shapeDiff(await getJson(url, {}, auth()), fixture('gp-job-executing'))).toEqual([]);
    sim.advance(5000);
    expect(shapeDiff(await getJson(url, {}, auth()), fixture('gp-job-succeeded'))).toEqual([]);
    const running = sim.createGpJob({ outcome: 'esriJobSucceeded', durationMs: 10_000 });
    sim.advance(2000);
    expect(
      shapeDiff(await postForm(`${running.jobUrl}/cancel`, {}, auth()), fixture('gp-cancel')),
    ).toEqual([]);
  });

  it('portal: item status', async () => {
    const job = sim.createItemJob({ outcome: 'completed', durationMs: 1000 });
    expect(
      shapeDiff(
        await getJson(
          job.statusUrl.split('?')[0]!,
          { jobType: 'publish', jobId: job.jobId },
          auth(),
        ),
        fixture('item-status'),
      ),
    ).toEqual([]);
  });
});
