/**
 * The client against answers as `shared/reference/real-world.md` says real servers give
 * them: error bodies as arcgis-rest-js reads them, and deployments that read the token from
 * only one of the two headers. One test per fact, named for it; then the details.
 */
import { startSimulator } from '@jobwatch/simulator';
import { describe, expect, it } from 'vitest';
import {
  ArcGISError,
  AuthError,
  createAdminClient,
  JobNotFoundError,
  type TokenHeader,
} from '../src/index.js';
import { fakeFetch, JOB_ID, jobBody, json, ROOT, type Seen, TOKEN_URL } from './fake.js';

const TOKEN = 'tok-abcdefghijklmnop';
let seenTokens = 0;
const TOKEN_REQUIRED = { error: { code: 499, message: 'Token Required', details: [] } };

/** A deployment that reads the token from one header only, as a web tier or server may. */
function deployment(reads: 'x-esri-authorization' | 'authorization') {
  return (req: Seen) => {
    if (req.url.startsWith(TOKEN_URL)) {
      return json({ token: `${TOKEN}-${req.params.username}`, expires: Date.now() + 3_600_000 });
    }
    if (req.headers[reads] === undefined) return json(TOKEN_REQUIRED);
    if (req.url.includes('/jobs/')) return json(jobBody());
    return json({ jobs: [JOB_ID] });
  };
}

function client(
  handler: Parameters<typeof fakeFetch>[0],
  options: { tokenHeader?: TokenHeader; credentials?: boolean } = {},
) {
  const fake = fakeFetch(handler);
  const c = createAdminClient({
    url: ROOT,
    auth: options.credentials
      ? { type: 'credentials', username: 'admin', password: 'pw-0123456789' }
      : { type: 'token', token: TOKEN },
    fetch: fake.fetch,
    retry: false,
    ...(options.tokenHeader ? { tokenHeader: options.tokenHeader } : {}),
  });
  return { c, seen: fake.seen };
}

const headerOf = (req: Seen | undefined) =>
  req?.headers.authorization !== undefined
    ? 'authorization'
    : req?.headers['x-esri-authorization'] !== undefined
      ? 'x-esri-authorization'
      : 'none';

describe('real-world.md: facts the client meets', () => {
  it.each(['authorization', 'x-esri-authorization'] as const)(
    'fact: a client that sends only one of the two headers fails on the other kind of deployment — a deployment that reads only %s is watched',
    async (reads) => {
      const { c, seen } = client(deployment(reads));
      await expect(c.getJob(JOB_ID)).resolves.toMatchObject({ jobid: JOB_ID });
      await expect(c.getJob(JOB_ID)).resolves.toMatchObject({ jobid: JOB_ID });
      await expect(c.listJobs()).resolves.toEqual([JOB_ID]);
      expect(c.tokenHeader).toBe(reads);
      // X-Esri-Authorization first; on 499 once with the other; then only the one that worked.
      const expected =
        reads === 'authorization'
          ? ['x-esri-authorization', 'authorization', 'authorization', 'authorization']
          : ['x-esri-authorization', 'x-esri-authorization', 'x-esri-authorization'];
      expect(seen.map(headerOf)).toEqual(expected);
      for (const req of seen) expect(req.url).not.toContain(TOKEN);
    },
  );

  it('fact: arcgis-rest-js treats an error member without a code as an error — a typed error with its message', async () => {
    const { c } = client(() => json({ error: { message: 'Service is stopped.' } }));
    const error = (await c.getJob(JOB_ID).catch((e: unknown) => e)) as ArcGISError;
    expect(error).toBeInstanceOf(ArcGISError);
    expect(error.arcgisCode).toBeUndefined();
    expect(error.message).toBe(`ArcGIS error from ${ROOT}/jobs/${JOB_ID}: Service is stopped.`);
  });

  it('fact: arcgis-rest-js treats a top-level code ≥ 400 as an error — typed by its code', async () => {
    const { c } = client(() => json({ code: 404, message: 'Job not found.' }));
    await expect(c.getJob(JOB_ID)).rejects.toBeInstanceOf(JobNotFoundError);
    const other = client(() => json({ code: 500, messages: ['Store is offline.'] }));
    const error = (await other.c.getJob(JOB_ID).catch((e: unknown) => e)) as ArcGISError;
    expect(error).toBeInstanceOf(ArcGISError);
    expect(error.arcgisCode).toBe(500);
    expect(error.message).toContain('Store is offline.');
    const auth = client(() => json({ code: 498 }));
    await expect(auth.c.getJob(JOB_ID)).rejects.toBeInstanceOf(AuthError);
  });

  it.each([
    ['plain text', 'Item is being published.', undefined, 'Item is being published.'],
    [
      'JSON text',
      '{"code":400,"message":"Publishing failed: no layers."}',
      400,
      'Publishing failed: no layers.',
    ],
  ])(
    'fact: arcgis-rest-js treats status "failed" with a statusMessage in %s as an error',
    async (_name, statusMessage, code, text) => {
      const { c } = client(() => json({ status: 'failed', statusMessage }));
      const error = (await c.getJob(JOB_ID).catch((e: unknown) => e)) as ArcGISError;
      expect(error).toBeInstanceOf(ArcGISError);
      expect(error.arcgisCode).toBe(code);
      expect(error.message).toContain(text);
    },
  );
});

