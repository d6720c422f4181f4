import {
  type AdminClient,
  ConfigError,
  JobNotFoundError,
  type StartedJob,
  toJobwatchError,
} from '@jobwatch/client';
import {
  isJobRefError,
  type Job,
  type JobId,
  type JobRef,
  jobRefKey,
  jobRefUrl,
  parseJobId,
  parseJobRef,
  type Snapshot,
} from '@jobwatch/schema';
import {
  asyncScheduler,
  catchError,
  defer,
  EMPTY,
  expand,
  merge,
  mergeMap,
  Observable,
  type SchedulerLike,
  Subject,
  takeUntil,
  tap,
  throwError,
} from 'rxjs';
import { type BudgetOptions, RequestBudget } from './budget.js';
import { ServerContact } from './contact.js';
import { WaitTimeoutError } from './errors.js';
import {
  JobLoop,
  type LoopShared,
  type UnknownStatusEvent,
  type UnknownStatusPolicy,
} from './loop.js';
import { adminJobKind, type DurationModel, type JobKind } from './model.js';
import {
  jittered,
  type PacingOptions,
  type ResolvedPacing,
  resolvePacing,
  troubleDelay,
} from './pacing.js';
import { longTimer } from './timers.js';

/** Options of {@link createWatcher}. */
export interface WatcherOptions {
  /** The deployment's name, carried on every snapshot. @default 'default' */
  readonly deployment?: string;
  /** Pacing of each job's polls; see {@link PacingOptions} for the defaults. */
  readonly pacing?: PacingOptions;
  /**
   * The request budget shared by every job of this watcher: limits, or a
   * {@link RequestBudget} to share with other watchers of the same deployment (for example
   * `otherWatcher.budget`). @default { concurrency: 8, rate: 20 }
   */
  readonly budget?: BudgetOptions | RequestBudget;
  /** What to do with a status jobwatch does not know. @default 'watch' */
  readonly unknownStatus?: UnknownStatusPolicy;
  /**
   * Told each time a job's status becomes one jobwatch does not know (once per change, not
   * per poll), whatever the policy: for a log line or a metric. The snapshot says it too
   * (`kind: 'unknown'`, a warning at `/status`). Whatever it throws is ignored.
   */
  readonly onUnknownStatus?: (event: UnknownStatusEvent) => void;
  /** Invalid bodies in a row after which a job's stream ends with the `SCHEMA` error. @default 3 */
  readonly maxSchemaFailures?: number;
  /** How long a loop keeps going after its last subscriber left, in ms. @default 2000 */
  readonly grace?: number;
  /** Scheduler for every wait; `TestScheduler` in tests. @default asyncScheduler */
  readonly scheduler?: SchedulerLike;
  /** Clock for snapshot times, epoch ms. @default the scheduler's `now` */
  readonly now?: () => number;
  /**
   * A duration model to learn from and pace by: every job this watcher sees run and end
   * COMPLETED adds its duration to its kind; a job whose kind has enough history is paced
   * by it (see `learnedPollDelay`). Share one model between watchers, persist it with
   * `model.toJSON()`. Without one, pacing is by age alone. @default none
   */
  readonly model?: DurationModel;
  /** The kind of a job, for the model. @default {@link adminJobKind} of the deployment */
  readonly jobKind?: (job: Job, deployment: string) => JobKind | undefined;
}

/** Options of one watch. */
export interface WatchOptions {
  /**
   * The longest this subscriber waits for the job to end, in ms; then its stream ends with
   * a {@link WaitTimeoutError}. Only this subscriber stops watching.
   */
  readonly maxWait?: number;
  /**
   * The longest this subscriber waits while the server answers nothing at all (refused
   * connections, an unknown host, resets, timeouts), in ms, counted from its last answer
   * (or the subscription); then its stream ends with an `UnreachableError` (`UNREACHABLE`).
   * Answers that are errors (a 502, a job `UNAVAILABLE`) are answers and reset it.
   * @default no limit
   */
  readonly maxUnreachable?: number;
}

