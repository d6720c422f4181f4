/**
 * Job references: which job of which source, read from (and printed back to) its URL. Every
 * part of a URL that a reference keeps is checked before anything could build a request from
 * it, so a reference is safe to turn into a URL again.
 */
import { CodedError } from '../coded-error.js';
import { isJobId } from '../jobid.js';

/**
 * Where a job lives:
 * - `enterprise`: an ArcGIS Enterprise on Kubernetes admin job, `<admin>/jobs/<jobid>`;
 * - `server`: an ArcGIS Server admin job, `<admin>/system/jobs/<jobid>`;
 * - `gp`: a geoprocessing service job, `<task>/jobs/<jobId>`;
 * - `item`: a portal or ArcGIS Online item job (publish, export, …), read at the item's `status`.
 */
export type JobSource = 'enterprise' | 'server' | 'gp' | 'item';

/** Every {@link JobSource}, in the order above. */
export const JOB_SOURCES: readonly JobSource[] = /* @__PURE__ */ Object.freeze([
  'enterprise',
  'server',
  'gp',
  'item',
]);

/** An ArcGIS Enterprise on Kubernetes admin job: `<adminUrl>/jobs/<jobid>`. */
export interface EnterpriseJobRef {
  readonly source: 'enterprise';
  /** `https://host/<context>/admin`, no trailing slash. */
  readonly adminUrl: string;
  readonly jobid: string;
}

/** An ArcGIS Server admin job: `<adminUrl>/system/jobs/<jobid>`. */
export interface ServerJobRef {
  readonly source: 'server';
  /** `https://host/<context>/admin`, no trailing slash. */
  readonly adminUrl: string;
  readonly jobid: string;
}

/** A geoprocessing job: `<taskUrl>/jobs/<jobid>`. */
export interface GpJobRef {
  readonly source: 'gp';
  /** `https://host/<context>/rest/services/[<folder>/]<service>/GPServer/<task>`. */
  readonly taskUrl: string;
  readonly jobid: string;
}

/**
 * A portal item job:
 * `<portalUrl>/sharing/rest/content/users/<username>/items/<itemId>/status?jobType=<jobType>&jobId=<jobid>`.
 */
export interface ItemJobRef {
  readonly source: 'item';
  /** `https://host/<context>` (`https://www.arcgis.com` for ArcGIS Online), no trailing slash. */
  readonly portalUrl: string;
  readonly username: string;
  readonly itemId: string;
  /** `publish`, `generateFeatures`, `export`, `createService`, … */
  readonly jobType: string;
  readonly jobid: string;
}

/**
 * A job of any source, by its URL's parts: a discriminated union on `source`. Every URL in it
 * is normalised (no query, no fragment, no credentials, no trailing slash) and every part is
 * safe to put back in a URL. Made by {@link parseJobRef} (or by hand, then checked by
 * {@link checkJobRef}); printed back by {@link jobRefUrl}.
 */
export type JobRef = EnterpriseJobRef | ServerJobRef | GpJobRef | ItemJobRef;

/** Stable codes of {@link JobRefError}. */
export type JobRefErrorCode = 'BAD_JOB_URL';

/**
 * A job URL (or reference) that jobwatch will not read: not a job URL of a known source, or
 * with a part that could move a request elsewhere (`..`, percent-encoded slashes, a query
 * carrying a token, credentials, control characters). Nothing was requested. The message never
 * shows credentials or a query.
 */
export class JobRefError extends CodedError<JobRefErrorCode> {
  override readonly name = 'JobRefError';
  constructor(message: string) {
    super('BAD_JOB_URL', message);
  }
}

/** Whether `value` is a {@link JobRefError}. */
export function isJobRefError(value: unknown): value is JobRefError {
  return value instanceof JobRefError;
}

// Parts of paths: what ArcGIS names contain, and nothing that could change a URL.
const CONTEXT = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,127}$/;
/** A GP task name: a name, where spaces (`%20` in a URL) also occur (`911 Calls Hotspot`). */
const TASK = /^[A-Za-z0-9_][A-Za-z0-9_ -]{0,127}$/;
/** Portal user names: letters, digits, `.`, `_`, `-`, `@` (`jsmith`, `first.last_org`, `a@b.com`). */
const USERNAME = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,127}$/;
const ITEM_ID = /^[A-Za-z0-9]{1,64}$/;
const JOB_TYPE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** The item job types the status resource documents. Others are read too. */
export const ITEM_JOB_TYPES: readonly string[] = /* @__PURE__ */ Object.freeze([
  'publish',
  'generateFeatures',
  'export',
  'createService',
]);

