import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isJobId, type JobId, JobStatus, type Service, safeParseService } from '@jobwatch/schema';
import { type ServiceKey, serviceKeyString } from './catalogue.js';
import { type ClockOption, createClock } from './clock.js';
import { isSimulatorError, SimulatorError } from './errors.js';
import type { FaultDecision, FaultSpec } from './faults.js';
import {
  adminError,
  BodyError,
  type Format,
  gatewayPage,
  parseForm,
  readBody,
  restError,
  send,
  sendBody,
} from './http.js';
import { jobBody, type Operation } from './jobs.js';
import { freshSeed } from './random.js';
import { type JobSpec, type SimRoute, type SimStats, Site, type WorkloadOptions } from './site.js';

/** One line of the request log: never a query string, so never a token or a password. */
export interface RequestLogEntry {
  readonly method: string;
  /** The path, without its query. */
  readonly path: string;
  readonly route: SimRoute;
  readonly status: number;
  /** Wall-clock milliseconds the answer took. */
  readonly ms: number;
  /** The injected fault, if any. */
  readonly fault?: string;
}

/**
 * Options of {@link startSimulator}; every one has a default.
 *
 * @example
 * ```ts
 * const sim = await startSimulator({ clock: 'manual', seed: 7 });
 * ```
 */
export interface SimulatorOptions {
  /** TCP port; `0` picks a free one. @default 0 */
  readonly port?: number;
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** The web context: the admin root is `/<context>/admin`. @default 'arcgis' */
  readonly context?: string;
  /** Users and their passwords. @default { admin: 'admin' } */
  readonly users?: Readonly<Record<string, string>>;
  /** Seed of every random choice (job ids, durations, workload, faults). @default a fresh one, see {@link Simulator.seed} */
  readonly seed?: number;
  /** @default 'real' */
  readonly clock?: ClockOption;
  /** Simulated epoch ms at start, for manual and scaled clocks. @default Date.now() */
  readonly startTime?: number;
  /** Token lifetime when `generateToken` asks for none. @default 3_600_000 (60 minutes) */
  readonly tokenTtlMs?: number;
  /** How long a finished job stays readable before it is purged. @default 86_400_000 (24 hours) */
  readonly retentionMs?: number;
  /** Background jobs, as a busy site has. @default none */
  readonly workload?: WorkloadOptions;
  /** Faults from the start. @default none */
  readonly faults?: FaultSpec;
  /** The `/__sim/` control surface. @default true when bound to loopback, false otherwise */
  readonly control?: boolean;
  /** Duration bounds (log-uniform) of jobs started by admin operations. @default { min: 1000, max: 10_000 } */
  readonly operationDurationMs?: { readonly min: number; readonly max: number };
  /** Disaster-recovery stores that accept backups. @default ['default'] */
  readonly backupStores?: readonly string[];
  /** Largest request body accepted; larger ones get 413. @default 1_048_576 */
  readonly maxBodyBytes?: number;
  /** Called once per answered request. @default none */
  readonly log?: (entry: RequestLogEntry) => void;
}

/** A running simulator: its URLs, in-process mirrors of the control surface, and `close()`. */
export interface Simulator {
  /** Origin, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** `<url>/<context>/admin`. */
  readonly adminUrl: string;
  /** `<url>/<context>/sharing/rest/generateToken`. */
  readonly tokenUrl: string;
  /** The port listened on. */
  readonly port: number;
  /** The seed in use (given or fresh), to replay a run. */
  readonly seed: number;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
  /** Creates a job with a chosen outcome and duration. @throws {@link SimulatorError} `INVALID_SPEC` */
  createJob(spec: JobSpec): JobId;
  /** Injects faults. @throws {@link SimulatorError} `INVALID_SPEC` */
  setFaults(spec: FaultSpec): void;
  /** Stops injecting faults. */
  clearFaults(): void;
  /** Makes every issued token invalid; returns how many there were. */
  revokeTokens(): number;
  /** Purges a job now; whether it existed. */
  purgeJob(id: string): boolean;
  /** Request counts. */
  stats(): SimStats;
  /** Issues a token without HTTP. @default username the first configured user. @throws {@link SimulatorError} `UNKNOWN_USER` */
  issueToken(username?: string, ttlMs?: number): string;
  /** Moves a manual clock forward; returns the new now. @throws {@link SimulatorError} `CLOCK_NOT_MANUAL` */
  advance(ms: number): number;
  /** The simulated now, epoch ms. */
  now(): number;
  /** A job body as `GET <root>/jobs/<id>` would answer it now, or `undefined`. */
  job(id: string): Record<string, unknown> | undefined;
  /** A copy of a service's JSON (`'Folder/Name.Type'` or `'Name.Type'`), or `undefined`. */
  service(path: string): Service | undefined;
}