/** Options of {@link Watcher.watchAll}. */
export interface WatchAllOptions extends WatchOptions {
  /** Must be `true`: list `<root>/jobs` and watch every job found. */
  readonly discover: true;
  /** Wait between two listings, in ms (jittered). @default 15000 */
  readonly listInterval?: number;
  /** Whether the jobs already listed the first time are watched too, or only newer ones. @default true */
  readonly existing?: boolean;
  /**
   * Which admin jobs to list: `enterprise` lists `<root>/jobs` and watches each id as an
   * admin job; `server` lists an ArcGIS Server's `<root>/system/jobs` and watches each as
   * an ArcGIS Server admin job (`watchRef`), with its steps as progress. @default "enterprise"
   */
  readonly source?: 'enterprise' | 'server';
}

/**
 * A registry of job streams for one client (one deployment): one poll loop per job
 * however many subscribe, one request budget for all of them.
 */
export interface Watcher {
  /** The client it polls through. */
  readonly client: AdminClient;
  /** The deployment name on its snapshots. */
  readonly deployment: string;
  /** The request budget shared by all its jobs. */
  readonly budget: RequestBudget;
  /** The duration model it learns into and paces by, if it was given one. */
  readonly model: DurationModel | undefined;
  /**
   * One job's snapshots: the latest at once when the job is already watched, then each
   * visible change; the terminal snapshot, then completion.
   * An unsafe id errors with `InvalidJobIdError` before any request.
   */
  watch(jobid: string, options?: WatchOptions): Observable<Snapshot>;
  /** Several jobs' snapshots, merged; completes when all have ended. */
  watchMany(jobids: Iterable<string>, options?: WatchOptions): Observable<Snapshot>;
  /** Every job of the deployment, found by listing `<root>/jobs` on a slower pace. Never completes. */
  watchAll(options: WatchAllOptions): Observable<Snapshot>;
  /** The stream of a job an operation just started (`client.stopService(s, { async: true })`). */
  fromStarted(started: StartedJob, options?: WatchOptions): Observable<Snapshot>;
  /**
   * A job of any source, by reference or URL (`parseJobRef`): an ArcGIS Server admin job, a
   * geoprocessing job, a portal item job, or an admin job (one at this client's admin URL
   * shares its loop with {@link Watcher.watch}). The same sharing (one loop per job), budget
   * and pacing as admin jobs. A URL that is not a job URL, or is on an origin the client was
   * not configured for, errors with `CONFIG` before any request. Unsubscribing stops watching;
   * it does not cancel the job (`client.cancelGpJob` does, for GP jobs).
   */
  watchRef(ref: JobRef | string, options?: WatchOptions): Observable<Snapshot>;
  /** The latest snapshot of a job being watched now (by id, or by reference), or `undefined`. */
  current(job: string | JobRef): Snapshot | undefined;
  /** Jobs with a running poll loop. */
  readonly size: number;
  /** Whether {@link Watcher.close} was called. */
  readonly closed: boolean;
  /** Stops every loop; open streams complete; later watches error with `CONFIG`. */
  close(): void;
}

const DEFAULT_GRACE = 2000;
const DEFAULT_LIST_INTERVAL = 15_000;

interface Listing {
  /** The ids listed, or `undefined` after transient trouble. */
  readonly ids: readonly JobId[] | undefined;
  readonly next: number;
}

/**
 * A job named by URL or reference, checked for a watcher's client: its reference and the key
 * its loop is kept under (an admin job at the client's own admin URL is kept under its bare
 * id, so both spellings share one loop); or the `CONFIG` error a stream of it ends with — a
 * URL jobwatch will not read, or one on an origin the client may not send its token to.
 */
function refFor(
  client: AdminClient,
  input: JobRef | string,
): { readonly ref: JobRef; readonly key: string } | { readonly error: ConfigError } {
  let ref: JobRef;
  try {
    ref = typeof input === 'string' ? parseRef(input) : parseRef(jobRefUrl(input));
  } catch (error) {
    return { error: error instanceof ConfigError ? error : new ConfigError(String(error)) };
  }
  if (ref.source === 'enterprise' && ref.adminUrl === client.url) return { ref, key: ref.jobid };
  if (!client.allowsOrigin(jobRefUrl(ref))) {
    return {
      error: new ConfigError(
        `Refusing to watch ${jobRefUrl(ref).split('?', 1)[0]}: it is not on an origin this watcher's client may send its token to (${client.url}); use a client for that server`,
      ),
    };
  }
  return { ref, key: jobRefKey(ref) };
}

