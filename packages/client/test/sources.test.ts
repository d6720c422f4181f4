/**
 * Jobs of every source through the client, against the documentation's example bodies: the
 * right URL, the token in a header (and the other header after a 499), exact readers, the
 * item job's `failed` outcome as a value, GP submit and cancel, runAsync operations, and no
 * request at all for a hostile URL or a foreign origin.
 */
import { readFileSync } from 'node:fs';
import { sourceStatus } from '@jobwatch/schema';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  createAdminClient,
  JobNotFoundError,
  TransportError,
  ValidationError,
} from '../src/index.js';
import { fakeFetch, json, ROOT } from './fake.js';

const example = (name: string): Record<string, unknown> =>
  JSON.parse(
    readFileSync(
      new URL(`../../schema/test/fixtures/sources/${name}.json`, import.meta.url),
      'utf8',
    ),
  );

const SERVER_JOB = `${ROOT}/system/jobs/jcbdbf7aa-385e-417a-b629-29a310895b9b`;
const TASK =
  'https://gis.example.com/arcgis/rest/services/PublicSafety/EMModels/GPServer/ERGByChemical';
const GP_JOB = `${TASK}/jobs/jf082fc6d926043fda44169444963fe46`;
const ITEM_JOB =
  'https://gis.example.com/portal/sharing/rest/content/users/jsmith/items/49bf5db6340e4bccaceca5af3b2bec4b/status?jobType=publish&jobId=ff07c87a-dccd-46b4-9597-446dcda248ff';

function client(handler: Parameters<typeof fakeFetch>[0], extra = {}) {
  const { fetch, seen } = fakeFetch(handler);
  const c = createAdminClient({
    url: ROOT,
    auth: { type: 'token', token: 'TOKEN-A' },
    fetch,
    retry: { attempts: 3, baseDelay: 0, sleep: async () => undefined },
    ...extra,
  });
  return { client: c, seen };
}

describe('reading a job of every source', () => {
  it('server: GETs <admin>/system/jobs/<id> with the token in a header and reads operationResponse', async () => {
    const { client: c, seen } = client(() => json(example('server-job-completed-error')));
    const read = await c.readJobRef(SERVER_JOB);
    expect(seen[0]?.url).toBe(`${SERVER_JOB}?f=json`);
    expect(seen[0]?.headers['x-esri-authorization']).toBe('Bearer TOKEN-A');
    expect(read.ref).toMatchObject({ source: 'server', adminUrl: ROOT });
    expect(sourceStatus('server', read.job)).toBe('FAILED');
    expect(read.warnings).toEqual([]);
  });

  it('gp: reads jobId/jobStatus as the job, and refuses a body about another job', async () => {
    const { client: c } = client(() => json(example('gp-job-succeeded')));
    const read = await c.readJobRef(GP_JOB);
    expect(read.job).toMatchObject({
      jobid: 'jf082fc6d926043fda44169444963fe46',
      status: 'esriJobSucceeded',
    });
    const other = client(() => json({ ...example('gp-job-succeeded'), jobId: 'jsomeoneelse' }));
    await expect(other.client.readJobRef(GP_JOB)).rejects.toBeInstanceOf(ValidationError);
  });

  it('item: sends jobType and jobId, and takes status "failed" as the job outcome, not an error', async () => {
    const { client: c, seen } = client(() => json(example('item-status-failed')), {
      origins: ['https://gis.example.com/portal'],
    });
    const read = await c.readJobRef(ITEM_JOB);
    const asked = new URL(seen[0]?.url ?? '');
    expect(asked.pathname).toBe(
      '/portal/sharing/rest/content/users/jsmith/items/49bf5db6340e4bccaceca5af3b2bec4b/status',
    );
    expect(Object.fromEntries(asked.searchParams)).toEqual({
      f: 'json',
      jobType: 'publish',
      jobId: 'ff07c87a-dccd-46b4-9597-446dcda248ff',
    });
    expect(sourceStatus('item', read.job)).toBe('FAILED');
  });

  it('item: an error answer shaped status "failed" without an item is an error, not an outcome', async () => {
    const { client: c } = client(() =>
      json({ status: 'failed', statusMessage: '{"code":400,"message":"Item does not exist."}' }),
    );
    await expect(c.readJobRef(ITEM_JOB)).rejects.toThrow(/Item does not exist/);
  });

  it('tries the other token header once on a 499, as for admin jobs', async () => {
    const { client: c, seen } = client((req) =>
      req.headers.authorization
        ? json(example('gp-job-succeeded'))
        : json({ error: { code: 499, message: 'Token Required' } }),
    );
    await c.readJobRef(GP_JOB);
    expect(
      seen.map((r) => Object.keys(r.headers).filter((h) => h.includes('authorization'))),
    ).toEqual([['x-esri-authorization'], ['authorization']]);
    expect(c.tokenHeader).toBe('authorization');
  });

  it('retries a transient failure of a read, and maps a 404 error body to JobNotFoundError', async () => {
    const flaky = client((_req, n) =>
      n === 1 ? new Response('bad gateway', { status: 502 }) : json(example('gp-job-succeeded')),
    );
    await expect(flaky.client.readJobRef(GP_JOB)).resolves.toBeDefined();
    expect(flaky.seen).toHaveLength(2);
    const gone = client(() => json({ error: { code: 404, message: 'Job not found' } }));
    await expect(gone.client.readJobRef(SERVER_JOB)).rejects.toBeInstanceOf(JobNotFoundError);
    const down = client(() => new Response('', { status: 503 }), { retry: false });
    await expect(down.client.readJobRef(GP_JOB)).rejects.toBeInstanceOf(TransportError);
  });
});

