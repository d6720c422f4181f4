/**
 * The client against the simulator over real HTTP: every error class from a real scenario,
 * tokens refreshed across expiry and revocation, the POST rule, and no secret anywhere.
 */
import { resultObject } from '@jobwatch/schema';
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortedError,
  type AdminClient,
  type AdminClientOptions,
  ArcGISError,
  AuthError,
  ConfigError,
  createAdminClient,
  InvalidJobIdError,
  JobNotFoundError,
  RateLimitedError,
  TransportError,
  ValidationError,
} from '../src/index.js';
import { everything } from './fake.js';

/** The fault kinds a read meets as a transient failure (all but `delay`, which only slows). */
const TRANSIENT_FAULTS = [
  'http502',
  'http503',
  'http504',
  'reset',
  'malformed',
  'truncated',
  'empty',
  'http429',
] as const;

let sim: Simulator;
/** Every URL the clients asked, query included; every token the simulator issued. */
const urls: string[] = [];
const tokens = new Set<string>();
/** Every error any test saw, checked for secrets at the end. */
const errors: unknown[] = [];

const recordingFetch: typeof fetch = async (input, init) => {
  const request = input instanceof Request ? input : new Request(input, init);
  urls.push(request.url);
  const response = await fetch(request);
  if (request.url.includes('/generateToken')) {
    const body = (await response.clone().json()) as { token?: string };
    if (body.token) tokens.add(body.token);
  }
  return response;
};

function client(extra: Partial<AdminClientOptions> = {}): AdminClient {
  return createAdminClient({
    url: sim.adminUrl,
    auth: { type: 'credentials', username: 'admin', password: 'admin' },
    fetch: recordingFetch,
    now: () => sim.now(),
    // Retries wait no wall-clock time here; the retry tests below use their own sleeps.
    retry: { sleep: async () => undefined },
    ...extra,
  });
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  errors.push(error);
  expect(error).toBeDefined();
  return error;
}

const tokenRequests = () => sim.stats().byRoute.generateToken;

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 42, tokenTtlMs: 60_000 });
});
afterAll(async () => {
  await sim.close();
});
afterEach(() => {
  sim.clearFaults();
});

describe('jobs', () => {
  it('follows a job from SUBMITTED to COMPLETED', async () => {
    const c = client();
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 10_000 });
    const first = await c.getJob(id);
    expect(first.jobid).toBe(id);
    expect(['SUBMITTED', 'EXECUTING']).toContain(first.status);
    sim.advance(10_000);
    const last = await c.getJob(id);
    expect(last.status).toBe('COMPLETED');
    expect(last.endtime).toBeGreaterThan(0);
    await expect(c.listJobs()).resolves.toContain(id);
  });

  it('reads a FAILED job as a value, not an error', async () => {
    const id = sim.createJob({ outcome: 'FAILED', durationMs: 1000 });
    sim.advance(1000);
    await expect(client().getJob(id)).resolves.toMatchObject({ status: 'FAILED' });
  });

  it('reports a purged job as JobNotFoundError', async () => {
    const c = client();
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1000 });
    await c.getJob(id);
    sim.purgeJob(id);
    const error = (await failure(c.getJob(id))) as JobNotFoundError;
    expect(error).toBeInstanceOf(JobNotFoundError);
    expect(error.jobid).toBe(id);
  });

  it('refuses hostile job ids with no request made', async () => {
    const c = client();
    await c.getSiteInfo();
    const before = sim.stats().total;
    for (const id of ['../services', 'j1/../../sharing', 'j1?f=html', '%2e%2e', '', 'j 1']) {
      expect(await failure(c.getJob(id))).toBeInstanceOf(InvalidJobIdError);
    }
    expect(sim.stats().total).toBe(before);
  });
});