/** A job URL read as a reference; a URL jobwatch will not read is the caller's mistake (`CONFIG`). */
function parseRef(url: string): JobRef {
  try {
    return parseJobRef(url);
  } catch (error) {
    if (isJobRefError(error)) throw new ConfigError(error.message, { cause: error });
    throw error;
  }
}

function retryAfterOf(error: unknown): number | undefined {
  const value = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** A watcher's options, checked, with every default filled in. */
interface WatcherSettings {
  readonly scheduler: SchedulerLike;
  readonly now: () => number;
  readonly pacing: ResolvedPacing;
  readonly budget: RequestBudget;
  readonly deployment: string;
  readonly grace: number;
  readonly unknownStatus: UnknownStatusPolicy;
  readonly maxSchemaFailures: number;
  readonly jobKind: (job: Job, deployment: string) => JobKind | undefined;
}

/** Checks the options of {@link createWatcher}. @throws ConfigError */
function watcherSettings(options: WatcherOptions): WatcherSettings {
  const scheduler = options.scheduler ?? asyncScheduler;
  const grace = options.grace ?? DEFAULT_GRACE;
  const unknownStatus = options.unknownStatus ?? 'watch';
  const maxSchemaFailures = options.maxSchemaFailures ?? 3;
  const jobKind = options.jobKind ?? ((job: Job, d: string) => adminJobKind(d, job));
  if (typeof jobKind !== 'function') throw new ConfigError('jobKind must be a function');
  if (options.model !== undefined && typeof options.model?.estimate !== 'function') {
    throw new ConfigError('model must be a DurationModel');
  }
  if (!(grace >= 0)) throw new ConfigError(`grace must be ≥ 0, got ${String(grace)}`);
  if (!(Number.isInteger(maxSchemaFailures) && maxSchemaFailures >= 1)) {
    throw new ConfigError(
      `maxSchemaFailures must be an integer ≥ 1, got ${String(maxSchemaFailures)}`,
    );
  }
  if (options.onUnknownStatus !== undefined && typeof options.onUnknownStatus !== 'function') {
    throw new ConfigError('onUnknownStatus must be a function');
  }
  if (!['watch', 'error', 'complete'].includes(unknownStatus)) {
    throw new ConfigError(
      `unknownStatus must be 'watch', 'error' or 'complete', got ${String(unknownStatus)}`,
    );
  }
  return {
    scheduler,
    now: options.now ?? (() => scheduler.now()),
    pacing: resolvePacing(options.pacing),
    budget:
      options.budget instanceof RequestBudget
        ? options.budget
        : new RequestBudget(options.budget ?? {}, scheduler),
    deployment: options.deployment ?? 'default',
    grace,
    unknownStatus,
    maxSchemaFailures,
    jobKind,
  };
}

/**
 * `stream`, ended by a {@link WaitTimeoutError} after `maxWait` and by an `UnreachableError`
 * after `maxUnreachable` without an answer, when they are given.
 */
function withLimits(
  jobid: string,
  stream: Observable<Snapshot>,
  opts: WatchOptions,
  scheduler: SchedulerLike,
  contact: ServerContact,
): Observable<Snapshot> {
  const { maxWait, maxUnreachable } = opts;
  if (maxWait === undefined && maxUnreachable === undefined) return stream;
  if (maxWait !== undefined && !(maxWait >= 0)) {
    return throwError(() => new ConfigError(`maxWait must be ≥ 0 ms, got ${String(maxWait)}`));
  }
  if (maxUnreachable !== undefined && !(maxUnreachable >= 0)) {
    return throwError(
      () => new ConfigError(`maxUnreachable must be ≥ 0 ms, got ${String(maxUnreachable)}`),
    );
  }
  return defer(() => {
    let last: Snapshot | undefined;
    const limits: Observable<never>[] = [];
    if (maxWait !== undefined)
      limits.push(
        longTimer(maxWait, scheduler).pipe(
          mergeMap(() => throwError(() => new WaitTimeoutError({ jobid, maxWait, last }))),
        ),
      );
    if (maxUnreachable !== undefined) limits.push(contact.limit(jobid, maxUnreachable, scheduler));
    return stream.pipe(
      tap((s) => {
        last = s;
      }),
      takeUntil(merge(...limits)),
    );
  });
}

/** What {@link discoverJobs} needs of its watcher. */
interface DiscoveryContext {
  readonly client: AdminClient;
  readonly settings: WatcherSettings;
  readonly contact: ServerContact;
  readonly closed$: Observable<void>;
  /** One listing of the job ids (admin jobs, or an ArcGIS Server's). */
  readonly list: (call: { signal: AbortSignal; retry: false }) => Promise<readonly JobId[]>;
  readonly watch: (jobid: string, opts?: WatchOptions) => Observable<Snapshot>;
}

/**
 * {@link Watcher.watchAll} once its options are checked: list `<root>/jobs` on its own pace
 * (backing off on trouble, ending on an error that will not pass) and watch each new id.
 */
function discoverJobs(
  context: DiscoveryContext,
  opts: WatchAllOptions,
  listInterval: number,
): Observable<Snapshot> {
  const { contact, watch } = context;
  const { budget, now, pacing, scheduler } = context.settings;
  let seen = new Set<string>();
  let first = true;
  let failures = 0;
  const list = (): Observable<Listing> =>
    new Observable<Listing>((subscriber) =>
      budget
        .run(now(), (signal) => contact.observe(context.list({ signal, retry: false })))
        .subscribe({
          next: (ids) => {
            failures = 0;
            subscriber.next({ ids, next: jittered(pacing, listInterval) });
          },
          complete: () => subscriber.complete(),
          error: (thrown: unknown) => {
            const error = toJobwatchError(thrown);
            if (!error.retryable) {
              subscriber.error(error);
              return;
            }
            failures++;
            const next = troubleDelay(pacing, failures, retryAfterOf(error));
            subscriber.next({ ids: undefined, next });
            subscriber.complete();
          },
        }),
    );
  return list().pipe(
    expand((r) => longTimer(r.next, scheduler).pipe(mergeMap(list))),
    takeUntil(context.closed$),
    mergeMap((r) => {
      if (!r.ids) return EMPTY;
      const fresh = r.ids.filter((id) => !seen.has(id));
      // Only ids still listed are remembered, so the set stays as small as the list.
      seen = new Set(r.ids);
      const skip = first && opts.existing === false;
      first = false;
      if (skip || fresh.length === 0) return EMPTY;
      return merge(
        ...fresh.map((id) =>
          watch(id, { maxWait: opts.maxWait, maxUnreachable: opts.maxUnreachable }).pipe(
            // A job purged between the listing and its first poll is not an error here.
            catchError((error: unknown) =>
              error instanceof JobNotFoundError ? EMPTY : throwError(() => error),
            ),
          ),
        ),
      );
    }),
  );
}

/**
 * Makes a watcher: the registry of shared, paced job streams for one client.
 *
 * @example
 * ```ts
 * const watcher = createWatcher(client, { budget: { concurrency: 4, rate: 10 } });
 * watcher.watch(jobid).subscribe((s) => console.log(s.status, s.stale));
 * ```
 * When to use: whenever you need options other than the defaults (pacing, budget,
 * deployment name, scheduler). `watchJob` and friends use one default watcher per client.
 */
export function createWatcher(client: AdminClient, options: WatcherOptions = {}): Watcher {
  const settings = watcherSettings(options);
  const { scheduler, now, budget, deployment } = settings;
  const loops = new Map<string, JobLoop>();
  const closed$ = new Subject<void>();
  let closed = false;
  const contact = new ServerContact(now);
  const shared: LoopShared = {
    deployment,
    // One attempt per request: every request then passes through the budget, and trouble
    // shows (stale) at once, retried by pacing's own backoff. The client still refreshes a
    // refused token (498/499) and sends the request once more: that is not a transient retry.
    fetchJob: (jobid, signal) => contact.observe(client.readJob(jobid, { signal, retry: false })),
    budget,
    scheduler,
    now,
    pacing: settings.pacing,
    unknownStatus: settings.unknownStatus,
    maxSchemaFailures: settings.maxSchemaFailures,
    grace: settings.grace,
    model: options.model,
    kindOf: (job) => settings.jobKind(job, deployment),
    onEnd: (loop) => {
      if (loops.get(loop.key) === loop) loops.delete(loop.key);
    },
    onUnknownStatus: options.onUnknownStatus,
  };

  const closedError = () =>
    new ConfigError('This watcher is closed; create a new one to watch again');

  const watch = (jobid: string, opts: WatchOptions = {}): Observable<Snapshot> => {
    const stream = new Observable<Snapshot>((subscriber) => {
      if (closed) {
        subscriber.error(closedError());
        return;
      }
      let id: JobId;
      try {
        id = parseJobId(jobid);
      } catch (error) {
        subscriber.error(toJobwatchError(error));
        return;
      }
      // A finished loop has left the registry: the next subscription starts a fresh one.
      let loop = loops.get(id);
      if (!loop) {
        loop = new JobLoop(id, shared);
        loops.set(id, loop);
      }
      const mine = loop;
      mine.add(subscriber);
      return () => mine.remove(subscriber);
    });
    return withLimits(jobid, stream, opts, scheduler, contact);
  };

  const watchRef = (input: JobRef | string, opts: WatchOptions = {}): Observable<Snapshot> => {
    const found = refFor(client, input);
    if ('error' in found) return throwError(() => found.error);
    const { ref, key } = found;
    if (key === ref.jobid) return watch(ref.jobid, opts);
    const stream = new Observable<Snapshot>((subscriber) => {
      if (closed) {
        subscriber.error(closedError());
        return;
      }
      let loop = loops.get(key);
      if (!loop) {
        loop = new JobLoop(ref.jobid, shared, {
          ref,
          key,
          fetch: (signal) => contact.observe(client.readJobRef(ref, { signal, retry: false })),
        });
        loops.set(key, loop);
      }
      const mine = loop;
      mine.add(subscriber);
      return () => mine.remove(subscriber);
    });
    return withLimits(ref.jobid, stream, opts, scheduler, contact);
  };

  const watchAll = (opts: WatchAllOptions): Observable<Snapshot> =>
    defer(() => {
      if (closed) return throwError(closedError);
      if (opts?.discover !== true) {
        return throwError(() => new ConfigError('watchAll needs { discover: true }'));
      }
      const listInterval = opts.listInterval ?? DEFAULT_LIST_INTERVAL;
      if (!(listInterval > 0)) {
        return throwError(
          () => new ConfigError(`listInterval must be > 0 ms, got ${String(listInterval)}`),
        );
      }
      if (opts.source !== undefined && opts.source !== 'enterprise' && opts.source !== 'server') {
        return throwError(
          () =>
            new ConfigError(`source must be "enterprise" or "server", got ${String(opts.source)}`),
        );
      }
      const server = opts.source === 'server';
      return discoverJobs(
        {
          client,
          settings,
          contact,
          closed$,
          list: server ? (call) => client.listServerJobs(call) : (call) => client.listJobs(call),
          watch: server
            ? (jobid, o) => watchRef({ source: 'server', adminUrl: client.url, jobid }, o)
            : watch,
        },
        opts,
        listInterval,
      );
    });

  return {
    client,
    deployment,
    budget,
    model: options.model,
    watch,
    watchMany: (jobids, opts) => {
      const ids = [...new Set(jobids)];
      return ids.length === 0 ? EMPTY : merge(...ids.map((id) => watch(id, opts)));
    },
    watchAll,
    fromStarted: (started, opts) => watch(started.jobid, opts),
    watchRef,
    current: (job) => {
      if (typeof job === 'string') return loops.get(job)?.latest;
      const found = refFor(client, job);
      return 'error' in found ? undefined : loops.get(found.key)?.latest;
    },
    get size() {
      return loops.size;
    },
    get closed() {
      return closed;
    },
    close: () => {
      if (closed) return;
      closed = true;
      closed$.next();
      closed$.complete();
      for (const loop of [...loops.values()]) loop.close();
      loops.clear();
    },
  };
}
