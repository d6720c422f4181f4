import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobId, Service } from '@jobwatch/schema';
import { createAdminApi } from './admin.js';
import { createClock, type SimClock } from './clock.js';
import { createDispatch, type Dispatch, type Listening } from './dispatch.js';
import type { SimulatorError } from './errors.js';
import type { FaultSpec } from './faults.js';
import type { GpJobSpec } from './gp-jobs.js';
import { restError, send } from './http.js';
import type { ItemJobSpec, ItemJobType } from './item-jobs.js';
import {
  LOOPBACK,
  type ResolvedOptions,
  resolveOptions,
  type SimulatorOptions,
} from './options.js';
import {
  parseTokenHeader,
  type QuirkNameValue,
  type QuirksOption,
  type TokenHeaderMode,
} from './quirks.js';
import { parseServiceName } from './routes.js';
import type { ServerJobSpec } from './server-jobs.js';
import { type JobSpec, type SimRoute, type SimStats, Site } from './site.js';
import { type SourceUrls, sourceUrls } from './urls.js';

export type { RequestLogEntry, SimulatorOptions } from './options.js';

/** A running simulator: its URLs, in-process mirrors of the control surface, and `close()`. */
export interface Simulator {
  /** Origin, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** `<url>/<context>/admin`. */
  readonly adminUrl: string;
  /** `<url>/<context>/sharing/rest/generateToken`. */
  readonly tokenUrl: string;
  /** The ArcGIS Server admin root, `<url>/<serverContext>/admin` (its jobs at `system/jobs`). */
  readonly serverAdminUrl: string;
  /** The ArcGIS Server services directory, `<url>/<serverContext>/rest/services` (geoprocessing). */
  readonly restUrl: string;
  /** The portal, `<url>/<portalContext>` (item status under `sharing/rest/content/users/…`). */
  readonly portalUrl: string;
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
  /** Creates an ArcGIS Server admin job with a chosen outcome, duration and steps. @throws {@link SimulatorError} `INVALID_SPEC` */
  createServerJob(spec: ServerJobSpec): CreatedServerJob;
  /** Creates a geoprocessing job with a chosen outcome and duration, as `submitJob` would. @throws {@link SimulatorError} `INVALID_SPEC` */
  createGpJob(spec: GpJobSpec): CreatedGpJob;
  /** Creates a portal item job with a chosen outcome and duration. @throws {@link SimulatorError} `INVALID_SPEC` */
  createItemJob(spec: ItemJobSpec): CreatedItemJob;
}

/** The name the sister-source work gives the value {@link startSimulator} resolves to. */
export type StartedSimulator = Simulator;

/** An ArcGIS Server admin job just created: its id and URL. */
export interface CreatedServerJob {
  readonly jobid: string;
  /** `<serverAdminUrl>/system/jobs/<jobid>`. */
  readonly jobUrl: string;
}

/** A geoprocessing job just created: its id, its task's URL and its own. */
export interface CreatedGpJob {
  readonly jobId: string;
  /** `<restUrl>/<folder>/<service>/GPServer/<task>` (the task name percent-encoded). */
  readonly taskUrl: string;
  /** `<taskUrl>/jobs/<jobId>`. */
  readonly jobUrl: string;
}

/** A portal item job just created: the key its status is read by, and that URL. */
export interface CreatedItemJob {
  readonly itemId: string;
  readonly jobId: string;
  readonly jobType: ItemJobType;
  readonly username: string;
  /** `<portalUrl>/sharing/rest/content/users/<user>/items/<itemId>/status?jobType=…&jobId=…`. */
  readonly statusUrl: string;
}

/** The site a simulator serves, from its options. */
function createSite(o: ResolvedOptions, options: SimulatorOptions, clock: SimClock): Site {
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
  return site;
}

