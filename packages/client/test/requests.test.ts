import { describe, expect, it } from 'vitest';
import {
  ArcGISError,
  AuthError,
  ConfigError,
  createAdminClient,
  JobNotFoundError,
  RateLimitedError,
  TransportError,
  ValidationError,
  type WarningsEvent,
} from '../src/index.js';
import { fakeFetch, JOB_ID, jobBody, json, ROOT } from './fake.js';

const TOKEN = 'tok-abcdefghijklmnop';

function client(handler: Parameters<typeof fakeFetch>[0], extra: object = {}) {
  const fake = fakeFetch(handler);
  const c = createAdminClient({
    url: ROOT,
    auth: { type: 'token', token: TOKEN },
    fetch: fake.fetch,
    retry: false,
    ...extra,
  });
  return { c, seen: fake.seen };
}

describe('reads', () => {
  it('GETs a job with f=json and the token in X-Esri-Authorization, never in the URL', async () => {
    const { c, seen } = client(() => json(jobBody()));
    const job = await c.getJob(JOB_ID);
    expect(job.status).toBe('EXECUTING');
    expect(seen).toHaveLength(1);
    const [req] = seen;
    expect(req?.method).toBe('GET');
    expect(req?.url).toBe(`${ROOT}/jobs/${JOB_ID}?f=json`);
    expect(req?.headers['x-esri-authorization']).toBe(`Bearer ${TOKEN}`);
    expect(req?.headers.authorization).toBeUndefined();
    expect(req?.url).not.toContain(TOKEN);
  });

  it('sends the token as Authorization: Bearer when asked', async () => {
    const { c, seen } = client(() => json(jobBody()), { tokenHeader: 'authorization' });
    await c.getJob(JOB_ID);
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(seen[0]?.headers['x-esri-authorization']).toBeUndefined();
  });

  it('never puts a token in a URL: the query transport is refused, naming why', () => {
    expect(() => client(() => json(jobBody()), { tokenTransport: 'query' })).toThrow(
      /never travels in a URL/,
    );
    expect(() => client(() => json(jobBody()), { tokenHeader: 'query' })).toThrow(ConfigError);
  });

  it('still reads the deprecated tokenTransport header names', async () => {
    const { c, seen } = client(() => json(jobBody()), { tokenTransport: 'authorization' });
    await c.getJob(JOB_ID);
    expect(seen[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(c.tokenHeader).toBe('authorization');
  });

  it('sends each new token from a provider in the header of the next GET', async () => {
    let n = 0;
    const fake = fakeFetch(() => json(jobBody()));
    const c = createAdminClient({
      url: ROOT,
      auth: { type: 'provider', getToken: () => `tok-provider-${++n}-abcdefgh` },
      fetch: fake.fetch,
    });
    await c.getJob(JOB_ID);
    await c.getJob(JOB_ID);
    await c.getJob(JOB_ID);
    expect(fake.seen.map((r) => r.headers['x-esri-authorization'])).toEqual([
      'Bearer tok-provider-1-abcdefgh',
      'Bearer tok-provider-2-abcdefgh',
      'Bearer tok-provider-3-abcdefgh',
    ]);
  });

  it('sends the user agent when given', async () => {
    const { c, seen } = client(() => json(jobBody()), { userAgent: 'jobwatch-test/1' });
    await c.getJob(JOB_ID);
    expect(seen[0]?.headers['user-agent']).toBe('jobwatch-test/1');
  });

  it('lists jobs as validated ids', async () => {
    const { c, seen } = client(() =>
      json({ jobs: [JOB_ID, 'j47c0c626-7188-4053-be06-ae93de987b01'] }),
    );
    await expect(c.listJobs()).resolves.toEqual([JOB_ID, 'j47c0c626-7188-4053-be06-ae93de987b01']);
    expect(seen[0]?.url).toBe(`${ROOT}/jobs?f=json`);
  });

  it('leaves an unsafe id out of the jobs list, and tells onWarnings', async () => {
    const events: WarningsEvent[] = [];
    const { c } = client(() => json({ jobs: [JOB_ID, '../services'] }), {
      onWarnings: (e: WarningsEvent) => events.push(e),
    });
    await expect(c.listJobs()).resolves.toEqual([JOB_ID]);
    expect(events).toEqual([
      {
        kind: 'jobs',
        url: `${ROOT}/jobs`,
        warnings: [
          {
            pointer: '/jobs/1',
            expected: 'a string matching ^[A-Za-z0-9_-]{1,128}$',
            found: '"../services"',
          },
        ],
      },
    ]);
  });

  it('refuses a jobs list that is not a list, naming it', async () => {
    const { c } = client(() => json({ jobs: JOB_ID }));
    const error = await c.listJobs().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]?.pointer).toBe('/jobs');
  });

  it('reads site info, services and one service', async () => {
    const { c, seen } = client((req) => {
      if (req.url.includes('/services/Utilities/Hydrants.MapServer')) {
        return json({ serviceName: 'Hydrants', type: 'MapServer', folderName: 'Utilities' });
      }
      if (req.url.includes('/services/Utilities')) {
        return json({
          folderName: 'Utilities',
          services: [{ serviceName: 'Hydrants', type: 'MapServer' }],
        });
      }
      return json({ currentVersion: '11.4', resources: ['services', 'jobs'] });
    });
    await expect(c.getSiteInfo()).resolves.toMatchObject({ currentVersion: '11.4' });
    await expect(c.listServices({ folder: 'Utilities' })).resolves.toMatchObject({
      services: [{ serviceName: 'Hydrants' }],
    });
    await expect(c.getService('Utilities/Hydrants.MapServer')).resolves.toMatchObject({
      serviceName: 'Hydrants',
    });
    await expect(
      c.getService({ folder: 'Utilities', name: 'Hydrants', type: 'MapServer' }),
    ).resolves.toMatchObject({ type: 'MapServer' });
    expect(seen.map((s) => s.url)).toEqual([
      `${ROOT}?f=json`,
      `${ROOT}/services/Utilities?f=json`,
      `${ROOT}/services/Utilities/Hydrants.MapServer?f=json`,
      `${ROOT}/services/Utilities/Hydrants.MapServer?f=json`,
    ]);
  });

  it('refuses a job body about another job as a ValidationError (a server that lies)', async () => {
    const { c } = client(() => json(jobBody('j47c0c626-7188-4053-be06-ae93de987b01')));
    const error = await c.getJob(JOB_ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]?.pointer).toBe('/jobid');
    expect((error as Error).message).toContain(JOB_ID);
  });

  it('refuses a job body without a status string, naming only what decides', async () => {
    const { c } = client(() => json({ ...jobBody(), status: 42, starttime: 'soon' }));
    const error = (await c.getJob(JOB_ID).catch((e: unknown) => e)) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.code).toBe('SCHEMA');
    expect(error.issues.map((i) => i.pointer)).toEqual(['/status']);
    expect(error.message).toContain(`${ROOT}/jobs/${JOB_ID}`);
  });

  it('reads a job whose other fields came in other shapes, with the warnings', async () => {
    const events: WarningsEvent[] = [];
    const { c } = client(
      () => json({ ...jobBody(), starttime: '1700000000000', username: null, operationURI: 5 }),
      { onWarnings: (e: WarningsEvent) => events.push(e) },
    );
    const { job, warnings } = await c.readJob(JOB_ID);
    expect(job.starttime).toBe(1700000000000);
    expect(job.username).toBeNull();
    expect(job.operationURI).toBeUndefined();
    expect(warnings.map((w) => w.pointer)).toEqual(['/starttime', '/operationURI']);
    expect(events).toEqual([
      { kind: 'job', url: `${ROOT}/jobs/${JOB_ID}`, jobid: JOB_ID, warnings },
    ]);
    await expect(c.getJob(JOB_ID)).resolves.toMatchObject({ starttime: 1700000000000 });
  });

  it('a listener that throws never costs the read', async () => {
    const { c } = client(() => json({ ...jobBody(), starttime: '1' }), {
      onWarnings: () => {
        throw new Error('boom');
      },
    });
    await expect(c.getJob(JOB_ID)).resolves.toMatchObject({ starttime: 1 });
  });

  it('keeps unknown statuses and unknown fields', async () => {
    const { c } = client(() => json({ ...jobBody(), status: 'PAUSED', progress: 40 }));
    await expect(c.getJob(JOB_ID)).resolves.toMatchObject({ status: 'PAUSED', progress: 40 });
  });
});

