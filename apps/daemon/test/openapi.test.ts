/**
 * The OpenAPI 3.1 document: served at GET /api/openapi.json, valid by a well-kept validator,
 * shipped in the package, and true to the server both ways — every route it lists answers,
 * and every route that answers is listed.
 */
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { type RunningServer, startServer } from '../src/serve.js';
import { tempDir } from './helpers.js';

let sim: Simulator;
let server: RunningServer;
let t: ReturnType<typeof tempDir>;
let doc: OpenAPIV3_1.Document;
const KEY = 'k'.repeat(32);
const auth = { authorization: `Bearer ${KEY}` };

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', seed: 14 });
  t = tempDir();
  const file = t.file(
    'config.json',
    JSON.stringify({
      listen: '127.0.0.1:0',
      dataDir: `${t.dir}/data`,
      apiKeys: [KEY],
      deployments: [{ name: 'a', url: sim.adminUrl, tokenEnv: 'TOKEN' }],
    }),
  );
  const config = resolveServeConfig(
    { config: file },
    { TOKEN: sim.issueToken('admin', 3_600_000) },
  );
  server = await startServer({ config, logger: createLogger({ level: 'silent' }) });
  const res = await fetch(`${server.url}/api/openapi.json`, { headers: auth });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = (await res.json()) as OpenAPIV3_1.Document;
});

afterAll(async () => {
  await server?.close();
  await sim?.close();
  t?.cleanup();
});

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Whether the server has a route for `method path`: anything but `NOT_FOUND` or 405. */
async function answers(method: string, path: string): Promise<boolean> {
  const abort = new AbortController();
  const res = await fetch(`${server.url}${path}`, {
    method: method.toUpperCase(),
    headers: { ...auth, 'content-type': 'application/json' },
    ...(method === 'get' || method === 'delete' ? {} : { body: '{"jobid":"jopenapi1"}' }),
    signal: abort.signal,
  });
  // The event stream stays open: its headers are all this needs.
  const stream = res.headers.get('content-type')?.startsWith('text/event-stream') === true;
  if (stream) abort.abort();
  const text = stream ? '' : await res.text();
  if (res.status === 405) return false;
  if (res.status !== 404) return true;
  return (JSON.parse(text) as { error: { code: string } }).error.code !== 'NOT_FOUND';
}

/** A concrete path for a template: the one deployment, a job id. */
const concrete = (template: string) =>
  template.replace('{deployment}', 'a').replace('{jobid}', 'jopenapi1');

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('describes the event stream and each of its event types', () => {
    const events = doc.paths?.['/api/events']?.get as Record<string, unknown> | undefined;
    expect(Object.keys(events?.['x-events'] as object).sort()).toEqual(
      ['end', 'ping', 'ready', 'resync', 'snapshot', 'watch_failed'].sort(),
    );
    expect(doc.components?.schemas).toHaveProperty('WatchFailure');
    expect(doc.components?.schemas).toHaveProperty('DaemonReadyData');
  });

  it('describes the three bodies of POST /api/jobs: a job id, a job URL, a reference of any source', () => {
    const post = doc.paths?.['/api/jobs']?.post as OpenAPIV3_1.OperationObject;
    const body = post.requestBody as OpenAPIV3_1.RequestBodyObject;
    expect(body.content['application/json']?.schema).toEqual({
      oneOf: [
        { $ref: '#/components/schemas/WatchRequest' },
        { $ref: '#/components/schemas/WatchUrlRequest' },
        { $ref: '#/components/schemas/WatchRefRequest' },
      ],
    });
    const schemas = doc.components?.schemas as Record<string, { required?: string[] }>;
    expect(schemas.WatchUrlRequest?.required).toEqual(['url']);
    expect(schemas.WatchRefRequest?.required).toEqual(['ref']);
    const sources = JSON.stringify(schemas.WatchRefRequest).match(/"const":"(\w+)"/g);
    expect(sources).toEqual([
      '"const":"enterprise"',
      '"const":"server"',
      '"const":"gp"',
      '"const":"item"',
    ]);
    expect(Object.keys(post.responses ?? {})).toEqual(expect.arrayContaining(['409', '422']));
    expect(JSON.stringify(schemas.JobView)).toContain('"source"');
  });

  it('is shipped in the package as the server serves it', () => {
    const shipped = JSON.parse(
      readFileSync(new URL('../dist/openapi.json', import.meta.url), 'utf8'),
    ) as unknown;
    expect(shipped).toEqual(doc);
  });

  it('lists every route the server answers, and the server answers every route it lists', async () => {
    const templates = Object.keys(doc.paths ?? {});
    // Paths near the real ones, which the server must not answer.
    const near = [
      '/api',
      '/api/nope',
      '/api/job',
      '/api/events/more',
      '/api/tickets/x',
      '/api/deployments/a',
      '/api/deployments/a/jobs/jopenapi1/more',
      '/api/jobs/jopenapi1/more',
      '/api/openapi',
      '/api/models/x',
      '/healthz',
    ];
    const listed: string[] = [];
    const answered: string[] = [];
    for (const template of [...templates, ...near]) {
      const item = (doc.paths?.[template] ?? {}) as Record<string, unknown>;
      // The probes and /metrics answer any method, as they always have; GET is the one
      // listed (and the one load balancers and Prometheus send).
      for (const method of template.startsWith('/api') ? METHODS : (['get'] as const)) {
        const route = `${method.toUpperCase()} ${template}`;
        if (item[method]) listed.push(route);
        if (await answers(method, concrete(template))) answered.push(route);
      }
    }
    expect(answered.sort()).toEqual(listed.sort());
    expect(listed.length).toBeGreaterThanOrEqual(16);
  });
});

describe('POST /api/jobs reads its body with the protocol schema', () => {
  const post = async (body: string) => {
    const res = await fetch(`${server.url}/api/jobs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body,
    });
    return {
      status: res.status,
      ...((await res.json()) as { error?: { code: string; message: string } }),
    };
  };

  it.each([
    ['an array', '[]', 'BAD_REQUEST'],
    ['a string', '"jx"', 'BAD_REQUEST'],
    ['a deployment that is not a string', '{"jobid":"jx1","deployment":42}', 'BAD_REQUEST'],
    ['no job id', '{}', 'INVALID_JOB_ID'],
    ['a job id that could change a URL', '{"jobid":"../x"}', 'INVALID_JOB_ID'],
    ['a job id that is a number', '{"jobid":7}', 'INVALID_JOB_ID'],
  ])('refuses %s with 400 and a code, naming the field', async (_name, body, code) => {
    const answer = await post(body);
    expect(answer.status).toBe(400);
    expect(answer.error?.code).toBe(code);
    expect(answer.error?.message).toMatch(/^body/);
  });

  it('watches a job named by a valid body, other fields ignored', async () => {
    const answer = await post('{"jobid":"jbody1","deployment":"a","note":"kept out"}');
    expect(answer.status).toBe(201);
    expect(answer).toMatchObject({ deployment: 'a', jobid: 'jbody1', state: 'watching' });
  });
});