/** How a URL is shown in an error: no credentials, no query, no fragment, at most 120 characters. */
function shown(input: string): string {
  let text = input.replace(/[\u0000-\u001f\u007f]/g, '?');
  // Everything from the scheme to the last "@" before the path is credentials.
  text = text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, '$1');
  text = text.replace(/[?#].*$/s, '');
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 117)}...` : text);
}

const refuse = (input: string, why: string): never => {
  throw new JobRefError(`Not a job URL jobwatch can read (${shown(input)}): ${why}`);
};

/** The path's segments as written, each checked, `%20` read as a space where `spaces` allows. */
function segmentsOf(input: string, path: string): string[] {
  if (path === '' || path === '/') return [];
  const raw = path.replace(/^\//, '').replace(/\/$/, '').split('/');
  return raw.map((segment) => {
    if (segment === '') refuse(input, 'an empty path segment ("//")');
    if (segment === '.' || segment === '..') refuse(input, 'a "." or ".." path segment');
    return segment;
  });
}

function checkPart(input: string, value: string, re: RegExp, what: string): string {
  if (!re.test(value)) {
    refuse(
      input,
      `the ${what} ${JSON.stringify(value.slice(0, 40))} has characters a ${what} cannot have`,
    );
  }
  return value;
}

function checkJobId(input: string, value: string): string {
  if (!isJobId(value)) {
    refuse(input, 'the job id must be 1–128 letters, digits, "-" or "_"');
  }
  return value;
}

/**
 * Reads a job URL of any source into a {@link JobRef}, without any request:
 *
 * | source       | URL                                                                                                 |
 * | ------------ | --------------------------------------------------------------------------------------------------- |
 * | `enterprise` | `https://host/<context>/admin/jobs/<jobid>`                                                         |
 * | `server`     | `https://host/<context>/admin/system/jobs/<jobid>`                                                  |
 * | `gp`         | `https://host/<context>/rest/services/[<folder>/]<service>/GPServer/<task>/jobs/<jobid>`            |
 * | `item`       | `https://host/<context>/sharing/rest/content/users/<user>/items/<itemId>/status?jobType=…&jobId=…`  |
 *
 * `http:` and `https:` only; a trailing slash and `f=json`/`f=pjson`/`f=html` in the query are
 * ignored. Refused (a {@link JobRefError}, code `BAD_JOB_URL`): credentials in the URL, any other
 * query parameter (a `token` there would end up in logs), a fragment, `.` or `..` segments,
 * `//`, backslashes, percent-encoding (save `%20` in a GP task name), control characters or
 * spaces, an unsafe job id, item id, user name or job type, and any URL of no known shape.
 *
 * @example
 * ```ts
 * parseJobRef('https://gis.example.com/server/rest/services/Tools/Buffer/GPServer/Buffer/jobs/j1a2b');
 * // { source: 'gp', taskUrl: 'https://gis.example.com/server/rest/services/Tools/Buffer/GPServer/Buffer', jobid: 'j1a2b' }
 * ```
 */
