import { SchemaError } from '@jobwatch/schema';
import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  ConfigError,
  createAdminClient,
  ErrorCode,
  InvalidJobIdError,
  isJobwatchError,
  isLoopbackHost,
  JobwatchError,
  normalizeAdminUrl,
  RateLimitedError,
  redact,
  TransportError,
  toJobwatchError,
  tokenUrlFor,
  ValidationError,
  withoutCredentials,
} from '../src/index.js';
import { connectionRefused, fakeFetch, JOB_ID, jobBody, json, ROOT } from './fake.js';

const token = { type: 'token', token: 'tok-abcdefghijkl' } as const;

describe('plain http', () => {
  it.each([
    ['a fixed token', token],
    ['a token provider', { type: 'provider', getToken: () => 'x-token' } as const],
    ['credentials', { type: 'credentials', username: 'a', password: 'b' } as const],
  ])('refuses %s over http to a remote host at creation', (_name, auth) => {
    expect(() => createAdminClient({ url: 'http://gis.example.com/arcgis/admin', auth })).toThrow(
      ConfigError,
    );
  });

  it('allows it with allowInsecureHttp, and without any secret', () => {
    expect(() =>
      createAdminClient({
        url: 'http://gis.example.com/arcgis/admin',
        auth: token,
        allowInsecureHttp: true,
      }),
    ).not.toThrow();
    expect(() => createAdminClient({ url: 'http://gis.example.com/arcgis/admin' })).not.toThrow();
  });

  it('refuses a password sent to an http token URL even when the admin URL is https', () => {
    expect(() =>
      createAdminClient({
        url: ROOT,
        auth: {
          type: 'credentials',
          username: 'a',
          password: 'b',
          tokenUrl: 'http://portal.example.com/sharing/rest/generateToken',
        },
      }),
    ).toThrow(/Refusing to send a password over plain http/);
  });

  it.each(['127.0.0.1', '127.8.9.10', 'localhost', '[::1]'])(
    'allows http to loopback %s',
    (host) => {
      expect(() =>
        createAdminClient({ url: `http://${host}:8080/arcgis/admin`, auth: token }),
      ).not.toThrow();
    },
  );

  it.each(['128.0.0.1', '127.0.0.1.evil.com', '10.0.0.1', 'localhost.evil.com', '[::2]'])(
    'does not count %s as loopback',
    (host) => {
      expect(isLoopbackHost(new URL(`http://${host}/`).hostname)).toBe(false);
    },
  );

  // Hosts as written in a listen address, where the daemon's own copy of this check said no.
  it.each([
    'LOCALHOST',
    'Localhost',
    'jobs.localhost',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
  ])('counts %s, as written, as loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each(['::2', '::ffff:10.0.0.1', '::ffff:128.0.0.1', 'fe80::1', '[::1', '127.1', ''])(
    'does not count %s, as written, as loopback',
    (host) => {
      expect(isLoopbackHost(host)).toBe(false);
    },
  );

  // An empty query or fragment is no query: the daemon's own copy used to keep the "?".
  it.each([
    'HTTPS://GIS.Example.com:443/arcgis/admin/',
    'https://gis.example.com/arcgis/admin?',
    'https://gis.example.com/arcgis/admin//#',
  ])('normalizes %s the way every request is built from it', (input) => {
    expect(normalizeAdminUrl(input)).toBe('https://gis.example.com/arcgis/admin');
  });

  it('refuses an admin URL with a query', () => {
    expect(() => normalizeAdminUrl('https://gis.example.com/arcgis/admin?token=x')).toThrow(
      ConfigError,
    );
  });
});

describe('configuration', () => {
  it.each([
    ['not a URL', 'gis.example.com/arcgis/admin'],
    ['another scheme', 'ftp://gis.example.com/arcgis/admin'],
    ['credentials in the URL', 'https://admin:pw@gis.example.com/arcgis/admin'],
    ['a token in the query', 'https://gis.example.com/arcgis/admin?token=abc'],
    ['nothing', ''],
  ])('refuses an admin URL with %s', (_name, url) => {
    const error = (() => {
      try {
        createAdminClient({ url });
      } catch (e) {
        return e;
      }
    })() as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).not.toContain('pw@');
    expect(error.message).not.toContain('abc');
  });

  it('normalizes the admin URL and derives the token URL', () => {
    expect(createAdminClient({ url: 'https://GIS.example.com/arcgis/admin/' }).url).toBe(
      'https://gis.example.com/arcgis/admin',
    );
    expect(tokenUrlFor('https://gis.example.com/portal/admin')).toBe(
      'https://gis.example.com/portal/sharing/rest/generateToken',
    );
    expect(() => tokenUrlFor('https://gis.example.com/arcgis/rest')).toThrow(ConfigError);
  });

  it.each([
    ['empty token', { auth: { type: 'token', token: '' } }],
    ['token with a newline', { auth: { type: 'token', token: 'a\nb' } }],
    [
      'credentials without a password',
      { auth: { type: 'credentials', username: 'a', password: '' } },
    ],
    [
      'token expiration',
      { auth: { type: 'credentials', username: 'a', password: 'b', expiration: 0 } },
    ],
    ['auth type', { auth: { type: 'cookie' } }],
    ['timeout', { timeout: 0 }],
    ['timeout', { timeout: Number.NaN }],
    ['tokenTransport', { tokenTransport: 'cookie' }],
    ['retry', { retry: { attempts: -1 } }],
  ])('refuses a bad %s', (_name, extra) => {
    expect(() => createAdminClient({ url: ROOT, ...(extra as object) })).toThrow(ConfigError);
  });
});

