import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  ConfigError,
  createAdminClient,
  RateLimitedError,
  type RetryOptions,
  TransportError,
} from '../src/index.js';
import {
  connectionRefused,
  connectionReset,
  fakeFetch,
  type Handler,
  JOB_ID,
  jobBody,
  json,
  never,
  ROOT,
} from './fake.js';

/** A client whose sleeps are recorded and skipped, and whose clock moves only by them. */
function client(handler: Handler, retry: RetryOptions = {}, random = () => 0.5) {
  const fake = fakeFetch(handler);
  const sleeps: number[] = [];
  let now = 0;
  const c = createAdminClient({
    url: ROOT,
    auth: { type: 'token', token: 'tok-abcdefghijkl' },
    fetch: fake.fetch,
    now: () => now,
    retry: {
      random,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
      ...retry,
    },
  });
  return { c, seen: fake.seen, sleeps };
}

const fail503 = () => new Response('busy', { status: 503 });

describe('retries of reads', () => {
  it('retries 5xx with exponential backoff and full jitter, then succeeds', async () => {
    const { c, seen, sleeps } = client((_r, n) => (n < 3 ? fail503() : json(jobBody())));
    await expect(c.getJob(JOB_ID)).resolves.toMatchObject({ jobid: JOB_ID });
    expect(seen).toHaveLength(3);
    // random() = 0.5 over 250·2^(n-1): 125, 250
    expect(sleeps).toEqual([125, 250]);
  });

  it('draws every wait from [0, ceiling) with the random seam (full jitter)', async () => {
    const { c, sleeps } = client(fail503, { attempts: 4 }, () => 0);
    await expect(c.getJob(JOB_ID)).rejects.toBeInstanceOf(TransportError);
    expect(sleeps).toEqual([0, 0, 0]);
  });

  it('caps one wait at maxDelay', async () => {
    const { c, sleeps } = client(
      fail503,
      { attempts: 6, maxDelay: 1000, deadline: 1e9 },
      () => 0.999,
    );
    await c.getJob(JOB_ID).catch(() => undefined);
    expect(Math.max(...sleeps)).toBeLessThanOrEqual(1000);
    expect(sleeps.at(-1)).toBeCloseTo(999, 0);
  });

  it('stops after the bounded number of attempts with the last error', async () => {
    const { c, seen } = client(fail503, { attempts: 3 });
    const error = (await c.getJob(JOB_ID).catch((e: unknown) => e)) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.status).toBe(503);
    expect(seen).toHaveLength(3);
  });

  it('starts no retry past the total deadline', async () => {
    const { c, seen, sleeps } = client(
      fail503,
      { attempts: 50, baseDelay: 1000, deadline: 5000 },
      () => 1,
    );
    await expect(c.getJob(JOB_ID)).rejects.toBeInstanceOf(TransportError);
    // waits 1000 + 2000 = 3000; the next (4000) would end past 5000
    expect(sleeps).toEqual([1000, 2000]);
    expect(seen).toHaveLength(3);
  });

  it('honours Retry-After on 429, even beyond the backoff', async () => {
    const { c, sleeps } = client((_r, n) =>
      n === 1
        ? new Response('', { status: 429, headers: { 'retry-after': '2' } })
        : json(jobBody()),
    );
    await c.getJob(JOB_ID);
    expect(sleeps).toEqual([2000]);
  });

  it('gives the RateLimitedError back when Retry-After runs past the deadline', async () => {
    const { c, seen } = client(
      () => new Response('', { status: 429, headers: { 'retry-after': '120' } }),
      { deadline: 30_000 },
    );
    const error = (await c.getJob(JOB_ID).catch((e: unknown) => e)) as RateLimitedError;
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error.retryAfterMs).toBe(120_000);
    expect(seen).toHaveLength(1);
  });

  it('retries network failures and unreadable bodies on reads', async () => {
    const { c, seen } = client((_r, n) => {
      if (n === 1) throw connectionReset();
      if (n === 2) return new Response('{"jobid":', { status: 200 });
      return json(jobBody());
    });
    await c.getJob(JOB_ID);
    expect(seen).toHaveLength(3);
  });

  it('does not retry what will not change: error bodies, validation failures', async () => {
    const a = client(() => json({ error: { code: 500, message: 'Internal' } }));
    await a.c.getJob(JOB_ID).catch(() => undefined);
    expect(a.seen).toHaveLength(1);
    const b = client(() => json({ jobid: JOB_ID }));
    await b.c.getJob(JOB_ID).catch(() => undefined);
    expect(b.seen).toHaveLength(1);
  });

  it('takes a per-call retry policy over the client one', async () => {
    const { c, seen } = client(fail503, { attempts: 5 });
    await expect(c.getJob(JOB_ID, { retry: false })).rejects.toBeInstanceOf(TransportError);
    expect(seen).toHaveLength(1);
    await expect(c.getJob(JOB_ID, { retry: { attempts: 2 } })).rejects.toBeInstanceOf(
      TransportError,
    );
    expect(seen).toHaveLength(3);
    await expect(c.listJobs({ retry: { attempts: 3 } })).rejects.toBeInstanceOf(TransportError);
    expect(seen).toHaveLength(6);
  });

  it('keeps the POST rule whatever a call asks', async () => {
    const { c, seen } = client(fail503);
    await expect(
      c.stopService('Hydrants.MapServer', { async: true, retry: { attempts: 10 } }),
    ).rejects.toBeInstanceOf(TransportError);
    expect(seen).toHaveLength(1);
  });

  it('refuses a bad per-call retry policy as ConfigError, with no request', async () => {
    const { c, seen } = client(fail503);
    await expect(c.getJob(JOB_ID, { retry: { attempts: Number.NaN } })).rejects.toBeInstanceOf(
      ConfigError,
    );
    expect(seen).toHaveLength(0);
  });

  it('retries nothing with retry: false', async () => {
    const fake = fakeFetch(fail503);
    const c = createAdminClient({ url: ROOT, fetch: fake.fetch, retry: false });
    await expect(c.getJob(JOB_ID)).rejects.toBeInstanceOf(TransportError);
    expect(fake.seen).toHaveLength(1);
  });
});

