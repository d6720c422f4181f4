import type { IncomingHttpHeaders } from 'node:http';
import { isJobId, type JobId, JobStatus, type Service, safeParseService } from '@jobwatch/schema';
import { type ServiceKey, serviceKeyString } from './catalogue.js';
import { adminError, restError } from './http.js';
import type { Operation } from './jobs.js';
import { spellStatus } from './quirks.js';
import type { AdminTarget } from './routes.js';
import type { Site } from './site.js';
import { tokenOf } from './tokens.js';

/** What a handler answers: a body, and a title for the HTML page. */
export interface Answer {
  readonly body: unknown;
  readonly title: string;
}

/** A request under the admin root, as the handlers see it. */
export interface AdminRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  /** Query and form parameters, the form's winning. */
  readonly params: URLSearchParams;
  /** Path segments after `/<context>/admin/`. */
  readonly admin: readonly string[];
  readonly target: AdminTarget;
  /** The origin `jobsUrl` is built on. */
  readonly origin: string;
  /** The request's path (no query), which error-body quirks are chosen by. */
  readonly path: string;
}

/** What the admin API needs to know of the simulator's settings. */
export interface AdminConfig {
  readonly context: string;
  readonly tokenTtlMs: number;
  readonly backupStores: readonly string[];
}

/** The admin API's handlers: ArcGIS behaviour, no HTTP plumbing. */
export interface AdminApi {
  /** `generateToken`; `path` is the request's path (no query). */
  generateToken(params: URLSearchParams, path: string): Answer;
  /** Any route under the admin root; checks the token first. */
  answer(request: AdminRequest): Answer;
}

/** What every part of the admin API works with: the site and the simulator's settings. */
interface AdminContext {
  readonly site: Site;
  readonly config: AdminConfig;
}

/** An authorized call, as an operation sees it. */
interface Call {
  readonly params: URLSearchParams;
  readonly username: string;
  readonly origin: string;
}

/** An answer; `exact` when an error's documented body decides what a client does next. */
type ExactAnswer = Answer & { readonly exact?: boolean };

/** Creates the admin API's handlers over a site. */
export function createAdminApi(site: Site, config: AdminConfig): AdminApi {
  const context: AdminContext = { site, config };
  return {
    generateToken: (params, path) => generateToken(context, params, path),
    answer(req) {
      const { body, title, exact } = answerOf(context, req);
      return exact ? { body, title } : { body: site.quirks.errorBody(body, req.path), title };
    },
  };
}

