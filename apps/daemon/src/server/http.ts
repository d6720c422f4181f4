/**
 * The daemon's HTTP API on `node:http`: a small router, JSON errors with stable codes,
 * bearer keys, tickets, CORS, size-limited bodies, and the event stream.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { isLoopbackHost } from '@jobwatch/client';
import {
  type ApiErrorCodeValue,
  CodedError,
  DaemonPath,
  DaemonQuery,
  isJobId,
  type JobRef as JobSourceRef,
  type JobView,
  jobRefUrl,
  parseJobRef,
  safeParseWatchJobRequest,
  safeParseWatchRequest,
} from '@jobwatch/schema';
import { hostName } from '../config.js';
import type { Daemon, WatchRefusal } from '../daemon.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { JobCursor, JobRecord, Store, WatchState, WatchTarget } from '../store/store.js';
import type { EventHub } from './events.js';
import { openApiDocument } from './openapi.js';
import { corsHeaders, createKeyCheck, type TicketIssuer } from './security.js';

/** A refused request: its HTTP status, the body's stable code, and headers to send. */
class ApiError extends CodedError<ApiErrorCodeValue> {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    code: ApiErrorCodeValue,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
  }
}

/** 405 with the `Allow` header listing what the route takes. */
const notAllowed = (...methods: string[]) =>
  new ApiError(405, 'METHOD_NOT_ALLOWED', `use ${methods.join(' or ')}`, {
    allow: [...methods, 'OPTIONS'].join(', '),
  });

/** 401 with the `WWW-Authenticate` challenge. */
const unauthorized = (message: string) =>
  new ApiError(401, 'UNAUTHORIZED', message, { 'www-authenticate': 'Bearer realm="jobwatch"' });

/** Options of {@link createApiServer}. */
export interface ApiServerOptions {
  readonly daemon: Daemon;
  readonly store: Store;
  readonly hub: EventHub;
  readonly tickets: TicketIssuer;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Accepted bearer keys; empty means no key is asked (loopback only, checked by the caller). */
  readonly apiKeys: readonly string[];
  /**
   * Host names (lower case) `/api` answers to. Without keys, loopback names and
   * {@link listenHost} are allowed too; with keys, an empty list allows any.
   */
  readonly allowedHosts?: readonly string[];
  /** The address listened on, allowed as a host name without keys. */
  readonly listenHost?: string;
  readonly corsOrigins: readonly string[];
  /** Largest request body in bytes. @default 16 KiB */
  readonly maxBodyBytes?: number;
}