export function parseJobRef(url: string): JobRef {
  if (typeof url !== 'string') {
    throw new JobRefError(`Not a job URL jobwatch can read: expected a string, got ${typeof url}`);
  }
  const input = url.trim();
  if (input.length > 2048) refuse(input, 'longer than 2048 characters');
  if (/[\u0000-\u0020\u007f\\]/.test(input)) {
    refuse(input, 'spaces, backslashes or control characters');
  }
  const scheme = /^(https?):\/\//i.exec(input);
  if (!scheme) refuse(input, 'give an absolute http:// or https:// URL');
  const authorityEnd = input.slice((scheme as RegExpExecArray)[0].length).search(/[/?#]/);
  const authority =
    authorityEnd < 0
      ? input.slice((scheme as RegExpExecArray)[0].length)
      : input.slice(
          (scheme as RegExpExecArray)[0].length,
          (scheme as RegExpExecArray)[0].length + authorityEnd,
        );
  if (authority.includes('@')) {
    refuse(input, 'it carries a user name or password; give them as credentials instead');
  }
  if (input.includes('#')) refuse(input, 'it has a fragment');
  let parsed: URL;
  try {
    parsed = new URL(input);
  } catch {
    return refuse(input, 'it does not parse as a URL');
  }
  // The path exactly as written: URL parsing resolves "..", and that must be refused, not read.
  const afterAuthority =
    authorityEnd < 0 ? '' : input.slice((scheme as RegExpExecArray)[0].length + authorityEnd);
  const rawPath = afterAuthority.split('?', 1)[0] ?? '';
  const rawQuery = afterAuthority.includes('?')
    ? afterAuthority.slice(afterAuthority.indexOf('?') + 1)
    : '';
  if (/%(?!20)/i.test(rawPath)) {
    refuse(input, 'percent-encoding in the path (only %20 in a task name is read)');
  }
  const segments = segmentsOf(input, rawPath);
  const query = readQuery(input, rawQuery);
  const origin = parsed.origin;
  const lower = segments.map((s) => s.toLowerCase());
  const contextUrl = (end: number) => {
    for (const s of segments.slice(0, end)) checkPart(input, s, CONTEXT, 'context');
    const context = segments.slice(0, end).join('/');
    return context === '' ? origin : `${origin}/${context}`;
  };
  const noQuery = () => {
    if (query.size > 0) refuse(input, `this kind of job URL takes no query parameters but f`);
  };

  // <context>/sharing/rest/content/users/<user>/items/<itemId>/status
  const sharing = lower.lastIndexOf('sharing');
  if (
    sharing >= 0 &&
    lower[sharing + 1] === 'rest' &&
    lower[sharing + 2] === 'content' &&
    lower[sharing + 3] === 'users' &&
    lower[sharing + 5] === 'items' &&
    lower[sharing + 7] === 'status' &&
    segments.length === sharing + 8
  ) {
    const username = checkPart(input, segments[sharing + 4] as string, USERNAME, 'user name');
    if (/^\.+$/.test(username)) refuse(input, 'the user name cannot be dots only');
    const itemId = checkPart(input, segments[sharing + 6] as string, ITEM_ID, 'item id');
    const jobType = query.get('jobtype');
    const jobid = query.get('jobid');
    if (jobType === undefined || jobid === undefined) {
      refuse(input, 'an item job URL needs jobType and jobId in its query');
    }
    for (const key of query.keys()) {
      if (key !== 'jobtype' && key !== 'jobid') {
        refuse(input, 'an item job URL takes only jobType, jobId and f in its query');
      }
    }
    return {
      source: 'item',
      portalUrl: contextUrl(sharing),
      username,
      itemId,
      jobType: checkPart(input, jobType as string, JOB_TYPE, 'job type'),
      jobid: checkJobId(input, jobid as string),
    };
  }

  // <context>/rest/services/[<folder>/]<service>/GPServer/<task>/jobs/<jobid>
  const gp = lower.lastIndexOf('gpserver');
  if (gp >= 0 && lower[gp + 2] === 'jobs' && segments.length === gp + 4) {
    const services = lower.lastIndexOf('services', gp);
    const between = gp - services - 1;
    if (services >= 1 && lower[services - 1] === 'rest' && (between === 1 || between === 2)) {
      noQuery();
      const names = segments.slice(services + 1, gp);
      for (const n of names)
        checkPart(input, n, NAME, between === 2 ? 'folder or service name' : 'service name');
      const taskRaw = segments[gp + 1] as string;
      const task = checkPart(input, taskRaw.replace(/%20/gi, ' '), TASK, 'task name');
      if (task.endsWith(' ')) refuse(input, 'the task name ends in a space');
      const root = contextUrl(services - 1);
      const taskUrl = `${root}/rest/services/${names.join('/')}/GPServer/${encodeURIComponent(task)}`;
      return { source: 'gp', taskUrl, jobid: checkJobId(input, segments[gp + 3] as string) };
    }
  }

  // <context>/admin/system/jobs/<jobid>, <context>/admin/jobs/<jobid>
  const admin = lower.lastIndexOf('admin');
  if (admin >= 0) {
    const rest = lower.slice(admin + 1);
    const server = rest.length === 3 && rest[0] === 'system' && rest[1] === 'jobs';
    const enterprise = rest.length === 2 && rest[0] === 'jobs';
    if (server || enterprise) {
      noQuery();
      const jobid = checkJobId(input, segments[segments.length - 1] as string);
      const adminUrl = `${contextUrl(admin)}/admin`;
      return server
        ? { source: 'server', adminUrl, jobid }
        : { source: 'enterprise', adminUrl, jobid };
    }
  }
  return refuse(
    input,
    'give an admin job (…/admin/jobs/<id>), an ArcGIS Server admin job (…/admin/system/jobs/<id>), a geoprocessing job (…/GPServer/<task>/jobs/<id>) or an item job (…/items/<itemId>/status?jobType=…&jobId=…)',
  );
}

/** What {@link safeParseJobRef} returns. */
export type JobRefResult =
  | { readonly success: true; readonly data: JobRef; readonly warnings: readonly [] }
  | { readonly success: false; readonly error: JobRefError };

/** {@link parseJobRef} without throwing: `{ success: true, data }` or `{ success: false, error }`. */
export function safeParseJobRef(url: unknown): JobRefResult {
  try {
    return { success: true, data: parseJobRef(url as string), warnings: [] };
  } catch (error) {
    if (error instanceof JobRefError) return { success: false, error };
    throw error;
  }
}

/** The query's parameters, lower-cased names; `f` dropped; anything doubtful refused. */
function readQuery(input: string, raw: string): Map<string, string> {
  const out = new Map<string, string>();
  if (raw === '') return out;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = (eq < 0 ? pair : pair.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    if (name === 'token' || name === 'access_token' || name === 'password') {
      refuse(input, 'it carries a token or password in its query; never put one in a URL');
    }
    if (name === 'f') {
      if (!/^(json|pjson|html)$/i.test(value)) refuse(input, 'f must be json, pjson or html');
      continue;
    }
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name) || out.has(name)) {
      refuse(input, 'an unexpected or repeated query parameter');
    }
    if (value.includes('%')) refuse(input, 'percent-encoding in the query');
    out.set(name, value);
  }
  return out;
}

