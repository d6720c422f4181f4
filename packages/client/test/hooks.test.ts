import { describe, expect, it } from 'vitest';
import {
  AuthError,
  ConfigError,
  createAdminClient,
  JobNotFoundError,
  type RequestErrorInfo,
  type RequestInfo,
  type ResponseInfo,
  TransportError,
  ValidationError,
} from '../src/index.js';
import { fakeFetch, JOB_ID, jobBody, json, ROOT, TOKEN_URL } from './fake.js';

const PASSWORD = 'pw-hunter2-secret';
const TOKEN = 'tok-abcdefghijklmnop';

type Told =
  | { readonly hook: 'onRequest'; readonly info: RequestInfo }
  | { readonly hook: 'onResponse'; readonly info: ResponseInfo }
  | { readonly hook: 'onError'; readonly info: RequestErrorInfo };

function observed(handler: Parameters<typeof fakeFetch>[0], extra: object = {}) {
  const told: Told[] = [];
  const fake = fakeFetch(handler);
  const client = createAdminClient({
    url: ROOT,
    auth: { type: 'token', token: TOKEN },
    fetch: fake.fetch,
    retry: { attempts: 3, baseDelay: 0, sleep: async () => undefined },
    hooks: {
      onRequest: (info) => told.push({ hook: 'onRequest', info }),
      onResponse: (info) => told.push({ hook: 'onResponse', info }),
      onError: (info) => told.push({ hook: 'onError', info }),
    },
    ...extra,
  });
  return { client, told, seen: fake.seen };
}

describe('hooks', () => {
  it('tell each call once as it starts and once as it ends, with the status, attempts and time', async () => {
    const { client, told } = observed((_req, n) =>
      n === 1 ? new Response('busy', { status: 503 }) : json(jobBody()),
    );
    await client.getJob(JOB_ID);
    expect(told.map((t) => t.hook)).toEqual(['onRequest', 'onResponse']);
    expect(told[0]?.info).toEqual({
      operation: 'getJob',
      method: 'GET',
      url: `${ROOT}/jobs/${JOB_ID}`,
    });
    const end = told[1]?.info as ResponseInfo;
    expect(end).toMatchObject({ operation: 'getJob', status: 200, attempts: 2 });
    expect(end.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('tell the error a call rejects with, the last status and the operation', async () => {
    const { client, told } = observed(() =>
      json({ error: { code: 404, message: 'Job not found', details: [] } }),
    );
    const thrown = await client.readJob(JOB_ID).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(JobNotFoundError);
    const end = told.at(-1);
    expect(end?.hook).toBe('onError');
    expect(end?.info).toMatchObject({
      operation: 'readJob',
      status: 200,
      attempts: 1,
      error: thrown,
    });
  });

  it('count a body that fails validation as an error of the call', async () => {
    const { client, told } = observed(() => json(jobBody('jsomeoneelse')));
    await expect(client.getJob(JOB_ID)).rejects.toBeInstanceOf(ValidationError);
    const end = told.at(-1);
    expect(end?.hook).toBe('onError');
    expect(end?.hook === 'onError' && end.info.error).toBeInstanceOf(ValidationError);
  });

  it('give no status when no answer came', async () => {
    const { client, told } = observed(() => {
      throw new TypeError('fetch failed');
    });
    await expect(client.listJobs({ retry: false })).rejects.toBeInstanceOf(TransportError);
    expect(told.at(-1)?.info).toMatchObject({
      operation: 'listJobs',
      status: undefined,
      attempts: 1,
    });
  });

  it('name each operation, POSTs and the token request included, and never carry a secret', async () => {
    const { client, told } = observed(
      (req) =>
        req.url.startsWith(TOKEN_URL)
          ? json({ token: TOKEN, expires: Date.now() + 3_600_000 })
          : json({ status: 'success' }),
      { auth: { type: 'credentials', username: 'admin', password: PASSWORD } },
    );
    await client.stopService('Hydrants.MapServer');
    expect(told.map((t) => `${t.hook} ${t.info.operation} ${t.info.method}`)).toEqual([
      'onRequest stopService POST',
      'onRequest generateToken POST',
      'onResponse generateToken POST',
      'onResponse stopService POST',
    ]);
    const text = JSON.stringify(told);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('?');
  });

  it('keep a failed token request out of what the error says and tell it as the call failing', async () => {
    const { client, told } = observed(
      () => json({ error: { code: 400, message: 'Invalid username or password.', details: [] } }),
      { auth: { type: 'credentials', username: 'admin', password: PASSWORD } },
    );
    await expect(client.getJob(JOB_ID)).rejects.toBeInstanceOf(AuthError);
    expect(told.map((t) => `${t.hook} ${t.info.operation}`)).toEqual([
      'onRequest getJob',
      'onRequest generateToken',
      'onError generateToken',
      'onError getJob',
    ]);
    expect(JSON.stringify(told)).not.toContain(PASSWORD);
  });

  it('never cost a call when a hook throws', async () => {
    const fake = fakeFetch(() => json(jobBody()));
    const client = createAdminClient({
      url: ROOT,
      fetch: fake.fetch,
      hooks: {
        onRequest: () => {
          throw new Error('listener bug');
        },
        onResponse: () => {
          throw new Error('listener bug');
        },
      },
    });
    await expect(client.getJob(JOB_ID)).resolves.toMatchObject({ status: 'EXECUTING' });
  });

  it('refuse hooks that are not functions', () => {
    expect(() =>
      createAdminClient({ url: ROOT, hooks: { onResponse: 'log' as unknown as () => void } }),
    ).toThrow(ConfigError);
    expect(() => createAdminClient({ url: ROOT, hooks: 42 as never })).toThrow(
      /hooks must be an object/,
    );
  });
});
