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
import { type Observable, type Subscription, throwError } from 'rxjs';
import { JobFailedError } from './errors.js';
import { createWatcher, type WatchAllOptions, type Watcher, type WatchOptions } from './watcher.js';

/** The watchers shared by {@link sharedWatcher}: by owner, then by key. */
const shared = new WeakMap<object, Map<string, Watcher>>();

/**
 * The watcher shared under `owner` and `key`: made by `create` on first use (and again once
 * the one it made was closed), kept as long as `owner` lives. Everything watched through it
 * shares its poll loops (one per job, however many subscribe; each stops `grace` after its
 * last subscriber leaves) and its request budget.
 *
 * @example
 * ```ts
 * // Direct mode of a page: one watcher per token provider, admin URL and deployment.
 * const watcher = sharedWatcher(getToken, `${deployment} ${adminUrl}`, () =>
 *   createWatcher(createAdminClient({ url: adminUrl, auth: { type: 'provider', getToken } }), {
 *     deployment,
 *   }),
 * );
 * ```
 * When to use: in an adapter that makes its own clients, so that its parts asking for the
 * same deployment with the same credentials poll each job once. {@link defaultWatcher} is the
 * watcher shared under the client itself. `owner` must be an object or a function (it is
 * held weakly), `key` a string; anything else is a `ConfigError`.
 */
export function sharedWatcher(owner: object, key: string, create: () => Watcher): Watcher {
  if ((typeof owner !== 'object' && typeof owner !== 'function') || owner === null) {
    throw new ConfigError(
      `sharedWatcher: owner must be an object or a function, got ${owner === null ? 'null' : typeof owner}`,
    );
  }
  if (typeof key !== 'string') {
    throw new ConfigError(`sharedWatcher: key must be a string, got ${typeof key}`);
  }
  if (typeof create !== 'function') {
    throw new ConfigError(`sharedWatcher: create must be a function, got ${typeof create}`);
  }
  let byKey = shared.get(owner);
  if (!byKey) {
    byKey = new Map();
    shared.set(owner, byKey);
  }
  const found = byKey.get(key);
  if (found && !found.closed) return found;
  const watcher = create();
  byKey.set(key, watcher);
  return watcher;
}

/**
 * The default watcher of a client, made on first use with default options and kept as long
 * as the client lives (a closed one is replaced). `watchJob`, `watchJobs`, `watchAll` and
 * `waitForJob` share it, so they share poll loops and the request budget too.
 */
export function defaultWatcher(client: AdminClient): Watcher {
  return sharedWatcher(client, '', () => createWatcher(client));
}

const isClient = (x: unknown): x is AdminClient =>
  typeof x === 'object' && x !== null && typeof (x as AdminClient).readJob === 'function';

/** Whether a string names a job by URL (`https://…`); anything else is a job id, checked as one. */
const isUrl = (job: string) => /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(job.trim());

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
    client = createAdminClient({ url });
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
  /**
   * Told each snapshot while waiting — the first, each visible change, the last — to show
   * progress. What it throws ends the wait (not the job), rejecting with that.
   */
  readonly onSnapshot?: (snapshot: Snapshot) => void;
}

const isWatcher = (x: AdminClient | Watcher): x is Watcher =>
  typeof (x as Watcher).watch === 'function' && typeof (x as Watcher).close === 'function';

/**
 * Waits for a job to end and resolves with its final snapshot (a FAILED job resolves too,
 * unless `rejectOnFailure`). Rejects with the stream's typed error, a `WaitTimeoutError`
 * after `maxWait`, an `UnreachableError` after `maxUnreachable` without any answer, or an
 * `AbortedError` when `signal` aborts. `onSnapshot` sees the snapshots on the way.
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
  const { signal, onSnapshot, maxWait, maxUnreachable } = options;
  if (signal?.aborted) throw new AbortedError('Stopped waiting: the signal was already aborted');
  const stream = streamOf(watcher, named, {
    ...(maxWait === undefined ? {} : { maxWait }),
    ...(maxUnreachable === undefined ? {} : { maxUnreachable }),
  });
  const final = await new Promise<Snapshot>((resolve, reject) => {
    let last: Snapshot | undefined;
    let subscription: Subscription | undefined;
    /** Whether `onSnapshot` threw (perhaps while subscribing, before `subscription` is set). */
    let threw = false;
    const onAbort = () => {
      subscription?.unsubscribe();
      reject(new AbortedError('Stopped waiting: the signal was aborted; the job goes on'));
    };
    const done = () => signal?.removeEventListener('abort', onAbort);
    subscription = stream.subscribe({
      next: (s) => {
        last = s;
        if (!onSnapshot || threw) return;
        try {
          onSnapshot(s);
        } catch (error) {
          threw = true;
          subscription?.unsubscribe();
          done();
          reject(error);
        }
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
    if (threw) subscription.unsubscribe();
    else if (!subscription.closed) signal?.addEventListener('abort', onAbort, { once: true });
  });
  if (options.rejectOnFailure && (final.outcome === 'failed' || final.outcome === 'cancelled')) {
    throw new JobFailedError(final);
  }
  return final;
}