/** The public view of a job; its `source` and `url` for jobs other than admin jobs of an enterprise deployment. */
const viewOf =
  (daemon: Daemon) =>
  (r: JobRecord): JobView => ({
    deployment: r.deployment,
    jobid: r.jobid,
    state: r.state,
    addedAt: r.addedAt,
    ...(r.endedAt !== undefined ? { endedAt: r.endedAt } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...daemon.describe(r),
    snapshot: r.snapshot,
  });

/** The answer to a refused watch request. */
function refusal(refused: WatchRefusal, deployment: string | undefined, host?: string): ApiError {
  switch (refused) {
    case 'SHUTTING_DOWN':
      return new ApiError(503, 'SHUTTING_DOWN', 'the daemon is shutting down');
    case 'UNKNOWN_DEPLOYMENT':
      return new ApiError(
        404,
        'UNKNOWN_DEPLOYMENT',
        `no deployment named ${JSON.stringify((deployment ?? '').slice(0, 64))}`,
      );
    case 'NO_DEPLOYMENT_FOR_HOST':
      return new ApiError(
        422,
        'NO_DEPLOYMENT_FOR_HOST',
        `no ${deployment ? `deployment named ${JSON.stringify(deployment.slice(0, 64))} has` : 'configured deployment has'} credentials for ${host ?? 'this host'}; add its origin to a deployment's origins, or configure a deployment for it`,
      );
    case 'AMBIGUOUS_DEPLOYMENT':
      return new ApiError(
        409,
        'AMBIGUOUS_JOB',
        `several deployments serve ${host ?? 'this host'}; name one in "deployment"`,
      );
    case 'JOB_ID_TAKEN':
      return new ApiError(
        409,
        'JOB_ID_TAKEN',
        `deployment ${JSON.stringify((deployment ?? '').slice(0, 64))} already has another job under this id`,
      );
  }
}

/**
 * The job a `{"url"}` or `{"ref"}` body names, read with `parseJobRef`: anything that is not
 * a job of a known source, or holds a hostile part, is refused before any request.
 */
function jobRefOf(body: { url: string } | { ref: JobSourceRef }): JobSourceRef {
  try {
    return 'url' in body ? parseJobRef(body.url) : parseJobRef(jobRefUrl(body.ref));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ApiError(400, 'BAD_JOB_URL', `${'url' in body ? 'url' : 'ref'}: ${message}`);
  }
}

const STATES: readonly WatchState[] = ['watching', 'finished', 'stopped', 'failed'];

/** Largest page of `GET /api/jobs?limit=`. */
export const MAX_PAGE = 1000;

/** The opaque `next` of a page: where the following page starts. */
function encodeCursor(r: JobCursor): string {
  return Buffer.from(JSON.stringify([r.addedAt, r.deployment, r.jobid])).toString('base64url');
}

/** Reads a cursor made by {@link encodeCursor}. @throws {@link ApiError} 400 when it is not one. */
function decodeCursor(text: string): JobCursor {
  let value: unknown;
  try {
    value = text.length <= 512 ? JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) : null;
  } catch {
    value = null;
  }
  if (
    Array.isArray(value) &&
    value.length === 3 &&
    Number.isSafeInteger(value[0]) &&
    typeof value[1] === 'string' &&
    isJobId(value[2])
  )
    return { addedAt: value[0], deployment: value[1], jobid: value[2] };
  throw new ApiError(400, 'BAD_REQUEST', 'after: expected the `next` of an earlier page');
}

function pageLimit(text: string | null): number | undefined {
  if (text === null) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_PAGE)
    throw new ApiError(400, 'BAD_REQUEST', `limit: expected an integer from 1 to ${MAX_PAGE}`);
  return n;
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  // The media type alone, parameters (charset) aside: `application/json-patch+json` is not JSON here.
  const media = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (media !== 'application/json')
    throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit)
    throw new ApiError(413, 'BODY_TOO_LARGE', `request body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ApiError(413, 'BODY_TOO_LARGE', `request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiError(400, 'BAD_REQUEST', 'the body is not valid JSON');
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(400, 'BAD_REQUEST', 'the path holds a malformed escape');
  }
}

function checkJobId(value: unknown): string {
  if (!isJobId(value))
    throw new ApiError(400, 'INVALID_JOB_ID', 'jobid: expected 1-128 letters, digits, "-" or "_"');
  return value;
}

/** What the route handlers share. */
interface RouteContext {
  readonly daemon: Daemon;
  readonly store: Store;
  readonly hub: EventHub;
  readonly tickets: TicketIssuer;
  /** Whether an `Authorization` header carries an accepted key (always, without keys). */
  readonly keyCheck: (authorization: string | undefined) => boolean;
  /** Largest request body in bytes. */
  readonly limit: number;
}

/** Sends a JSON answer that no cache keeps. */
function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Against DNS rebinding: a page that points its own name at 127.0.0.1 sends that name as
 * `Host`. Without keys only loopback names and the listen address are served.
 */
function hostPolicy(options: ApiServerOptions): (host: string | undefined) => boolean {
  const allowedHosts = new Set(options.allowedHosts ?? []);
  const listenHost = options.listenHost
    ? hostName(isIP(options.listenHost) === 6 ? `[${options.listenHost}]` : options.listenHost)
    : undefined;
  return (host) => {
    if (host === undefined) return true; // HTTP/1.0 without Host: no browser sends that
    const name = hostName(host);
    if (allowedHosts.has(name)) return true;
    if (options.apiKeys.length > 0) return allowedHosts.size === 0;
    return isLoopbackHost(name) || name === listenHost;
  };
}

