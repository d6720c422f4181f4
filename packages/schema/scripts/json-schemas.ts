/**
 * The JSON Schema files of `@jobwatch/schema`, made from the TypeBox definitions so that
 * programs in other languages validate exactly what jobwatch validates. Shared by the
 * generator (`gen-json.ts`) and the test that fails when the committed files drift.
 */
import type { TSchema } from 'typebox';
import {
  AdminErrorBodySchema,
  AdminSuccessSchema,
  BackupStageSchema,
  GpJobSchema,
  ItemStatusSchema,
  JobHandleSchema,
  JobListSchema,
  JobSchema,
  RestErrorBodySchema,
  ServerJobSchema,
  ServiceListSchema,
  ServiceSchema,
  SiteInfoSchema,
  SnapshotSchema,
  TokenResponseSchema,
} from '../src/index.js';

/** The JSON Schema dialect of the files; ajv validates it with `ajv/dist/2020`. */
export const DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** Where each file says it lives. */
export const ID_BASE = 'https://jobwatch.dev/schema/';

/** The command that rewrites the files, for messages. */
export const GEN_COMMAND = 'pnpm --filter @jobwatch/schema gen:json';

interface Entry {
  readonly schema: TSchema;
  readonly title: string;
  readonly description: string;
}

/** Every body that gets a file, by kind (the file is `<kind>.schema.json`). */
export const JSON_SCHEMA_KINDS = {
  job: {
    schema: JobSchema,
    title: 'ArcGIS Enterprise admin job',
    description:
      'The job resource, GET <root>/jobs/<jobid>?f=json. Unknown fields are allowed; status is any string, with SUBMITTED, EXECUTING, CANCELLING, CANCELLED, FAILED, COMPLETED, UNAVAILABLE and TIMED OUT known.',
  },
  'job-list': {
    schema: JobListSchema,
    title: 'ArcGIS Enterprise admin job list',
    description:
      'The jobs collection, GET <root>/jobs?f=json: job ids only, in no documented order.',
  },
  'job-handle': {
    schema: JobHandleSchema,
    title: 'ArcGIS Enterprise admin job handle',
    description:
      'The immediate answer of an operation run asynchronously: jobid (backup create) or jobID and jobStatus (service stop), and jobsUrl. The id is read from jobid, then jobID, then the last path segment of jobsUrl.',
  },
  'admin-success': {
    schema: AdminSuccessSchema,
    title: 'ArcGIS Enterprise admin success body',
    description: 'A synchronous operation\'s answer: {"status": "success"}.',
  },
  'rest-error': {
    schema: RestErrorBodySchema,
    title: 'ArcGIS REST error body (format A)',
    description:
      'An error from the REST and portal APIs, usually with HTTP 200: {"error": {"code": 498, "message": "Invalid token.", "details": []}}.',
  },
  'admin-error': {
    schema: AdminErrorBodySchema,
    title: 'ArcGIS Enterprise admin error body (format B)',
    description:
      'An error from an admin operation, usually with HTTP 200: {"status": "error", "messages": ["..."], "code": 499}.',
  },
  token: {
    schema: TokenResponseSchema,
    title: 'ArcGIS generateToken response',
    description:
      'The answer of <context>/sharing/rest/generateToken: the token, its expiry in epoch milliseconds (a number, or a numeric string on some older servers) and whether it is HTTPS-only.',
  },
  service: {
    schema: ServiceSchema,
    title: 'ArcGIS Enterprise service JSON',
    description:
      'A service definition, as in the result.service of an async edit job. Only serviceName and type are required; known types, providers and states are named in descriptions, and other values are accepted.',
  },
  'service-list': {
    schema: ServiceListSchema,
    title: 'ArcGIS Enterprise services list',
    description:
      'GET <root>/services[/<folder>]?f=json: the services of a folder and its subfolders.',
  },
  'site-info': {
    schema: SiteInfoSchema,
    title: 'ArcGIS Enterprise admin site info',
    description: "GET <root>?f=json: the admin root's version and resources.",
  },
  snapshot: {
    schema: SnapshotSchema,
    title: 'jobwatch snapshot',
    description:
      'What jobwatch knows about one job at one moment: what its streams emit, its daemon sends in each event and its widget shows.',
  },
  'backup-stage': {
    schema: BackupStageSchema,
    title: 'ArcGIS Enterprise backup stage',
    description:
      'One stage of a backup job\'s result.stages: {"name": "Validation", "state": "completed", "duration": "...", "lastUpdated": 1635285646933}.',
  },
  'server-job': {
    schema: ServerJobSchema,
    title: 'ArcGIS Server admin job',
    description:
      'GET <server>/admin/system/jobs/<jobid>?f=json: jobid, status, totalsteps, currentstep, stepInfo and operationResponse (a COMPLETED job whose operationResponse.status is error has failed). Unknown fields are allowed.',
  },
  'gp-job': {
    schema: GpJobSchema,
    title: 'ArcGIS geoprocessing job',
    description:
      'GET <task>/jobs/<jobId>?f=json (also the answer of submitJob and cancel): jobId, jobStatus (esriJob…), messages, results and inputs as {name: {paramUrl}}, progress while executing. Unknown fields are allowed.',
  },
  'item-status': {
    schema: ItemStatusSchema,
    title: 'ArcGIS portal item job status',
    description:
      'GET <portal>/sharing/rest/content/users/<user>/items/<itemId>/status?jobType=…&jobId=…&f=json: status (partial, processing, failed, completed), statusMessage, itemId. Unknown fields are allowed.',
  },
} as const satisfies Record<string, Entry>;

/** A kind that has a JSON Schema file. */
export type JsonSchemaKind = keyof typeof JSON_SCHEMA_KINDS;

/** The file name of a kind's schema. */
export const fileNameOf = (kind: string): string => `${kind}.schema.json`;

/**
 * The JSON Schema document of one kind: `$schema`, `$id`, `title` and `description` first,
 * then the TypeBox schema as JSON (TypeBox's own markers are not enumerable and drop out).
 */
export function jsonSchemaOf(kind: JsonSchemaKind): Record<string, unknown> {
  const { schema, title, description } = JSON_SCHEMA_KINDS[kind];
  const { description: _inline, ...body } = JSON.parse(JSON.stringify(schema)) as Record<
    string,
    unknown
  >;
  return {
    $schema: DIALECT,
    $id: `${ID_BASE}${fileNameOf(kind)}`,
    title,
    description,
    ...body,
  };
}

/** Every file's name and exact text, in a stable order. */
export function jsonSchemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const kind of Object.keys(JSON_SCHEMA_KINDS) as JsonSchemaKind[]) {
    files.set(fileNameOf(kind), `${JSON.stringify(jsonSchemaOf(kind), null, 2)}\n`);
  }
  return files;
}
