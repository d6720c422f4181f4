/**
 * Reading the job bodies of every source: exact about what watching needs (the job asked for,
 * its status), tolerant about the rest, as the admin job is read. Each reader runs a validator
 * generated ahead of time (`generated/<name>.ts`), so nothing here compiles code.
 *
 * {@link readSourceJob} gives every source's body one face, a {@link SourceJob}: the body as
 * it came (unknown fields kept) with `jobid` and `status` as the source spells them, so that a
 * snapshot holds any job in one shape.
 */
import { type SafeParseResult, SchemaError, type SchemaWarning } from '../errors.js';
import { gpJob as gpJobValidator } from '../generated/gpJob.js';
import { itemStatus as itemStatusValidator } from '../generated/itemStatus.js';
import { serverJob as serverJobValidator } from '../generated/serverJob.js';
import { safeParseJob } from '../parse.js';
import type { Job } from '../schemas/bodies.js';
import type { GpJob, ItemStatus, ServerJob } from '../schemas/sources.js';
import { isKnownJobStatus, KNOWN_JOB_STATUSES } from '../status.js';
import { excerpt, issueAt, tolerantParser } from '../tolerant.js';
import { NO_WARNINGS } from '../validate.js';
import type { JobRef, JobSource } from './ref.js';
import { GP_JOB_STATUSES, ITEM_JOB_STATUSES, isKnownSourceStatus } from './status.js';

/**
 * Any source's job in one shape: the body as the server sent it (unknown fields kept), with
 * `jobid` (the job id, from `jobId` for GP, from the reference for an item job) and `status`
 * as the source spells it (`esriJobSucceeded`, `processing`, `COMPLETED`). What a
 * snapshot's `job` holds; the status is mapped by `sourceStatus`.
 */
export type SourceJob = Job & Readonly<Record<string, unknown>>;

/** Options of the readers: the job asked for; a body about another job is refused. */
export interface ParseSourceJobOptions {
  /** The job id asked for. */
  readonly jobid?: string;
}

/** Options of {@link parseItemStatus}: the item job asked for. */
export interface ParseItemStatusOptions extends ParseSourceJobOptions {
  /** The item asked about: a body naming another item is refused. */
  readonly itemId?: string;
}

const unknownStatus = (
  pointer: string,
  known: readonly string[],
  value: string,
): SchemaWarning => ({
  pointer,
  expected: `a known status (${known.join(', ')}; compared without regard to case)`,
  found: excerpt(value),
});

const server = tolerantParser<ServerJob, ParseSourceJobOptions>('serverJob', serverJobValidator, {
  exact: (pointer) => pointer === '/jobid' || pointer === '/status',
  check(data, _warnings, options) {
    const asked = (options as ParseSourceJobOptions | undefined)?.jobid;
    if (asked !== undefined && data.jobid !== asked) {
      throw new SchemaError('serverJob', [
        issueAt('serverJob', '/jobid', JSON.stringify(asked), data.jobid),
      ]);
    }
    return isKnownJobStatus(data.status)
      ? undefined
      : unknownStatus('/status', KNOWN_JOB_STATUSES, data.status);
  },
});
/**
 * Reads an ArcGIS Server admin job body (`<server>/admin/system/jobs/<jobid>`): exact about
 * `jobid` (safe, equal to `options.jobid` when given) and `status` (a string); the steps,
 * `stepInfo` and `operationResponse` are typed when in their documented shape and tolerated,
 * with warnings, when not. @throws {@link SchemaError}
 */
export const parseServerJob: (input: unknown, options?: ParseSourceJobOptions) => ServerJob =
  server.parse;
/** {@link parseServerJob} without throwing, with the warnings of the read. */
export const safeParseServerJob: (
  input: unknown,
  options?: ParseSourceJobOptions,
) => SafeParseResult<ServerJob> = server.safeParse;