const SERVICE = /^([^./]+)\.([A-Za-z][A-Za-z0-9]*)$/;
const FOLDER = /^[A-Za-z0-9_-]+$/;
const CONTEXT = /^[A-Za-z0-9_-]+$/;
const HOST_HEADER = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/;
const SERVICE_OPS = new Set(['start', 'stop', 'edit']);

function parseService(segment: string): { name: string; type: string } | undefined {
  const m = SERVICE.exec(segment);
  return m ? { name: m[1]!, type: m[2]! } : undefined;
}

function resolveOptions(options: SimulatorOptions) {
  const bad = (why: string): never => {
    throw new SimulatorError('INVALID_OPTIONS', why);
  };
  const context = options.context ?? 'arcgis';
  if (!CONTEXT.test(context)) bad('context must be letters, digits, "-" or "_"');
  const users = options.users ?? { admin: 'admin' };
  if (typeof users !== 'object' || Object.keys(users).length === 0)
    bad('users must name at least one user');
  for (const [name, password] of Object.entries(users)) {
    if (!name || typeof password !== 'string' || password === '')
      bad('every user needs a name and a non-empty password');
  }
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) bad('port must be an integer 0–65535');
  const nonNegative = (v: number | undefined, name: string, fallback: number): number => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      bad(`${name} must be a finite number ≥ 0`);
    return v;
  };
  const ops = options.operationDurationMs ?? { min: 1000, max: 10_000 };
  if (!(ops.min >= 0 && ops.max >= ops.min)) bad('operationDurationMs needs 0 ≤ min ≤ max');
  const w = options.workload;
  if (w) {
    if (!(typeof w.jobsPerMinute === 'number' && w.jobsPerMinute > 0 && w.jobsPerMinute <= 600_000))
      bad('workload.jobsPerMinute must be > 0');
    const min = w.minDurationMs ?? 2000;
    const max = w.maxDurationMs ?? 120_000;
    if (!(min >= 0 && max >= min)) bad('workload needs 0 ≤ minDurationMs ≤ maxDurationMs');
    for (const rate of ['failureRate', 'cancelRate', 'timeoutRate', 'unavailableRate'] as const) {
      const v = w[rate];
      if (v !== undefined && !(v >= 0 && v <= 1)) bad(`workload.${rate} must be 0–1`);
    }
    if ((w.failureRate ?? 0.1) + (w.cancelRate ?? 0.05) + (w.timeoutRate ?? 0.02) > 1)
      bad('workload rates add up to more than 1');
  }
  const stores = options.backupStores ?? ['default'];
  if (stores.some((s) => !FOLDER.test(s)))
    bad('backupStores must be names of letters, digits, "-" or "_"');
  const seed = options.seed ?? freshSeed();
  if (!Number.isFinite(seed)) bad('seed must be a number');
  return {
    context,
    users,
    port,
    host: options.host ?? '127.0.0.1',
    seed: seed >>> 0,
    tokenTtlMs: nonNegative(options.tokenTtlMs, 'tokenTtlMs', 3_600_000),
    retentionMs: nonNegative(options.retentionMs, 'retentionMs', 86_400_000),
    maxBodyBytes: nonNegative(options.maxBodyBytes, 'maxBodyBytes', 1_048_576),
    workload: w,
    operationDurationMs: ops,
    backupStores: stores,
  };
}