/** The deployment a request names (or the only one), and a watched job by id. */
function lookups({ daemon, store }: RouteContext) {
  const deploymentOf = (name: string | null): string => {
    if (name) {
      if (!daemon.deployments.includes(name))
        throw new ApiError(
          404,
          'UNKNOWN_DEPLOYMENT',
          `no deployment named ${JSON.stringify(name.slice(0, 64))}`,
        );
      return name;
    }
    if (daemon.deployments.length === 1) return daemon.deployments[0] as string;
    throw new ApiError(
      400,
      'BAD_REQUEST',
      `deployment: name one of ${daemon.deployments.join(', ')}`,
    );
  };

  /** Finds a job by id, in one deployment or, unqualified, in whichever single one has it. */
  const findJob = async (jobid: string, deployment: string | null): Promise<JobRecord> => {
    if (deployment) {
      const record = await store.get({ deployment: deploymentOf(deployment), jobid });
      if (!record) throw new ApiError(404, 'JOB_NOT_WATCHED', `job ${jobid} is not watched`);
      return record;
    }
    const found = await store.list({ jobids: [jobid] });
    if (found.length > 1)
      throw new ApiError(
        409,
        'AMBIGUOUS_JOB',
        `job ${jobid} exists in several deployments; add ?deployment=`,
      );
    if (!found[0]) throw new ApiError(404, 'JOB_NOT_WATCHED', `job ${jobid} is not watched`);
    return found[0];
  };

  return { deploymentOf, findJob };
}

/** `GET /api/events`: the key or a ticket, the filters, then the stream. */
async function serveEvents(
  ctx: RouteContext,
  req: IncomingMessage,
  res: ServerResponse,
  q: URLSearchParams,
  cors: Record<string, string>,
): Promise<void> {
  const { keyCheck, tickets, hub } = ctx;
  const { deploymentOf } = lookups(ctx);
  const ticket = q.get(DaemonQuery.TICKET);
  if (!keyCheck(req.headers.authorization) && !(ticket && tickets.verify(ticket))) {
    throw unauthorized('send Authorization: Bearer <key>, or ?ticket= from POST /api/tickets');
  }
  const deployment = q.get(DaemonQuery.DEPLOYMENT);
  if (deployment) deploymentOf(deployment);
  const jobids = q.getAll(DaemonQuery.JOBID).map(checkJobId);
  const header = req.headers['last-event-id'];
  const rawLast =
    (Array.isArray(header) ? header[0] : header) ?? q.get(DaemonQuery.LAST_EVENT_ID) ?? undefined;
  // Ids are decimal: `0x10`, `1e3` or ` 5` are not ids this daemon sent.
  if (rawLast !== undefined && rawLast !== '' && !/^\d{1,15}$/.test(rawLast))
    throw new ApiError(400, 'BAD_REQUEST', 'Last-Event-ID: expected a decimal event id');
  const lastEventId = rawLast === undefined || rawLast === '' ? undefined : Number(rawLast);
  await hub.attach(res, {
    filter: { deployment: deployment ?? undefined, jobids },
    lastEventId,
    headers: cors,
  });
}

/**
 * `POST /api/jobs` with `{"url"}` or `{"ref"}`: a job of any source, read without a request,
 * watched on the deployment named (in the body or the path) or the one serving its host.
 */
async function watchJobOfAnySource(
  ctx: RouteContext,
  res: ServerResponse,
  body: object,
  pathDeployment: string | null,
  cors: Record<string, string>,
): Promise<void> {
  const { daemon } = ctx;
  const parsed = safeParseWatchJobRequest(body);
  if (!parsed.success) throw new ApiError(400, 'BAD_REQUEST', parsed.error.message);
  const ref = jobRefOf(parsed.data as { url: string } | { ref: JobSourceRef });
  const name = parsed.data.deployment ?? pathDeployment ?? undefined;
  const placed = daemon.place(ref, name);
  if ('refused' in placed) throw refusal(placed.refused, name, new URL(jobRefUrl(ref)).host);
  const result = await daemon.watch(placed.target);
  if ('refused' in result) throw refusal(result.refused, placed.target.deployment);
  return send(res, result.created ? 201 : 200, viewOf(daemon)(result.record), cors);
}

