import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJobId } from '@jobwatch/schema';
import { isSimulatorError } from './errors.js';
import { BodyError, readBody, send } from './http.js';
import type { Site } from './site.js';

/**
 * Answers a request on the control surface (`/__sim/…`, JSON in and out): jobs, faults,
 * tokens, stats and the clock. `path` is what follows `/__sim`.
 */
export async function handleControl(
  site: Site,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  maxBodyBytes: number,
): Promise<void> {
  const json = (status: number, body: unknown) =>
    send(res, status, 'application/json;charset=utf-8', JSON.stringify(body));
  const fail = (status: number, code: string, message: string) =>
    json(status, { error: { code, message } });
  const method = req.method ?? '';
  let input: unknown = {};
  if (method === 'POST') {
    try {
      const text = await readBody(req, maxBodyBytes);
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
      if (allow('GET')) json(200, { kind: site.clock.kind, now: site.clock.now() });
    } else if (path === '/clock/advance') {
      if (!allow('POST')) return;
      const ms = (input as { ms?: unknown }).ms;
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
