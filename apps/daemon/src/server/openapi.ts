/**
 * The OpenAPI 3.1 document of the daemon's HTTP API, made from the same TypeBox schemas the
 * server validates with and clients read with (`@jobwatch/schema`), so it cannot drift from
 * either. Served at `GET /api/openapi.json`; the event stream and its event types are
 * described under `x-events` of `GET /api/events` and in `components.schemas`.
 */
import { readFileSync } from 'node:fs';
import {
  ApiErrorBodySchema,
  ApiErrorCode,
  DaemonEndDataSchema,
  DaemonEvent,
  DaemonPath,
  DaemonQuery,
  DaemonReadyDataSchema,
  DeploymentListSchema,
  EmptyDataSchema,
  JobPageSchema,
  JobViewSchema,
  ProbeSchema,
  SnapshotSchema,
  TicketSchema,
  WatchFailureSchema,
  WatchRefRequestSchema,
  WatchRequestSchema,
  WatchStateSchema,
  WatchUrlRequestSchema,
} from '@jobwatch/schema';

/** A method and a path template of the API, as the OpenAPI document lists it. */
export interface ApiRoute {
  readonly method: 'get' | 'post' | 'delete';
  /** The path, `{name}` for a segment: `/api/jobs/{jobid}`. */
  readonly path: string;
}

/** Plain JSON Schema from a TypeBox schema (its own markers are not enumerable and drop out). */
const json = (schema: unknown): Record<string, unknown> =>
  JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonBody = (name: string, description: string) => ({
  description,
  content: { 'application/json': { schema: ref(name) } },
});
const errors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [String(status), { $ref: `#/components/responses/Error${status}` }]),
  );
const ERROR_TEXT: Record<number, string> = {
  400: 'Bad request: a parameter or the body is not what this route takes (`BAD_REQUEST`, `INVALID_JOB_ID`), or a job URL or reference that is not a job of any source or holds a hostile part (`BAD_JOB_URL`; refused before any request).',
  401: 'No valid API key (or ticket, for the event stream) (`UNAUTHORIZED`).',
  403: 'The Host or Origin is not allowed (`FORBIDDEN_HOST`, `FORBIDDEN_ORIGIN`).',
  404: 'No such route, deployment or watched job (`NOT_FOUND`, `UNKNOWN_DEPLOYMENT`, `JOB_NOT_WATCHED`).',
  405: 'The route does not take this method (`METHOD_NOT_ALLOWED`); `Allow` lists those it takes.',
  409: "The job id is watched in several deployments, or several deployments serve the job URL's host; name one (`AMBIGUOUS_JOB`). Or the deployment already watches another job under this id (`JOB_ID_TAKEN`).",
  413: 'The body is too large (`BODY_TOO_LARGE`).',
  422: "No configured deployment has credentials for the job URL's host (`NO_DEPLOYMENT_FOR_HOST`).",
  415: 'The body is not `application/json` (`UNSUPPORTED_MEDIA_TYPE`).',
  503: 'Shutting down, or too many event-stream clients (`SHUTTING_DOWN`, `TOO_MANY_CLIENTS`).',
};

const jobid = {
  name: DaemonQuery.JOBID,
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,128}$' },
} as const;
const deploymentPath = {
  name: DaemonQuery.DEPLOYMENT,
  in: 'path',
  required: true,
  schema: { type: 'string' },
} as const;
const deploymentQuery = {
  name: DaemonQuery.DEPLOYMENT,
  in: 'query',
  description: 'The deployment; optional when the daemon has only one.',
  schema: { type: 'string' },
} as const;
const KEY = [{ apiKey: [] }];
/** Said of the routes outside `/api`. */
const PROBE_NOTE = 'Answers any method, without a key; GET is the one to send.';

