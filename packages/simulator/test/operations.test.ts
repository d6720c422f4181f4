import { parseJob, resultObject } from '@jobwatch/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../src/index.js';
import { getJson, postForm, raw } from './helpers.js';

let sim: Simulator;
let token: string;
let root: string;

beforeAll(async () => {
  sim = await startSimulator({
    clock: 'manual',
    seed: 21,
    operationDurationMs: { min: 2000, max: 4000 },
  });
  token = sim.issueToken();
  root = `${sim.adminUrl}/services`;
});
afterAll(() => sim.close());

const job = async (id: string) => parseJob(await getJson(`${sim.adminUrl}/jobs/${id}`, { token }));
const service = (path: string) => getJson(`${root}/${path}`, { token });

describe('service operations', () => {
  it('an async edit changes the catalogue only when its job completes', async () => {
    const before = await service('Hosted/Parcels.FeatureServer');
    const edited = {
      ...before,
      description: 'Parcels, edited',
      maxInstancesPerNode: 4,
      properties: { ...before.properties, maxRecordCount: '5000' },
    };
    const handle = await postForm(`${root}/Hosted/Parcels.FeatureServer/edit`, {
      service: JSON.stringify(edited),
      async: 'true',
      token,
    });
    expect((await service('Hosted/Parcels.FeatureServer')).description).toBe(before.description);
    sim.advance(4000);
    const done = await job(handle.jobID);
    expect(done.status).toBe('COMPLETED');
    expect(done.operationURI).toBe('/arcgis/admin/services/Hosted/Parcels.FeatureServer/edit');
    const after = await service('Hosted/Parcels.FeatureServer');
    expect(after.description).toBe('Parcels, edited');
    expect(after.maxInstancesPerNode).toBe(4);
    expect(after.properties.maxRecordCount).toBe('5000');
    expect(after.id).toBe(before.id);
    expect(resultObject(done)?.service).toEqual(after);
  });

  it('a synchronous edit changes the catalogue at once', async () => {
    const before = await service('SampleWorldCities.MapServer');
    expect(
      await postForm(`${root}/SampleWorldCities.MapServer/edit`, {
        service: JSON.stringify({ ...before, capabilities: 'Map' }),
        token,
      }),
    ).toEqual({ status: 'success' });
    expect((await service('SampleWorldCities.MapServer')).capabilities).toBe('Map');
  });

  it.each([
    ['no service parameter', undefined, "'service' must be specified."],
    ['service JSON that does not parse', '{"serviceName": ', "'service' is not valid JSON."],
    [
      'a renamed service',
      JSON.stringify({ serviceName: 'Other', type: 'MapServer' }),
      'The service name and type cannot be changed by an edit (expected SampleWorldCities.MapServer).',
    ],
  ])(
    'refuses an edit with %s (format B, nothing changes, no job)',
    async (_name, json, message) => {
      const jobsBefore = (await getJson(`${sim.adminUrl}/jobs`, { token })).jobs.length;
      const before = await service('SampleWorldCities.MapServer');
      const body = await postForm(`${root}/SampleWorldCities.MapServer/edit`, {
        ...(json === undefined ? {} : { service: json }),
        async: 'true',
        token,
      });
      expect(body).toEqual({ status: 'error', messages: [message], code: 400 });
      expect(await service('SampleWorldCities.MapServer')).toEqual(before);
      expect((await getJson(`${sim.adminUrl}/jobs`, { token })).jobs.length).toBe(jobsBefore);
    },
  );

  it('refuses an edit whose JSON is not a service, naming the problem', async () => {
    const body = await postForm(`${root}/SampleWorldCities.MapServer/edit`, {
      service: JSON.stringify({ serviceName: 'SampleWorldCities' }),
      token,
    });
    expect(body.status).toBe('error');
    expect(body.messages[0]).toMatch(/^'service' is not a valid service: .*type/);
  });

  it('stop and start change configuredState, async via a job and sync at once', async () => {
    expect((await service('Utilities/PrintingTools.GPServer')).configuredState).toBe('STARTED');
    const handle = await postForm(`${root}/Utilities/PrintingTools.GPServer/stop`, {
      async: 'true',
      token,
    });
    expect((await job(handle.jobID)).status).toBe('SUBMITTED');
    sim.advance(4000);
    const done = await job(handle.jobID);
    expect(done.status).toBe('COMPLETED');
    expect(done.result).toEqual({ status: 'success' });
    expect((await service('Utilities/PrintingTools.GPServer')).configuredState).toBe('STOPPED');
    expect(await postForm(`${root}/Utilities/PrintingTools.GPServer/start`, { token })).toEqual({
      status: 'success',
    });
    expect((await service('Utilities/PrintingTools.GPServer')).configuredState).toBe('STARTED');
  });

  it('deleteServices removes services (async), and a later-ending edit of a deleted service fails', async () => {
    const fixed = await startSimulator({
      clock: 'manual',
      seed: 21,
      operationDurationMs: { min: 3000, max: 3000 },
    });
    try {
      const t = fixed.issueToken();
      const base = `${fixed.adminUrl}/services`;
      const del = await postForm(`${base}/deleteServices`, {
        services: JSON.stringify({
          services: [{ folderName: 'Imagery', serviceName: 'Elevation', type: 'ImageServer' }],
        }),
        async: 'true',
        token: t,
      });
      fixed.advance(1000);
      const edit = await postForm(`${base}/Imagery/Elevation.ImageServer/edit`, {
        service: JSON.stringify(fixed.service('Imagery/Elevation.ImageServer')),
        async: 'true',
        token: t,
      });
      fixed.advance(2000);
      expect(fixed.job(del.jobID)?.status).toBe('COMPLETED');
      expect(
        (await getJson(`${base}/Imagery/Elevation.ImageServer`, { token: t })).error.code,
      ).toBe(404);
      expect((await getJson(`${base}/Imagery`, { token: t })).services).toEqual([]);
      expect(fixed.job(edit.jobID)?.status).toBe('EXECUTING');
      fixed.advance(1000);
      const failed = parseJob(await getJson(`${fixed.adminUrl}/jobs/${edit.jobID}`, { token: t }));
      expect(failed.status).toBe('FAILED');
      expect(failed.messages?.[0]).toBe("Service 'Imagery/Elevation.ImageServer' does not exist.");
    } finally {
      await fixed.close();
    }
  });

  it('deleteServices runs synchronously and accepts a bare array', async () => {
    expect(
      await postForm(`${root}/deleteServices`, {
        services: JSON.stringify([
          { folderName: 'Locators', serviceName: 'WorldGeocoder', type: 'GeocodeServer' },
        ]),
        token,
      }),
    ).toEqual({ status: 'success' });
    expect((await service('Locators/WorldGeocoder.GeocodeServer')).error.code).toBe(404);
  });

  it.each([
    ['no services', {}, 400],
    ['services that do not parse', { services: '[{' }, 400],
    ['an empty list', { services: '[]' }, 400],
    ['an entry without a type', { services: '[{"serviceName":"X"}]' }, 400],
    [
      'a service that does not exist',
      { services: '[{"serviceName":"Nope","type":"MapServer"}]' },
      404,
    ],
  ])('refuses deleteServices with %s', async (_name, params, code) => {
    const body = await postForm(`${root}/deleteServices`, { ...params, token });
    expect(body.status).toBe('error');
    expect(body.code).toBe(code);
  });

  it('answers 404 for an operation or a resource on an unknown service or folder', async () => {
    expect(await postForm(`${root}/Missing.MapServer/stop`, { token })).toEqual({
      status: 'error',
      messages: ["Service 'Missing.MapServer' does not exist."],
      code: 404,
    });
    expect(await service('Missing.MapServer')).toEqual({
      error: { code: 404, message: "Service 'Missing.MapServer' does not exist.", details: [] },
    });
    expect((await service('NoFolder')).error.code).toBe(404);
  });

  it('refuses operations over GET, as POST-only operations', async () => {
    expect(await getJson(`${root}/SampleWorldCities.MapServer/stop`, { token })).toEqual({
      status: 'error',
      messages: ['This operation is only supported via POST.'],
      code: 405,
    });
    expect(
      (
        await getJson(`${sim.adminUrl}/system/disasterrecovery/stores/default/backups/create`, {
          token,
        })
      ).code,
    ).toBe(405);
  });

  it('backups: stores listed, an unknown store refused, a job for a known one', async () => {
    expect(await getJson(`${sim.adminUrl}/system/disasterrecovery/stores`, { token })).toEqual({
      stores: [{ name: 'default', type: 'FILESYSTEM' }],
    });
    expect(
      await postForm(`${sim.adminUrl}/system/disasterrecovery/stores/elsewhere/backups/create`, {
        token,
      }),
    ).toEqual({
      status: 'error',
      messages: ["Disaster recovery store 'elsewhere' does not exist."],
      code: 404,
    });
    const handle = await postForm(
      `${sim.adminUrl}/system/disasterrecovery/stores/default/backups/create`,
      { token },
    );
    expect((await job(handle.jobid)).operationURI).toBe(
      '/arcgis/admin/system/disasterrecovery/stores/default/backups/create',
    );
  });

  it('a failed backup stops its stages at the failed one', async () => {
    const id = sim.createJob({
      outcome: 'FAILED',
      durationMs: 10_000,
      operation: '/arcgis/admin/system/disasterrecovery/stores/default/backups/create',
    });
    sim.advance(10_000);
    const body = await job(id);
    const stages = resultObject(body)?.stages ?? [];
    expect(stages.map((s) => s.state)).toEqual(['completed', 'completed', 'failed']);
    // Its message names the backup once, as a person would write it.
    expect(body.messages?.[0]).toBe('The backup failed.');
  });

  it('builds jobsUrl from the Host the client used', async () => {
    const r = await raw(`${root}/SampleWorldCities.MapServer/stop`, {
      method: 'POST',
      body: new URLSearchParams({ f: 'json', async: 'true', token }).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        host: `localhost:${sim.port}`,
      },
    });
    expect(JSON.parse(r.text).jobsUrl).toMatch(
      new RegExp(`^http://localhost:${sim.port}/arcgis/admin/jobs/j`),
    );
    const evil = await raw(`${root}/SampleWorldCities.MapServer/stop`, {
      method: 'POST',
      body: new URLSearchParams({ f: 'json', async: 'true', token }).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        host: 'evil.example/"><script>',
      },
    });
    expect(JSON.parse(evil.text).jobsUrl.startsWith(`${sim.adminUrl}/jobs/`)).toBe(true);
  });
});
