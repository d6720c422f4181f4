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

const item = tolerantParser<ItemStatus, ParseItemStatusOptions>('itemStatus', itemStatusValidator, {
  exact: (pointer) => pointer === '/status',
  check(data, _warnings, options) {
    const asked = options as ParseItemStatusOptions | undefined;
    // The body may name its item and job: when it does, they must be the ones asked for.
    if (
      asked?.itemId !== undefined &&
      typeof data.itemId === 'string' &&
      data.itemId !== asked.itemId
    ) {
      throw new SchemaError('itemStatus', [
        issueAt('itemStatus', '/itemId', JSON.stringify(asked.itemId), data.itemId),
      ]);
    }
    if (
      asked?.jobid !== undefined &&
      typeof data.jobId === 'string' &&
      data.jobId !== asked.jobid
    ) {
      throw new SchemaError('itemStatus', [
        issueAt('itemStatus', '/jobId', JSON.stringify(asked.jobid), data.jobId),
      ]);
    }
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
    case 'item': {
      // A body in its documented shape (the usual poll) takes the parse path: one result
      // object, not two; a body that needs repair takes safeParse, for its warnings. On a
      // body this small, those allocations are much of what reading it costs.
      let data: ItemStatus;
      let warnings: readonly SchemaWarning[] = NO_WARNINGS;
      if (
        itemStatusValidator.validate(body) &&
        isKnownSourceStatus('item', (body as ItemStatus).status)
      ) {
        try {
          data = parseItemStatus(body, ref);
        } catch (error) {
          if (error instanceof SchemaError) return { success: false, error };
          throw error;
        }
      } else {
        const read = safeParseItemStatus(body, ref);
        if (!read.success) return read;
        data = read.data;
        warnings = read.warnings;
      }
      let job = { jobid: ref.jobid, ...data } as SourceJob;
      // A body with a `jobid` of its own would win in the copy: ours must.
      if (job.jobid !== ref.jobid) job = { ...data, jobid: ref.jobid } as SourceJob;
      return { success: true, data: job, warnings };
    }
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

/** The source of a snapshot or reference, `enterprise` when it names none. */
export function sourceOf(value: { readonly source?: JobSource | undefined }): JobSource {
  return value.source ?? 'enterprise';
}
