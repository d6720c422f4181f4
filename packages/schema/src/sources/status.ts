/**
 * What each source's statuses mean, in jobwatch's one vocabulary (`SUBMITTED`, `EXECUTING`,
 * `CANCELLING`, `COMPLETED`, `FAILED`, `TIMED OUT`, `CANCELLED`, `UNAVAILABLE`), and what each
 * source says of progress, the current step, results and why a job ended.
 */
import { reasonFromResult } from '../messages.js';
import type { Job } from '../schemas/bodies.js';
import type { SnapshotResult, SnapshotStep } from '../schemas/snapshot.js';
import {
  canonicalStatus,
  JobStatus,
  type JobStatusValue,
  jobOutcome,
  type KnownJobStatus,
} from '../status.js';
import type { JobRef, JobSource } from './ref.js';

/** Every GP `jobStatus` the documentation names (and `expectedFailure`, which notebook GP services send). */
export const GP_JOB_STATUSES: readonly string[] = /* @__PURE__ */ Object.freeze([
  'esriJobNew',
  'esriJobWaiting',
  'esriJobSubmitted',
  'esriJobExecuting',
  'esriJobCancelling',
  'esriJobCancelled',
  'esriJobFailed',
  'esriJobTimedOut',
  'esriJobSucceeded',
  'esriJobDeleting',
  'esriJobDeleted',
  'expectedFailure',
]);

/** Every item job `status` the documentation names. */
export const ITEM_JOB_STATUSES: readonly string[] = /* @__PURE__ */ Object.freeze([
  'partial',
  'processing',
  'failed',
  'completed',
]);

/** A table keyed by lower-case status, and by each status as documented (no `toLowerCase` on the usual poll). */
function table(
  entries: readonly (readonly [string, KnownJobStatus])[],
  documented: readonly string[],
) {
  const map = new Map<string, KnownJobStatus>(entries);
  for (const status of documented) {
    const hit = map.get(status.toLowerCase());
    if (hit !== undefined) map.set(status, hit);
  }
  return map;
}

const GP_ENTRIES: readonly (readonly [string, KnownJobStatus])[] = [
  ['esrijobnew', JobStatus.SUBMITTED],
  ['esrijobwaiting', JobStatus.SUBMITTED],
  ['esrijobsubmitted', JobStatus.SUBMITTED],
  ['esrijobexecuting', JobStatus.EXECUTING],
  ['esrijobcancelling', JobStatus.CANCELLING],
  ['esrijobcancelled', JobStatus.CANCELLED],
  ['esrijobfailed', JobStatus.FAILED],
  ['expectedfailure', JobStatus.FAILED],
  ['esrijobtimedout', JobStatus.TIMED_OUT],
  ['esrijobsucceeded', JobStatus.COMPLETED],
  ['esrijobdeleting', JobStatus.CANCELLED],
  ['esrijobdeleted', JobStatus.CANCELLED],
];
const GP: ReadonlyMap<string, KnownJobStatus> = /* @__PURE__ */ table(GP_ENTRIES, GP_JOB_STATUSES);

const ITEM: ReadonlyMap<string, KnownJobStatus> = /* @__PURE__ */ new Map([
  ['partial', JobStatus.EXECUTING],
  ['processing', JobStatus.EXECUTING],
  ['failed', JobStatus.FAILED],
  ['completed', JobStatus.COMPLETED],
]);

/** Whether `status` is a documented status of `source` (`gp` or `item`), in any case. */
export function isKnownSourceStatus(source: 'gp' | 'item', status: string): boolean {
  const map = source === 'gp' ? GP : ITEM;
  return map.has(status) || map.has(status.toLowerCase());
}

const ERROR_WORDS = /* @__PURE__ */ new Set(['error', 'failed', 'failure']);

/** A job body's field, read loosely. */
const field = (job: object, key: string): unknown => (job as Record<string, unknown>)[key];

/** An ArcGIS Server job's `operationResponse` when it answered an error (`status` error/failed/failure, any case). */
function operationError(job: object): Record<string, unknown> | undefined {
  const response = field(job, 'operationResponse');
  if (typeof response !== 'object' || response === null || Array.isArray(response))
    return undefined;
  const status = (response as { status?: unknown }).status;
  return typeof status === 'string' && ERROR_WORDS.has(status.trim().toLowerCase())
    ? (response as Record<string, unknown>)
    : undefined;
}