describe('job ids are validated before any URL is built', () => {
  it.each([
    ['a parent path', '../services'],
    ['a slash', 'j1/../../services'],
    ['a query', 'j1?token=x'],
    ['a fragment', 'j1#x'],
    ['an encoded dot', '%2e%2e'],
    ['whitespace', 'j1 j2'],
    ['a control character', 'j1\u0000'],
    ['nothing', ''],
    ['a very long id', `j${'a'.repeat(200)}`],
    ['not a string', 42 as unknown as string],
  ])('refuses %s as InvalidJobIdError with no request made', async (_name, id) => {
    const fake = fakeFetch(() => json(jobBody()));
    const c = createAdminClient({ url: ROOT, auth: token, fetch: fake.fetch });
    const error = (await c.getJob(id).catch((e: unknown) => e)) as InvalidJobIdError;
    expect(error).toBeInstanceOf(InvalidJobIdError);
    expect(error.code).toBe('INVALID_JOB_ID');
    expect(error.message.split('\n')).toHaveLength(1);
    expect(fake.seen).toHaveLength(0);
  });

  it('says which id and what was wrong', async () => {
    const c = createAdminClient({ url: ROOT });
    await expect(c.getJob('j1?x')).rejects.toThrow(
      'Invalid job id "j1?x": expected a job id of letters, digits, "-" and "_" only; pass the id exactly as ArcGIS returned it',
    );
  });
});

describe('getJobByUrl', () => {
  it('GETs a jobsUrl on the admin URL, with f=json and the header token, ignoring its query', async () => {
    const fake = fakeFetch(() => json(jobBody()));
    const c = createAdminClient({ url: ROOT, auth: token, fetch: fake.fetch });
    await c.getJobByUrl(`${ROOT}/jobs/${JOB_ID}?token=leaked`);
    expect(fake.seen[0]?.url).toBe(`${ROOT}/jobs/${JOB_ID}?f=json`);
  });

  it.each([
    ['another host', `https://evil.example.com/arcgis/admin/jobs/${JOB_ID}`],
    ['another port', `https://gis.example.com:8443/arcgis/admin/jobs/${JOB_ID}`],
    ['another scheme', `http://gis.example.com/arcgis/admin/jobs/${JOB_ID}`],
    ['another context', `https://gis.example.com/other/admin/jobs/${JOB_ID}`],
    ['a path outside jobs', `${ROOT}/services/Hydrants.MapServer`],
    ['a nested path', `${ROOT}/jobs/${JOB_ID}/extra`],
    ['a relative URL', `/arcgis/admin/jobs/${JOB_ID}`],
    ['user info', `https://x:y@gis.example.com/arcgis/admin/jobs/${JOB_ID}`],
  ])('refuses %s with ConfigError and no request', async (_name, url) => {
    const fake = fakeFetch(() => json(jobBody()));
    const c = createAdminClient({ url: ROOT, auth: token, fetch: fake.fetch });
    await expect(c.getJobByUrl(url)).rejects.toBeInstanceOf(ConfigError);
    expect(fake.seen).toHaveLength(0);
  });

  it('refuses an unsafe id in an otherwise good jobsUrl as InvalidJobIdError', async () => {
    const fake = fakeFetch(() => json(jobBody()));
    const c = createAdminClient({ url: ROOT, auth: token, fetch: fake.fetch });
    await expect(c.getJobByUrl(`${ROOT}/jobs/j1%3Fx%3Dy`)).rejects.toBeInstanceOf(
      InvalidJobIdError,
    );
    expect(fake.seen).toHaveLength(0);
  });
});

