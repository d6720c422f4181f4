/**
 * The daemon's wire protocol, in one place for the server (`jobwatch serve`) and every
 * client (`fromDaemon` in `@jobwatch/rx`, the widget, scripts): its paths, query names,
 * event names, the events URL, the frame of one event, and the stable codes of its error
 * answers. The bodies' schemas are in `schemas/protocol.ts`; their validators are
 * precompiled like every other body's.
 */

/** The daemon's paths. Job paths take a job id, and may be scoped to a deployment. */
export const DaemonPath = {
  /** `GET`: the live event stream (`text/event-stream`). */
  EVENTS: '/api/events',
  /** `POST`: a short-lived ticket for the event stream. */
  TICKETS: '/api/tickets',
  /** `GET`: the configured deployments. */
  DEPLOYMENTS: '/api/deployments',
  /** `GET` a page of watched jobs; `POST` a job to watch. */
  JOBS: '/api/jobs',
  /** `GET`: the duration model the daemon has learned. */
  MODELS: '/api/models',
  /** `GET`: the OpenAPI 3.1 document of this API. */
  OPENAPI: '/api/openapi.json',
  /** `GET`: the process is alive. */
  LIVEZ: '/livez',
  /** `GET`: the daemon is ready to serve. */
  READYZ: '/readyz',
  /** `GET`: Prometheus metrics. */
  METRICS: '/metrics',
} as const;
/** One of {@link DaemonPath}. */
export type DaemonPathValue = (typeof DaemonPath)[keyof typeof DaemonPath];

/** The query parameters the daemon reads. */
export const DaemonQuery = {
  /** A job id; repeated for several (events), one (jobs). */
  JOBID: 'jobid',
  /** A deployment's name. */
  DEPLOYMENT: 'deployment',
  /** Resume the event stream after this id (for `EventSource`s that cannot send the header). */
  LAST_EVENT_ID: 'lastEventId',
  /** A ticket from `POST /api/tickets`, for the event stream. */
  TICKET: 'ticket',
  /** Only jobs whose watch is in this state. */
  STATE: 'state',
  /** Page size of `GET /api/jobs`. */
  LIMIT: 'limit',
  /** Where the page starts: the `next` of the previous one. */
  AFTER: 'after',
} as const;
/** One of {@link DaemonQuery}. */
export type DaemonQueryValue = (typeof DaemonQuery)[keyof typeof DaemonQuery];

/** The header that resumes the event stream after an id. */
export const LAST_EVENT_ID_HEADER = 'Last-Event-ID';

/**
 * The event types of the daemon's stream (`GET /api/events`): one list for the daemon that
 * writes them and `fromDaemon` that reads them. Clients ignore types they do not know, so
 * new ones can be added without breaking anyone.
 *
 * - `snapshot`: one job's snapshot, with an `id` to resume from.
 * - `resync`: the missed events are no longer kept; the current state follows.
 * - `ready`: the catch-up is complete (current state, or the missed events); carries
 *   {@link DaemonReadyData}. Sent once per connection.
 * - `ping`: the heartbeat, every {@link DaemonReadyData.heartbeatMs}.
 * - `end`: the daemon is shutting down (`{"reason": "shutdown"}`).
 * - `watch_failed`: the daemon could not go on watching a job (credentials refused, the job
 *   purged, …): a {@link WatchFailure}, with an `id`.
 */
export const DaemonEvent = {
  SNAPSHOT: 'snapshot',
  RESYNC: 'resync',
  READY: 'ready',
  PING: 'ping',
  END: 'end',
  WATCH_FAILED: 'watch_failed',
} as const;
/** One of {@link DaemonEvent}. */
export type DaemonEventValue = (typeof DaemonEvent)[keyof typeof DaemonEvent];

/** Stable codes of the API's error bodies `{ "error": { "code", "message" } }`. */
export const ApiErrorCode = {
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN_ORIGIN: 'FORBIDDEN_ORIGIN',
  FORBIDDEN_HOST: 'FORBIDDEN_HOST',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  BAD_REQUEST: 'BAD_REQUEST',
  INVALID_JOB_ID: 'INVALID_JOB_ID',
  /** `POST /api/jobs`: the `url` or `ref` is not a job of any source, or holds a hostile part. */
  BAD_JOB_URL: 'BAD_JOB_URL',
  /** `POST /api/jobs`: no configured deployment's credentials serve the job's host. */
  NO_DEPLOYMENT_FOR_HOST: 'NO_DEPLOYMENT_FOR_HOST',
  /** `POST /api/jobs`: the deployment already watches another job (another source) under this id. */
  JOB_ID_TAKEN: 'JOB_ID_TAKEN',
  UNKNOWN_DEPLOYMENT: 'UNKNOWN_DEPLOYMENT',
  AMBIGUOUS_JOB: 'AMBIGUOUS_JOB',
  JOB_NOT_WATCHED: 'JOB_NOT_WATCHED',
  BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  TOO_MANY_CLIENTS: 'TOO_MANY_CLIENTS',
  INTERNAL: 'INTERNAL',
} as const;
/** One of {@link ApiErrorCode}. */
export type ApiErrorCodeValue = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

/** What {@link daemonEventsUrl} puts in the events URL. */
export interface EventsUrlOptions {
  /** Only these jobs. */
  readonly jobid?: string | readonly string[] | undefined;
  /** Only this deployment. */
  readonly deployment?: string | undefined;
  /** Resume after this event id (`?lastEventId=`). */
  readonly lastEventId?: string | undefined;
  /** A ticket from `POST /api/tickets`. */
  readonly ticket?: string | undefined;
}

/**
 * The event stream's URL with its filters. `base` is the daemon's root
 * (`https://jobs.example.com`, `http://127.0.0.1:7070/prefix`) or the events URL itself.
 *
 * @throws TypeError when `base` is not an absolute URL.
 */
export function daemonEventsUrl(base: string, options: EventsUrlOptions = {}): string {
  const url = new URL(base);
  if (!url.pathname.replace(/\/+$/, '').endsWith(DaemonPath.EVENTS)) {
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${DaemonPath.EVENTS}`;
  }
  const { jobid } = options;
  for (const id of jobid === undefined ? [] : typeof jobid === 'string' ? [jobid] : jobid)
    url.searchParams.append(DaemonQuery.JOBID, id);
  if (options.deployment !== undefined)
    url.searchParams.set(DaemonQuery.DEPLOYMENT, options.deployment);
  if (options.lastEventId !== undefined)
    url.searchParams.set(DaemonQuery.LAST_EVENT_ID, options.lastEventId);
  if (options.ticket !== undefined) url.searchParams.set(DaemonQuery.TICKET, options.ticket);
  return url.toString();
}

/**
 * One event of the stream as it goes on the wire: `id:` (when given), `event:`, one `data:`
 * line of JSON, and the blank line that ends it.
 */
export function eventFrame(event: DaemonEventValue, data: unknown, id?: number | string): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