describe('operations and handles', () => {
  it('reads the jobID spelling (stop) and follows the job by id and by jobsUrl', async () => {
    const c = client();
    const services = await c.listServices();
    const target = services.services[0]!;
    const ref = { name: target.serviceName!, type: target.type!, folder: target.folderName };
    const started = await c.stopService(ref, { async: true });
    expect(started.handle.jobID).toBe(started.jobid);
    expect(started.jobsUrl).toBe(`${sim.adminUrl}/jobs/${started.jobid}`);
    sim.advance(10_000);
    await expect(c.getJob(started.jobid)).resolves.toMatchObject({ status: 'COMPLETED' });
    await expect(c.getJobByUrl(started.jobsUrl!)).resolves.toMatchObject({ jobid: started.jobid });
    await expect(c.getService(ref)).resolves.toMatchObject({ configuredState: 'STOPPED' });
    await c.startService(ref);
    await expect(c.getService(ref)).resolves.toMatchObject({ configuredState: 'STARTED' });
  });

  it('reads the jobid spelling (backup create)', async () => {
    const started = await client().createBackup({ store: 'default' });
    expect(started.handle.jobid).toBe(started.jobid);
    expect(started.handle.jobID).toBeUndefined();
  });

  it('edits a service as a job whose result carries the new service JSON', async () => {
    const c = client();
    const [first] = (await c.listServices()).services;
    const ref = { name: first!.serviceName!, type: first!.type!, folder: first!.folderName };
    const service = await c.getService(ref);
    const started = await c.editService(
      ref,
      { ...service, description: 'edited by jobwatch' },
      { async: true },
    );
    sim.advance(10_000);
    const job = await c.getJob(started.jobid);
    expect(job.status).toBe('COMPLETED');
    expect(resultObject(job)?.service?.description).toBe('edited by jobwatch');
  });

  it('deletes services in a folder as a job, after which they are gone', async () => {
    const c = client();
    const root = await c.listServices();
    const folder = root.folders?.find((f) => f === 'Utilities') ?? root.folders?.[0];
    expect(folder).toBeDefined();
    const inFolder = await c.listServices({ folder: folder! });
    const victim = inFolder.services[0]!;
    const ref = { folder: folder!, name: victim.serviceName!, type: victim.type! };
    const started = await c.deleteServices([ref], { async: true });
    sim.advance(10_000);
    await expect(c.getJob(started.jobid)).resolves.toMatchObject({ status: 'COMPLETED' });
    const error = (await failure(c.getService(ref))) as ArcGISError;
    expect(error).toBeInstanceOf(ArcGISError);
    expect(error.arcgisCode).toBe(404);
  });

  it('reports an operation on a missing service as ArcGISError', async () => {
    const error = (await failure(client().startService('NoSuchService.MapServer'))) as ArcGISError;
    expect(error).toBeInstanceOf(ArcGISError);
    expect(error.arcgisCode).toBe(404);
  });

  it('reports an answer that is not a job handle as ValidationError', async () => {
    // `services` answers its list, not a handle, whatever async says.
    const error = (await failure(
      client().operation('services', { async: true }),
    )) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.issues[0]?.pointer).toBe('/jobid');
  });

  it('refuses a jobsUrl on another origin with no request made', async () => {
    const c = client();
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1000 });
    const before = sim.stats().total;
    const other = `${sim.url.replace('127.0.0.1', 'localhost')}/arcgis/admin/jobs/${id}`;
    expect(await failure(c.getJobByUrl(other))).toBeInstanceOf(ConfigError);
    expect(sim.stats().total).toBe(before);
  });
});