const listJobs = (scoped: boolean) => ({
  summary: 'A page of watched jobs',
  parameters: [
    ...(scoped ? [deploymentPath] : [deploymentQuery]),
    { name: DaemonQuery.STATE, in: 'query', schema: ref('WatchState') },
    {
      name: DaemonQuery.LIMIT,
      in: 'query',
      schema: { type: 'integer', minimum: 1, maximum: 1000 },
    },
    {
      name: DaemonQuery.AFTER,
      in: 'query',
      description: 'The `next` of the previous page (with `limit`).',
      schema: { type: 'string' },
    },
  ],
  security: KEY,
  responses: {
    '200': jsonBody('JobPage', 'The jobs, oldest watch first.'),
    ...errors(400, 401, 403, 404),
  },
});
const watchJob = (scoped: boolean) => ({
  summary: 'Watch a job',
  description:
    'By id (`{"jobid"}`: an admin job of the deployment, of its kind), or a job of any source by URL (`{"url"}`) or reference (`{"ref"}`): an ArcGIS Enterprise or ArcGIS Server admin job, a geoprocessing job, or a portal item job. A job by URL or reference is watched on the deployment named, else on the one whose credentials serve its host (its URL\'s origin, or one of its `origins`). Its view carries `source` and `url`.',
  parameters: scoped ? [deploymentPath] : [deploymentQuery],
  security: KEY,
  requestBody: {
    required: true,
    content: {
      'application/json': {
        schema: { oneOf: [ref('WatchRequest'), ref('WatchUrlRequest'), ref('WatchRefRequest')] },
      },
    },
  },
  responses: {
    '200': jsonBody('JobView', 'The job was already watched.'),
    '201': jsonBody('JobView', 'The job is watched now.'),
    ...errors(400, 401, 403, 404, 409, 413, 415, 422, 503),
  },
});
const getJob = (scoped: boolean) => ({
  summary: 'One watched job',
  parameters: [jobid, scoped ? deploymentPath : deploymentQuery],
  security: KEY,
  responses: { '200': jsonBody('JobView', 'The job.'), ...errors(400, 401, 403, 404, 409) },
});
const unwatchJob = (scoped: boolean) => ({
  summary: 'Stop watching a job (the job itself goes on)',
  parameters: [jobid, scoped ? deploymentPath : deploymentQuery],
  security: KEY,
  responses: {
    '200': jsonBody('JobView', 'The job, its watch stopped.'),
    ...errors(400, 401, 403, 404, 409),
  },
});

/** What {@link openApiDocument} says about the daemon. */
export interface OpenApiOptions {
  /** The daemon's version. @default the version in this package's `package.json` */
  readonly version?: string;
}

