import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  AuthError,
  createAdminClient,
  TransportError,
  ValidationError,
} from '../src/index.js';
import { everything, fakeFetch, JOB_ID, jobBody, json, ROOT, TOKEN_URL } from './fake.js';

const PASSWORD = 'pa55-w0rd-very-secret';
const T0 = 1_700_000_000_000;

/** A fake server with a token endpoint: tokens live `ttl` ms on the `clock`, numbered t1, t2… */
function server(options: { ttl?: number; refuse?: (token: string) => boolean } = {}) {
  const clock = { now: T0 };
  let issued = 0;
  const ttl = options.ttl ?? 3_600_000;
  const valid = new Map<string, number>();
  const tokenEndpoint = { down: false };
  const fake = fakeFetch((req) => {
    if (req.url.startsWith(TOKEN_URL)) {
      if (tokenEndpoint.down) return new Response('<html>503</html>', { status: 503 });
      if (req.params.password !== PASSWORD) {
        return json({
          error: {
            code: 400,
            message: 'Unable to generate token.',
            details: ['Invalid username or password.'],
          },
        });
      }
      const token = `tok-${++issued}-xxxxxxxxxxxx`;
      valid.set(token, clock.now + ttl);
      return json({ token, expires: clock.now + ttl, ssl: true });
    }
    const token =
      (req.headers['x-esri-authorization'] ?? '').replace(/^Bearer /, '') || req.params.token || '';
    const until = valid.get(token);
    if (until === undefined || until <= clock.now || options.refuse?.(token)) {
      return json({ error: { code: 498, message: 'Invalid token.', details: [] } });
    }
    return json(jobBody());
  });
  const tokenRequests = () => fake.seen.filter((s) => s.url.startsWith(TOKEN_URL)).length;
  const make = (password = PASSWORD) =>
    createAdminClient({
      url: ROOT,
      auth: { type: 'credentials', username: 'admin', password },
      fetch: fake.fetch,
      now: () => clock.now,
      retry: false,
    });
  return {
    clock,
    seen: fake.seen,
    tokenRequests,
    make,
    tokenEndpoint,
    revoke: () => valid.clear(),
  };
}