describe('no request for a hostile URL or a foreign origin', () => {
  const hostile = [
    'https://gis.example.com/arcgis/admin/jobs/../services/x/jobs/j1',
    'https://gis.example.com/arcgis/admin/system/jobs/j1%2F..%2Fx',
    'https://gis.example.com/arcgis/rest/services/B/GPServer/T/jobs/j1?token=SECRET',
    'https://gis.example.com/portal/sharing/rest/content/users/../items/abc/status?jobType=publish&jobId=j1',
  ];
  it.each(hostile)('refuses %s with a ConfigError and sends nothing', async (url) => {
    const { client: c, seen } = client(() => json({}));
    const error = await c.readJobRef(url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain('SECRET');
    expect(seen).toHaveLength(0);
  });

  it('never sends its token to an origin it was not configured for', async () => {
    const { client: c, seen } = client(() => json(example('gp-job-succeeded')));
    const elsewhere = GP_JOB.replace('gis.example.com', 'evil.example.net');
    await expect(c.readJobRef(elsewhere)).rejects.toBeInstanceOf(ConfigError);
    await expect(
      c.submitGpJob(TASK.replace('gis.example.com', 'evil.example.net')),
    ).rejects.toBeInstanceOf(ConfigError);
    expect(seen).toHaveLength(0);
    expect(c.allowsOrigin(elsewhere)).toBe(false);
    expect(c.allowsOrigin(GP_JOB)).toBe(true);
  });

  it('refuses an origin list entry that is not an http(s) URL, or plain http for a token', () => {
    expect(() => createAdminClient({ url: ROOT, origins: ['ftp://x'] })).toThrow(ConfigError);
    expect(() =>
      createAdminClient({
        url: ROOT,
        auth: { type: 'token', token: 't' },
        origins: ['http://portal.example.com'],
      }),
    ).toThrow(/plain http/);
  });
});

describe('starting and cancelling jobs', () => {
  it('submits a GP job with its parameters as form fields (lists and objects as JSON)', async () => {
    const { client: c, seen } = client(() => json(example('gp-submit')));
    const submitted = await c.submitGpJob(`${TASK}/submitJob`, {
      Material_Type: 'Chlorine',
      Large_or_Small_spill: 'Large',
      Wind_Bearing: 90,
      Day: true,
      Incident_Point: { features: [{ geometry: { x: 1, y: 2 } }] },
      Layers: ['a', 'b'],
    });
    expect(seen[0]).toMatchObject({ method: 'POST', url: `${TASK}/submitJob?f=json` });
    expect(seen[0]?.params).toMatchObject({
      Material_Type: 'Chlorine',
      Wind_Bearing: '90',
      Day: 'true',
      Incident_Point: '{"features":[{"geometry":{"x":1,"y":2}}]}',
      Layers: '["a","b"]',
      token: 'TOKEN-A',
      f: 'json',
    });
    expect(submitted.ref).toEqual({
      source: 'gp',
      taskUrl: TASK,
      jobid: 'jf082fc6d926043fda44169444963fe46',
    });
    expect(submitted.job.status).toBe('esriJobSubmitted');
  });

  it('never sends submitJob twice once it may have reached the server', async () => {
    const { client: c, seen } = client(() => new Response('', { status: 502 }));
    await expect(c.submitGpJob(TASK, { a: 1 })).rejects.toBeInstanceOf(TransportError);
    expect(seen).toHaveLength(1);
  });

  it('refuses a reserved or unsafe parameter name, and a task URL that is not one', async () => {
    const { client: c, seen } = client(() => json(example('gp-submit')));
    await expect(c.submitGpJob(TASK, { token: 'x' })).rejects.toBeInstanceOf(ConfigError);
    await expect(c.submitGpJob(TASK, { 'a&b': 'x' })).rejects.toBeInstanceOf(ConfigError);
    await expect(c.submitGpJob(`${ROOT}/services`, {})).rejects.toBeInstanceOf(ConfigError);
    expect(seen).toHaveLength(0);
  });

  it('cancels a GP job at <job>/cancel, and refuses to "cancel" a job of another source', async () => {
    const { client: c, seen } = client(() =>
      json({ jobId: 'jf082fc6d926043fda44169444963fe46', jobStatus: 'esriJobCancelling' }),
    );
    const read = await c.cancelGpJob(GP_JOB);
    expect(seen[0]).toMatchObject({ method: 'POST', url: `${GP_JOB}/cancel?f=json` });
    expect(sourceStatus('gp', read.job)).toBe('CANCELLING');
    await expect(c.cancelGpJob(SERVER_JOB)).rejects.toThrow(
      /Only geoprocessing jobs can be cancelled/,
    );
    expect(seen).toHaveLength(1);
  });

  it('starts an ArcGIS Server admin operation with runAsync=true and returns its job', async () => {
    const { client: c, seen } = client(() => json(example('server-run-async')));
    const ref = await c.startServerJob('services/Roads.MapServer/edit', {
      service: { serviceName: 'Roads' },
    });
    expect(seen[0]?.params).toMatchObject({ runAsync: 'true', service: '{"serviceName":"Roads"}' });
    expect(ref).toEqual({
      source: 'server',
      adminUrl: ROOT,
      jobid: 'j97dec204-32b7-4a3f-bbb7-7565e0f8259f',
    });
    const sync = client(() => json({ status: 'success' }));
    await expect(sync.client.startServerJob('services/createService', {})).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(sync.client.startServerJob('../x', {})).rejects.toBeInstanceOf(ConfigError);
  });
});