describe('faults become typed errors', () => {
  const once = () => client({ retry: false });

  it.each([
    ['http502', 502],
    ['http503', 503],
    ['http504', 504],
  ] as const)('%s → TransportError with the status and an excerpt', async (kind, status) => {
    sim.setFaults({ rate: 1, kinds: [kind], paths: ['job'] });
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1000 });
    const error = (await failure(once().getJob(id))) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ status, reason: 'status', retryable: true });
    expect(error.excerpt).toBeTruthy();
  });

  it.each(['malformed', 'truncated', 'empty'] as const)(
    '%s → TransportError (body)',
    async (kind) => {
      sim.setFaults({ rate: 1, kinds: [kind], paths: ['job'] });
      const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1000 });
      const error = (await failure(once().getJob(id))) as TransportError;
      expect(error).toBeInstanceOf(TransportError);
      expect(error).toMatchObject({ status: 200, reason: 'body', retryable: true });
    },
  );

  it('reset → TransportError (network)', async () => {
    sim.setFaults({ rate: 1, kinds: ['reset'], paths: ['job'] });
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1000 });
    const error = (await failure(once().getJob(id))) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.reason).toBe('network');
  });

  it('http429 → RateLimitedError with Retry-After', async () => {
    sim.setFaults({ rate: 1, kinds: ['http429'], paths: ['job'], retryAfterSeconds: 7 });
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1000 });
    const error = (await failure(once().getJob(id))) as RateLimitedError;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.retryAfterMs).toBe(7000);
  });

  it('delay past the timeout → TransportError (timeout)', async () => {
    sim.setFaults({ rate: 1, kinds: ['delay'], paths: ['job'], delayMs: 5000 });
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1000 });
    const error = (await failure(once().getJob(id, { timeout: 50 }))) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.reason).toBe('timeout');
  });

  it('abort while the server delays → AbortedError', async () => {
    sim.setFaults({ rate: 1, kinds: ['delay'], paths: ['job'], delayMs: 5000 });
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1000 });
    const controller = new AbortController();
    const pending = once().getJob(id, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect(await failure(pending)).toBeInstanceOf(AbortedError);
  });
});

describe('retries', () => {
  it('retries a read through each transient fault kind and succeeds', async () => {
    for (const kind of TRANSIENT_FAULTS) {
      const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1000 });
      const c = client({ retry: { sleep: async () => sim.clearFaults() } });
      await c.getSiteInfo(); // token first, so only the job route is faulted
      sim.setFaults({ rate: 1, kinds: [kind], paths: ['job'] });
      await expect(c.getJob(id), kind).resolves.toMatchObject({ jobid: id });
      expect(sim.stats().byJob[id], kind).toBe(2);
    }
  });

  it('never sends a POST operation twice once it may have reached the server', async () => {
    const c = client({ retry: { sleep: async () => sim.clearFaults() } });
    await c.getSiteInfo();
    for (const kind of ['http502', 'reset', 'truncated', 'http429'] as const) {
      const before = sim.stats().byRoute.operation;
      sim.setFaults({ rate: 1, kinds: [kind], paths: ['operation'] });
      const error = await failure(c.stopService('SampleWorldCities.MapServer', { async: true }));
      expect((error as TransportError).retryable, kind).toBe(true);
      expect(sim.stats().byRoute.operation - before, kind).toBe(1);
    }
  });
});