/** `/api/jobs[/:jobid]` and `/api/deployments/:name/jobs[/:jobid]`. */
async function serveJobs(
  ctx: RouteContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  parts: readonly string[],
  cors: Record<string, string>,
): Promise<void> {
  const { daemon, store, limit } = ctx;
  const { deploymentOf, findJob } = lookups(ctx);
  const view = viewOf(daemon);
  const method = req.method ?? 'GET';
  const q = url.searchParams;
  let deployment: string | null = q.get(DaemonQuery.DEPLOYMENT);
  let rest = parts;
  if (parts[0] === 'deployments' && parts[2] === 'jobs') {
    deployment = deploymentOf(decodeSegment(parts[1] ?? ''));
    rest = parts.slice(2);
  }
  if (rest[0] !== 'jobs' || rest.length > 2)
    throw new ApiError(404, 'NOT_FOUND', `no route ${url.pathname}`);
  const jobidPart = rest[1] === undefined ? undefined : checkJobId(decodeSegment(rest[1]));

  if (jobidPart === undefined) {
    if (method === 'GET') {
      const state = q.get(DaemonQuery.STATE);
      if (state && !STATES.includes(state as WatchState))
        throw new ApiError(400, 'BAD_REQUEST', `state: expected one of ${STATES.join(', ')}`);
      if (deployment) deploymentOf(deployment);
      const pageSize = pageLimit(q.get(DaemonQuery.LIMIT));
      const after = q.get(DaemonQuery.AFTER);
      if (after !== null && pageSize === undefined)
        throw new ApiError(400, 'BAD_REQUEST', 'after: goes with limit');
      const records = await store.list({
        deployment: deployment ?? undefined,
        ...(state ? { state: state as WatchState } : {}),
        ...(after !== null ? { after: decodeCursor(after) } : {}),
        // One more than asked tells whether another page follows.
        ...(pageSize !== undefined ? { limit: pageSize + 1 } : {}),
      });
      const page = pageSize !== undefined ? records.slice(0, pageSize) : records;
      const last = page[page.length - 1];
      return send(
        res,
        200,
        {
          jobs: page.map(view),
          ...(pageSize !== undefined && records.length > pageSize && last
            ? { next: encodeCursor(last) }
            : {}),
        },
        cors,
      );
    }
    if (method === 'POST') {
      const body = await readJson(req, limit);
      if (typeof body === 'object' && body !== null && ('url' in body || 'ref' in body)) {
        return watchJobOfAnySource(ctx, res, body, deployment, cors);
      }
      const parsed = safeParseWatchRequest(body);
      if (!parsed.success) {
        const { issues, message } = parsed.error;
        const idOnly = issues.length > 0 && issues.every((i) => i.pointer === '/jobid');
        throw new ApiError(400, idOnly ? 'INVALID_JOB_ID' : 'BAD_REQUEST', message);
      }
      const { jobid, deployment: bodyDeployment } = parsed.data;
      const checkedId = checkJobId(jobid);
      const ref: WatchTarget = {
        deployment: deploymentOf(bodyDeployment ?? deployment),
        jobid: checkedId,
      };
      const result = await daemon.watch(ref);
      if ('refused' in result) throw refusal(result.refused, ref.deployment);
      return send(res, result.created ? 201 : 200, view(result.record), cors);
    }
    throw notAllowed('GET', 'POST');
  }

  if (method === 'GET') return send(res, 200, view(await findJob(jobidPart, deployment)), cors);
  if (method === 'DELETE') {
    const record = await findJob(jobidPart, deployment);
    await daemon.unwatch(record);
    return send(res, 200, view((await store.get(record)) ?? record), cors);
  }
  throw notAllowed('GET', 'DELETE');
}

