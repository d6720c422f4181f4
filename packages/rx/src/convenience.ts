import {
  AbortedError,
  type AdminClient,
  ConfigError,
  createAdminClient,
  type StartedJob,
} from '@jobwatch/client';
import {
  isJobRefError,
  type JobRef,
  jobRefAdminUrl,
  parseJobRef,
  type Snapshot,
} from '@jobwatch/schema';
import { type Observable, throwError } from 'rxjs';
import { JobFailedError } from './errors.js';
import { createWatcher, type WatchAllOptions, type Watcher, type WatchOptions } from './watcher.js';

const defaults = new WeakMap<AdminClient, Watcher>();

/**
 * The default watcher of a client, made on first use with default options and kept as long
 * as the client lives (a closed one is replaced). `watchJob`, `watchJobs`, `watchAll` and
 * `waitForJob` share it, so they share poll loops and the request budget too.
 */
export function defaultWatcher(client: AdminClient): Watcher {
  const found = defaults.get(client);
  if (found && !found.closed) return found;
  const watcher = createWatcher(client);
  defaults.set(client, watcher);
  return watcher;
}

const isClient = (x: unknown): x is AdminClient =>
  typeof x === 'object' && x !== null && typeof (x as AdminClient).readJob === 'function';

/** Whether a string names a job by URL (a job id never holds a `/`). */
const isUrl = (job: string) => job.includes('/');

/** The watcher's stream of a job named by id, URL or reference. */
function streamOf(watcher: Watcher, job: string | JobRef, options?: WatchOptions) {
  return typeof job === 'string' && !isUrl(job)
    ? watcher.watch(job, options)
    : watcher.watchRef(job, options);
}

const anonymous = new Map<string, AdminClient>();

/**
 * A client without a token for the deployment part a job lives in, shared by every job
 * there: for public geoprocessing services and public items.
 */
function anonymousClientFor(ref: JobRef): AdminClient {
  const url = jobRefAdminUrl(ref);
  let client = anonymous.get(url);
  if (!client) {
    client = createAdminClient({ url, userAgent: 'jobwatch' });
    anonymous.set(url, client);
  }
  return client;
}

/**
 * One job's snapshots through the client's default watcher: the first at once, then each
 * visible change, the terminal one, then completion. The job is an admin job id, or a job of
 * any source by URL or reference (an ArcGIS Server admin job, a geoprocessing job, a portal
 * item job: see `parseJobRef`), with the same sharing, budget and pacing.
 *
 * Without a client (`watchJob(ref)`), the job is read without a token through a shared client
 * for its server: for public GP services and public items. Give a client for anything that
 * needs a token.
 *
 * @example
 * ```ts
 * watchJob(client, 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d').subscribe((s) => render(s));
 * watchJob(client, 'https://gis.example.com/arcgis/admin/system/jobs/j97dec204-32b7-4a3f-bbb7-7565e0f8259f')
 *   .subscribe((s) => console.log(s.status, s.progress, s.step?.text));
 * ```
 * Gotcha: unsubscribing stops watching, not the job; only GP jobs can be cancelled
 * (`client.cancelGpJob(ref)`).
 */
export function watchJob(
  client: AdminClient,
  job: string | JobRef,
  options?: WatchOptions,
): Observable<Snapshot>;
/** A job of any source by URL or reference, read without a token (public services). */
export function watchJob(job: JobRef | string, options?: WatchOptions): Observable<Snapshot>;
export function watchJob(
  first: AdminClient | JobRef | string,
  second?: string | JobRef | WatchOptions,
  third?: WatchOptions,
): Observable<Snapshot> {
  if (isClient(first)) {
    return streamOf(defaultWatcher(first), second as string | JobRef, third);
  }
  let ref: JobRef;
  try {
    ref = typeof first === 'string' ? parseJobRef(first) : first;
  } catch (error) {
    const e = isJobRefError(error) ? new ConfigError(error.message, { cause: error }) : error;
    return throwError(() => e);
  }
  return defaultWatcher(anonymousClientFor(ref)).watchRef(ref, second as WatchOptions | undefined);
}

/** Several jobs' snapshots, merged, through the client's default watcher. */
export function watchJobs(
  client: AdminClient,
  jobids: Iterable<string>,
  options?: WatchOptions,
): Observable<Snapshot> {
  return defaultWatcher(client).watchMany(jobids, options);
}

/** Every job of the deployment, discovered by listing, through the client's default watcher. */
export function watchAll(client: AdminClient, options: WatchAllOptions): Observable<Snapshot> {
  return defaultWatcher(client).watchAll(options);
}

/** Options of {@link waitForJob}. */
export interface WaitForJobOptions extends WatchOptions {
  /** Reject with a {@link JobFailedError} when the job ends FAILED, TIMED OUT or CANCELLED. @default false */
  readonly rejectOnFailure?: boolean;
  /** Stops waiting (not the job) and rejects with an `AbortedError`. */
  readonly signal?: AbortSignal;
}

const isWatcher = (x: AdminClient | Watcher): x is Watcher =>
  typeof (x as Watcher).watch === 'function' && typeof (x as Watcher).close === 'function';

/**
 * Waits for a job to end and resolves with its final snapshot (a FAILED job resolves too,
 * unless `rejectOnFailure`). Rejects with the stream's typed error, a `WaitTimeoutError`
 * after `maxWait`, or an `AbortedError` when `signal` aborts.
 *
 * @example
 * ```ts
 * const started = await client.stopService('Roads.MapServer', { async: true });
 * const final = await waitForJob(client, started, { rejectOnFailure: true, maxWait: 600_000 });
 * ```
 */
export async function waitForJob(
  source: AdminClient | Watcher,
  job: string | StartedJob | JobRef,
  options: WaitForJobOptions = {},
): Promise<Snapshot> {
  const watcher = isWatcher(source) ? source : defaultWatcher(source);
  const named: string | JobRef =
    typeof job === 'string' ? job : 'source' in job ? job : (job as StartedJob).jobid;
  const jobid = typeof named === 'string' ? named : named.jobid;
  const { signal } = options;
  if (signal?.aborted) throw new AbortedError('Stopped waiting: the signal was already aborted');
  const stream = streamOf(
    watcher,
    named,
    options.maxWait === undefined ? {} : { maxWait: options.maxWait },
  );
  const final = await new Promise<Snapshot>((resolve, reject) => {
    let last: Snapshot | undefined;
    const onAbort = () => {
      subscription.unsubscribe();
      reject(new AbortedError('Stopped waiting: the signal was aborted; the job goes on'));
    };
    const done = () => signal?.removeEventListener('abort', onAbort);
    const subscription = stream.subscribe({
      next: (s) => {
        last = s;
      },
      error: (e: unknown) => {
        done();
        reject(e);
      },
      complete: () => {
        done();
        if (last && (last.terminal || last.kind === 'unknown')) resolve(last);
        else reject(new AbortedError(`Stopped waiting for job ${jobid}: the watcher was closed`));
      },
    });
    if (!subscription.closed) signal?.addEventListener('abort', onAbort, { once: true });
  });
  if (options.rejectOnFailure && (final.outcome === 'failed' || final.outcome === 'cancelled')) {
    throw new JobFailedError(final);
  }
  return final;
}