/**
 * The status of a job of `source` in jobwatch's vocabulary, its canonical spelling for a known
 * one; any other is kept verbatim (an unknown status: keep watching, and show it).
 *
 * - `enterprise`: the admin vocabulary, any case.
 * - `server`: the admin vocabulary, but a `COMPLETED` job whose `operationResponse.status` is
 *   `error` (or `failed`, `failure`; any case) is `FAILED`: its operation failed.
 * - `gp`: `esriJobNew`/`Waiting`/`Submitted` → `SUBMITTED`, `Executing` → `EXECUTING`,
 *   `Cancelling` → `CANCELLING`, `Cancelled` → `CANCELLED`, `Failed` (and `expectedFailure`)
 *   → `FAILED`, `TimedOut` → `TIMED OUT`, `Succeeded` → `COMPLETED`, `Deleting`/`Deleted` →
 *   `CANCELLED` (the reason says it was deleted).
 * - `item`: `partial`/`processing` → `EXECUTING`, `failed` → `FAILED`, `completed` → `COMPLETED`.
 *
 * @example
 * ```ts
 * sourceStatus('gp', { jobid: 'j1', status: 'esriJobSucceeded' }); // 'COMPLETED'
 * sourceStatus('server', { jobid: 'j1', status: 'COMPLETED', operationResponse: { status: 'error' } }); // 'FAILED'
 * ```
 */
export function sourceStatus(source: JobSource, job: Pick<Job, 'status'>): JobStatusValue {
  const raw = job.status;
  switch (source) {
    case 'gp':
      return GP.get(raw) ?? GP.get(raw.toLowerCase()) ?? raw;
    case 'item':
      return ITEM.get(raw) ?? ITEM.get(raw.toLowerCase()) ?? raw;
    case 'server': {
      const known = canonicalStatus(raw);
      if (known === JobStatus.COMPLETED && operationError(job)) return JobStatus.FAILED;
      return known ?? raw;
    }
    default:
      return canonicalStatus(raw) ?? raw;
  }
}

/** The longest reason, as for admin jobs. */
const MAX_REASON = 500;
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();
const cut = (text: string) =>
  text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;

/**
 * Why a job of `source` that failed, timed out or was cancelled ended, in one line (at most
 * 500 characters); `undefined` when it did not, or when the server said nothing:
 *
 * - `server`: the messages of its `operationResponse` (else its `detail.message`), else its own
 *   messages;
 * - `gp`: its messages, the error ones first (a deleted job: "the job was deleted", and its
 *   messages);
 * - `item`: its `statusMessage` (when it says more than the status word);
 * - `enterprise`: as `failureReason` reads it (messages, else `result`).
 */
export function sourceReason(source: JobSource, job: Job): string | undefined {
  const status = sourceStatus(source, job);
  const outcome = jobOutcome(status);
  if (outcome !== 'failed' && outcome !== 'cancelled') return undefined;
  let reason: string | undefined;
  switch (source) {
    case 'server': {
      const response = field(job, 'operationResponse');
      const detail =
        typeof response === 'object' && response !== null ? field(response, 'detail') : undefined;
      reason =
        reasonFromResult(response) ??
        (typeof detail === 'object' && detail !== null ? reasonFromResult(detail) : undefined) ??
        reasonFromResult({ messages: job.messages }) ??
        reasonFromResult(job.result);
      if (reason === undefined && operationError(job)) {
        reason = 'the operation answered an error and gave no message';
      }
      break;
    }
    case 'gp': {
      const said = reasonFromResult({ messages: job.messages });
      const deleted = /^esrijobdelet/i.test(job.status);
      reason = deleted ? `the job was deleted${said ? `: ${said}` : ''}` : said;
      break;
    }
    case 'item': {
      const message = statusMessageText(field(job, 'statusMessage'));
      reason =
        message !== undefined && message.toLowerCase() !== job.status.toLowerCase()
          ? message
          : reasonFromResult({ messages: job.messages });
      break;
    }
    default:
      reason = reasonFromResult({ messages: job.messages }) ?? reasonFromResult(job.result);
  }
  return reason === undefined ? undefined : cut(reason);
}

/**
 * An item job's `statusMessage` as one line: plain text, or the message of JSON text
 * (`{"code": 500, "message": "…"}`, the form some portals send for a failed job).
 */