function generateToken(
  { site, config }: AdminContext,
  params: URLSearchParams,
  path: string,
): Answer {
  const title = 'Generate Token';
  const username = params.get('username') ?? '';
  const password = params.get('password') ?? '';
  const fail = (detail: string): Answer => ({
    title,
    body: site.quirks.errorBody(restError(400, 'Unable to generate token.', [detail]), path),
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
  let ttl = config.tokenTtlMs;
  if (expiration !== null && expiration !== '') {
    const minutes = Number(expiration);
    if (!Number.isFinite(minutes) || minutes <= 0)
      return fail("'expiration' must be a positive number of minutes.");
    ttl = minutes * 60_000;
  }
  const { token, expires } = site.issueToken(username, ttl);
  return { title, body: { token, expires, ssl: false } };
}

/**
 * The caller's user name when the request's token is good and an operation is POSTed; else
 * the error answer (an operation's in the admin error shape, a read's in the REST one).
 */
function authorize(site: Site, req: AdminRequest, title: string): string | ExactAnswer {
  const { target, params } = req;
  const isOperation =
    target.route === 'operation' || (target.route === 'backup' && target.op === 'create');
  const check = site.tokens.check(tokenOf(req.headers, params, site.tokenHeader), site.clock.now());
  if (!check.ok) {
    if (isOperation) {
      return check.reason === 'missing'
        ? {
            title,
            exact: true,
            body: adminError(499, [
              "Unauthorized access.Token not found. You can generate a token using the 'generateToken' operation.",
            ]),
          }
        : { title, exact: true, body: adminError(498, ['Invalid token.']) };
    }
    return check.reason === 'missing'
      ? { title, exact: true, body: restError(499, 'Token Required') }
      : { title, exact: true, body: restError(498, 'Invalid token.') };
  }
  if (isOperation && req.method !== 'POST') {
    return { title, body: adminError(405, ['This operation is only supported via POST.']) };
  }
  return check.username;
}

/** The answer to a route under the admin root, its token checked first. */
function answerOf(context: AdminContext, req: AdminRequest): ExactAnswer {
  const { site, config } = context;
  const { params, admin, target } = req;
  const title = admin.length > 0 ? admin.join(' / ') : 'Home';
  const username = authorize(site, req, title);
  if (typeof username !== 'string') return username;
  const call: Call = { params, username, origin: req.origin };
  const now = site.clock.now();
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
        ? { title, exact: true, body: site.body(job, now) }
        : { title, exact: true, body: restError(404, `Job '${id}' not found.`) };
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
            body: restError(404, `Service '${serviceKeyString(target.service!)}' does not exist.`),
          };
    }
    case 'operation':
      return { title, body: operation(context, call, target.op!, target.service) };
    case 'backup':
      return {
        title,
        body:
          target.op === 'stores'
            ? { stores: config.backupStores.map((name) => ({ name, type: 'FILESYSTEM' })) }
            : backup(context, call, target.store!),
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

/** The answer of an operation started as a job: where to poll it, its id as the operation spells it. */
function jobHandle(
  { site, config }: AdminContext,
  call: Call,
  jobid: JobId,
  spelling: 'jobID' | 'jobid',
): Record<string, unknown> {
  const jobsUrl = `${call.origin}/${config.context}/admin/jobs/${jobid}`;
  const quirks = site.quirks.forJob(jobid);
  const handle: Record<string, unknown> =
    spelling === 'jobID'
      ? {
          jobsUrl,
          jobID: jobid,
          jobStatus: quirks ? spellStatus(JobStatus.SUBMITTED, quirks) : JobStatus.SUBMITTED,
        }
      : { jobsUrl, jobid };
  if (quirks?.has('extraFields')) handle.status = 'success';
  return handle;
}

/** A service operation (`edit`, `start`, `stop`, `deleteServices`), at once or as a job (`async=true`). */
function operation(
  context: AdminContext,
  call: Call,
  op: string,
  service: ServiceKey | undefined,
): unknown {
  const { site, config } = context;
  const isAsync = (call.params.get('async') ?? 'false').toLowerCase() === 'true';
  let opSpec: Omit<Operation, 'effects'>;
  if (op === 'deleteServices') {
    const parsed = parseServiceList(call.params.get('services'));
    if (typeof parsed === 'string') return adminError(400, [parsed]);
    const missing = parsed.find((k) => !site.catalogue.get(k));
    if (missing) return adminError(404, [`Service '${serviceKeyString(missing)}' does not exist.`]);
    opSpec = {
      uri: `/${config.context}/admin/services/deleteServices`,
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
      uri: `/${config.context}/admin/services/${serviceKeyString(key)}/${op}`,
      kind: op as 'edit' | 'start' | 'stop',
      services: [key],
      ...(payload ? { payload } : {}),
    };
  }
  if (isAsync)
    return jobHandle(context, call, site.startOperation(opSpec, call.username).id, 'jobID');
  const { failure } = site.apply(opSpec);
  return failure ? adminError(500, [failure]) : { status: 'success' };
}

/** A disaster-recovery backup into a known store, always a job. */
function backup(context: AdminContext, call: Call, store: string): unknown {
  const { site, config } = context;
  if (!config.backupStores.includes(store))
    return adminError(404, [`Disaster recovery store '${store.slice(0, 64)}' does not exist.`]);
  const job = site.startOperation(
    {
      uri: `/${config.context}/admin/system/disasterrecovery/stores/${store}/backups/create`,
      kind: 'backup',
      services: [],
    },
    call.username,
  );
  return jobHandle(context, call, job.id, 'jobid');
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

/** Reads an edit's `service` parameter strictly, as a server does; a string says what is wrong. */
export function parseEdit(raw: string | null, key: ServiceKey): Service | string {
  if (!raw) return "'service' must be specified.";
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return "'service' is not valid JSON.";
  }
  const parsed = safeParseService(value);
  if (!parsed.success) return `'service' is not a valid service: ${parsed.error.message}`;
  // A server checks what it is sent strictly: every field in its documented shape, and a name
  // and a type.
  const service = parsed.data;
  const missing = (['serviceName', 'type'] as const).find((k) => typeof service[k] !== 'string');
  const problem =
    parsed.warnings[0] ??
    (missing ? { pointer: `/${missing}`, expected: 'a string', found: 'missing' } : undefined);
  if (problem) {
    const path = `service${problem.pointer.replace(/\//g, '.')}`;
    return `'service' is not a valid service: ${path}: expected ${problem.expected}, got ${problem.found}`;
  }
  if (service.serviceName !== key.name || service.type !== key.type) {
    return `The service name and type cannot be changed by an edit (expected ${key.name}.${key.type}).`;
  }
  return service;
}
