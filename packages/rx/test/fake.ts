/**
 * A fake AdminClient for marble tests: every answer arrives on the TestScheduler after a
 * latency, through a thenable that settles synchronously inside the scheduler's flush, so
 * the whole watcher runs in virtual time.
 */
import type { AdminClient, JobRead } from '@jobwatch/client';
import type { Job, JobId } from '@jobwatch/schema';
import { type JobRef, parseJobRef } from '@jobwatch/schema';
import type { SchedulerLike } from 'rxjs';

/**
 * What the fake server answers for one job at a given virtual time: a body, a body with the
 * warnings of its reading, or an error.
 */
export type Script = (time: number, call: number) => Job | JobRead | Error;

const asRead = (value: Job | JobRead): JobRead =>
  'job' in value && typeof value.job === 'object'
    ? (value as JobRead)
    : { job: value as Job, warnings: [] };

export interface Call {
  readonly jobid: string;
  readonly start: number;
  end: number | undefined;
  aborted: boolean;
}

export function job(jobid: string, status: string, updatedtime = 0, extra: Partial<Job> = {}): Job {
  return {
    jobid,
    status,
    starttime: 0,
    endtime: ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED OUT'].includes(status) ? updatedtime : 0,
    updatedtime,
    operationURI: '/arcgis/admin/services/Roads.MapServer/edit',
    username: 'admin',
    ...extra,
  };
}

/**
 * A job that passes through `steps` (`[atMs, status]`, the first at 0): the status at the
 * time the request reaches the server, with `updatedtime` = the step's time.
 */
export function timeline(jobid: string, steps: ReadonlyArray<readonly [number, string]>): Script {
  return (time) => {
    let current = steps[0]!;
    for (const step of steps) if (step[0] <= time) current = step;
    return job(jobid, current[1], current[0]);
  };
}

/** The call options the fake client reads. */
export interface CallLike {
  readonly signal?: AbortSignal;
  readonly retry?: false | object;
}

/** Attempts the fake client makes for a retryable error, like the real client's default. */
export const CLIENT_ATTEMPTS = 4;
/** The fake client's wait between two attempts, in ms. */
export const CLIENT_RETRY_DELAY = 250;

export class FakeServer {
  readonly calls: Call[] = [];
  /** The options of every client call, in order. */
  readonly options: Array<CallLike | undefined> = [];
  readonly scripts = new Map<string, Script>();
  listScript: (time: number, call: number) => string[] | Error = () => [...this.scripts.keys()];
  readonly listCalls: number[] = [];
  /** Times of the ArcGIS Server listings (`listServerJobs`). */
  readonly serverListCalls: number[] = [];
  /** Most requests for one job in flight at once, ever. */
  maxInFlightPerJob = 0;
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly scheduler: SchedulerLike,
    public latency = 0,
  ) {}

  callsFor(jobid: string): Call[] {
    return this.calls.filter((c) => c.jobid === jobid);
  }

  /**
   * Answers like the real client: after `latency`, a value or an error; a retryable error is
   * retried inside the call (as the client's default retry policy does: up to
   * {@link CLIENT_ATTEMPTS} attempts, {@link CLIENT_RETRY_DELAY} ms apart) unless the call
   * says `retry: false`. Each attempt is one request to the server (`attempt()` records it).
   */
  private answer<T>(
    options: CallLike | undefined,
    attempt: () => { produce: () => T | Error; end: () => void },
  ): PromiseLike<T> {
    const scheduler = this.scheduler;
    const latency = this.latency;
    const signal = options?.signal;
    const attempts = options?.retry === false ? 1 : CLIENT_ATTEMPTS;
    return {
      // biome-ignore lint/suspicious/noThenProperty: a deliberate synchronous thenable
      then(onOk, onErr) {
        let action: { unsubscribe(): void } | undefined;
        let end = () => {};
        const once = (n: number) => {
          const current = attempt();
          end = current.end;
          action = scheduler.schedule(() => {
            current.end();
            const value = current.produce();
            if (value instanceof Error) {
              const retryable = (value as { retryable?: unknown }).retryable === true;
              if (retryable && n < attempts) {
                action = scheduler.schedule(() => once(n + 1), CLIENT_RETRY_DELAY);
                return;
              }
              onErr?.(value);
            } else onOk?.(value);
          }, latency);
        };
        signal?.addEventListener('abort', () => {
          action?.unsubscribe();
          end();
        });
        once(1);
        return undefined as never;
      },
    };
  }

  readonly client = {
    url: 'http://fake/arcgis/admin',
    getJob: (jobid: string, options?: CallLike) => this.read(jobid, options, (r) => r.job),
    readJob: (jobid: string, options?: CallLike) => this.read(jobid, options, (r) => r),
    // Jobs of other sources: scripted by job id, like admin jobs (bodies in the source's view).
    readJobRef: (ref: JobRef | string, options?: CallLike) => {
      const r = typeof ref === 'string' ? parseJobRef(ref) : ref;
      return this.read(r.jobid, options, (read) => ({ ...read, ref: r }));
    },
    allowsOrigin: (url: string) => new URL(url).origin === 'http://fake',
    // An ArcGIS Server's listing: the same script, counted apart.
    listServerJobs: (options?: CallLike) => {
      this.options.push(options);
      return this.answer<JobId[]>(options, () => {
        this.serverListCalls.push(this.scheduler.now());
        const n = this.serverListCalls.length;
        return {
          produce: () => this.listScript(this.scheduler.now(), n) as JobId[] | Error,
          end: () => {},
        };
      });
    },
    listJobs: (options?: CallLike) => {
      this.options.push(options);
      return this.answer<JobId[]>(options, () => {
        this.listCalls.push(this.scheduler.now());
        const n = this.listCalls.length;
        return {
          produce: () => this.listScript(this.scheduler.now(), n) as JobId[] | Error,
          end: () => {},
        };
      });
    },
  } as unknown as AdminClient;

  private read<T>(jobid: string, options: CallLike | undefined, pick: (r: JobRead) => T) {
    this.options.push(options);
    return this.answer<T>(options, () => {
      const call: Call = { jobid, start: this.scheduler.now(), end: undefined, aborted: false };
      const n = this.calls.push(call);
      const running = (this.inFlight.get(jobid) ?? 0) + 1;
      this.inFlight.set(jobid, running);
      this.maxInFlightPerJob = Math.max(this.maxInFlightPerJob, running);
      let ended = false;
      return {
        produce: () => {
          const script = this.scripts.get(jobid);
          if (!script) return new Error(`no script for ${jobid}`);
          const value = script(this.scheduler.now(), n);
          return value instanceof Error ? value : pick(asRead(value));
        },
        end: () => {
          if (ended) return;
          ended = true;
          call.end = this.scheduler.now();
          call.aborted = options?.signal?.aborted ?? false;
          this.inFlight.set(jobid, (this.inFlight.get(jobid) ?? 1) - 1);
        },
      };
    });
  }
}