describe('answers that are errors', () => {
  it('reads format A with HTTP 200: 498 with a fixed token → AuthError without a retry', async () => {
    const { c, seen } = client(() =>
      json({ error: { code: 498, message: 'Invalid token.', details: [] } }),
    );
    const error = (await c.getJob(JOB_ID).catch((e: unknown) => e)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.arcgisCode).toBe(498);
    expect(error.message).toBe(
      `Token refused (498) by ${ROOT}/jobs/${JOB_ID}: check the credentials or generate a new token`,
    );
    expect(seen).toHaveLength(1);
  });

  it('reads format B: 404 on a job route → JobNotFoundError', async () => {
    const { c } = client(() => json({ status: 'error', messages: ['Job not found.'], code: 404 }));
    const error = (await c.getJob(JOB_ID).catch((e: unknown) => e)) as JobNotFoundError;
    expect(error).toBeInstanceOf(JobNotFoundError);
    expect(error.jobid).toBe(JOB_ID);
    expect(error.code).toBe('JOB_NOT_FOUND');
  });

  it('reads format B elsewhere → ArcGISError with messages and code', async () => {
    const { c } = client(() =>
      json({ status: 'error', messages: ['Service Hydrants.MapServer not found.'], code: 500 }),
    );
    const error = (await c
      .getService('Hydrants.MapServer')
      .catch((e: unknown) => e)) as ArcGISError;
    expect(error).toBeInstanceOf(ArcGISError);
    expect(error.arcgisCode).toBe(500);
    expect(error.messages).toEqual(['Service Hydrants.MapServer not found.']);
    expect(error.message).toContain('Service Hydrants.MapServer not found.');
  });

  it('reads format B with status "failed" as an error body, but a job FAILED is a value', async () => {
    const failed = client(() => json({ status: 'failed', messages: ['Edit failed.'] }));
    const error = (await failed.c
      .getService('Hydrants.MapServer')
      .catch((e: unknown) => e)) as ArcGISError;
    expect(error).toBeInstanceOf(ArcGISError);
    expect(error.messages).toEqual(['Edit failed.']);
    const job = client(() => json(jobBody(JOB_ID, 'FAILED')));
    await expect(job.c.getJob(JOB_ID)).resolves.toMatchObject({ status: 'FAILED' });
  });

  it('reads a body whose `error` member is not an ArcGIS error object as the body it is', async () => {
    const { c } = client(() => json({ ...jobBody(), error: 'not an error object' }));
    await expect(c.getJob(JOB_ID)).resolves.toMatchObject({ jobid: JOB_ID });
  });

  it('checks error bodies whatever the HTTP status', async () => {
    const { c } = client(() =>
      json({ error: { code: 400, message: 'Bad', details: ['x must be y'] } }, { status: 400 }),
    );
    const error = (await c.getSiteInfo().catch((e: unknown) => e)) as ArcGISError;
    expect(error).toBeInstanceOf(ArcGISError);
    expect(error.details).toEqual(['x must be y']);
  });

  it('turns 429 into RateLimitedError with Retry-After in seconds or as an HTTP date', async () => {
    const a = client(() => new Response('', { status: 429, headers: { 'retry-after': '3' } }));
    const e1 = (await a.c.getJob(JOB_ID).catch((e: unknown) => e)) as RateLimitedError;
    expect(e1).toBeInstanceOf(RateLimitedError);
    expect(e1.retryAfterMs).toBe(3000);
    expect(e1.retryable).toBe(true);
    const when = new Date(Date.now() + 60_000).toUTCString();
    const b = client(() => new Response('', { status: 429, headers: { 'retry-after': when } }));
    const e2 = (await b.c.getJob(JOB_ID).catch((e: unknown) => e)) as RateLimitedError;
    expect(e2.retryAfterMs).toBeGreaterThan(50_000);
    expect(e2.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('turns 5xx into a retryable TransportError with status and a short excerpt', async () => {
    const html = `<html><head><style>p{}</style></head><body><h1>502 Bad Gateway</h1>${'x '.repeat(500)}</body></html>`;
    const { c } = client(() => new Response(html, { status: 502 }));
    const error = (await c.getJob(JOB_ID).catch((e: unknown) => e)) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ status: 502, reason: 'status', retryable: true });
    expect(error.excerpt?.startsWith('502 Bad Gateway')).toBe(true);
    expect(error.excerpt?.length).toBeLessThanOrEqual(160);
  });

  it.each([
    ['HTML', '<html><body>Sign in</body></html>'],
    ['empty', ''],
    ['truncated', '{"jobid":"j2bcbcd49-83a4'],
  ])('turns a %s 200 body into a retryable TransportError', async (_name, text) => {
    const { c } = client(() => new Response(text, { status: 200 }));
    const error = (await c.getJob(JOB_ID).catch((e: unknown) => e)) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ reason: 'body', status: 200, retryable: true });
    expect(error.message.split('\n')).toHaveLength(1);
  });

  it('keeps secrets out of excerpts', async () => {
    const secret = 'S3cr3tT0k3n-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const { c } = client(
      () => new Response(`<p>token=${TOKEN} and ${secret} Bearer ${TOKEN}</p>`, { status: 503 }),
    );
    const error = (await c.getJob(JOB_ID).catch((e: unknown) => e)) as TransportError;
    expect(error.excerpt).not.toContain(TOKEN);
    expect(error.excerpt).not.toContain(secret);
    expect(error.excerpt).toContain('[redacted]');
  });

  it('turns a non-JSON 404 into a non-retryable TransportError', async () => {
    const { c } = client(() => new Response('Not Found', { status: 404 }));
    const error = (await c.getJob(JOB_ID).catch((e: unknown) => e)) as TransportError;
    expect(error).toMatchObject({ status: 404, retryable: false, reason: 'body' });
  });

  it('turns a proxy 401 into AuthError', async () => {
    const { c } = client(() => new Response('<html>401</html>', { status: 401 }));
    await expect(c.getJob(JOB_ID)).rejects.toBeInstanceOf(AuthError);
  });
});