/** What a handler answers: a body (and a title for the HTML page). */
interface Answer {
  readonly body: unknown;
  readonly title: string;
}

/** A request as the handlers see it. */
interface Call {
  readonly method: 'GET' | 'POST';
  readonly params: URLSearchParams;
  readonly username: string;
  readonly origin: string;
}

/**
 * Starts a simulator of the ArcGIS Enterprise Administrator API and resolves once it listens.
 *
 * Speaks the admin API as the reference describes it, awkward parts included: `f=html` by
 * default, errors with HTTP 200 in both formats, both job-handle spellings, tokens in four
 * carriers. Jobs progress on the simulator's clock; a control surface under `/__sim/`
 * (loopback only, by default) creates jobs, injects faults and reads request counts.
 *
 * @throws {@link SimulatorError} `INVALID_OPTIONS` for a bad option.
 * @example
 * ```ts
 * const sim = await startSimulator({ clock: 'manual' });
 * const jobid = sim.createJob({ outcome: 'COMPLETED', durationMs: 3000 });
 * sim.advance(3000);
 * await sim.close();
 * ```
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const o = resolveOptions(options);
  const clock = createClock(options.clock ?? 'real', options.startTime ?? Date.now());
  const site = new Site(clock, {
    context: o.context,
    users: o.users,
    seed: o.seed,
    tokenTtlMs: o.tokenTtlMs,
    retentionMs: o.retentionMs,
    workload: o.workload,
    operationDurationMs: o.operationDurationMs,
    backupStores: o.backupStores,
  });
  if (options.faults) site.faults.set(options.faults);
  const control = options.control ?? LOOPBACK.test(o.host);
  const log = options.log;

  let origin = '';
  const server: Server = createServer({ keepAlive: true }, (req, res) => {
    const started = performance.now();
    let route: SimRoute = 'other';
    let fault: string | undefined;
    if (log) {
      res.on('finish', () =>
        log({
          method: req.method ?? '',
          path: (req.url ?? '').split('?', 1)[0] ?? '',
          route,
          status: res.statusCode,
          ms: performance.now() - started,
          ...(fault ? { fault } : {}),
        }),
      );
    }
    handle(
      req,
      res,
      (r) => (route = r),
      (f) => (fault = f),
    ).catch((error: unknown) => {
      send(
        res,
        500,
        'application/json;charset=utf-8',
        JSON.stringify(
          restError(500, 'Internal simulator error.', [String((error as Error)?.message ?? error)]),
        ),
      );
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('clientError', (_error, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    setRoute: (r: SimRoute) => void,
    setFault: (f: string) => void,
  ): Promise<void> {
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const rawPath = (q >= 0 ? raw.slice(0, q) : raw).split('#', 1)[0] ?? '';
    const query = q >= 0 ? (raw.slice(q + 1).split('#', 1)[0] ?? '') : '';

    if (rawPath === '/__sim' || rawPath.startsWith('/__sim/')) {
      setRoute('sim');
      site.count('sim');
      if (!control) return send(res, 404, 'text/plain;charset=utf-8', 'Not Found\n');
      return controlRoute(req, res, rawPath.slice('/__sim'.length));
    }

    const segments = pathSegments(rawPath);
    if (!segments) {
      site.count('other');
      return send(
        res,
        400,
        'application/json;charset=utf-8',
        JSON.stringify(
          restError(400, 'Invalid URL.', [
            'The path has dot segments, encoded slashes or characters that are not allowed.',
          ]),
        ),
      );
    }
    if (segments[segments.length - 1] === '') segments.pop();
    if (segments[0] !== o.context) {
      site.count('other');
      return send(res, 404, 'text/plain;charset=utf-8', 'Not Found\n');
    }
    const rest = segments.slice(1);
    const isToken =
      (rest[0] === 'sharing' &&
        rest[1] === 'rest' &&
        rest[2] === 'generateToken' &&
        rest.length === 3) ||
      (rest[0] === 'admin' && rest[1] === 'generateToken' && rest.length === 2);
    if (!isToken && rest[0] !== 'admin') {
      site.count('other');
      return send(res, 404, 'text/plain;charset=utf-8', 'Not Found\n');
    }
    const admin = isToken ? [] : rest.slice(1);
    const target = isToken ? { route: 'generateToken' as const } : routeOf(admin);
    setRoute(target.route);
    site.count(
      target.route,
      target.route === 'job' && admin[1] !== undefined && isJobId(admin[1]) ? admin[1] : undefined,
    );

    if (req.method !== 'GET' && req.method !== 'POST') {
      return send(
        res,
        405,
        'application/json;charset=utf-8',
        JSON.stringify(
          restError(405, `Method ${String(req.method).slice(0, 16)} is not supported.`, [
            'Use GET or POST.',
          ]),
        ),
        { Allow: 'GET, POST' },
      );
    }

    let params: URLSearchParams;
    try {
      params = new URLSearchParams(query);
      if (query.length > 0 && /%(?![0-9a-fA-F]{2})/.test(query))
        throw new BodyError(400, 'The query has a malformed percent-escape.');
      if (req.method === 'POST') {
        const type = String(req.headers['content-type'] ?? '')
          .split(';', 1)[0]!
          .trim()
          .toLowerCase();
        const text = await readBody(req, o.maxBodyBytes);
        if (text.length > 0 || type) {
          if (type && type !== 'application/x-www-form-urlencoded') {
            return send(
              res,
              415,
              'application/json;charset=utf-8',
              JSON.stringify(
                restError(415, `Content type '${type.slice(0, 64)}' is not supported.`, [
                  'Send parameters as application/x-www-form-urlencoded.',
                ]),
              ),
            );
          }
          for (const [k, v] of parseForm(text)) params.set(k, v);
        }
      }
    } catch (error) {
      if (error instanceof BodyError) {
        return send(
          res,
          error.status,
          'application/json;charset=utf-8',
          JSON.stringify(restError(error.status, error.message)),
          error.status === 413 ? { Connection: 'close' } : {},
        );
      }
      throw error;
    }

    const decision = site.faults.decide(target.route, rawPath);
    if (decision) {
      setFault(decision.kind);
      site.countFault(decision.kind);
      if (await gatewayFault(req, res, decision)) return;
    }

    const f = params.get('f') ?? 'html';
    if (f !== 'html' && f !== 'json' && f !== 'pjson') {
      return sendBody(
        res,
        'json',
        'Error',
        restError(400, `Invalid format '${f.slice(0, 32)}'.`, [
          'Supported formats: html, json, pjson.',
        ]),
        decision,
      );
    }
    const format: Format = f;
    site.settle();
    const answer =
      target.route === 'generateToken'
        ? generateToken(params)
        : adminRoute(req, params, admin, target);
    sendBody(res, format, answer.title, answer.body, decision);
  }

  /** Acts on a fault that replaces the answer; `true` when the request is done. */
  async function gatewayFault(
    req: IncomingMessage,
    res: ServerResponse,
    d: FaultDecision,
  ): Promise<boolean> {
    switch (d.kind) {
      case 'reset':
        req.socket.resetAndDestroy();
        return true;
      case 'http502':
        send(res, 502, 'text/html', gatewayPage(502, 'Bad Gateway'));
        return true;
      case 'http503':
        send(res, 503, 'text/html', gatewayPage(503, 'Service Temporarily Unavailable'));
        return true;
      case 'http504':
        send(res, 504, 'text/html', gatewayPage(504, 'Gateway Time-out'));
        return true;
      case 'http429':
        send(res, 429, 'text/html', gatewayPage(429, 'Too Many Requests'), {
          'Retry-After': String(d.retryAfterSeconds),
        });
        return true;
      case 'delay':
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, d.delayMs);
          req.socket.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        return res.destroyed;
      default:
        return false;
    }
  }

  function generateToken(params: URLSearchParams): Answer {
    const title = 'Generate Token';
    const username = params.get('username') ?? '';
    const password = params.get('password') ?? '';
    const fail = (detail: string): Answer => ({
      title,
      body: restError(400, 'Unable to generate token.', [detail]),
    });
    if (!username) return fail("'username' must be specified.");
    if (!password) return fail("'password' must be specified.");
    const client = params.get('client');
    if (client !== null && client !== 'referer' && client !== 'ip' && client !== 'requestip')
      return fail("'client' must be one of referer, ip, requestip.");
    if (client === 'referer' && !params.get('referer'))
      return fail("'referer' must be specified when client is referer.");
    if (!site.checkPassword(username, password)) return fail('Invalid username or password.');
    const expiration = params.get('expiration');
    let ttl = o.tokenTtlMs;
    if (expiration !== null && expiration !== '') {
      const minutes = Number(expiration);
      if (!Number.isFinite(minutes) || minutes <= 0)
        return fail("'expiration' must be a positive number of minutes.");
      ttl = minutes * 60_000;
    }
    const { token, expires } = site.issueToken(username, ttl);
    return { title, body: { token, expires, ssl: false } };
  }

  function tokenOf(req: IncomingMessage, params: URLSearchParams): string | undefined {
    for (const header of ['x-esri-authorization', 'authorization'] as const) {
      const value = req.headers[header];
      if (typeof value === 'string') {
        const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
        if (m) return m[1];
      }
    }
    return params.get('token') ?? undefined;
  }

  function routeOf(admin: string[]): {
    route: SimRoute;
    service?: ServiceKey;
    op?: string;
    folder?: string;
  } {
    const [a, b, c, d] = admin;
    if (a === undefined) return { route: 'site' };
    if (a === 'jobs')
      return admin.length === 1
        ? { route: 'jobsList' }
        : admin.length === 2
          ? { route: 'job' }
          : { route: 'other' };
    if (a === 'services') {
      if (b === undefined) return { route: 'services', folder: '' };
      if (b === 'deleteServices' && admin.length === 2)
        return { route: 'operation', op: 'deleteServices' };
      const direct = parseService(b);
      if (direct) {
        const service = { folder: '', ...direct };
        if (c === undefined) return { route: 'service', service };
        if (SERVICE_OPS.has(c) && admin.length === 3) return { route: 'operation', service, op: c };
        return { route: 'other' };
      }
      if (!FOLDER.test(b)) return { route: 'other' };
      if (c === undefined) return { route: 'services', folder: b };
      const nested = parseService(c);
      if (!nested) return { route: 'other' };
      const service = { folder: b, ...nested };
      if (d === undefined) return { route: 'service', service };
      if (SERVICE_OPS.has(d) && admin.length === 4) return { route: 'operation', service, op: d };
      return { route: 'other' };
    }
    if (a === 'system' && b === 'disasterrecovery' && c === 'stores') {
      if (admin.length === 3) return { route: 'backup', op: 'stores' };
      if (admin.length === 6 && admin[4] === 'backups' && admin[5] === 'create')
        return { route: 'backup', op: 'create', folder: d! };
    }
    return { route: 'other' };
  }

  function adminRoute(
    req: IncomingMessage,
    params: URLSearchParams,
    admin: string[],
    target: ReturnType<typeof routeOf>,
  ): Answer {
    const isOperation =
      target.route === 'operation' || (target.route === 'backup' && target.op === 'create');
    const title = admin.length > 0 ? admin.join(' / ') : 'Home';
    const check = site.tokens.check(tokenOf(req, params), clock.now());
    if (!check.ok) {
      if (isOperation) {
        return check.reason === 'missing'
          ? {
              title,
              body: adminError(499, [
                "Unauthorized access.Token not found. You can generate a token using the 'generateToken' operation.",
              ]),
            }
          : { title, body: adminError(498, ['Invalid token.']) };
      }
      return check.reason === 'missing'
        ? { title, body: restError(499, 'Token Required') }
        : { title, body: restError(498, 'Invalid token.') };
    }
    if (isOperation && req.method !== 'POST') {
      return { title, body: adminError(405, ['This operation is only supported via POST.']) };
    }
    const call: Call = {
      method: req.method as 'GET' | 'POST',
      params,
      username: check.username,
      origin: originOf(req),
    };
    const now = clock.now();
    switch (target.route) {
      case 'site':
        return {
          title,
          body: {
            currentVersion: '11.3',
            fullVersion: '11.3.0',
            resources: ['services', 'jobs', 'system', 'security', 'logs', 'usagereports', 'mode'],
            mode: 'SITE',
          },
        };
      case 'jobsList':
        return { title, body: { jobs: site.jobs.ids(now) } };
      case 'job': {
        const id = admin[1] ?? '';
        if (!isJobId(id))
          return {
            title,
            body: restError(400, 'Invalid job id.', [
              'A job id is made of letters, digits, "-" and "_".',
            ]),
          };
        const job = site.jobs.get(id, now);
        return job
          ? { title, body: jobBody(job, now, site.catalogue) }
          : { title, body: restError(404, `Job '${id}' does not exist or has been purged.`) };
      }
      case 'services':
        return site.catalogue.hasFolder(target.folder ?? '')
          ? { title, body: site.catalogue.list(target.folder ?? '') }
          : { title, body: restError(404, `Folder '${target.folder}' does not exist.`) };
      case 'service': {
        const service = target.service && site.catalogue.get(target.service);
        return service
          ? { title, body: service }
          : {
              title,
              body: restError(
                404,
                `Service '${serviceKeyString(target.service!)}' does not exist.`,
              ),
            };
      }
      case 'operation':
        return { title, body: operation(call, target.op!, target.service) };
      case 'backup':
        return {
          title,
          body:
            target.op === 'stores'
              ? { stores: o.backupStores.map((name) => ({ name, type: 'FILESYSTEM' })) }
              : backup(call, target.folder!),
        };
      default:
        return {
          title,
          body: restError(
            404,
            `Could not find resource or operation '${(admin[admin.length - 1] ?? '').slice(0, 64)}' on the system.`,
          ),
        };
    }
  }

  function originOf(req: IncomingMessage): string {
    const host = req.headers.host;
    return typeof host === 'string' && HOST_HEADER.test(host) ? `http://${host}` : origin;
  }

  function jobHandle(
    call: Call,
    jobid: JobId,
    spelling: 'jobID' | 'jobid',
  ): Record<string, unknown> {
    const jobsUrl = `${call.origin}/${o.context}/admin/jobs/${jobid}`;
    return spelling === 'jobID'
      ? { jobsUrl, jobID: jobid, jobStatus: JobStatus.SUBMITTED }
      : { jobsUrl, jobid };
  }

  function operation(call: Call, op: string, service: ServiceKey | undefined): unknown {
    const isAsync = (call.params.get('async') ?? 'false').toLowerCase() === 'true';
    let opSpec: Omit<Operation, 'effects'>;
    if (op === 'deleteServices') {
      const parsed = parseServiceList(call.params.get('services'));
      if (typeof parsed === 'string') return adminError(400, [parsed]);
      const missing = parsed.find((k) => !site.catalogue.get(k));
      if (missing)
        return adminError(404, [`Service '${serviceKeyString(missing)}' does not exist.`]);
      opSpec = {
        uri: `/${o.context}/admin/services/deleteServices`,
        kind: 'deleteServices',
        services: parsed,
      };
    } else {
      const key = service!;
      if (!site.catalogue.get(key))
        return adminError(404, [`Service '${serviceKeyString(key)}' does not exist.`]);
      let payload: Service | undefined;
      if (op === 'edit') {
        const edited = parseEdit(call.params.get('service'), key);
        if (typeof edited === 'string') return adminError(400, [edited]);
        payload = edited;
      }
      opSpec = {
        uri: `/${o.context}/admin/services/${serviceKeyString(key)}/${op}`,
        kind: op as 'edit' | 'start' | 'stop',
        services: [key],
        ...(payload ? { payload } : {}),
      };
    }
    if (isAsync) return jobHandle(call, site.startOperation(opSpec, call.username).id, 'jobID');
    const { failure } = site.apply(opSpec);
    return failure ? adminError(500, [failure]) : { status: 'success' };
  }

  function backup(call: Call, store: string): unknown {
    if (!o.backupStores.includes(store))
      return adminError(404, [`Disaster recovery store '${store.slice(0, 64)}' does not exist.`]);
    const job = site.startOperation(
      {
        uri: `/${o.context}/admin/system/disasterrecovery/stores/${store}/backups/create`,
        kind: 'backup',
        services: [],
      },
      call.username,
    );
    return jobHandle(call, job.id, 'jobid');
  }

  async function controlRoute(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
  ): Promise<void> {
    const json = (status: number, body: unknown) =>
      send(res, status, 'application/json;charset=utf-8', JSON.stringify(body));
    const fail = (status: number, code: string, message: string) =>
      json(status, { error: { code, message } });
    const method = req.method ?? '';
    let input: unknown = {};
    if (method === 'POST') {
      try {
        const text = await readBody(req, o.maxBodyBytes);
        input = text.trim() === '' ? {} : JSON.parse(text);
      } catch (error) {
        if (error instanceof BodyError)
          return fail(
            error.status,
            error.status === 413 ? 'TOO_LARGE' : 'INVALID_SPEC',
            error.message,
          );
        return fail(400, 'INVALID_SPEC', 'The body is not valid JSON.');
      }
    }
    const allow = (...methods: string[]): boolean => {
      if (methods.includes(method)) return true;
      send(
        res,
        405,
        'application/json;charset=utf-8',
        JSON.stringify({
          error: { code: 'METHOD_NOT_ALLOWED', message: `Use ${methods.join(' or ')}.` },
        }),
        { Allow: methods.join(', ') },
      );
      return false;
    };
    try {
      if (path === '/jobs') {
        if (allow('POST')) json(200, { jobid: site.createJob(input) });
      } else if (path.startsWith('/jobs/')) {
        if (!allow('DELETE')) return;
        const id = path.slice('/jobs/'.length);
        if (!isJobId(id)) return fail(400, 'INVALID_SPEC', 'Not a job id.');
        return site.jobs.purge(id)
          ? json(200, { jobid: id, purged: true })
          : fail(404, 'NOT_FOUND', `No job '${id}'.`);
      } else if (path === '/faults') {
        if (!allow('GET', 'POST', 'DELETE')) return;
        if (method === 'POST') site.faults.set(input);
        if (method === 'DELETE') site.faults.set(undefined);
        json(200, { faults: site.faults.spec ?? null });
      } else if (path === '/tokens/revoke') {
        if (allow('POST')) json(200, { revoked: site.tokens.revoke() });
      } else if (path === '/tokens') {
        if (!allow('POST')) return;
        const username = (input as { username?: unknown }).username ?? site.defaultUser;
        if (typeof username !== 'string')
          return fail(400, 'INVALID_SPEC', 'username must be a string');
        json(200, site.issueToken(username));
      } else if (path === '/stats') {
        if (allow('GET')) json(200, site.stats());
      } else if (path === '/clock') {
        if (allow('GET')) json(200, { kind: clock.kind, now: clock.now() });
      } else if (path === '/clock/advance') {
        if (!allow('POST')) return;
        const ms = (input as { ms?: unknown }).ms;
        if (typeof ms !== 'number') return fail(400, 'INVALID_SPEC', 'ms must be a number');
        const now = clock.advance(ms);
        site.settle(now);
        json(200, { now });
      } else {
        fail(404, 'NOT_FOUND', 'No such control route.');
      }
    } catch (error) {
      if (isSimulatorError(error))
        return fail(error.code === 'CLOCK_NOT_MANUAL' ? 409 : 400, error.code, error.message);
      throw error;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host =
    o.host === '0.0.0.0' || o.host === '' ? '127.0.0.1' : o.host === '::' ? '::1' : o.host;
  origin = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  const adminUrl = `${origin}/${o.context}/admin`;

  let closing: Promise<void> | undefined;
  return {
    url: origin,
    adminUrl,
    tokenUrl: `${origin}/${o.context}/sharing/rest/generateToken`,
    port: address.port,
    seed: o.seed,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
    createJob: (spec) => site.createJob(spec),
    setFaults: (spec) => site.faults.set(spec),
    clearFaults: () => site.faults.set(undefined),
    revokeTokens: () => site.tokens.revoke(),
    purgeJob: (id) => site.jobs.purge(id),
    stats: () => site.stats(),
    issueToken: (username = site.defaultUser, ttlMs) => site.issueToken(username, ttlMs).token,
    advance(ms) {
      const now = clock.advance(ms);
      site.settle(now);
      return now;
    },
    now: () => clock.now(),
    job(id) {
      const now = site.settle();
      const job = site.jobs.get(id, now);
      return job ? jobBody(job, now, site.catalogue) : undefined;
    },
    service(path) {
      site.settle();
      const [folder, leaf] = path.includes('/')
        ? [path.slice(0, path.lastIndexOf('/')), path.slice(path.lastIndexOf('/') + 1)]
        : ['', path];
      const parsed = parseService(leaf);
      const found = parsed && site.catalogue.get({ folder, ...parsed });
      return found ? structuredClone(found) : undefined;
    },
  };
}

/**
 * Splits a raw request path into decoded segments, or `undefined` for a hostile path: dot
 * segments, encoded slashes, backslashes, bad escapes or control characters.
 */
export function pathSegments(rawPath: string): string[] | undefined {
  if (!rawPath.startsWith('/') || rawPath.length > 4096) return undefined;
  if (/%2f|%5c|%2e|\\|%00/i.test(rawPath)) return undefined;
  const out: string[] = [];
  const parts = rawPath.slice(1).split('/');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '.' || part === '..') return undefined;
    if (part === '' && i !== parts.length - 1) return undefined;
    let decoded: string;
    try {
      decoded = decodeURIComponent(part);
    } catch {
      return undefined;
    }
    if (/[\u0000-\u001f\u007f]/.test(decoded)) return undefined;
    out.push(decoded);
  }
  return out;
}