describe('credentials', () => {
  it('POSTs the form to the derived generateToken URL and uses the token on GET', async () => {
    const s = server();
    await s.make().getJob(JOB_ID);
    const [tokenReq, jobReq] = s.seen;
    expect(tokenReq?.method).toBe('POST');
    expect(tokenReq?.url).toBe(`${TOKEN_URL}?f=json`);
    expect(tokenReq?.params).toEqual({
      username: 'admin',
      password: PASSWORD,
      client: 'referer',
      referer: 'https://gis.example.com',
      f: 'json',
    });
    expect(jobReq?.headers['x-esri-authorization']).toBe('Bearer tok-1-xxxxxxxxxxxx');
  });

  it('asks for a lifetime and a referer only as configured', async () => {
    const fake = fakeFetch((req) =>
      req.url.startsWith(TOKEN_URL)
        ? json({ token: 'tok-xxxxxxxxxxxxxxx', expires: Date.now() + 3_600_000 })
        : json(jobBody()),
    );
    const c = createAdminClient({
      url: ROOT,
      auth: {
        type: 'credentials',
        username: 'admin',
        password: PASSWORD,
        expiration: 15,
        referer: 'https://app.example.com',
      },
      fetch: fake.fetch,
    });
    await c.getJob(JOB_ID);
    expect(fake.seen[0]?.params).toMatchObject({
      expiration: '15',
      referer: 'https://app.example.com',
    });
  });

  it('uses a given token URL instead of the derived one', async () => {
    const portal = 'https://portal.example.com/portal/sharing/rest/generateToken';
    const fake = fakeFetch((req) =>
      req.url.startsWith(portal)
        ? json({ token: 'tok-xxxxxxxxxxxxxxx', expires: Date.now() + 3_600_000 })
        : json(jobBody()),
    );
    const c = createAdminClient({
      url: ROOT,
      auth: { type: 'credentials', username: 'admin', password: PASSWORD, tokenUrl: portal },
      fetch: fake.fetch,
    });
    await c.getJob(JOB_ID);
    expect(fake.seen[0]?.url).toBe(`${portal}?f=json`);
  });

  it('retries a generateToken that met a transient failure (it starts nothing)', async () => {
    const fake = fakeFetch((req, n) => {
      if (n === 1) return new Response('<html>502</html>', { status: 502 });
      return req.url.startsWith(TOKEN_URL)
        ? json({ token: 'tok-xxxxxxxxxxxxxxx', expires: Date.now() + 3_600_000 })
        : json(jobBody());
    });
    const c = createAdminClient({
      url: ROOT,
      auth: { type: 'credentials', username: 'admin', password: PASSWORD },
      fetch: fake.fetch,
      retry: { sleep: async () => undefined },
    });
    await c.getJob(JOB_ID);
    expect(fake.seen.map((r) => r.method)).toEqual(['POST', 'POST', 'GET']);
  });

  it('reuses a token until it nears expiry, then refreshes it ahead of time', async () => {
    const s = server({ ttl: 600_000 });
    const c = s.make();
    await c.getJob(JOB_ID);
    s.clock.now += 500_000; // 100 s before expiry: still fresh (margin is 60 s)
    await c.getJob(JOB_ID);
    expect(s.tokenRequests()).toBe(1);
    s.clock.now += 45_000; // 55 s before expiry: inside the margin
    await c.getJob(JOB_ID);
    expect(s.tokenRequests()).toBe(2);
    expect(s.seen.some((r) => r.params.token)).toBe(false);
  });

  it('keeps the current token when a refresh ahead of expiry fails, until it really expires', async () => {
    const s = server({ ttl: 600_000 });
    const c = s.make();
    await c.getJob(JOB_ID);
    s.clock.now += 580_000; // inside the margin, 20 s before expiry
    s.tokenEndpoint.down = true;
    await expect(c.getJob(JOB_ID)).resolves.toMatchObject({ jobid: JOB_ID });
    expect(s.tokenRequests()).toBe(2);
    s.clock.now += 30_000; // past the real expiry: the failure surfaces
    await expect(c.getJob(JOB_ID)).rejects.toBeInstanceOf(TransportError);
    s.tokenEndpoint.down = false;
    await expect(c.getJob(JOB_ID)).resolves.toMatchObject({ jobid: JOB_ID });
  });

  it('scales the margin down for short-lived tokens (10 % of the lifetime)', async () => {
    const s = server({ ttl: 10_000 });
    const c = s.make();
    await c.getJob(JOB_ID);
    s.clock.now += 8_900; // 1.1 s left: fresh
    await c.getJob(JOB_ID);
    expect(s.tokenRequests()).toBe(1);
    s.clock.now += 200; // 0.9 s left: refresh
    await c.getJob(JOB_ID);
    expect(s.tokenRequests()).toBe(2);
  });

  it('shares one generateToken among 50 concurrent calls across an expiry', async () => {
    const s = server({ ttl: 600_000 });
    const c = s.make();
    await c.getJob(JOB_ID);
    s.clock.now += 600_000;
    const jobs = await Promise.all(Array.from({ length: 50 }, () => c.getJob(JOB_ID)));
    expect(jobs).toHaveLength(50);
    expect(s.tokenRequests()).toBe(2);
  });

  it('refreshes once on 498 (revoked token) and retries once, shared among concurrent calls', async () => {
    const s = server();
    const c = s.make();
    await c.getJob(JOB_ID);
    s.revoke();
    await Promise.all(Array.from({ length: 20 }, () => c.getJob(JOB_ID)));
    expect(s.tokenRequests()).toBe(2);
  });

  it('gives up with AuthError when the fresh token is refused too', async () => {
    const s = server({ refuse: () => true });
    const error = (await s
      .make()
      .getJob(JOB_ID)
      .catch((e: unknown) => e)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.arcgisCode).toBe(498);
    expect(error.message).toContain('even after a refresh');
    expect(s.tokenRequests()).toBe(2);
    expect(s.seen).toHaveLength(4);
  });

  it('reports a wrong password as AuthError that names neither the password nor a token', async () => {
    const s = server();
    const wrong = 'wrong-password-123';
    const error = (await s
      .make(wrong)
      .getJob(JOB_ID)
      .catch((e: unknown) => e)) as AuthError;
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toBe(
      `Credentials refused by ${TOKEN_URL} (400): Unable to generate token. (Invalid username or password.); check the username and password`,
    );
    expect(everything(error)).not.toContain(wrong);
    expect(s.seen).toHaveLength(1);
  });

  it('refuses a token answer that does not validate, without echoing the token', async () => {
    const fake = fakeFetch(() => json({ token: 'tok-zzzzzzzzzzzzzzzz', expires: 'tomorrow' }));
    const c = createAdminClient({
      url: ROOT,
      auth: { type: 'credentials', username: 'admin', password: PASSWORD },
      fetch: fake.fetch,
      retry: false,
    });
    const error = await c.getJob(JOB_ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(everything(error)).not.toContain('tok-zzzzzzzzzzzzzzzz');
    expect(everything(error)).not.toContain(PASSWORD);
  });

  it('keeps using a token whose expiry is already past on arrival (skewed clock) until refused', async () => {
    const s = server();
    const fake = fakeFetch((req) =>
      req.url.startsWith(TOKEN_URL)
        ? json({ token: 'tok-skewed-xxxxxxxx', expires: T0 - 1 })
        : json(jobBody()),
    );
    const c = createAdminClient({
      url: ROOT,
      auth: { type: 'credentials', username: 'admin', password: PASSWORD },
      fetch: fake.fetch,
      now: () => s.clock.now,
    });
    await c.getJob(JOB_ID);
    await c.getJob(JOB_ID);
    expect(fake.seen.filter((r) => r.url.startsWith(TOKEN_URL))).toHaveLength(1);
  });
});

describe('token provider', () => {
  it('asks again with refresh: true after a 498, one refresh for concurrent calls', async () => {
    const calls: boolean[] = [];
    let current = 'page-token-1';
    const fake = fakeFetch((req) =>
      req.headers['x-esri-authorization'] === 'Bearer page-token-2'
        ? json(jobBody())
        : json({ error: { code: 498, message: 'Invalid token.' } }),
    );
    const c = createAdminClient({
      url: ROOT,
      fetch: fake.fetch,
      auth: {
        type: 'provider',
        getToken: async ({ refresh }) => {
          calls.push(refresh);
          if (refresh) current = 'page-token-2';
          return current;
        },
      },
    });
    await Promise.all([c.getJob(JOB_ID), c.getJob(JOB_ID), c.getJob(JOB_ID)]);
    expect(calls.filter((r) => r)).toHaveLength(1);
  });

  it('turns a failing provider into AuthError', async () => {
    const fake = fakeFetch(() => json(jobBody()));
    const c = createAdminClient({
      url: ROOT,
      fetch: fake.fetch,
      auth: {
        type: 'provider',
        getToken: () => {
          throw new Error('identity manager offline');
        },
      },
    });
    await expect(c.getJob(JOB_ID)).rejects.toBeInstanceOf(AuthError);
    expect(fake.seen).toHaveLength(0);
  });

  it.each([
    ['empty', ''],
    ['with a newline (header injection)', 'abc\r\nX-Evil: 1'],
  ])('refuses a provider token that is %s', async (_name, token) => {
    const fake = fakeFetch(() => json(jobBody()));
    const c = createAdminClient({
      url: ROOT,
      fetch: fake.fetch,
      auth: { type: 'provider', getToken: () => token },
    });
    await expect(c.getJob(JOB_ID)).rejects.toBeInstanceOf(AuthError);
    expect(fake.seen).toHaveLength(0);
  });
});

describe('abort while getting a token', () => {
  it('stops waiting for a provider that ignores the signal', async () => {
    const fake = fakeFetch(() => json(jobBody()));
    const c = createAdminClient({
      url: ROOT,
      fetch: fake.fetch,
      auth: { type: 'provider', getToken: () => new Promise<string>(() => undefined) },
    });
    const controller = new AbortController();
    const pending = c.getJob(JOB_ID, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    expect(fake.seen).toHaveLength(0);
  });
});