const gp = tolerantParser<GpJob, ParseSourceJobOptions>('gpJob', gpJobValidator, {
  exact: (pointer) => pointer === '/jobId' || pointer === '/jobStatus',
  check(data, _warnings, options) {
    const asked = (options as ParseSourceJobOptions | undefined)?.jobid;
    if (asked !== undefined && data.jobId !== asked) {
      throw new SchemaError('gpJob', [
        issueAt('gpJob', '/jobId', JSON.stringify(asked), data.jobId),
      ]);
    }
    return isKnownSourceStatus('gp', data.jobStatus)
      ? undefined
      : unknownStatus('/jobStatus', GP_JOB_STATUSES, data.jobStatus);
  },
});
/**
 * Reads a geoprocessing job body (`<task>/jobs/<jobId>`, and the answers of `submitJob` and
 * `cancel`): exact about `jobId` (safe, equal to `options.jobid` when given) and `jobStatus`
 * (a string); `messages`, `results`, `inputs` and `progress` tolerated. @throws {@link SchemaError}
 */
export const parseGpJob: (input: unknown, options?: ParseSourceJobOptions) => GpJob = gp.parse;
/** {@link parseGpJob} without throwing, with the warnings of the read. */
export const safeParseGpJob: (
  input: unknown,
  options?: ParseSourceJobOptions,
) => SafeParseResult<GpJob> = gp.safeParse;

/**
 * Why an item status body is not about the item job asked for, when it names its item or job
 * and they are others; `undefined` when it is (or names neither).
 */
function itemRefusal(
  data: ItemStatus,
  asked: ParseItemStatusOptions | undefined,
): SchemaError | undefined {
  if (
    asked?.itemId !== undefined &&
    typeof data.itemId === 'string' &&
    data.itemId !== asked.itemId
  )
    return new SchemaError('itemStatus', [
      issueAt('itemStatus', '/itemId', JSON.stringify(asked.itemId), data.itemId),
    ]);
  if (asked?.jobid !== undefined && typeof data.jobId === 'string' && data.jobId !== asked.jobid)
    return new SchemaError('itemStatus', [
      issueAt('itemStatus', '/jobId', JSON.stringify(asked.jobid), data.jobId),
    ]);
  return undefined;
}

const item = tolerantParser<ItemStatus, ParseItemStatusOptions>('itemStatus', itemStatusValidator, {
  exact: (pointer) => pointer === '/status',
  check(data, _warnings, options) {
    // The body may name its item and job: when it does, they must be the ones asked for.
    const refused = itemRefusal(data, options as ParseItemStatusOptions | undefined);
    if (refused) throw refused;
    return isKnownSourceStatus('item', data.status)
      ? undefined
      : unknownStatus('/status', ITEM_JOB_STATUSES, data.status);
  },
});
/**
 * Reads a portal item job's status body: exact about `status` (a string) and, when the body
 * names them, about `itemId` and `jobId` (equal to those asked for); `statusMessage` and the
 * rest tolerated. `status: "failed"` is the job's outcome, a valid body. @throws {@link SchemaError}
 */
export const parseItemStatus: (input: unknown, options?: ParseItemStatusOptions) => ItemStatus =
  item.parse;
/** {@link parseItemStatus} without throwing, with the warnings of the read. */
export const safeParseItemStatus: (
  input: unknown,
  options?: ParseItemStatusOptions,
) => SafeParseResult<ItemStatus> = item.safeParse;

/**
 * Reads the body of the job a reference names, in the shape of its source, and gives it the
 * one face of a {@link SourceJob}: exact about the job asked for and its status, tolerant
 * about the rest (see each reader). Never throws: `{ success: false, error }` for a body that
 * is not the job.
 *
 * @example
 * ```ts
 * const read = readSourceJob(ref, await (await fetch(`${jobRefUrl(ref)}?f=json`)).json());
 * if (read.success) console.log(sourceStatus(ref.source, read.data));
 * ```
 */