describe('operations', () => {
  const stopHandle = {
    jobsUrl: `${ROOT}/jobs/ja2ca1a35-881c-400c-a49a-b26883002d6c`,
    jobID: 'ja2ca1a35-881c-400c-a49a-b26883002d6c',
    jobStatus: 'SUBMITTED',
  };
  const backupHandle = {
    jobsUrl: `${ROOT}/jobs/j5f0b2a8e-2c1d-4b7e-9a51-0c3e8d2f4a11`,
    jobid: 'j5f0b2a8e-2c1d-4b7e-9a51-0c3e8d2f4a11',
  };

  it('POSTs stop with async=true, the token as a form field, and reads jobID', async () => {
    const { c, seen } = client(() => json(stopHandle));
    const started = await c.stopService('Hydrants.MapServer', { async: true });
    expect(started.jobid).toBe(stopHandle.jobID);
    expect(started.jobsUrl).toBe(stopHandle.jobsUrl);
    const [req] = seen;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe(`${ROOT}/services/Hydrants.MapServer/stop?f=json`);
    expect(req?.params).toMatchObject({ f: 'json', async: 'true', token: TOKEN });
    expect(req?.headers['content-type']).toContain('application/x-www-form-urlencoded');
    expect(req?.headers['x-esri-authorization']).toBeUndefined();
  });

  it('creates a backup and reads the lower-case jobid', async () => {
    const { c, seen } = client(() => json(backupHandle));
    const started = await c.createBackup({
      store: 'BackupStore',
      params: { backupName: 'nightly' },
    });
    expect(started.jobid).toBe(backupHandle.jobid);
    expect(seen[0]?.url).toBe(
      `${ROOT}/system/disasterrecovery/stores/BackupStore/backups/create?f=json`,
    );
    expect(seen[0]?.params.backupName).toBe('nightly');
  });

  it('reads the id from jobsUrl when the handle has no id field', async () => {
    const { c } = client(() => json({ jobsUrl: stopHandle.jobsUrl }));
    const started = await c.startService('Hydrants.MapServer', { async: true });
    expect(started.jobid).toBe(stopHandle.jobID);
  });

  it('checks {"status":"success"} on a synchronous run', async () => {
    const ok = client(() => json({ status: 'success' }));
    await expect(ok.c.startService('Hydrants.MapServer')).resolves.toBeUndefined();
    expect(ok.seen[0]?.params.async).toBeUndefined();
    const odd = client(() => json({ status: 'maybe' }));
    await expect(odd.c.startService('Hydrants.MapServer')).rejects.toBeInstanceOf(ValidationError);
  });

  it('refuses a handle naming an unsafe job id as a ValidationError (the server is wrong)', async () => {
    const { c } = client(() => json({ jobid: '../../sharing/rest', jobsUrl: `${ROOT}/jobs/x` }));
    const error = (await c
      .stopService('Hydrants.MapServer', { async: true })
      .catch((e: unknown) => e)) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.issues[0]?.pointer).toBe('/jobid');
  });

  it('refuses a handle without a job id as a ValidationError', async () => {
    const { c } = client(() => json({ status: 'success' }));
    await expect(c.stopService('Hydrants.MapServer', { async: true })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('sends edit with the service JSON as a string, and refuses invalid JSON before sending', async () => {
    const { c, seen } = client(() => json(stopHandle));
    const service = { serviceName: 'Hydrants', type: 'MapServer', description: 'new' };
    await c.editService('Hydrants.MapServer', service, { async: true });
    expect(JSON.parse(seen[0]?.params.service ?? '')).toEqual(service);
    const bad = { serviceName: 3, type: 'MapServer' } as unknown as typeof service;
    await expect(c.editService('Hydrants.MapServer', bad)).rejects.toBeInstanceOf(ValidationError);
    expect(seen).toHaveLength(1);
  });

  it('sends deleteServices with the services as JSON', async () => {
    const { c, seen } = client(() => json({ status: 'success' }));
    await c.deleteServices([
      'Utilities/Hydrants.MapServer',
      { name: 'Parcels', type: 'FeatureServer' },
    ]);
    expect(seen[0]?.url).toBe(`${ROOT}/services/deleteServices?f=json`);
    expect(JSON.parse(seen[0]?.params.services ?? '')).toEqual([
      { serviceName: 'Hydrants', folderName: 'Utilities', type: 'MapServer' },
      { serviceName: 'Parcels', folderName: '', type: 'FeatureServer' },
    ]);
  });

  it('runs a generic operation, reading a handle when async is true', async () => {
    const { c, seen } = client((req) =>
      req.params.async === 'true' ? json(backupHandle) : json({ status: 'success', n: 1 }),
    );
    await expect(c.operation('services/refreshAutodeployedServices')).resolves.toEqual({
      status: 'success',
      n: 1,
    });
    const started = await c.operation('services/Hydrants.MapServer/scaling/edit', {
      async: true,
      minReplicas: 2,
    });
    expect(started.jobid).toBe(backupHandle.jobid);
    expect(seen[1]?.params).toMatchObject({ async: 'true', minReplicas: '2' });
  });

  it.each([
    ['a parent path', '../sharing/rest'],
    ['a query', 'services/x?token=y'],
    ['an absolute URL', 'https://evil.example/admin'],
    ['nothing', ''],
  ])('refuses an operation path with %s, before any request', async (_name, path) => {
    const { c, seen } = client(() => json({ status: 'success' }));
    await expect(c.operation(path)).rejects.toBeInstanceOf(ConfigError);
    expect(seen).toHaveLength(0);
  });

  it('refuses params the client sets itself', async () => {
    const { c, seen } = client(() => json({ status: 'success' }));
    await expect(c.operation('services/x', { token: 'other' })).rejects.toBeInstanceOf(ConfigError);
    await expect(c.operation('services/x', { f: 'html' })).rejects.toBeInstanceOf(ConfigError);
    expect(seen).toHaveLength(0);
  });

  it.each([
    ['a path in the name', '../Hydrants.MapServer'],
    ['no type', 'Hydrants'],
    ['a query in the name', 'Hy?drants.MapServer'],
    ['an odd type', 'Hydrants.Map/Server'],
  ])('refuses a service ref with %s, before any request', async (_name, ref) => {
    const { c, seen } = client(() => json({ status: 'success' }));
    await expect(c.startService(ref)).rejects.toBeInstanceOf(ConfigError);
    expect(seen).toHaveLength(0);
  });
});

describe('fetch seam', () => {
  it('calls a given fetch as a plain function (a browser fetch needs its own this)', async () => {
    const fake = fakeFetch(() => json(jobBody()));
    const strict = function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
      if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation');
      return fake.fetch(input, init);
    } as typeof fetch;
    const c = createAdminClient({ url: ROOT, fetch: strict });
    await expect(c.getJob(JOB_ID)).resolves.toMatchObject({ jobid: JOB_ID });
  });
});
