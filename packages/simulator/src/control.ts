import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJobId } from '@jobwatch/schema';
import { isSimulatorError } from './errors.js';
import { BodyError, readBody, send } from './http.js';
import { parseTokenHeader } from './quirks.js';
import type { Contexts } from './routes.js';
import type { Site } from './site.js';
import { sourceUrls } from './urls.js';

const LOOPBACK_NAME = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/i;

/**
 * Whether a request may act on the control surface, as far as browsers tell: no `Origin`
 * (a script, curl, a test) or the simulator's own origin — `own`, or a loopback name on the
 * simulator's port — and, where a browser says where a request comes from
 * (`Sec-Fetch-Site`), the same origin or none (an address typed by hand). A web page on
 * any other origin, `null` included, may not create jobs, inject faults or revoke tokens.
 */
export function isOwnOrigin(req: IncomingMessage, own: string, port: number): boolean {
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (origin === own) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return (
    url.protocol === 'http:' &&
    url.origin === origin &&
    LOOPBACK_NAME.test(url.hostname) &&
    Number(url.port || '80') === port
  );
}

/** Where the control surface is served: the simulator's own origin and port. */
export interface ControlContext {
  /** `http://<host>:<port>`, the simulator's URL. */
  readonly origin: string;
  readonly port: number;
  readonly maxBodyBytes: number;
  /** The web contexts, for the URLs of created jobs. */
  readonly contexts: Contexts;
}

/**
 * Answers a request on the control surface (`/__sim/…`, JSON in and out): jobs, faults,
 * quirks, the token header, tokens, stats and the clock. `path` is what follows `/__sim`.
 * Requests from a foreign origin get 403 `FOREIGN_ORIGIN`; a POST body that is not declared
 * `application/json` gets 415 `NOT_JSON` (so a page's `text/plain` POST, which needs no
 * preflight, acts on nothing).
 */
export async function handleControl(
  site: Site,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  context: ControlContext,
): Promise<void> {
  const json = (status: number, body: unknown) =>
    send(res, status, 'application/json;charset=utf-8', JSON.stringify(body));
  const fail = (status: number, code: string, message: string) =>
    json(status, { error: { code, message } });
  const method = req.method ?? '';
  if (!isOwnOrigin(req, context.origin, context.port)) {
    req.resume();
    const from = typeof req.headers.origin === 'string' ? req.headers.origin.slice(0, 200) : '';
    return fail(
      403,
      'FOREIGN_ORIGIN',
      `The control surface acts only for its own origin (${context.origin})${from ? `, not for a page on ${from}` : ', not for a cross-site request'}.`,
    );
  }
  let input: unknown = {};
  if (method === 'POST') {
    const declared = req.headers['content-type'];
    const type =
      typeof declared === 'string' ? (declared.split(';', 1)[0] ?? '').trim().toLowerCase() : '';
    if (declared !== undefined && type !== 'application/json') {
      req.resume();
      return fail(
        415,
        'NOT_JSON',
        `The control surface takes JSON bodies: send Content-Type: application/json${type ? `, not ${type.slice(0, 64)}` : ''}.`,
      );
    }
    try {
      const text = await readBody(req, context.maxBodyBytes);
      if (declared === undefined && text.length > 0) {
        return fail(
          415,
          'NOT_JSON',
          'The control surface takes JSON bodies: send Content-Type: application/json.',
        );
      }
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
  /** A member of a JSON object body (`undefined` when the body is not an object). */
  const field = (name: string): unknown =>
    typeof input === 'object' && input !== null && !Array.isArray(input)
      ? (input as Record<string, unknown>)[name]
      : undefined;
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
    if (handleSourceJobs(site, path, input, allow, json, fail, context)) return;
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
    } else if (path === '/quirks') {
      if (!allow('GET', 'POST', 'DELETE')) return;
      if (method === 'POST') {
        const quirks = field('quirks');
        if (quirks === undefined)
          return fail(
            400,
            'INVALID_SPEC',
            'quirks: send {"quirks": true, false or a list of names}',
          );
        site.quirks.set(quirks);
      }
      if (method === 'DELETE') site.quirks.set(false);
      json(200, { quirks: site.quirks.enabled });
    } else if (path === '/token-header') {
      if (!allow('GET', 'POST')) return;
      if (method === 'POST') site.tokenHeader = parseTokenHeader(field('tokenHeader'));
      json(200, { tokenHeader: site.tokenHeader });
    } else if (path === '/tokens/revoke') {
      if (allow('POST')) json(200, { revoked: site.tokens.revoke() });
    } else if (path === '/tokens') {
      if (!allow('POST')) return;
      const username = field('username') ?? site.defaultUser;
      if (typeof username !== 'string')
        return fail(400, 'INVALID_SPEC', 'username must be a string');
      json(200, site.issueToken(username));
    } else if (path === '/stats') {
      if (allow('GET')) json(200, site.stats());
    } else if (path === '/clock') {
      if (allow('GET')) json(200, { kind: site.clock.kind, now: site.clock.now() });
    } else if (path === '/clock/advance') {
      if (!allow('POST')) return;
      const ms = field('ms');
      if (typeof ms !== 'number') return fail(400, 'INVALID_SPEC', 'ms must be a number');
      const now = site.clock.advance(ms);
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

/**
 * The control routes of the sister sources: `POST /server/jobs`, `/gp/jobs`, `/items/jobs`
 * create a job with a chosen outcome and duration; `DELETE /<source>/jobs/<id>` purges one.
 * `true` when the path was one of them.
 */
function handleSourceJobs(
  site: Site,
  path: string,
  input: unknown,
  allow: (...methods: string[]) => boolean,
  json: (status: number, body: unknown) => void,
  fail: (status: number, code: string, message: string) => void,
  context: ControlContext,
): boolean {
  const m = /^\/(server|gp|items)\/jobs(?:\/([^/]*))?$/.exec(path);
  if (!m) return false;
  const [, source, id] = m as unknown as [string, 'server' | 'gp' | 'items', string | undefined];
  const stores = { server: site.sources.server, gp: site.sources.gp, items: site.sources.items };
  if (id !== undefined) {
    if (!allow('DELETE')) return true;
    if (!isJobId(id)) fail(400, 'INVALID_SPEC', 'Not a job id.');
    else if (stores[source].purge(id)) json(200, { jobid: id, purged: true });
    else fail(404, 'NOT_FOUND', `No ${source} job '${id}'.`);
    return true;
  }
  if (!allow('POST')) return true;
  const urls = sourceUrls(context.origin, context.contexts);
  const now = site.settle();
  if (source === 'server') {
    const job = site.sources.createServerJob(input, now);
    json(200, { jobid: job.id, jobUrl: urls.serverJob(job.id) });
  } else if (source === 'gp') {
    const job = site.sources.createGpJob(input, now);
    json(200, {
      jobId: job.id,
      taskUrl: urls.task(job.task),
      jobUrl: urls.gpJob(job.task, job.id),
    });
  } else {
    const job = site.sources.createItemJob(input, now);
    json(200, {
      itemId: job.itemId,
      jobId: job.id,
      jobType: job.jobType,
      username: job.username,
      statusUrl: urls.itemStatus(job),
    });
  }
  return true;
}