describe('POST operations are not repeated once they may have reached the server', () => {
  const handle = { jobid: JOB_ID, jobsUrl: `${ROOT}/jobs/${JOB_ID}` };

  it.each([
    ['a 503', fail503],
    ['a 504 gateway timeout', () => new Response('', { status: 504 })],
    ['a 429', () => new Response('', { status: 429, headers: { 'retry-after': '1' } })],
    ['a truncated body', () => new Response('{"jobid":"j', { status: 200 })],
    [
      'a connection lost after sending',
      () => {
        throw connectionReset();
      },
    ],
  ])('sends a POST once after %s', async (_name, fail) => {
    const { c, seen } = client((_r, n) => (n === 1 ? fail() : json(handle)));
    await expect(c.stopService('Hydrants.MapServer', { async: true })).rejects.toHaveProperty(
      'retryable',
      true,
    );
    expect(seen).toHaveLength(1);
  });

  it('retries a POST whose connection was refused before sending', async () => {
    const { c, seen } = client((_r, n) => {
      if (n === 1) throw connectionRefused();
      return json(handle);
    });
    const started = await c.stopService('Hydrants.MapServer', { async: true });
    expect(started.jobid).toBe(JOB_ID);
    expect(seen).toHaveLength(2);
  });

  it('sends a POST once more after a 498 with a refreshed token (the server ran nothing)', async () => {
    const fake = fakeFetch((req) =>
      req.params.token === 'second-token'
        ? json(handle)
        : json({ error: { code: 498, message: 'Invalid token.' } }),
    );
    let n = 0;
    const c = createAdminClient({
      url: ROOT,
      fetch: fake.fetch,
      auth: { type: 'provider', getToken: () => (++n === 1 ? 'first-token' : 'second-token') },
    });
    await expect(c.stopService('Hydrants.MapServer', { async: true })).resolves.toMatchObject({
      jobid: JOB_ID,
    });
    expect(fake.seen).toHaveLength(2);
  });
});