function parseServiceList(raw: string | null): ServiceKey[] | string {
  if (!raw) return "'services' must be specified.";
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return "'services' is not valid JSON.";
  }
  const list = Array.isArray(value) ? value : (value as { services?: unknown } | null)?.services;
  if (!Array.isArray(list) || list.length === 0)
    return "'services' must list at least one service.";
  const keys: ServiceKey[] = [];
  for (const entry of list) {
    const e = entry as { folderName?: unknown; serviceName?: unknown; type?: unknown } | null;
    if (!e || typeof e.serviceName !== 'string' || typeof e.type !== 'string')
      return "Each entry of 'services' needs serviceName and type.";
    const folder = typeof e.folderName === 'string' && e.folderName !== '/' ? e.folderName : '';
    keys.push({ folder, name: e.serviceName, type: e.type });
  }
  return keys;
}

function parseEdit(raw: string | null, key: ServiceKey): Service | string {
  if (!raw) return "'service' must be specified.";
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return "'service' is not valid JSON.";
  }
  const parsed = safeParseService(value);
  if (!parsed.success) return `'service' is not a valid service: ${parsed.error.message}`;
  const service = parsed.data;
  if (service.serviceName !== key.name || service.type !== key.type) {
    return `The service name and type cannot be changed by an edit (expected ${key.name}.${key.type}).`;
  }
  return service;
}