/** This package's version, `0.0.0` when its `package.json` cannot be read. */
function packageVersion(): string {
  try {
    const url = new URL('../../package.json', import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/**
 * The OpenAPI 3.1 document of the daemon's HTTP API, as `GET /api/openapi.json` serves it
 * and the package ships it (`@jobwatch/daemon/openapi.json`).
 */
export function openApiDocument(options: OpenApiOptions = {}): Record<string, unknown> {
  const events = Object.values(DaemonEvent);
  return {
    openapi: '3.1.0',
    info: {
      title: 'jobwatch daemon',
      version: options.version ?? packageVersion(),
      description:
        'The HTTP API of `jobwatch serve`: the jobs it watches, a live event stream of their snapshots, and its probes. Every error answer is `{"error": {"code", "message"}}` with a stable code.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths: {
      [DaemonPath.LIVEZ]: {
        get: {
          summary: 'The process is alive',
          description: PROBE_NOTE,
          responses: { '200': jsonBody('Probe', '`{"status": "ok"}`') },
        },
      },
      [DaemonPath.READYZ]: {
        get: {
          summary: 'The daemon is ready',
          description: PROBE_NOTE,
          responses: {
            '200': jsonBody('Probe', '`{"status": "ready"}`'),
            '503': jsonBody('Probe', '`{"status": "not ready"}`'),
          },
        },
      },
      [DaemonPath.METRICS]: {
        get: {
          summary: 'Prometheus metrics',
          description: PROBE_NOTE,
          responses: {
            '200': {
              description: 'The Prometheus text format.',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
      [DaemonPath.OPENAPI]: {
        get: {
          summary: 'This document',
          security: KEY,
          responses: {
            '200': {
              description: 'The OpenAPI 3.1 document of this API.',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
            ...errors(401, 403),
          },
        },
      },
      [DaemonPath.EVENTS]: {
        get: {
          summary: 'The live event stream',
          description: `Server-sent events. On connect: the current snapshot of every matching job (or, with \`Last-Event-ID\` / \`?lastEventId=\`, the events missed since that id, or \`resync\` and the current state), then \`ready\`, then each change as it happens, a \`ping\` every \`heartbeatMs\`, and \`end\` when the daemon shuts down. Event types: ${events.map((e) => `\`${e}\``).join(', ')}; their data are the schemas named under \`x-events\`. Clients ignore types they do not know.`,
          parameters: [
            {
              name: DaemonQuery.JOBID,
              in: 'query',
              description: 'Only these jobs (repeat it).',
              schema: { type: 'array', items: { type: 'string' } },
              style: 'form',
              explode: true,
            },
            deploymentQuery,
            {
              name: DaemonQuery.LAST_EVENT_ID,
              in: 'query',
              description: 'Resume after this id, for clients that cannot send the header.',
              schema: { type: 'string', pattern: '^\\d{1,15}$' },
            },
            {
              name: 'Last-Event-ID',
              in: 'header',
              schema: { type: 'string', pattern: '^\\d{1,15}$' },
            },
            {
              name: DaemonQuery.TICKET,
              in: 'query',
              description: 'A ticket from `POST /api/tickets`, instead of the API key.',
              schema: { type: 'string' },
            },
          ],
          security: [{ apiKey: [] }, { ticket: [] }],
          responses: {
            '200': {
              description: 'The stream (`text/event-stream`).',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            ...errors(400, 401, 403, 404, 503),
          },
          'x-events': {
            [DaemonEvent.SNAPSHOT]: ref('Snapshot'),
            [DaemonEvent.RESYNC]: ref('EmptyData'),
            [DaemonEvent.READY]: ref('DaemonReadyData'),
            [DaemonEvent.PING]: ref('EmptyData'),
            [DaemonEvent.END]: ref('DaemonEndData'),
            [DaemonEvent.WATCH_FAILED]: ref('WatchFailure'),
          },
        },
      },
      [DaemonPath.MODELS]: {
        get: {
          summary: 'The duration model the daemon has learned',
          description:
            'Per kind of job, what its durations have been (`DurationModelJSON` of `@jobwatch/rx`).',
          security: KEY,
          responses: {
            '200': {
              description: 'The model.',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
            ...errors(401, 403),
          },
        },
      },
      [DaemonPath.TICKETS]: {
        post: {
          summary: 'A short-lived ticket for the event stream',
          description: "For browsers: `EventSource` cannot send the API key's header.",
          security: KEY,
          responses: { '201': jsonBody('Ticket', 'The ticket.'), ...errors(401, 403) },
        },
      },
      [DaemonPath.DEPLOYMENTS]: {
        get: {
          summary: 'The configured deployments',
          security: KEY,
          responses: { '200': jsonBody('DeploymentList', 'Their names.'), ...errors(401, 403) },
        },
      },
      [DaemonPath.JOBS]: { get: listJobs(false), post: watchJob(false) },
      [`${DaemonPath.JOBS}/{jobid}`]: { get: getJob(false), delete: unwatchJob(false) },
      [`${DaemonPath.DEPLOYMENTS}/{deployment}/jobs`]: {
        get: listJobs(true),
        post: watchJob(true),
      },
      [`${DaemonPath.DEPLOYMENTS}/{deployment}/jobs/{jobid}`]: {
        get: getJob(true),
        delete: unwatchJob(true),
      },
    },
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: "One of the daemon's `apiKeys`." },
        ticket: { type: 'apiKey', in: 'query', name: DaemonQuery.TICKET },
      },
      responses: Object.fromEntries(
        Object.entries(ERROR_TEXT).map(([status, description]) => [
          `Error${status}`,
          jsonBody('ApiErrorBody', description),
        ]),
      ),
      schemas: {
        Snapshot: json(SnapshotSchema),
        WatchState: json(WatchStateSchema),
        JobView: json(JobViewSchema),
        JobPage: json(JobPageSchema),
        WatchRequest: json(WatchRequestSchema),
        WatchUrlRequest: json(WatchUrlRequestSchema),
        WatchRefRequest: json(WatchRefRequestSchema),
        Ticket: json(TicketSchema),
        DeploymentList: json(DeploymentListSchema),
        ApiErrorBody: {
          ...json(ApiErrorBodySchema),
          description: `Codes: ${Object.values(ApiErrorCode).join(', ')}.`,
        },
        Probe: json(ProbeSchema),
        DaemonReadyData: json(DaemonReadyDataSchema),
        DaemonEndData: json(DaemonEndDataSchema),
        WatchFailure: json(WatchFailureSchema),
        EmptyData: json(EmptyDataSchema),
      },
    },
  };
}
