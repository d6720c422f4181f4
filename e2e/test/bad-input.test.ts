/**
 * Bad input across the stack (issue 8): property tests (fast-check, bounded runs) over the
 * CLI's arguments, the daemon's API and configuration, and the client facing random server
 * garbage — nothing but documented typed errors, no unhandled rejection, no crash — and
 * hostile job ids through every entry point.
 *
 * Every property prints its seed on failure; replay one with `JOBWATCH_BAD_INPUT_SEED=<seed>`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortedError,
  ArcGISError,
  AuthError,
  ConfigError,
  createAdminClient,
  ErrorCode,
  InvalidJobIdError,
  isJobwatchError,
  JobNotFoundError,
  RateLimitedError,
  TransportError,
  ValidationError,
} from '@jobwatch/client';
import { ApiErrorCode, isDaemonError, resolveServeConfig } from '@jobwatch/daemon';
import { fromDaemon, waitForJob, watchJob } from '@jobwatch/rx';
import { isJobId, parseJobId } from '@jobwatch/schema';
import { type Simulator, startSimulator } from '@jobwatch/simulator';
import { DAEMON_MAIN, DaemonProcess, freePort, seedFrom } from '@jobwatch/test-utils';
import fc from 'fast-check';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SEED = seedFrom(process.env, 'JOBWATCH_BAD_INPUT_SEED');
const API_KEY = 'bad-input-key-0123456789abcdef';
const TOKEN = 'garbage-test-token-7f3a9c1e5b';
const PASSWORD = 'garbage-test-password-c0ffee';
const documentedExitCodes = [0, 1, 2, 3, 4, 5];
const apiCodes = new Set<string>(Object.values(ApiErrorCode));
const clientErrorClasses = [
  TransportError,
  RateLimitedError,
  AuthError,
  ArcGISError,
  JobNotFoundError,
  InvalidJobIdError,
  ValidationError,
  AbortedError,
  ConfigError,
];
const clientCodes = new Set<string>(Object.values(ErrorCode));

/** Ids that could change a URL, or are not ids at all. */
const HOSTILE_IDS = [
  '../x',
  'a/b',
  '%2e%2e',
  'j?x=1',
  '#',
  'j#frag',
  'j 1',
  ' j1',
  'j1\t',
  'j\n1',
  'j\u0001',
  'j\u007f',
  'j'.repeat(129),
  '',
  'jé',
  '日本',
  'j\u202e1',
  '..',
  '.',
  'a\\b',
];

const params = (name: string) => ({
  seed: SEED ^ [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7),
  verbose: 1 as const,
});

interface CliRun {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI with exactly `env` (plus PATH), killing it after `timeoutMs`. */
function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 15_000,
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DAEMON_MAIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const STACK_LINE = /^\s+at\s.+(:\d+:\d+\)?|\(native\)|\(<anonymous>\))$/m;

/** What a failing CLI run must print: a clear message first, never a stack trace. */
function clearFailure(run: CliRun): string | undefined {
  const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
  if (STACK_LINE.test(run.stderr)) return `stack trace on stderr: ${run.stderr.slice(0, 300)}`;
  if (/^(\w*Error|Uncaught|node:internal)/m.test(run.stderr))
    return `raw error on stderr: ${run.stderr.slice(0, 300)}`;
  const first = lines[0] ?? '';
  if (first.startsWith('Usage:')) return undefined; // commander's help, on a bare command
  if (!/^(jobwatch|error): \S/.test(first)) return `unclear first line: ${JSON.stringify(first)}`;
  // The message itself, plus at most commander's "(run jobwatch --help for usage)" hint.
  if (lines.length > 2 || (lines.length === 2 && !lines[1]?.startsWith('(run jobwatch')))
    return `more than one message line: ${JSON.stringify(run.stderr.slice(0, 300))}`;
  return undefined;
}

/** Every own field of an error, as text, to look for secrets in. */
function errorText(error: unknown): string {
  const seen = new Set<unknown>();
  const walk = (value: unknown, depth: number): string => {
    if (depth > 4 || value === null || value === undefined) return String(value);
    if (typeof value !== 'object') return String(value);
    if (seen.has(value)) return '';
    seen.add(value);
    const parts: string[] = [];
    if (value instanceof Error) parts.push(value.message, value.stack ?? '');
    for (const key of Object.getOwnPropertyNames(value))
      parts.push(key, walk((value as Record<string, unknown>)[key], depth + 1));
    return parts.join(' ');
  };
  return walk(error, 0);
}

