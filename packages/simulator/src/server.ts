import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isJobId, type JobId, type Service } from '@jobwatch/schema';
import { createAdminApi } from './admin.js';
import { type ClockOption, createClock } from './clock.js';
import { handleControl } from './control.js';
import { SimulatorError } from './errors.js';
import type { FaultDecision, FaultSpec } from './faults.js';
import {
  BodyError,
  type Format,
  gatewayPage,
  parseForm,
  readBody,
  restError,
  send,
  sendBody,
} from './http.js';
import {
  parseQuirks,
  parseTokenHeader,
  type QuirkNameValue,
  type QuirksOption,
  type TokenHeaderMode,
} from './quirks.js';
import { freshSeed } from './random.js';
import { isPlainName, parseServiceName, pathSegments, resolveAdminRoute } from './routes.js';
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
  /**
   * Cross-origin access to the ArcGIS routes (as a deployment's `allowedOrigins` gives), so
   * a page can talk to the simulator directly: `true` for any origin, a list for just those,
   * `false` for none. Never on `/__sim/`. @default true
   */
  readonly cors?: boolean | readonly string[];
  /** Duration bounds (log-uniform) of jobs started by admin operations. @default { min: 1000, max: 10_000 } */
  readonly operationDurationMs?: { readonly min: number; readonly max: number };
  /** Disaster-recovery stores that accept backups. @default ['default'] */
  readonly backupStores?: readonly string[];
  /** Largest request body accepted; larger ones get 413. @default 1_048_576 */
  readonly maxBodyBytes?: number;
  /** Called once per answered request. @default none */
  readonly log?: (entry: RequestLogEntry) => void;
  /**
   * Bodies that vary the way real servers' do (see `QuirkName` for each kind): `true` for
   * every quirk, a list of names for just those, `false` for the documented shapes only.
   * Each quirk that is on shows on about half the jobs (and error answers), chosen from the
   * seed and the job id, so a run replays exactly; a job created with its own `quirks`
   * shows those. Switchable at run time (`setQuirks`, `POST /__sim/quirks`). @default false
   */
  readonly quirks?: QuirksOption;
  /**
   * Which header the simulator reads the token from: `both`, or only
   * `x-esri-authorization` (a deployment behind web-tier authentication) or only
   * `authorization`; a token in the other header is answered as missing (499). The `token`
   * parameter is read in every mode. Switchable at run time (`setTokenHeader`,
   * `POST /__sim/token-header`). @default 'both'
   */
  readonly tokenHeader?: TokenHeaderMode;
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
  /** Turns quirks on (`true` or a list of names) or off; returns those now on. @throws {@link SimulatorError} `INVALID_SPEC` */
  setQuirks(quirks: QuirksOption): readonly QuirkNameValue[];
  /** The quirks on now (empty when off). */
  quirks(): readonly QuirkNameValue[];
  /** Sets which header the token is read from. @throws {@link SimulatorError} `INVALID_SPEC` */
  setTokenHeader(mode: TokenHeaderMode): void;
  /** Which header the token is read from now. */
  tokenHeader(): TokenHeaderMode;
}

const CONTEXT = /^[A-Za-z0-9_-]+$/;
const HOST_HEADER = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/;
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/;

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
    if (w.operations) {
      const weights = Object.values(w.operations);
      if (
        weights.some((x) => typeof x !== 'number' || !(x >= 0) || !Number.isFinite(x)) ||
        !weights.some((x) => x > 0)
      ) {
        bad('workload.operations needs weights ≥ 0, at least one above 0');
      }
    }
  }
  const cors = options.cors ?? true;
  if (
    typeof cors !== 'boolean' &&
    !(Array.isArray(cors) && cors.every((c) => typeof c === 'string'))
  ) {
    bad('cors must be true, false or a list of origins');
  }
  const stores = options.backupStores ?? ['default'];
  if (stores.length === 0 || stores.some((s) => !isPlainName(s)))
    bad('backupStores must be names of letters, digits, "-" or "_"');
  const seed = options.seed ?? freshSeed();
  if (!Number.isFinite(seed)) bad('seed must be a number');
  const quirks = parseQuirks(options.quirks, 'INVALID_OPTIONS');
  const tokenHeader = parseTokenHeader(options.tokenHeader ?? 'both', 'INVALID_OPTIONS');
  return {
    quirks,
    tokenHeader,
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
    cors,
  };
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
  site.quirks.set(o.quirks);
  site.tokenHeader = o.tokenHeader;
  const control = options.control ?? LOOPBACK.test(o.host);
  const log = options.log;
  const { cors } = o;
  const api = createAdminApi(site, {
    context: o.context,
    tokenTtlMs: o.tokenTtlMs,
    backupStores: o.backupStores,
  });

  let origin = '';
  let listening = 0;
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
      return handleControl(site, req, res, rawPath.slice('/__sim'.length), {
        origin,
        port: listening,
        maxBodyBytes: o.maxBodyBytes,
      });
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
    const target = isToken ? { route: 'generateToken' as const } : resolveAdminRoute(admin);
    setRoute(target.route);
    site.count(
      target.route,
      target.route === 'job' && admin[1] !== undefined && isJobId(admin[1]) ? admin[1] : undefined,
    );

    const pageOrigin = req.headers.origin;
    const corsAllowed =
      typeof pageOrigin === 'string' &&
      (cors === true || (Array.isArray(cors) && cors.includes(pageOrigin)));
    if (corsAllowed) {
      res.setHeader('Access-Control-Allow-Origin', pageOrigin);
      res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
      res.setHeader('Vary', 'Origin');
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
        res.writeHead(204, {
          'Access-Control-Allow-Methods': 'GET, POST',
          'Access-Control-Allow-Headers': 'Authorization, X-Esri-Authorization, Content-Type',
          'Access-Control-Max-Age': '600',
          'Content-Length': '0',
        });
        res.end();
        return;
      }
    }
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
        ? api.generateToken(params, rawPath)
        : api.answer({
            method: req.method,
            headers: req.headers,
            params,
            admin,
            target,
            origin: originOf(req),
            path: rawPath,
          });
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
          // A keep-alive socket serves many requests: the listener must go with the delay,
          // or every delayed request leaves one behind on the socket.
          const socket = req.socket;
          const done = () => {
            clearTimeout(timer);
            socket.off('close', done);
            resolve();
          };
          const timer = setTimeout(done, d.delayMs);
          socket.once('close', done);
        });
        return res.destroyed;
      default:
        return false;
    }
  }

  function originOf(req: IncomingMessage): string {
    const host = req.headers.host;
    return typeof host === 'string' && HOST_HEADER.test(host) ? `http://${host}` : origin;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  listening = address.port;
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
      return job ? site.body(job, now) : undefined;
    },
    service(path) {
      site.settle();
      const [folder, leaf] = path.includes('/')
        ? [path.slice(0, path.lastIndexOf('/')), path.slice(path.lastIndexOf('/') + 1)]
        : ['', path];
      const parsed = parseServiceName(leaf);
      const found = parsed && site.catalogue.get({ folder, ...parsed });
      return found ? structuredClone(found) : undefined;
    },
    setQuirks: (quirks) => site.quirks.set(quirks),
    quirks: () => site.quirks.enabled,
    setTokenHeader(mode) {
      site.tokenHeader = parseTokenHeader(mode);
    },
    tokenHeader: () => site.tokenHeader,
  };
}
