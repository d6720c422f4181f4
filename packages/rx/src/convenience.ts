import { AbortedError, type AdminClient, type StartedJob } from '@jobwatch/client';
import type { Snapshot } from '@jobwatch/schema';
import type { Observable } from 'rxjs';
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

/**
 * One job's snapshots through the client's default watcher: the first at once, then each
 * visible change, the terminal one, then completion.
 *
 * @example
 * ```ts
 * watchJob(client, 'j2bcbcd49-83a4-4cc1-a034-40e4a266e96d').subscribe((s) => render(s));
 * ```
 * Gotcha: unsubscribing stops watching, not the job; the admin API has no cancel.
 */
export function watchJob(
  client: AdminClient,
  jobid: string,
  options?: WatchOptions,
): Observable<Snapshot> {
  return defaultWatcher(client).watch(jobid, options);
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
  job: string | StartedJob,
  options: WaitForJobOptions = {},
): Promise<Snapshot> {
  const watcher = isWatcher(source) ? source : defaultWatcher(source);
  const jobid = typeof job === 'string' ? job : job.jobid;
  const { signal } = options;
  if (signal?.aborted) throw new AbortedError('Stopped waiting: the signal was already aborted');
  const stream = watcher.watch(
    jobid,
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