/** The HTTP server: keep-alive, a log line per answer, a 500 for anything unexpected. */
function createHttpServer(dispatch: Dispatch, log: SimulatorOptions['log']): Server {
  const server = createServer({ keepAlive: true }, (req, res) => {
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
    const track = { route: (r: SimRoute) => (route = r), fault: (f: string) => (fault = f) };
    dispatch(req, res, track).catch((error: unknown) => {
      const detail = String((error as Error)?.message ?? error);
      send(
        res,
        500,
        'application/json;charset=utf-8',
        JSON.stringify(restError(500, 'Internal simulator error.', [detail])),
      );
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('clientError', (_error, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

/** Listens and fills in where: the origin URLs are built on, and the port. */
async function listen(server: Server, o: ResolvedOptions, listening: Listening): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  listening.port = address.port;
  const host =
    o.host === '0.0.0.0' || o.host === '' ? '127.0.0.1' : o.host === '::' ? '::1' : o.host;
  listening.origin = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** The in-process side of a running simulator: URLs and mirrors of the control surface. */
function simulatorFacade(
  site: Site,
  clock: SimClock,
  o: ResolvedOptions,
  listening: Listening,
  close: () => Promise<void>,
): Simulator {
  const origin = listening.origin;
  const urls: SourceUrls = sourceUrls(origin, o.contexts);
  return {
    url: origin,
    adminUrl: `${origin}/${o.context}/admin`,
    tokenUrl: `${origin}/${o.context}/sharing/rest/generateToken`,
    serverAdminUrl: urls.serverAdmin,
    restUrl: urls.rest,
    portalUrl: urls.portal,
    port: listening.port,
    seed: o.seed,
    close,
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
      const cut = path.lastIndexOf('/');
      const [folder, leaf] = cut >= 0 ? [path.slice(0, cut), path.slice(cut + 1)] : ['', path];
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
    createServerJob(spec) {
      const job = site.sources.createServerJob(spec, site.settle());
      return { jobid: job.id, jobUrl: urls.serverJob(job.id) };
    },
    createGpJob(spec) {
      const job = site.sources.createGpJob(spec, site.settle());
      return { jobId: job.id, taskUrl: urls.task(job.task), jobUrl: urls.gpJob(job.task, job.id) };
    },
    createItemJob(spec) {
      const job = site.sources.createItemJob(spec, site.settle());
      const { itemId, jobType, username } = job;
      return { itemId, jobId: job.id, jobType, username, statusUrl: urls.itemStatus(job) };
    },
  };
}

/**
 * Starts a simulator of an ArcGIS deployment and resolves once it listens: the Enterprise
 * Administrator API (admin jobs), an ArcGIS Server (its admin jobs and geoprocessing
 * services) and a portal (item job status), on one clock, with one set of tokens, faults
 * and quirks.
 *
 * Speaks the APIs as the references describe them, awkward parts included: `f=html` by
 * default, errors with HTTP 200 in both formats, both job-handle spellings, tokens in four
 * carriers. Jobs progress on the simulator's clock; a control surface under `/__sim/`
 * (loopback only, by default) creates jobs of every source, injects faults and reads
 * request counts.
 *
 * @throws {@link SimulatorError} `INVALID_OPTIONS` for a bad option.
 * @example
 * ```ts
 * const sim = await startSimulator({ clock: 'manual' });
 * const jobid = sim.createJob({ outcome: 'COMPLETED', durationMs: 3000 });
 * const gp = sim.createGpJob({ outcome: 'esriJobSucceeded', durationMs: 3000 });
 * sim.advance(3000);
 * await sim.close();
 * ```
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const o = resolveOptions(options);
  const clock = createClock(options.clock ?? 'real', options.startTime ?? Date.now());
  const site = createSite(o, options, clock);
  const api = createAdminApi(site, {
    context: o.context,
    tokenTtlMs: o.tokenTtlMs,
    backupStores: o.backupStores,
  });
  const listening: Listening = { origin: '', port: 0 };
  const control = options.control ?? LOOPBACK.test(o.host);
  const server = createHttpServer(createDispatch(site, api, o, control, listening), options.log);
  await listen(server, o, listening);
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  return simulatorFacade(site, clock, o, listening, close);
}
