import { isJobId } from '@jobwatch/schema';
import { authenticate, finish, refused, type SourceAnswer, type SourceRequest } from './auth.js';
import { restError } from './http.js';
import { ITEM_JOB_TYPES, type ItemJobType, isItemId, itemStatusBody } from './item-jobs.js';
import type { SimRoute, Site } from './site.js';

/** Portal's answer for an item that does not exist (or that the caller may not see). */
function noItem(): Record<string, unknown> {
  return {
    error: {
      code: 400,
      messageCode: 'CONT_0001',
      message: 'Item does not exist or is inaccessible.',
      details: [],
    },
  };
}

/**
 * Answers a request under `/<portal>/sharing/rest/…`: an item's status
 * (`content/users/<user>/items/<itemId>/status?jobType=&jobId=`) → `{status,
 * statusMessage, itemId}`; anything else is `Invalid URL`.
 */
export function answerPortal(
  site: Site,
  req: SourceRequest,
  route: SimRoute,
  sharing: readonly string[],
): SourceAnswer {
  const title = sharing.join(' / ') || 'Sharing';
  const auth = authenticate(site, req, title, 'rest');
  if (refused(auth)) return auth;
  const answer = (body: unknown, exact = false): SourceAnswer =>
    finish(site, req, { title, body, exact });
  if (route !== 'itemStatus') return answer(restError(400, 'Invalid URL', ['Invalid URL']));
  const user = sharing[2] ?? '';
  const itemId = sharing[4] ?? '';
  const jobType = req.params.get('jobType');
  const jobId = req.params.get('jobId');
  if (!Object.hasOwn(site.settings.users, user))
    return answer(restError(400, 'User does not exist or is inaccessible.'));
  if (!isItemId(itemId) || !site.sources.items.hasItem(itemId)) return answer(noItem(), true);
  if (jobType !== null && !ITEM_JOB_TYPES.includes(jobType as ItemJobType))
    return answer(
      restError(400, `Invalid jobType '${jobType.slice(0, 32)}'.`, [
        `jobType must be one of ${ITEM_JOB_TYPES.join(', ')}.`,
      ]),
    );
  if (jobId === null) {
    if (jobType !== null)
      return answer(restError(400, "'jobId' must be specified with 'jobType'."));
    return answer({ status: 'completed', statusMessage: 'completed', itemId });
  }
  if (!isJobId(jobId))
    return answer(
      restError(400, 'Invalid jobId.', ['A job id is made of letters, digits, "-" and "_".']),
    );
  if (jobType === null) return answer(restError(400, "'jobType' must be specified with 'jobId'."));
  const now = site.clock.now();
  const job = site.sources.items.get(jobId, now);
  if (!job || job.itemId !== itemId || job.jobType !== jobType || job.username !== user)
    return answer(restError(404, `Job '${jobId}' not found.`), true);
  return answer(itemStatusBody(job, now, site.quirks.forJob(job.id, job.quirks)), true);
}