describe('abort and timeout', () => {
  it('refuses at once, with no request, when the signal is already aborted', async () => {
    const { c, seen } = client(() => json(jobBody()));
    const error = await c.getJob(JOB_ID, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect(seen).toHaveLength(0);
  });

  it('aborts a request in flight', async () => {
    const { c, seen } = client(never);
    const controller = new AbortController();
    const pending = c.getJob(JOB_ID, { signal: controller.signal });
    await waitUntil(() => seen.length === 1);
    controller.abort();
    const error = (await pending.catch((e: unknown) => e)) as AbortedError;
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.code).toBe('ABORTED');
  });

  it('aborts during a backoff wait', async () => {
    const controller = new AbortController();
    const fake = fakeFetch(fail503);
    const c = createAdminClient({
      url: ROOT,
      fetch: fake.fetch,
      retry: {
        sleep: (_ms, signal) =>
          new Promise((_resolve, reject) => {
            signal?.addEventListener('abort', () => reject(new AbortedError()));
            controller.abort();
          }),
      },
    });
    await expect(c.getJob(JOB_ID, { signal: controller.signal })).rejects.toBeInstanceOf(
      AbortedError,
    );
    expect(fake.seen).toHaveLength(1);
  });

  it('aborts while waiting for a shared token refresh, without cancelling it for others', async () => {
    let release: (r: Response) => void = () => undefined;
    const fake = fakeFetch((req) =>
      req.url.includes('generateToken')
        ? new Promise<Response>((resolve) => {
            release = resolve;
          })
        : json(jobBody()),
    );
    const c = createAdminClient({
      url: ROOT,
      fetch: fake.fetch,
      auth: { type: 'credentials', username: 'admin', password: 'secret-pw' },
    });
    const controller = new AbortController();
    const first = c.getJob(JOB_ID, { signal: controller.signal });
    const second = c.getJob(JOB_ID);
    await waitUntil(() => fake.seen.length === 1);
    controller.abort();
    await expect(first).rejects.toBeInstanceOf(AbortedError);
    release(json({ token: 'tok-shared-xxxxxxxx', expires: Date.now() + 3_600_000 }));
    await expect(second).resolves.toMatchObject({ jobid: JOB_ID });
    expect(fake.seen.filter((r) => r.url.includes('generateToken'))).toHaveLength(1);
  });

  it('times out a request with no answer as TransportError (timeout)', async () => {
    const { c } = client(never, { attempts: 1 });
    const error = (await c
      .getJob(JOB_ID, { timeout: 20 })
      .catch((e: unknown) => e)) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.reason).toBe('timeout');
    expect(error.message).toContain('within 20 ms');
  });

  it('times out a body that never ends (the timeout covers the body too)', async () => {
    const { c } = client(
      () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode('{"jobid":'));
            },
          }),
        ),
      { attempts: 1 },
    );
    const error = (await c
      .getJob(JOB_ID, { timeout: 20 })
      .catch((e: unknown) => e)) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.reason).toBe('timeout');
  });

  it('retries a read after a timeout', async () => {
    const { c, seen } = client((_r, n) => (n === 1 ? never() : json(jobBody())));
    await expect(c.getJob(JOB_ID, { timeout: 20 })).resolves.toMatchObject({ jobid: JOB_ID });
    expect(seen).toHaveLength(2);
  });
});

/** Waits (a few microtask turns and timer ticks) until `check` holds. */
async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(check()).toBe(true);
}