describe('bad input across the stack', () => {
  let sim: Simulator;
  let daemon: DaemonProcess;
  let dir: string;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  const auth = { authorization: `Bearer ${API_KEY}` };

  beforeAll(async () => {
    console.log(
      `bad-input seed ${SEED} (replay with JOBWATCH_BAD_INPUT_SEED=${SEED} pnpm --filter jobwatch-e2e test bad-input)`,
    );
    process.on('unhandledRejection', onRejection);
    sim = await startSimulator({ seed: SEED, clock: 'manual' });
    dir = mkdtempSync(join(tmpdir(), 'jobwatch-bad-input-'));
    const port = await freePort();
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        listen: `127.0.0.1:${port}`,
        dataDir: join(dir, 'data'),
        apiKeys: [API_KEY],
        deployments: [{ name: 'sim', url: sim.adminUrl, tokenEnv: 'SIM_TOKEN' }],
      }),
    );
    daemon = new DaemonProcess({
      args: ['serve', '--config', configFile],
      env: { SIM_TOKEN: sim.issueToken('admin', 86_400_000) },
      url: `http://127.0.0.1:${port}`,
    });
    await daemon.start();
  });

  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    if (daemon?.pid !== undefined) await daemon.stop('SIGTERM');
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The simulator's request count for job routes, to prove nothing was sent. */
  const jobRequests = () => {
    const s = sim.stats();
    return (s.byRoute.job ?? 0) + (s.byRoute.jobsList ?? 0);
  };

  describe('hostile job ids through every entry point', () => {
    it('are refused by parseJobId, isJobId, client.getJob, watchJob and waitForJob before any request', async () => {
      const client = createAdminClient({
        url: sim.adminUrl,
        auth: { type: 'token', token: TOKEN },
      });
      const before = jobRequests();
      for (const id of HOSTILE_IDS) {
        expect(isJobId(id), JSON.stringify(id)).toBe(false);
        expect(() => parseJobId(id)).toThrow();
        await expect(client.getJob(id), JSON.stringify(id)).rejects.toBeInstanceOf(
          InvalidJobIdError,
        );
        await expect(firstValueFrom(watchJob(client, id))).rejects.toMatchObject({
          code: 'INVALID_JOB_ID',
        });
        await expect(waitForJob(client, id)).rejects.toMatchObject({ code: 'INVALID_JOB_ID' });
      }
      expect(jobRequests()).toBe(before);
    });

    it('any string: schema, client and daemon agree on what a job id is', async () => {
      const client = createAdminClient({
        url: sim.adminUrl,
        auth: { type: 'token', token: sim.issueToken('admin', 86_400_000) },
      });
      const idArb = fc.oneof(
        fc.string({ maxLength: 140 }),
        fc.stringMatching(/^j[0-9a-f]{32}$/),
        fc.uuid().map((u) => `j${u}`),
        fc.constantFrom(...HOSTILE_IDS),
      );
      await fc.assert(
        fc.asyncProperty(idArb, async (id) => {
          const valid = isJobId(id);
          const before = jobRequests();
          const error = await client.getJob(id).then(
            () => undefined,
            (e: unknown) => e,
          );
          if (valid) {
            // A well-formed id is asked for, and the simulator does not know it.
            expect(error, JSON.stringify(id)).toBeInstanceOf(JobNotFoundError);
            expect(jobRequests()).toBeGreaterThan(before);
          } else {
            expect(error, JSON.stringify(id)).toBeInstanceOf(InvalidJobIdError);
            expect(jobRequests()).toBe(before);
            const res = await fetch(`${daemon.url}/api/jobs`, {
              method: 'POST',
              headers: { ...auth, 'content-type': 'application/json' },
              body: JSON.stringify({ jobid: id }),
            });
            expect(res.status, JSON.stringify(id)).toBe(400);
            expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
              'INVALID_JOB_ID',
            );
          }
        }),
        { ...params('jobid'), numRuns: 150 },
      );
    });

    it('make `jobwatch wait` exit 2 with a one-line message, sending nothing', async () => {
      const before = jobRequests();
      // A NUL cannot travel in argv at all; every other hostile id is tried.
      const results = await Promise.all(
        HOSTILE_IDS.map((id) =>
          runCli(['wait', id, '--url', sim.adminUrl], { JOBWATCH_TOKEN: TOKEN }).then((run) => ({
            id,
            run,
          })),
        ),
      );
      for (const { id, run } of results) {
        // An id starting with "-" would be an option; none of these does.
        expect(run.code, `${JSON.stringify(id)}: ${run.stderr}`).toBe(2);
        expect(clearFailure(run), JSON.stringify(id)).toBeUndefined();
        expect(run.stderr).not.toContain(TOKEN);
      }
      expect(jobRequests()).toBe(before);
    });

    it('get 4xx JSON errors from the daemon: POST /api/jobs, GET and DELETE /api/jobs/:id, the event stream filter', async () => {
      for (const id of HOSTILE_IDS) {
        const posted = await fetch(`${daemon.url}/api/jobs`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ jobid: id }),
        });
        expect(posted.status, `POST ${JSON.stringify(id)}`).toBe(400);
        expect(((await posted.json()) as { error: { code: string } }).error.code).toBe(
          'INVALID_JOB_ID',
        );
        for (const method of ['GET', 'DELETE']) {
          const res = await fetch(`${daemon.url}/api/jobs/${encodeURIComponent(id)}`, {
            method,
            headers: auth,
          });
          const body = (await res.json()) as { error?: { code: string } };
          // "." and ".." are path segments a URL resolves away: those reach another route.
          expect(res.status, `${method} ${JSON.stringify(id)}`).toBeOneOf(
            id === '' || id === '.' || id === '..' ? [200, 400, 404, 405] : [400],
          );
          if (res.status >= 400) expect(apiCodes.has(String(body.error?.code))).toBe(true);
        }
        const events = await fetch(`${daemon.url}/api/events?jobid=${encodeURIComponent(id)}`, {
          headers: auth,
        });
        expect(events.status, `events ?jobid=${JSON.stringify(id)}`).toBe(400);
        expect(((await events.json()) as { error: { code: string } }).error.code).toBe(
          'INVALID_JOB_ID',
        );
      }
      const list = (await (await fetch(`${daemon.url}/api/jobs`, { headers: auth })).json()) as {
        jobs: unknown[];
      };
      expect(list.jobs).toEqual([]);
    });

    it('end fromDaemon with a typed error, not a hang', async () => {
      for (const id of ['../x', 'j?x=1', 'j 1']) {
        const error = await firstValueFrom(
          fromDaemon(daemon.url, { jobid: id, headers: auth, reconnectDelay: 50 }),
        ).catch((e: unknown) => e);
        expect(isJobwatchError(error), `${JSON.stringify(id)}: ${String(error)}`).toBe(true);
      }
    });

    it('are answered by the simulator without a crash', async () => {
      const token = sim.issueToken();
      for (const id of HOSTILE_IDS) {
        const res = await fetch(`${sim.adminUrl}/jobs/${encodeURIComponent(id)}?f=json`, {
          headers: { 'x-esri-authorization': `Bearer ${token}` },
        });
        expect(res.status, JSON.stringify(id)).toBeLessThan(500);
        await res.arrayBuffer();
        const purge = await fetch(`${sim.url}/__sim/jobs/${encodeURIComponent(id)}`, {
          method: 'DELETE',
        });
        expect(purge.status, `purge ${JSON.stringify(id)}`).toBeLessThan(500);
        await purge.arrayBuffer();
      }
      const id = sim.createJob({ outcome: 'COMPLETED', durationMs: 1000 });
      const ok = await fetch(`${sim.adminUrl}/jobs/${id}?f=json`, {
        headers: { 'x-esri-authorization': `Bearer ${token}` },
      });
      expect(((await ok.json()) as { jobid: string }).jobid).toBe(id);
    });
  });

  describe('the CLI facing random arguments', () => {
    it('has an output check that catches stack traces, raw errors and extra lines', () => {
      const run = (stderr: string): CliRun => ({ code: 2, signal: null, stdout: '', stderr });
      expect(clearFailure(run('jobwatch: --url: bad\n'))).toBeUndefined();
      expect(
        clearFailure(run("error: unknown option '-x'\n(run jobwatch --help for usage)\n")),
      ).toBeUndefined();
      expect(clearFailure(run('jobwatch: boom\n    at main (file:///x/main.js:3:9)\n'))).toMatch(
        /stack/,
      );
      expect(clearFailure(run('TypeError: x is not a function\n'))).toMatch(/raw error/);
      expect(clearFailure(run('jobwatch: one\njobwatch: two\n'))).toMatch(/more than one/);
      expect(clearFailure(run(''))).toMatch(/unclear/);
    });

    const word = fc.oneof(
      fc.constantFrom(
        'wait',
        'watch',
        'serve',
        'help',
        '--help',
        '-h',
        '--version',
        '--json',
        '--discover',
        '--timeout',
        '--url',
        '--token',
        '--username',
        '--password-file',
        '--token-url',
        '--config',
        '--deployment',
        '--listen',
        '--data-dir',
        '--log-level',
        '--',
        '-x',
        '--timeout=5',
      ),
      fc.constantFrom(
        '90',
        '90s',
        '-1s',
        '1h30m',
        '0ms',
        'http://',
        'ftp://h/arcgis/admin',
        'http://u:p@h/arcgis/admin',
        'https://h/arcgis/admin?x=1',
        '/nonexistent/file',
        'j1',
        '../x',
        '',
      ),
      fc.string({ maxLength: 12 }).filter((s) => !s.includes('\u0000')),
    );

    it('always exits with a documented code and, on failure, one clear line and no stack trace', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(word, { maxLength: 6 }), async (argv) => {
          const run = await runCli(argv);
          expect(run.signal, `${JSON.stringify(argv)} did not exit`).toBeNull();
          expect(documentedExitCodes, JSON.stringify(argv)).toContain(run.code);
          if (run.code !== 0) expect(clearFailure(run), `${JSON.stringify(argv)}`).toBeUndefined();
        }),
        { ...params('cli'), numRuns: 12 },
      );
    });
  });

  describe("the daemon's configuration", () => {
    const base = () => ({
      listen: '127.0.0.1:0',
      dataDir: '/nonexistent/jobwatch-data',
      apiKeys: ['k'.repeat(20)],
      logLevel: 'info',
      deployments: [
        {
          name: 'd1',
          url: 'http://127.0.0.1:9/arcgis/admin',
          token: 't',
          discover: false,
          listInterval: '30s',
          budget: { concurrency: 4, rate: 10 },
          pacing: { minInterval: '1s', maxInterval: '10s' },
        },
      ],
      webhooks: [
        { url: 'http://127.0.0.1:9/hook', secret: 's3cr3t-s3cr3t-s3cr3t', events: ['terminal'] },
      ],
      events: { retention: '1h', maxEvents: 100, heartbeat: '15s' },
      webhookRetry: { base: '1s', max: '1m', giveUpAfter: '1h' },
    });
    const notString = fc.oneof(
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.integer(), { maxLength: 2 }),
      fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
    );
    const notDuration = fc.oneof(
      notString,
      fc.constantFrom('', 'soon', '90', '-5s', '1 hour', 'NaNms'),
    );
    const known = new Set(Object.keys(base()));
    const unknownKey = fc
      .stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,11}$/)
      .filter((k) => !known.has(k) && !['name', 'url', 'token'].includes(k));
    type Mutation = { path: (string | number)[]; value: unknown; named: string };
    const mutation: fc.Arbitrary<Mutation> = fc.oneof(
      notString.map((value) => ({ path: ['listen'], value, named: 'listen' })),
      fc
        .constantFrom('nohost', '1.2.3.4:99999', 'a:b:c')
        .map((value) => ({ path: ['listen'], value, named: 'listen' })),
      fc.oneof(notString, fc.constant('')).map((value) => ({
        path: ['dataDir'],
        value,
        named: 'dataDir',
      })),
      fc
        .string({ maxLength: 15 })
        .map((k) => ({ path: ['apiKeys', 0], value: k, named: 'apiKeys' })),
      notString
        .filter((v) => !Array.isArray(v))
        .map((value) => ({ path: ['apiKeys'], value, named: 'apiKeys' })),
      fc.oneof(notString, fc.constantFrom('', 'a b', 'x'.repeat(65), 'd/1')).map((value) => ({
        path: ['deployments', 0, 'name'],
        value,
        named: 'deployments[0].name',
      })),
      fc
        .oneof(notString, fc.constantFrom('', 'not a url', 'ftp://h/arcgis/admin'))
        .map((value) => ({ path: ['deployments', 0, 'url'], value, named: 'deployments[0].url' })),
      fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.constant(null)).map((value) => ({
        path: ['deployments', 0, 'discover'],
        value,
        named: 'deployments[0].discover',
      })),
      fc
        .oneof(fc.constantFrom(0, -1, 1001, 1.5), fc.string({ maxLength: 3 }), fc.constant(null))
        .map((value) => ({
          path: ['deployments', 0, 'budget', 'concurrency'],
          value,
          named: 'deployments[0].budget.concurrency',
        })),
      fc.oneof(fc.constantFrom(0, -1, 10_001), fc.string({ maxLength: 3 })).map((value) => ({
        path: ['deployments', 0, 'budget', 'rate'],
        value,
        named: 'deployments[0].budget.rate',
      })),
      notDuration.map((value) => ({
        path: ['deployments', 0, 'pacing', 'minInterval'],
        value,
        named: 'deployments[0].pacing.minInterval',
      })),
      notDuration.map((value) => ({
        path: ['events', 'heartbeat'],
        value,
        named: 'events.heartbeat',
      })),
      notDuration.map((value) => ({
        path: ['webhookRetry', 'base'],
        value,
        named: 'webhookRetry.base',
      })),
      fc
        .oneof(fc.constant([]), fc.constant(['sometimes']), fc.constant('terminal'), notString)
        .map((value) => ({
          path: ['webhooks', 0, 'events'],
          value,
          named: 'webhooks[0].events',
        })),
      fc
        .oneof(fc.constantFrom(0, 1.5, -3), fc.string({ maxLength: 3 }))
        .map((value) => ({ path: ['events', 'maxEvents'], value, named: 'events.maxEvents' })),
      fc
        .oneof(fc.constantFrom('loud', 'INFO', ''), fc.integer())
        .map((value) => ({ path: ['logLevel'], value, named: 'log' })),
      unknownKey.map((k) => ({ path: [k], value: 1, named: k })),
      unknownKey.map((k) => ({
        path: ['deployments', 0, k],
        value: 'x',
        named: `deployments[0].${k}`,
      })),
      unknownKey.map((k) => ({
        path: ['webhooks', 0, k],
        value: true,
        named: `webhooks[0].${k}`,
      })),
    );
    const apply = (m: Mutation): unknown => {
      const config = base() as Record<string | number, unknown>;
      let at = config;
      for (const key of m.path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
      at[m.path.at(-1) as string | number] = m.value;
      return config;
    };

    it('accepts the unmutated base configuration (so each mutation alone is what fails)', () => {
      const file = join(dir, 'base.json');
      writeFileSync(file, JSON.stringify(base()));
      expect(resolveServeConfig({ config: file }, {}).deployments).toHaveLength(1);
    });

    it('names the bad key for any single bad value (in-process, many runs)', () => {
      const file = join(dir, 'mutated.json');
      fc.assert(
        fc.property(mutation, (m) => {
          writeFileSync(file, JSON.stringify(apply(m)));
          let error: unknown;
          try {
            resolveServeConfig({ config: file }, {});
          } catch (e) {
            error = e;
          }
          expect(isDaemonError(error), `${JSON.stringify(m)} was accepted`).toBe(true);
          expect((error as { code: string }).code).toBe('CONFIG');
          expect((error as Error).message, JSON.stringify(m)).toContain(m.named);
          expect((error as Error).message).not.toContain('\n');
        }),
        { ...params('config'), numRuns: 300 },
      );
    });

    it('makes `jobwatch serve` exit 2 naming the key, for bad values, non-objects and non-JSON', async () => {
      const cases = fc.sample(mutation, { ...params('config-cli'), numRuns: 4 }).map((m) => ({
        text: JSON.stringify(apply(m)),
        named: m.named,
      }));
      cases.push(
        { text: '[1, 2]', named: '(root)' },
        { text: '"serve"', named: '(root)' },
        { text: '{"listen": ', named: 'not valid JSON' },
      );
      const runs = await Promise.all(
        cases.map(async (c, i) => {
          const file = join(dir, `cli-config-${i}.json`);
          writeFileSync(file, c.text);
          return { c, run: await runCli(['serve', '--config', file]) };
        }),
      );
      for (const { c, run } of runs) {
        expect(run.code, `${c.text}: ${run.stderr}`).toBe(2);
        expect(run.stderr, c.text).toContain(c.named);
        expect(clearFailure(run), c.text).toBeUndefined();
      }
    });
  });

  describe("the daemon's HTTP API facing random requests", () => {
    const printable = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);
    const pathArb = fc.oneof(
      fc.constantFrom(
        '/api/jobs',
        '/api/jobs/j1',
        '/api/events',
        '/api/tickets',
        '/api/deployments',
        '/api/deployments/sim/jobs',
        '/api/deployments/sim/jobs/j1',
        '/api',
        '/api/',
        '/livez',
        '/readyz',
      ),
      fc.string({ maxLength: 20 }).map((s) => `/api/jobs/${encodeURIComponent(s)}`),
      fc
        .tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }))
        .map(([a, b]) => `/api/deployments/${encodeURIComponent(a)}/jobs/${encodeURIComponent(b)}`),
      fc.string({ maxLength: 20 }).map((s) => `/api/${encodeURIComponent(s)}`),
    );
    const queryArb = fc
      .array(
        fc.tuple(
          fc.oneof(
            fc.constantFrom(
              'deployment',
              'jobid',
              'state',
              'lastEventId',
              'ticket',
              'limit',
              'after',
            ),
            fc.string({ maxLength: 6 }),
          ),
          fc.oneof(
            fc.constantFrom('sim', 'j1', 'finished', '5', '-1', '', '1001', 'WzEsInNpbSIsImoxIl0'),
            fc.string({ maxLength: 10 }),
            fc.base64String({ maxLength: 40 }),
          ),
        ),
        { maxLength: 4 },
      )
      .map((pairs) => new URLSearchParams(pairs).toString());
    const bodyArb = fc.oneof(
      fc.constant(undefined),
      fc.json({ maxDepth: 3 }),
      fc
        .record({ jobid: fc.oneof(fc.string({ maxLength: 20 }), fc.jsonValue()) })
        .map((o) => JSON.stringify(o)),
      fc
        .record({ jobid: fc.constantFrom('j1', 'jabc'), deployment: fc.jsonValue() })
        .map((o) => JSON.stringify(o)),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      fc.constantFrom('{"jobid":', 'null', '[]', '"j1"', ''),
      fc.integer({ min: 16 * 1024 + 1, max: 40_000 }).map((n) => `{"jobid":"${'j'.repeat(n)}"}`),
    );
    const requestArb = fc.record({
      method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS'),
      path: pathArb,
      query: queryArb,
      body: bodyArb,
      contentType: fc.option(
        fc.oneof(
          fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain'),
          printable,
        ),
        { nil: undefined },
      ),
      authorization: fc.option(
        fc.oneof(
          fc.constant(`Bearer ${API_KEY}`),
          fc.constantFrom('Bearer ', 'Bearer x', `Basic ${API_KEY}`, `bearer ${API_KEY}`),
          printable,
        ),
        { nil: undefined },
      ),
      lastEventId: fc.option(fc.oneof(fc.constantFrom('0', '1', '-1', '1e3', 'abc'), printable), {
        nil: undefined,
      }),
      origin: fc.option(fc.constantFrom('https://evil.example', 'null', ''), { nil: undefined }),
    });

    it('answers every request with 2xx, or a 4xx JSON error with a documented code; never 5xx', async () => {
      const seen = new Set<string>();
      await fc.assert(
        fc.asyncProperty(requestArb, async (r) => {
          const headers: Record<string, string> = {};
          if (r.contentType !== undefined) headers['content-type'] = r.contentType;
          if (r.authorization !== undefined) headers.authorization = r.authorization;
          if (r.lastEventId !== undefined) headers['last-event-id'] = r.lastEventId;
          if (r.origin !== undefined) headers.origin = r.origin;
          const controller = new AbortController();
          const url = `${daemon.url}${r.path}${r.query ? `?${r.query}` : ''}`;
          const res = await fetch(url, {
            method: r.method,
            headers,
            signal: controller.signal,
            ...(r.body !== undefined && r.method !== 'GET' ? { body: r.body } : {}),
          });
          const type = res.headers.get('content-type') ?? '';
          const label = `${r.method} ${url} ${JSON.stringify(headers)} → ${res.status}`;
          expect(res.status, label).toBeLessThan(500);
          if (type.startsWith('text/event-stream')) {
            expect(res.status, label).toBe(200);
            controller.abort();
            return;
          }
          const text = await res.text();
          if (res.status >= 400) {
            const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
            expect(apiCodes.has(String(body.error?.code)), `${label}: ${text}`).toBe(true);
            seen.add(String(body.error?.code));
            expect(typeof body.error?.message, label).toBe('string');
          } else if (res.status !== 204) {
            expect(() => JSON.parse(text), `${label}: ${text.slice(0, 100)}`).not.toThrow();
          }
        }),
        { ...params('api'), numRuns: 250 },
      );
      // The requests reached far into the API, not just its front door.
      expect(seen.size, [...seen].join(', ')).toBeGreaterThanOrEqual(5);
      const live = await fetch(`${daemon.url}/livez`);
      expect(live.status).toBe(200);
      expect(daemon.lines.filter((l) => l.text.includes('"request failed"'))).toEqual([]);
    });

    it('refuses oversized bodies with 413 BODY_TOO_LARGE, declared or streamed, and keeps serving', async () => {
      const big = await fetch(`${daemon.url}/api/jobs`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: `{"jobid":"${'j'.repeat(1_000_000)}"}`,
      });
      expect(big.status).toBe(413);
      expect(((await big.json()) as { error: { code: string } }).error.code).toBe('BODY_TOO_LARGE');
      // Chunked, with no Content-Length: the limit must hold while reading.
      const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${daemon.url}/api/jobs`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        });
        req.on('response', (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        const chunk = 'x'.repeat(8 * 1024);
        let sent = 0;
        const pump = () => {
          while (sent < 64) {
            sent += 1;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      }).catch((error: unknown) => ({ status: -1, body: String(error) }));
      // The daemon may answer and close before the whole body is sent; either way, a 413.
      if (streamed.status !== -1) {
        expect(streamed.status).toBe(413);
        expect(streamed.body).toContain('BODY_TOO_LARGE');
      }
      expect((await fetch(`${daemon.url}/livez`)).status).toBe(200);
    });
  });

  describe('the client facing random server garbage', () => {
    type Script =
      | { kind: 'destroy' }
      | {
          kind: 'answer';
          status: number;
          headers: Record<string, string>;
          body: Buffer;
          truncate: boolean;
        };
    let script: Script = { kind: 'destroy' };
    let server: Server;
    let origin: string;

    beforeAll(async () => {
      server = createServer((req, res) => {
        req.resume();
        const s = script;
        if (s.kind === 'destroy') {
          req.socket.destroy();
          return;
        }
        try {
          res.writeHead(s.status, {
            ...s.headers,
            'content-length': String(s.truncate ? s.body.length + 100 : s.body.length),
          });
        } catch {
          res.writeHead(500).end();
          return;
        }
        if (s.truncate) {
          res.write(s.body);
          setImmediate(() => res.destroy());
        } else res.end(s.body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    const job = {
      updatedtime: 1635961542589,
      jobid: 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d',
      endtime: 0,
      starttime: 1635961542583,
      operationURI: '/context/admin/services/FireWatchWeather.MapServer/edit',
      status: 'EXECUTING',
      username: 'serviceAdmin',
    };
    const jobText = JSON.stringify(job);
    const bodyArb: fc.Arbitrary<Buffer> = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v))),
      fc.nat({ max: jobText.length - 1 }).map((n) => Buffer.from(jobText.slice(0, n))),
      fc.constant(Buffer.from('<html><body><h1>502 Bad Gateway</h1></body></html>')),
      fc.constant(Buffer.from(`{"token":"${TOKEN}","expires":"soon"}`)),
      fc.constant(Buffer.from(`{"a":"${'x'.repeat(2_000_000)}"}`)),
      fc.constant(Buffer.alloc(0)),
      fc
        .record({
          status: fc.oneof(fc.jsonValue(), fc.constantFrom('COMPLETED', 'NEW-STATUS')),
          jobid: fc.oneof(fc.constant(job.jobid), fc.jsonValue()),
          updatedtime: fc.oneof(fc.integer(), fc.jsonValue()),
        })
        .map((o) => Buffer.from(JSON.stringify({ ...job, ...o }))),
      fc
        .record({ code: fc.jsonValue(), message: fc.jsonValue(), details: fc.jsonValue() })
        .map((e) => Buffer.from(JSON.stringify({ error: e }))),
      fc
        .record({ messages: fc.jsonValue(), code: fc.jsonValue() })
        .map((e) => Buffer.from(JSON.stringify({ status: 'error', ...e }))),
      fc
        .record({ token: fc.jsonValue(), expires: fc.jsonValue() })
        .map((t) => Buffer.from(JSON.stringify(t))),
      fc.constant(Buffer.from(jobText)),
    );
    const printable = fc.stringMatching(/^[\x20-\x7e]{0,30}$/);
    const scriptArb: fc.Arbitrary<Script> = fc.oneof(
      { weight: 1, arbitrary: fc.constant<Script>({ kind: 'destroy' }) },
      {
        weight: 12,
        arbitrary: fc.record({
          kind: fc.constant<'answer'>('answer'),
          status: fc.oneof(
            fc.constantFrom(
              200,
              201,
              204,
              400,
              401,
              403,
              404,
              408,
              410,
              429,
              498,
              499,
              500,
              502,
              503,
              504,
            ),
            fc.integer({ min: 200, max: 599 }),
          ),
          headers: fc.record(
            {
              'content-type': fc.oneof(
                fc.constantFrom(
                  'application/json',
                  'application/json; charset=utf-8',
                  'text/html',
                  'text/plain',
                  'application/octet-stream',
                ),
                printable,
              ),
              'retry-after': fc.oneof(
                fc.constantFrom(
                  '-1',
                  '1e309',
                  '99999999',
                  '0.5',
                  'Wed, 21 Oct 2015 07:28:00 GMT',
                  'soon',
                  '0',
                ),
                printable,
              ),
            },
            { requiredKeys: [] },
          ),
          body: bodyArb,
          truncate: fc.boolean(),
        }),
      },
    );
    const callArb = fc.constantFrom(
      'getJob',
      'listJobs',
      'getService',
      'listServices',
      'getSiteInfo',
    );
    const authArb = fc.constantFrom('token', 'credentials');

    it('rejects only with documented JobwatchError subclasses, holding no secret, never hanging', async () => {
      const seen = new Set<string>();
      await fc.assert(
        fc.asyncProperty(scriptArb, callArb, authArb, async (s, call, mode) => {
          script = s;
          const client = createAdminClient({
            url: `${origin}/arcgis/admin`,
            auth:
              mode === 'token'
                ? { type: 'token', token: TOKEN }
                : { type: 'credentials', username: 'admin', password: PASSWORD },
            timeout: 1_000,
            retry: { attempts: 2, baseDelay: 1, maxDelay: 20, deadline: 500 },
          });
          const run = (): Promise<unknown> => {
            switch (call) {
              case 'getJob':
                return client.getJob(job.jobid);
              case 'listJobs':
                return client.listJobs();
              case 'getService':
                return client.getService('FireWatchWeather.MapServer');
              case 'listServices':
                return client.listServices();
              default:
                return client.getSiteInfo();
            }
          };
          let timer: NodeJS.Timeout | undefined;
          const hung = new Promise<'hung'>((resolve) => {
            timer = setTimeout(() => resolve('hung'), 10_000);
          });
          const outcome = await Promise.race([
            run().then(
              () => ({ ok: true as const }),
              (error: unknown) => ({ ok: false as const, error }),
            ),
            hung,
          ]);
          clearTimeout(timer);
          const label = `${call} (${mode}) against ${s.kind === 'destroy' ? 'a dropped connection' : `HTTP ${s.status} ${JSON.stringify(s.headers)} ${s.body.length} bytes${s.truncate ? ' truncated' : ''}: ${s.body.subarray(0, 80).toString('utf8')}`}`;
          expect(outcome, label).not.toBe('hung');
          if (outcome === 'hung' || outcome.ok) return;
          const { error } = outcome;
          expect(isJobwatchError(error), `${label}: ${String(error)}`).toBe(true);
          expect(
            clientErrorClasses.some((C) => error instanceof C),
            `${label}: ${(error as Error)?.constructor?.name}`,
          ).toBe(true);
          expect(clientCodes.has((error as { code: string }).code), label).toBe(true);
          seen.add((error as { code: string }).code);
          const text = errorText(error);
          expect(text, label).not.toContain(TOKEN);
          expect(text, label).not.toContain(PASSWORD);
        }),
        {
          ...params('client'),
          numRuns: 150,
          // Always among the runs: one answer per documented error class a server can cause.
          examples: (
            [
              [502, 'text/html', '<html><h1>502 Bad Gateway</h1></html>'],
              [429, 'text/html', 'slow down'],
              [
                200,
                'application/json',
                '{"error":{"code":498,"message":"Invalid token.","details":[]}}',
              ],
              [200, 'application/json', '{"error":{"code":500,"message":"Boom.","details":["x"]}}'],
              [
                200,
                'application/json',
                '{"error":{"code":404,"message":"Job not found.","details":[]}}',
              ],
              [200, 'application/json', '{"jobid":42,"status":[]}'],
            ] as const
          ).map(([status, type, body]) => [
            {
              kind: 'answer',
              status,
              headers: { 'content-type': type, 'retry-after': '1' },
              body: Buffer.from(body),
              truncate: false,
            } satisfies Script,
            'getJob' as const,
            'token' as const,
          ]) as Array<[Script, 'getJob', 'token']>,
        },
      );
      // Garbage of every kind arrived: transport, rate limit, auth, ArcGIS, not found, schema.
      expect([...seen].sort()).toEqual(
        expect.arrayContaining([
          'ARCGIS',
          'AUTH',
          'JOB_NOT_FOUND',
          'RATE_LIMITED',
          'SCHEMA',
          'TRANSPORT',
        ]),
      );
    });
  });

  it('left no unhandled rejection behind, and the daemon kept running', async () => {
    expect(rejections.map(String)).toEqual([]);
    expect((await fetch(`${daemon.url}/livez`)).status).toBe(200);
    expect(daemon.pid).toBeDefined();
  });
});
