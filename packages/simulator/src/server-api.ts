import { isJobId, type Service } from '@jobwatch/schema';
import { parseEdit } from './admin.js';
import { authenticate, finish, refused, type SourceAnswer, type SourceRequest } from './auth.js';
import { serviceKeyString } from './catalogue.js';
import { adminError, restError } from './http.js';
import { parseServiceName } from './routes.js';
import { type ServerOperation, serverJobBody } from './server-jobs.js';
import type { SimRoute, Site } from './site.js';

/**
 * Answers a request under an ArcGIS Server admin root (`/<server>/admin/…`): the jobs at
 * `system/jobs[/<jobid>]`, and service operations (`start`, `stop`, `edit`, `delete`, POST)
 * that answer `{"status":"success","jobid"}` with `runAsync=true` and run at once without.
 */
export function answerServerAdmin(
  site: Site,
  req: SourceRequest,
  route: SimRoute,
  admin: readonly string[],
): SourceAnswer {
  const title = admin.length > 0 ? admin.join(' / ') : 'Home';
  const isOperation = route === 'serverOperation';
  const auth = authenticate(site, req, title, isOperation ? 'admin' : 'rest');
  if (refused(auth)) return auth;
  const now = site.clock.now();
  const jobs = site.sources.server;
  const answer = (body: unknown, exact = false): SourceAnswer =>
    finish(site, req, { title, body, exact });
  switch (route) {
    case 'serverJobsList':
      return answer({ jobs: jobs.list(now).map((job) => job.id) });
    case 'serverJob': {
      const id = admin[2] ?? '';
      if (!isJobId(id))
        return answer(
          restError(400, 'Invalid job id.', ['A job id is made of letters, digits, "-" and "_".']),
        );
      const job = jobs.get(id, now);
      return job
        ? answer(serverJobBody(job, now, site.quirks.forJob(job.id, job.quirks)), true)
        : answer(restError(404, `Job '${id}' not found.`), true);
    }
    case 'serverOperation':
      if (req.method !== 'POST')
        return answer(adminError(405, ['This operation is only supported via POST.']));
      return answer(operation(site, req, admin));
    default:
      return admin.length === 0
        ? answer({
            resources: [
              'machines',
              'clusters',
              'system',
              'services',
              'security',
              'data',
              'uploads',
              'logs',
              'mode',
              'usagereports',
            ],
            currentVersion: 11.3,
            fullVersion: '11.3.0',
          })
        : answer(
            restError(
              404,
              `Could not find resource or operation '${(admin[admin.length - 1] ?? '').slice(0, 64)}' on the system.`,
            ),
          );
  }
}

function operation(site: Site, req: SourceRequest, admin: readonly string[]): unknown {
  const op = admin[admin.length - 1] as ServerOperation;
  const folder = admin.length === 4 ? admin[1]! : '';
  const named = parseServiceName(admin[admin.length - 2]!)!;
  const service = { folder, ...named };
  if (!site.catalogue.get(service))
    return adminError(404, [`Service '${serviceKeyString(service)}' does not exist.`]);
  let payload: Service | undefined;
  if (op === 'edit') {
    const edited = parseEdit(req.params.get('service'), service);
    if (typeof edited === 'string') return adminError(400, [edited]);
    payload = edited;
  }
  if ((req.params.get('runAsync') ?? 'false').toLowerCase() === 'true') {
    const job = site.sources.startServerOperation(op, service, payload, site.clock.now());
    return { status: 'success', jobid: job.id };
  }
  const kind = op === 'delete' ? 'deleteServices' : op;
  const { failure } = site.apply({ kind, services: [service], ...(payload ? { payload } : {}) });
  return failure ? adminError(500, [failure]) : { status: 'success' };
}