export function readSourceJob(ref: JobRef, body: unknown): SafeParseResult<SourceJob> {
  switch (ref.source) {
    case 'enterprise':
      return safeParseJob(body, ref) as SafeParseResult<SourceJob>;
    case 'server':
      return safeParseServerJob(body, ref) as SafeParseResult<SourceJob>;
    case 'gp': {
      const read = safeParseGpJob(body, ref);
      if (!read.success) return read;
      const data = view(read.data, read.data.jobId, read.data.jobStatus);
      return { success: true, data, warnings: read.warnings };
    }
    case 'item':
      return readItemJob(ref, body);
    default:
      throw new TypeError(`unknown job source ${String((ref as { source?: unknown }).source)}`);
  }
}

/**
 * A copy of `body` with `jobid` and `status` as given. Written with the two first, then the
 * body: adding fields to a copy of a parsed body costs V8 ten times a copy into a literal that
 * starts with them (measured: `pnpm bench -- --only sources`). A body that carries fields of
 * those names itself (a GP body never should) takes the slow path, so ours win.
 */
function view(body: object, jobid: string, status: string): SourceJob {
  if (Object.hasOwn(body, 'jobid') || Object.hasOwn(body, 'status')) {
    return { ...body, jobid, status } as SourceJob;
  }
  return { jobid, status, ...body } as SourceJob;
}

/**
 * {@link readSourceJob} of an item job. A body in its documented shape with a known status
 * (the usual poll) is checked here, once, with no result object of the parser's own; a body
 * that needs repair, or whose status is unknown, takes safeParse, for its warnings. On a body
 * this small, a second validation and allocations are much of what reading it costs.
 */
function readItemJob(ref: JobRef, body: unknown): SafeParseResult<SourceJob> {
  if (
    itemStatusValidator.validate(body) &&
    isKnownSourceStatus('item', (body as ItemStatus).status)
  ) {
    const refused = itemRefusal(body as ItemStatus, ref);
    if (refused) return { success: false, error: refused };
    return { success: true, data: itemJob(ref.jobid, body as ItemStatus), warnings: NO_WARNINGS };
  }
  const read = safeParseItemStatus(body, ref);
  if (!read.success) return read;
  return { success: true, data: itemJob(ref.jobid, read.data), warnings: read.warnings };
}

/** The fields an item status documents, in the order the portal sends them. */
const ITEM_FIELDS: readonly string[] = ['status', 'statusMessage', 'itemId', 'jobId'];

/**
 * A copy of an item status with the job's id as `jobid`, first. A body of documented fields in
 * their documented order (the usual poll) is copied field by field into a literal: V8 copies
 * a spread (`{ jobid, ...body }`) key by key through a generic path, several times slower on a
 * body this small (measured: `pnpm bench -- --only sources`). Any other body takes the
 * spread, and a body with a `jobid` of its own is copied with ours last, so ours win.
 */
function itemJob(jobid: string, body: ItemStatus): SourceJob {
  const keys = Object.keys(body);
  if (keys[0] === 'status') {
    const job: { -readonly [K in keyof ItemStatus | 'jobid']?: unknown } = {
      jobid,
      status: body.status,
    };
    let at = 1;
    let i = 1;
    for (; i < keys.length; i++) {
      const key = keys[i];
      while (at < ITEM_FIELDS.length && ITEM_FIELDS[at] !== key) at++;
      if (at === ITEM_FIELDS.length) break; // not documented, or out of order
      if (key === 'statusMessage') job.statusMessage = body.statusMessage;
      else if (key === 'itemId') job.itemId = body.itemId;
      else job.jobId = body.jobId;
    }
    if (i === keys.length) return job as SourceJob;
  }
  const job = { jobid, ...body } as SourceJob;
  // A body with a `jobid` of its own would win in the copy: ours must.
  return job.jobid === jobid ? job : ({ ...body, jobid } as SourceJob);
}

/** The source of a snapshot or reference, `enterprise` when it names none. */
export function sourceOf(value: { readonly source?: JobSource | undefined }): JobSource {
  return value.source ?? 'enterprise';
}