describe('toJobwatchError', () => {
  it('passes jobwatch errors through', () => {
    const e = new ConfigError('x');
    expect(toJobwatchError(e)).toBe(e);
  });

  it.each([
    [
      'a DOMException AbortError',
      new DOMException('aborted', 'AbortError'),
      AbortedError,
      'ABORTED',
    ],
    [
      'a DOMException TimeoutError',
      new DOMException('timed out', 'TimeoutError'),
      TransportError,
      'TRANSPORT',
    ],
    ['a fetch TypeError', connectionRefused(), TransportError, 'TRANSPORT'],
    [
      'a SchemaError',
      new SchemaError('job', [
        { pointer: '/status', path: 'job.status', expected: 'a string', found: '42' },
      ]),
      ValidationError,
      'SCHEMA',
    ],
    [
      'a job id SchemaError',
      new SchemaError('jobId', [], 'INVALID_JOB_ID'),
      InvalidJobIdError,
      'INVALID_JOB_ID',
    ],
    ['a string', 'boom', TransportError, 'TRANSPORT'],
    ['undefined', undefined, TransportError, 'TRANSPORT'],
  ])('turns %s into the right class', (_name, input, type, code) => {
    const e = toJobwatchError(input);
    expect(e).toBeInstanceOf(type);
    expect(e).toBeInstanceOf(JobwatchError);
    expect(e.code).toBe(code);
    expect(e.message.split('\n')).toHaveLength(1);
  });

  it('marks a refused connection as failed before sending', () => {
    expect((toJobwatchError(connectionRefused()) as TransportError).reason).toBe('connect');
  });

  it("reads ky's HTTPError and TimeoutError without keeping their Request (it holds the token)", () => {
    const request = new Request(ROOT, { headers: { authorization: 'Bearer tok-abcdefghijkl' } });
    const http = Object.assign(new Error('Request failed'), {
      name: 'HTTPError',
      request,
      response: { status: 429 },
    });
    const e1 = toJobwatchError(http);
    expect(e1).toBeInstanceOf(RateLimitedError);
    expect(e1.cause).toBeUndefined();
    const timeout = Object.assign(new Error(`Request timed out: GET ${ROOT}?token=abc`), {
      name: 'TimeoutError',
      request,
    });
    const e2 = toJobwatchError(timeout);
    expect(e2).toBeInstanceOf(TransportError);
    expect(e2.message).not.toContain('token=abc');
    expect(e2.cause).toBeUndefined();
  });

  it('keeps secrets out of messages built from foreign errors', () => {
    const e = toJobwatchError(new Error('failed at https://h/x?token=abcdef123456'));
    expect(e.message).not.toContain('abcdef123456');
  });

  it('recognises jobwatch errors from another copy of the package', () => {
    const foreign = Object.assign(new Error('x'), { code: ErrorCode.AUTH, retryable: false });
    expect(isJobwatchError(foreign)).toBe(true);
    expect(isJobwatchError({ code: 'AUTH' })).toBe(false);
    expect(isJobwatchError(new SchemaError('jobId', [], 'INVALID_JOB_ID'))).toBe(false);
    expect(isJobwatchError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
  });
});

describe('redact', () => {
  it('removes known secrets, token-shaped values and bearer credentials', () => {
    const out = redact(
      `a token=abc123 "password": "pw" Bearer zzz ${'k'.repeat(60)} secret-value`,
      ['secret-value'],
    );
    expect(out).toBe(
      'a token=[redacted] "password": "[redacted]" Bearer [redacted] [redacted] [redacted]',
    );
  });

  it('keeps job ids', () => {
    expect(redact(`job ${JOB_ID}`)).toBe(`job ${JOB_ID}`);
  });
});

describe('URLs are never shown with their credentials', () => {
  const cases = [
    // Each fails to parse, so it used to be echoed as given.
    'https://admin:hunter2@gis example.com/arcgis/admin',
    'https://admin:hun/ter2@gis.example.com/arcgis/admin',
    'https://admin:hunter2 pass@gis.example.com/arcgis/admin',
    'admin:hunter2@',
  ];
  it.each(cases)('a URL that does not parse: %s', (url) => {
    let message = '';
    try {
      createAdminClient({ url, auth: token });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/URL/);
    expect(message).not.toMatch(/hunter2|hun\/ter2|pass@/);
  });

  it('withoutCredentials keeps the rest of the URL, parsed or not', () => {
    expect(withoutCredentials('https://u:p4ss@gis.example.com/arcgis/admin')).toBe(
      'https://gis.example.com/arcgis/admin',
    );
    expect(withoutCredentials('https://u:p4ss@gis example.com/x')).toBe(
      'https://[redacted]@gis example.com/x',
    );
    expect(withoutCredentials('https://gis.example.com/arcgis/admin')).toBe(
      'https://gis.example.com/arcgis/admin',
    );
    expect(redact('see https://u:p4ss@h/x and more')).toBe('see https://[redacted]@h/x and more');
  });
});