/** Creates the HTTP server (not listening yet). */
export function createApiServer(options: ApiServerOptions): Server {
  const { daemon, metrics, logger } = options;
  const ctx: RouteContext = {
    daemon,
    store: options.store,
    hub: options.hub,
    tickets: options.tickets,
    keyCheck: options.apiKeys.length ? createKeyCheck(options.apiKeys) : () => true,
    limit: options.maxBodyBytes ?? 16 * 1024,
  };
  const { keyCheck, tickets } = ctx;
  const openApi = openApiDocument();
  const hostAllowed = hostPolicy(options);

  async function api(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    cors: Record<string, string>,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean).slice(1); // after "api"
    /** The path without empty segments (`/api/events/` is `/api/events`). */
    const route = `/api/${parts.join('/')}`;
    const q = url.searchParams;

    if (route === DaemonPath.EVENTS) {
      if (method !== 'GET') throw notAllowed('GET');
      return serveEvents(ctx, req, res, q, cors);
    }

    if (!keyCheck(req.headers.authorization))
      throw unauthorized('send Authorization: Bearer <key>');

    if (route === DaemonPath.OPENAPI) {
      if (method !== 'GET') throw notAllowed('GET');
      return send(res, 200, openApi, cors);
    }

    if (route === DaemonPath.TICKETS) {
      if (method !== 'POST') throw notAllowed('POST');
      return send(res, 201, tickets.issue(), cors);
    }

    if (route === DaemonPath.MODELS) {
      if (method !== 'GET') throw new ApiError(405, 'METHOD_NOT_ALLOWED', 'use GET');
      return send(res, 200, daemon.models(), cors);
    }

    if (route === DaemonPath.DEPLOYMENTS) {
      if (method !== 'GET') throw notAllowed('GET');
      return send(res, 200, { deployments: daemon.deployments.map((name) => ({ name })) }, cors);
    }

    return serveJobs(ctx, req, res, url, parts, cors);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://daemon');
    const path = url.pathname;
    if (path === DaemonPath.LIVEZ) return send(res, 200, { status: 'ok' });
    if (path === DaemonPath.READYZ) {
      if (!daemon.ready()) return send(res, 503, { status: 'not ready' });
      // A shared store that cannot be reached: polling goes on, but this daemon should get no
      // traffic (its answers would be stale, its writes are only buffered).
      const store = options.store.health?.();
      if (store && !store.up)
        return send(res, 503, {
          status: 'not ready',
          reason: `store unavailable (${store.reason ?? 'unreachable'}); ${store.buffered} transitions buffered`,
        });
      return send(res, 200, { status: 'ready' });
    }
    if (path === DaemonPath.METRICS) {
      const text = await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(text);
      return;
    }
    if (path !== '/api' && !path.startsWith('/api/'))
      throw new ApiError(404, 'NOT_FOUND', `no route ${path.slice(0, 100)}`);
    if (!hostAllowed(req.headers.host))
      throw new ApiError(
        403,
        'FORBIDDEN_HOST',
        options.apiKeys.length > 0
          ? 'this Host is not in allowedHosts'
          : 'without apiKeys only loopback host names (localhost, 127.0.0.1, [::1]) are served; add this name to allowedHosts',
      );
    const origin = req.headers.origin;
    const cors = corsHeaders(options.corsOrigins, origin);
    if (!cors.allowed) {
      res.setHeader('vary', 'Origin');
      throw new ApiError(403, 'FORBIDDEN_ORIGIN', 'this origin is not allowed');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors.headers).end();
      return;
    }
    for (const [k, v] of Object.entries(cors.headers)) res.setHeader(k, v);
    await api(req, res, url, cors.headers);
  }

  return createServer(
    { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 },
    (req, res) => {
      // Every answer, the event stream and probes included: never let a browser guess a type.
      res.setHeader('x-content-type-options', 'nosniff');
      handle(req, res).catch((error: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const known = error instanceof ApiError;
        if (!known)
          logger.error(
            { err: error, method: req.method, path: req.url?.split('?')[0] },
            'request failed',
          );
        const status = known ? error.status : 500;
        const code = known ? error.code : 'INTERNAL';
        const message = known ? error.message : 'internal error';
        if (status === 413) res.setHeader('connection', 'close');
        send(res, status, { error: { code, message } }, known ? error.headers : {});
      });
    },
  );
}