/**
 * Checks a reference made by hand (or read from storage) as {@link parseJobRef} checks a URL:
 * it is returned as a normalised reference, or refused with a {@link JobRefError}.
 */
export function checkJobRef(ref: JobRef): JobRef {
  if (typeof ref !== 'object' || ref === null) {
    throw new JobRefError('Not a job reference: expected an object with a source');
  }
  let url: string;
  try {
    url = jobRefUrl(ref);
  } catch (error) {
    if (error instanceof JobRefError) throw error;
    throw new JobRefError('Not a job reference: a part is missing or not a string');
  }
  const parsed = parseJobRef(url);
  if (jobRefKey(parsed) !== jobRefKey(ref)) {
    throw new JobRefError(
      `Not a job reference jobwatch can read (${shown(url)}): its parts do not round-trip`,
    );
  }
  return parsed;
}

/**
 * The URL of a job: where its status is read (without `f=json`, which a client adds).
 * `parseJobRef(jobRefUrl(ref))` gives `ref` back.
 *
 * @example
 * ```ts
 * jobRefUrl({ source: 'server', adminUrl: 'https://h/arcgis/admin', jobid: 'j1' }); // 'https://h/arcgis/admin/system/jobs/j1'
 * ```
 */
export function jobRefUrl(ref: JobRef): string {
  switch (ref.source) {
    case 'enterprise':
      return `${trimmed(ref.adminUrl)}/jobs/${ref.jobid}`;
    case 'server':
      return `${trimmed(ref.adminUrl)}/system/jobs/${ref.jobid}`;
    case 'gp':
      return `${trimmed(ref.taskUrl)}/jobs/${ref.jobid}`;
    case 'item':
      return `${trimmed(ref.portalUrl)}/sharing/rest/content/users/${ref.username}/items/${ref.itemId}/status?jobType=${ref.jobType}&jobId=${ref.jobid}`;
    default:
      throw new JobRefError(
        `Not a job reference: unknown source ${JSON.stringify(String((ref as { source?: unknown }).source))}; use enterprise, server, gp or item`,
      );
  }
}

function trimmed(url: unknown): string {
  if (typeof url !== 'string') throw new JobRefError('Not a job reference: a URL is missing');
  return url.replace(/\/+$/, '');
}

/**
 * A stable key for a job, the same for every spelling of its URL (host case, a trailing
 * slash, `f=json`): for sharing one poll loop and for deduplication. An item job is keyed by
 * its portal, item, job type and job id (the user in its URL does not change the job).
 *
 * @example
 * ```ts
 * jobRefKey(parseJobRef('https://H/arcgis/admin/system/jobs/j1/')); // 'server https://h/arcgis/admin/system/jobs/j1'
 * ```
 */
export function jobRefKey(ref: JobRef): string {
  if (ref.source === 'item') {
    return `item ${trimmed(ref.portalUrl)} ${ref.itemId} ${ref.jobType} ${ref.jobid}`;
  }
  return `${ref.source} ${jobRefUrl(ref)}`;
}

/** The URL of the deployment part a reference belongs to: the admin URL, the task URL, the portal URL. */
export function jobRefRoot(ref: JobRef): string {
  switch (ref.source) {
    case 'enterprise':
    case 'server':
      return ref.adminUrl;
    case 'gp':
      return ref.taskUrl;
    case 'item':
      return ref.portalUrl;
  }
}

/**
 * The ArcGIS context a reference lives under, as an admin-style URL `https://host/<context>/admin`:
 * the admin URL itself for admin jobs, `…/<context>/admin` for a GP task under
 * `…/<context>/rest/services`, and for a portal `…/<context>/admin` (whose derived token URL,
 * `…/<context>/sharing/rest/generateToken`, is the portal's own).
 */
export function jobRefAdminUrl(ref: JobRef): string {
  switch (ref.source) {
    case 'enterprise':
    case 'server':
      return trimmed(ref.adminUrl);
    case 'gp': {
      const url = trimmed(ref.taskUrl);
      const at = url.toLowerCase().lastIndexOf('/rest/services/');
      return `${at < 0 ? url : url.slice(0, at)}/admin`;
    }
    case 'item':
      return `${trimmed(ref.portalUrl)}/admin`;
  }
}