describe('error bodies: never "Operation failed"', () => {
  it.each([
    [{ status: 'failed' }, 'the server answered status "failed" and gave no message'],
    [{ status: 'error', code: 500 }, 'the server answered status "error" and gave no message'],
    [{ error: {} }, 'the server reported an error and gave no message'],
    [{ code: 503 }, 'the server answered code 503 and gave no message'],
  ])('%j says what the server gave', async (body, said) => {
    const { c } = client(() => json(body));
    const error = (await c.getJob(JOB_ID).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain(said);
    expect(error.message).not.toMatch(/Operation failed/);
  });

  it('a job whose status reads "failed" is a job, not an error body', async () => {
    const { c } = client(() => json({ ...jobBody(), status: 'failed', messages: ['Disk full.'] }));
    await expect(c.getJob(JOB_ID)).resolves.toMatchObject({ status: 'failed' });
  });
});

describe('token header', () => {
  it('with a setting, sends only that header and never switches', async () => {
    const { c, seen } = client(deployment('authorization'), {
      tokenHeader: 'x-esri-authorization',
    });
    const error = (await c.getJob(JOB_ID).catch((e: unknown) => e)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.arcgisCode).toBe(499);
    expect(seen.map(headerOf)).toEqual(['x-esri-authorization']);

    const fixed = client(deployment('authorization'), { tokenHeader: 'authorization' });
    await expect(fixed.c.getJob(JOB_ID)).resolves.toMatchObject({ jobid: JOB_ID });
    expect(fixed.seen.map(headerOf)).toEqual(['authorization']);
  });

  it('with credentials: switches header before it asks for a new token', async () => {
    const { c, seen } = client(deployment('authorization'), { credentials: true });
    await expect(c.getJob(JOB_ID)).resolves.toMatchObject({ jobid: JOB_ID });
    const requests = seen.map((r) => (r.url.startsWith(TOKEN_URL) ? 'token' : headerOf(r)));
    expect(requests).toEqual(['token', 'x-esri-authorization', 'authorization']);
  });

  it('when neither header gets through, says so once and names both headers', async () => {
    const { c, seen } = client(
      (req) =>
        req.url.startsWith(TOKEN_URL)
          ? json({ token: `${TOKEN}-${seenTokens++}`, expires: Date.now() + 3_600_000 })
          : json(TOKEN_REQUIRED),
      { credentials: true },
    );
    const error = (await c.getJob(JOB_ID).catch((e: unknown) => e)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.arcgisCode).toBe(499);
    expect(error.message).toMatch(
      /saw no token in X-Esri-Authorization and in Authorization, even a fresh one/,
    );
    // One switch, one refresh: a bounded number of requests, and never a token in a URL.
    expect(seen.filter((r) => !r.url.startsWith(TOKEN_URL)).map(headerOf)).toEqual([
      'x-esri-authorization',
      'authorization',
      'x-esri-authorization',
    ]);
    for (const req of seen) expect(req.url).not.toMatch(/token=/);
  });

  it('a POST carries its token in the form, and a 499 there does not switch headers', async () => {
    const { c, seen } = client(() => json(TOKEN_REQUIRED));
    await expect(c.stopService('Hydrants.MapServer')).rejects.toBeInstanceOf(AuthError);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.params.token).toBe(TOKEN);
    expect(seen[0]?.url).not.toContain(TOKEN);
  });
});

describe('against the simulator reading one header only', () => {
  it.each(['authorization', 'x-esri-authorization'] as const)(
    'reads only %s: auto finds it, the other setting is refused with 499',
    async (reads) => {
      const sim = await startSimulator({ clock: 'manual', seed: 5, tokenHeader: reads });
      try {
        const id = sim.createJob({ outcome: 'FAILED', durationMs: 10, quirks: ['errorResult'] });
        sim.advance(10);
        const make = (tokenHeader: TokenHeader) =>
          createAdminClient({
            url: sim.adminUrl,
            auth: { type: 'credentials', username: 'admin', password: 'admin' },
            tokenHeader,
            retry: false,
          });
        const auto = make('auto');
        await expect(auto.getJob(id)).resolves.toMatchObject({ jobid: id, status: 'FAILED' });
        expect(auto.tokenHeader).toBe(reads);
        const other = reads === 'authorization' ? 'x-esri-authorization' : 'authorization';
        const wrong = (await make(other)
          .getJob(id)
          .catch((e: unknown) => e)) as AuthError;
        expect(wrong).toBeInstanceOf(AuthError);
        expect(wrong.arcgisCode).toBe(499);
        await expect(make(reads).getJob(id)).resolves.toMatchObject({ jobid: id });
      } finally {
        await sim.close();
      }
    },
  );
});