function statusMessageText(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = oneLine(value);
  if (text === '') return undefined;
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      const said = reasonFromResult(parsed);
      if (said !== undefined) return said;
    } catch {
      // Not JSON after all: the text is the message.
    }
  }
  return text;
}

const clamp01 = (n: number) => Math.min(1, Math.max(0, n));
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * How far a job is, 0–1, where its source tells: ArcGIS Server `currentstep / totalsteps`,
 * GP `progress.percentage / 100`; `1` once a job of those sources has succeeded; `null` where
 * the source says nothing (admin jobs on Kubernetes, item jobs).
 */
export function sourceProgress(source: JobSource, job: Job): number | null {
  if (source !== 'server' && source !== 'gp') return null;
  if (jobOutcome(sourceStatus(source, job)) === 'succeeded') return 1;
  if (source === 'server') {
    const current = field(job, 'currentstep');
    const total = field(job, 'totalsteps');
    return finite(current) && finite(total) && total > 0 ? clamp01(current / total) : null;
  }
  const progress = field(job, 'progress');
  const percentage =
    typeof progress === 'object' && progress !== null ? field(progress, 'percentage') : undefined;
  return finite(percentage) ? clamp01(percentage / 100) : null;
}

/**
 * The step a job is at, where its source tells: ArcGIS Server `stepInfo` (the last line),
 * `currentstep` and `totalsteps`; GP `progress.message`; an item job's `statusMessage` when it
 * says more than its status. `undefined` when there is none.
 */
export function sourceStep(source: JobSource, job: Job): SnapshotStep | undefined {
  const step: { text?: string; index?: number; total?: number } = {};
  if (source === 'server') {
    const info = field(job, 'stepInfo');
    const last = Array.isArray(info) ? info[info.length - 1] : undefined;
    if (typeof last === 'string' && oneLine(last) !== '') step.text = cut(oneLine(last));
    const current = field(job, 'currentstep');
    const total = field(job, 'totalsteps');
    if (finite(current)) step.index = current;
    if (finite(total)) step.total = total;
  } else if (source === 'gp') {
    const progress = field(job, 'progress');
    const message =
      typeof progress === 'object' && progress !== null ? field(progress, 'message') : undefined;
    if (typeof message === 'string' && oneLine(message) !== '') step.text = cut(oneLine(message));
  } else if (source === 'item') {
    const message = field(job, 'statusMessage');
    if (
      typeof message === 'string' &&
      oneLine(message) !== '' &&
      oneLine(message).toLowerCase() !== job.status.toLowerCase() &&
      jobOutcome(sourceStatus(source, job)) === 'none'
    ) {
      step.text = cut(oneLine(message));
    }
  }
  return Object.keys(step).length > 0 ? step : undefined;
}

/** A relative parameter path a GP server may give: `results/<name>` and the like, nothing that climbs. */
const PARAM_PATH = /^[A-Za-z0-9_][A-Za-z0-9_ -]*(?:\/[A-Za-z0-9_][A-Za-z0-9_ -]*)*$/;

/**
 * A GP job's results as absolute URLs, once it has succeeded: `<task>/jobs/<jobid>/<paramUrl>`
 * for each entry of `results`. A `paramUrl` that is not a plain relative path (absolute, or
 * with `..`, `%`, a query) is not followed: the link is built from the parameter's name
 * (`results/<name>`) instead, or left out when the name is not safe either.
 */
export function sourceResults(ref: JobRef, job: Job): SnapshotResult[] | undefined {
  if (ref.source !== 'gp') return undefined;
  if (jobOutcome(sourceStatus('gp', job)) !== 'succeeded') return undefined;
  const results = field(job, 'results');
  if (typeof results !== 'object' || results === null || Array.isArray(results)) return undefined;
  const base = `${ref.taskUrl}/jobs/${ref.jobid}/`;
  const out: SnapshotResult[] = [];
  for (const [name, link] of Object.entries(results)) {
    const paramUrl =
      typeof link === 'object' && link !== null ? field(link, 'paramUrl') : undefined;
    const path =
      typeof paramUrl === 'string' && PARAM_PATH.test(paramUrl)
        ? paramUrl
        : PARAM_PATH.test(name)
          ? `results/${name}`
          : undefined;
    if (path === undefined) continue;
    out.push({ name, url: base + path.split('/').map(encodeURIComponent).join('/') });
  }
  return out.length > 0 ? out : undefined;
}