describe('tokens', () => {
  it('refuses the wrong password as AuthError, naming neither password', async () => {
    const c = client({
      auth: { type: 'credentials', username: 'admin', password: 'not-the-password' },
    });
    const error = (await failure(c.getSiteInfo())) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toContain('Invalid username or password');
    expect(everything(error)).not.toContain('not-the-password');
  });

  it('refreshes transparently when a token expires mid-run (manual clock, tokenTtlMs)', async () => {
    const c = client();
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1_000_000 });
    await c.getJob(id);
    const start = tokenRequests();
    sim.advance(50_000); // 10 s left of 60: still fresh (margin 6 s)
    await c.getJob(id);
    expect(tokenRequests()).toBe(start);
    sim.advance(5_000); // 5 s left: refreshed ahead of expiry
    await c.getJob(id);
    expect(tokenRequests()).toBe(start + 1);
    sim.advance(120_000); // long expired: refreshed again, no error
    await expect(c.getJob(id)).resolves.toMatchObject({ jobid: id });
    expect(tokenRequests()).toBe(start + 2);
  });

  it('50 concurrent calls across an expiry cause exactly one generateToken', async () => {
    const c = client();
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1_000_000 });
    await c.getJob(id);
    sim.advance(61_000);
    const before = tokenRequests();
    const jobs = await Promise.all(Array.from({ length: 50 }, () => c.getJob(id)));
    expect(jobs.every((j) => j.jobid === id)).toBe(true);
    expect(tokenRequests() - before).toBe(1);
  });

  it('50 concurrent calls after a revocation refresh once and retry once', async () => {
    const c = client();
    const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1_000_000 });
    await c.getJob(id);
    sim.revokeTokens();
    const before = tokenRequests();
    await Promise.all(Array.from({ length: 50 }, () => c.getJob(id)));
    expect(tokenRequests() - before).toBe(1);
  });

  it('a transient fault on the request retried after a refresh stays transient, never AUTH', async () => {
    // Revocation and gateway trouble at once: the refreshed request may meet a 5xx, a reset or
    // a broken body. That is transport trouble to retry later, not refused credentials.
    const c = client();
    const ids = Array.from({ length: 20 }, () =>
      sim.createJob({ outcome: 'COMPLETED', durationMs: 1_000_000 }),
    );
    await Promise.all(ids.map((id) => c.getJob(id)));
    const seen = new Set<string>();
    for (let round = 0; round < 8; round++) {
      sim.revokeTokens();
      sim.setFaults({
        rate: 0.5,
        kinds: [...TRANSIENT_FAULTS],
        paths: ['job'],
      });
      const results = await Promise.allSettled(ids.map((id) => c.getJob(id, { retry: false })));
      sim.clearFaults();
      for (const r of results) {
        if (r.status === 'fulfilled') seen.add('ok');
        else {
          errors.push(r.reason);
          seen.add((r.reason as { code: string }).code);
        }
      }
    }
    expect(seen.has('AUTH')).toBe(false);
    // The scenario really mixed refreshes with faults: some answers failed, some got through.
    expect(seen.has('ok')).toBe(true);
    expect(seen.has('TRANSPORT')).toBe(true);
  });

  it('reports a revoked fixed token as AuthError (498)', async () => {
    const token = sim.issueToken('admin');
    tokens.add(token);
    const c = client({ auth: { type: 'token', token } });
    await c.getSiteInfo();
    sim.revokeTokens();
    const error = (await failure(c.getSiteInfo())) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.arcgisCode).toBe(498);
  });

  it('reports a missing token as AuthError (499)', async () => {
    const error = (await failure(client({ auth: { type: 'none' } }).listJobs())) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.arcgisCode).toBe(499);
  });

  it.each(['authorization', 'x-esri-authorization', 'auto'] as const)(
    'is accepted with tokenHeader %s',
    async (tokenHeader) => {
      await expect(client({ tokenHeader }).listJobs()).resolves.toBeInstanceOf(Array);
    },
  );

  it('refuses to send a token over plain http to a remote host', () => {
    expect(() =>
      createAdminClient({
        url: 'http://10.1.2.3/arcgis/admin',
        auth: { type: 'token', token: 'abc' },
      }),
    ).toThrow(ConfigError);
  });
});

describe('secrets', () => {
  it('never put a token or password in a URL', () => {
    expect(tokens.size).toBeGreaterThan(3);
    const leaked = urls.filter(
      (u) => u.includes('token=') || [...tokens].some((t) => u.includes(t)),
    );
    expect(leaked).toEqual([]);
    expect(urls.some((u) => u.includes('password') || u.includes('admin&'))).toBe(false);
  });

  it('never put a token or password in any error seen above', () => {
    expect(errors.length).toBeGreaterThan(20);
    for (const error of errors) {
      const text = everything(error);
      for (const token of tokens) expect(text).not.toContain(token);
      expect(text).not.toContain('password=');
    }
  });
});
